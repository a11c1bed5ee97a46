"""`fedloom status`, `clients list`, `federations list|show|start` and `export` against the live aggregator:
tables and --json, FEDLOOM_URL / --server, FEDLOOM_ADMIN_TOKEN, and clear errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from live_federation import ADMIN, CLIENTS, FEDERATION, ROUNDS, LiveFederation
from PIL import Image

from fedloom.cli import main
from fedloom.ops.formatting import percent

ONE_ROUND = {"algorithm": "fedproto", "num_classes": 10, "feature_dim": 32, "input_shape": [3, 32, 32], "rounds": 1}


@pytest.fixture
def cli(live: LiveFederation, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Runs `fedloom ARGS` in this process with FEDLOOM_URL and FEDLOOM_ADMIN_TOKEN set; returns (code, out, err)."""
    monkeypatch.setenv("FEDLOOM_URL", live.url)
    monkeypatch.setenv("FEDLOOM_ADMIN_TOKEN", ADMIN)
    live.finished()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_status(cli: Any, live: LiveFederation) -> None:
    code, out, _ = cli("status", "--json")
    status = json.loads(out)
    assert code == 0 and status["server"] == live.url and status["healthy"] and status["ready"]
    assert status["checks"] == {"state_store": True, "artifact_store": True}
    statuses = Counter(f["status"] for f in live.admin.get("/v1/federations").json())
    assert (status["clients"], status["active_clients"], status["federations"]) == (CLIENTS, CLIENTS, statuses)
    code, out, _ = cli("status")
    assert code == 0 and "healthy, ready (state_store ok, artifact_store ok)" in out
    counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    assert f"{CLIENTS} enrolled, {CLIENTS} active" in out and f"federations  {statuses.total()}: {counts}" in out


def test_clients_list(cli: Any, live: LiveFederation) -> None:
    enrolled = live.admin.get("/v1/clients").json()
    code, out, _ = cli("clients", "list", "--json")
    assert code == 0 and json.loads(out) == enrolled
    code, out, _ = cli("clients", "list")
    header, rule, *rows = out.splitlines()
    assert header.split()[:3] == ["client", "name", "architecture"] and set(rule) == {"-", " "}
    for client, row in zip(enrolled, rows, strict=True):
        cells = row.split()
        assert cells[:4] == [str(client["client_id"]), client["name"], client["architecture"], "active"]
        assert percent(client["last_accuracy"]) in cells and str(client["rounds_joined"]) in cells


def test_federations_list_and_show(cli: Any, live: LiveFederation) -> None:
    state = live.finished()
    code, out, _ = cli("federations", "list", "--json")
    assert code == 0 and json.loads(out) == live.admin.get("/v1/federations").json()
    assert state in json.loads(out)
    code, out, _ = cli("federations", "list")
    row = next(line for line in out.splitlines() if line.startswith(live.federation_id))
    assert row.split()[:6] == [live.federation_id, "fedktl", "finished", str(ROUNDS), "/", str(ROUNDS)]
    code, out, _ = cli("federations", "show", live.federation_id, "--json")
    assert code == 0 and json.loads(out) == state
    code, out, _ = cli("federations", "show", live.federation_id)
    assert out.splitlines()[4] == "privacy        off"
    for r in state["rounds"]:
        assert f"{r['accuracy']:.4f}" in out.splitlines()[8 + r["round"]]
    code, _, err = cli("federations", "show", "nope")
    assert code == 2 and "HTTP 404: federation nope does not exist" in err


def test_federations_start(cli: Any, live: LiveFederation) -> None:
    code, _, err = cli("federations", "start", live.federation_id)
    assert code == 2 and "HTTP 409: federation" in err and "already finished" in err
    config = {**FEDERATION, "min_clients": CLIENTS + 1}
    waiting = live.admin.post("/v1/federations", json=config).json()["federation_id"]
    code, _, err = cli("federations", "start", waiting)
    assert code == 2 and f"{CLIENTS} clients enrolled, the federation needs at least {CLIENTS + 1}" in err
    assert live.admin.get(f"/v1/federations/{waiting}").json()["status"] == "created"
    fid = live.admin.post("/v1/federations", json=ONE_ROUND).json()["federation_id"]
    code, out, _ = cli("federations", "start", fid)
    assert code == 0 and out == f"federation {fid} is running with clients 0, 1\n"
    assert live.finished(fid)["rounds"][0]["uploads"] == CLIENTS  # the agents took part
    code, _, err = cli("federations", "start", fid, "--json")
    assert code == 2 and "already finished" in err


def test_server_flag_token_and_unreachable_server(
    cli: Any, live: LiveFederation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDLOOM_URL", "http://127.0.0.1:9")
    code, _, err = cli("status")
    assert code == 2 and "cannot reach the aggregator at http://127.0.0.1:9" in err
    code, out, _ = cli("status", "--json", "--server", live.url)
    assert code == 0 and json.loads(out)["server"] == live.url
    monkeypatch.setenv("FEDLOOM_ADMIN_TOKEN", live.client_token(0))  # a client's token is not enough
    code, _, err = cli("clients", "list", "--server", live.url)
    assert code == 2 and "HTTP 401: admin token required" in err
    monkeypatch.delenv("FEDLOOM_ADMIN_TOKEN")
    code, _, err = cli("federations", "list", "--server", live.url)
    assert code == 2 and "set FEDLOOM_ADMIN_TOKEN" in err


def test_the_fedloom_command_reads_its_environment(live: LiveFederation) -> None:
    """The installed `fedloom` entry point in its own process, configured only through the environment."""
    env = {**os.environ, "FEDLOOM_URL": live.url, "FEDLOOM_ADMIN_TOKEN": ADMIN}
    command = [str(Path(sys.executable).with_name("fedloom")), "clients", "list", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == live.admin.get("/v1/clients").json()


def test_export_writes_metrics_plots_and_grids(cli: Any, live: LiveFederation, tmp_path: Path) -> None:
    state = live.finished()
    code, out, err = cli("export", live.federation_id, "--out", str(tmp_path), "--json")
    assert code == 0, err
    grids = [f"grids/round_{r:03d}.png" for r in range(ROUNDS)]
    assert json.loads(out)["files"] == [
        *("rounds.csv", "client_metrics.csv", "metrics.json", "accuracy.png", "timeline.png"),
        *grids,
    ]
    rounds = list(csv.DictReader((tmp_path / "rounds.csv").open()))
    assert [float(r["accuracy"]) for r in rounds] == [r["accuracy"] for r in state["rounds"]]
    assert [float(r["collecting_seconds"]) for r in rounds] == [
        r["phase_seconds"]["collecting"] for r in state["rounds"]
    ]
    reports = live.admin.get(f"/v1/federations/{live.federation_id}/client-metrics").json()
    per_client = list(csv.DictReader((tmp_path / "client_metrics.csv").open()))
    assert [(int(m["client_id"]), int(m["correct"])) for m in per_client] == [
        (m["client_id"], m["correct"]) for m in reports
    ]
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"federation": state, "client_metrics": reports}
    side = 32 * 4 + 2 * 2  # scaled images plus the grid's padding
    for name in grids:
        with Image.open(tmp_path / name) as grid:
            assert grid.size == (FEDERATION["num_classes"] * (side - 2) + 2, side)
    for plot in ("accuracy.png", "timeline.png"):
        with Image.open(tmp_path / plot) as image:
            assert image.format == "PNG" and min(image.size) > 100
