"""`fedloom simulate --ray HOST:PORT` over a two-node Ray cluster (two `ray start` processes on this machine,
token authentication on): one actor per node, and the same metrics as in one process. About 20 s on a
2-core machine, so it runs in `make test`."""

import json
import subprocess
import sys
from pathlib import Path

import ray  # noqa: E402,F401  (a dev dependency: the tests fail, not skip, without it)
from workers_helpers import COMPARED, metrics_rows

from fedloom.simulation import SimulationConfig
from ray_cluster import two_node_cluster


def test_a_federation_across_two_ray_nodes_matches_one_process(federation: SimulationConfig, tmp_path: Path) -> None:
    alone, _ = metrics_rows(federation, tmp_path / "in-process")
    out = tmp_path / "cluster"
    with two_node_cluster() as (address, env):
        command = [sys.executable, "-m", "fedloom.cli", "simulate", "--algorithm", "fedproto", "--dataset"]
        command += ["synthetic", "--clients", "5", "--join-ratio", "0.8", "--rounds", "3", "--seed", "3"]
        command += ["--ray", address, "--threads", "2", "--quiet", "--out", str(out)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [{key: row[key] for key in COMPARED} for row in rows] == alone
    workers = json.loads((out / "summary.json").read_text())["workers"]
    assert len(workers) == 2 and len({w["node"] for w in workers}) == 2  # 1 CPU per node: one actor on each
