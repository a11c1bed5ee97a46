"""`make bench-load`: 1,000 enrolled clients upload C x C FedKTL prototypes for 3 rounds through the real
aggregator (its own process, real Redis), driven from this separate load process over loopback; once with
one API process and once with `--api-processes` (FEDLOOM_WORKERS: API processes behind the same port).

Writes bench/results/load.json: clients, rounds, uploads_sent, uploads_accounted (uploads the server's
rounds counted), uploads_per_second (all uploads over the summed upload windows: first PUT sent to last
answered, per round), p50_ms / p99_ms (PUT latency), round_control_seconds (worst round: last upload
answered to the round's package published, from the round record in Redis), cpu_ms_per_upload (CPU time of
the aggregator's processes, Redis and this load process while the uploads ran, per upload) and from it
cpu_bound_uploads_per_second (what this machine's cores allow at those costs; one API process also stays under
1000 / its own ms), plus the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from fedloom.ops.processes import ProcessGroup, free_port
from load_clients import RoundTiming, enrol_all, run_round
from load_http import LoopbackPool
from machine import speed_probe

ADMIN = "load-benchmark-admin-token-0123456789"


def start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server") or sys.exit("redis-server is not on PATH")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*args, "--loglevel", "warning"], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def federation_config(args: argparse.Namespace) -> dict[str, Any]:
    """FedKTL (C x C uploads, server alignment over the uploaded pairs), or FedProto with K = C (the same
    uploads, a per-class mean on the server: the round's control work with almost no server compute)."""
    return {
        "algorithm": args.algorithm,
        "num_classes": args.classes,
        "feature_dim": args.classes if args.algorithm == "fedproto" else 64,
        "input_shape": [1, 28, 28],
        "rounds": args.rounds,
        "round_deadline_seconds": 300,
        "generator": "tiny",
        "options": {"server_epochs": args.server_epochs} if args.algorithm == "fedktl" else {},
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live descendants (API workers) have used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def control_seconds(store: redis.Redis, fid: str, round_: int, timing: RoundTiming) -> float:
    """Last upload answered -> package published, from the round's record (same clock, same machine)."""
    for _ in range(600):
        published = store.hget(f"fedloom:fed:{fid}:round:{round_}", "t_published")
        if published is not None:
            return float(published) - timing.last_answered
        time.sleep(0.05)
    raise RuntimeError(f"round {round_} was never published")


def process_cpu(pids: dict[str, int]) -> Callable[[], dict[str, float]]:
    """A probe of the CPU seconds used so far by each named process tree, plus this (load) process's own."""
    return lambda: {name: cpu_seconds(pid) for name, pid in pids.items()} | {"load_process": time.process_time()}


async def drive(
    port: int, store: redis.Redis, pids: dict[str, int], args: argparse.Namespace, api_processes: int
) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    http = LoopbackPool("127.0.0.1", port, args.concurrency)
    await http.open()
    try:
        clients = await enrol_all(http, admin, args.clients, args.concurrency)
        created = await http.request("POST", "/v1/federations", admin, json_body=federation_config(args))
        fid = created.json()["federation_id"]
        (await http.request("POST", f"/v1/federations/{fid}/start", admin)).raise_for_status()
        pid = pids["aggregator"]
        timings, control, cpu_before, own_before = [], [], cpu_seconds(pid), time.process_time()
        for round_ in range(args.rounds):
            timing = await run_round(http, clients, fid, round_, args.classes, args.concurrency, process_cpu(pids))
            timings.append(timing)
            control.append(control_seconds(store, fid, round_, timing))
            sys.stderr.write(f"round {round_}: {timing.accepted} uploads, control {control[-1]:.3f} s\n")
        cpu, own = cpu_seconds(pid) - cpu_before, time.process_time() - own_before
        state = await wait_finished(http, fid, admin)
    finally:
        await http.close()
    return (
        summarise(args, timings, control, state)
        | cpu_per_upload(timings, api_processes)
        | {
            "aggregator_cpu_ms_per_client_round": round(1000 * cpu / (args.clients * args.rounds), 3),
            "load_process_cpu_ms_per_client_round": round(1000 * own / (args.clients * args.rounds), 3),
        }
    )


async def wait_finished(http: LoopbackPool, fid: str, admin: dict[str, str]) -> dict[str, Any]:
    for _ in range(1200):
        state: dict[str, Any] = (await http.request("GET", f"/v1/federations/{fid}", admin)).json()
        if state["status"] != "running":
            return state
        await asyncio.sleep(0.1)
    raise RuntimeError("federation did not finish")


def summarise(
    args: argparse.Namespace, timings: list[RoundTiming], control: list[float], state: dict[str, Any]
) -> dict[str, Any]:
    latencies = [x for t in timings for x in t.latencies]
    sent = len(latencies)
    return {
        "clients": args.clients,
        "rounds": args.rounds,
        "uploads_sent": sent,
        "uploads_accounted": sum(r["uploads"] for r in state["rounds"]),
        "uploads_per_second": round(sent / sum(t.window for t in timings), 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "round_control_seconds": round(max(control), 3),
        "round_control_seconds_each": [round(c, 3) for c in control],
        "uploads_accepted_first_time": sum(t.accepted for t in timings),
        "federation_status": state["status"],
        "round_phase_seconds": [r["phase_seconds"] for r in state["rounds"]],
        "mean_upload_ms": round(1000 * statistics.fmean(latencies), 2),
    }


def cpu_per_upload(timings: list[RoundTiming], api_processes: int) -> dict[str, Any]:
    """CPU ms per upload of each process while the uploads ran, and the uploads/s those costs allow here: all
    cores busy, and no API process past one core."""
    sent = sum(len(t.latencies) for t in timings)
    per_upload = {name: 1000 * sum(t.cpu[name] for t in timings) / max(sent, 1) for name in timings[0].cpu}
    cores = os.cpu_count() or 1
    bound = min(1000 * cores / sum(per_upload.values()), 1000 * api_processes / per_upload["aggregator"])
    return {
        "aggregator_cpu_ms_per_upload": round(per_upload["aggregator"], 3),
        "cpu_ms_per_upload": {name: round(ms, 3) for name, ms in per_upload.items()},
        "cpu_bound_uploads_per_second": round(bound, 1),
    }


def run(args: argparse.Namespace, api_processes: int) -> dict[str, Any]:
    redis_port, port = free_port(), free_port()
    redis_proc = start_redis(redis_port)
    group = ProcessGroup(Path(tempfile.mkdtemp(prefix="fedloom-load-")))
    env = {
        "FEDLOOM_ADMIN_TOKEN": ADMIN,
        "FEDLOOM_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "FEDLOOM_ARTIFACT_DIR": str(group.log_dir / "artifacts"),
        "FEDLOOM_ACCESS_LOG": "false",
        "FEDLOOM_WORKERS": str(api_processes),
        "OMP_NUM_THREADS": "1",
    }
    try:
        member = group.start("aggregator", ["aggregator", "--port", str(port)], env)
        group.wait_ready(member, f"http://127.0.0.1:{port}/readyz")
        pids = {"aggregator": member.process.pid, "redis": redis_proc.pid}
        result = asyncio.run(drive(port, redis.Redis(port=redis_port), pids, args, api_processes))
        return {"api_processes": api_processes, **result}
    finally:
        group.stop()
        redis_proc.terminate()
        redis_proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32, help="connections of the load process")
    parser.add_argument("--server-epochs", type=int, default=1, help="FedKTL alignment epochs on the server")
    parser.add_argument("--algorithm", choices=["fedktl", "fedproto"], default="fedktl")
    parser.add_argument("--api-processes", type=int, nargs="+", default=[1, 2], help="one run for each count")
    parser.add_argument("--out", type=Path, default=Path("bench/results/load.json"))
    args = parser.parse_args()
    load_before, probe = os.getloadavg(), speed_probe()
    runs = [run(args, count) for count in args.api_processes]
    result = {**runs[0], "runs": runs}
    if len(runs) > 1:
        first, last = runs[0]["uploads_per_second"], runs[-1]
        result["uploads_per_second_ratio"] = round(last["uploads_per_second"] / first, 3)
        result["uploads_per_second_ratio_cpu_bound"] = round(last["cpu_bound_uploads_per_second"] / first, 3)
    result |= {
        "load_average_before": [round(x, 2) for x in load_before],
        "machine_speed_before": probe,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "concurrency": args.concurrency,
        "algorithm": args.algorithm,
        "fedktl_server_epochs": args.server_epochs,
        "generator": "tiny",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
