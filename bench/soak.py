"""Soak: many short rounds through one aggregator process; its resident memory must not creep up.

Starts a redis-server and an S3 (moto) server on loopback and the aggregator as a separate process
(FedKTL with the tiny generator loaded in it, C = 10), enrols --clients scripted clients that speak the
real protocol (long-poll the task, upload C x C prototypes, report metrics), runs --rounds rounds and
reads the aggregator's VmRSS from /proc after rounds 50, every 25th round and the last one.

Writes bench/results/soak.json: `rss_mb_round_50`, `rss_mb_round_300` (the last round), the drift in
percent, the RSS series and the seconds per round.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test suite's redis-server / moto helpers

import servers  # noqa: E402
from fedloom.ops.processes import ProcessGroup, free_port  # noqa: E402
from fedloom.wire import ClientUpdate, encode  # noqa: E402

ADMIN = "soak-admin-token-0123456789abcdef"
CLASSES = 10
MSGPACK = {"Content-Type": "application/msgpack"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def enrol(url: str, admin: httpx.Client) -> tuple[int, httpx.Client]:
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 600}).json()["token"]
    enrolled = httpx.post(f"{url}/v1/clients", json={"enrollment_token": token}).json()
    headers = {"Authorization": f"Bearer {enrolled['api_token']}"}
    return enrolled["client_id"], httpx.Client(base_url=url, headers=headers, timeout=60)


def play(client_id: int, http: httpx.Client, rounds: int, on_round: Any) -> None:
    """One client for the whole federation: fit (upload prototypes), then evaluate (report), each round."""
    rng = torch.Generator().manual_seed(client_id)
    while True:
        response = http.get("/v1/tasks/next", params={"wait": 30})
        if response.status_code == 204:
            continue
        task = response.json()
        fid, round_ = task["federation_id"], task["round"]
        if task["kind"] == "fit":
            on_round(round_)
            tensors = {"classes": torch.arange(CLASSES), "prototypes": torch.randn(CLASSES, CLASSES, generator=rng)}
            body = encode(ClientUpdate(round=round_, client_id=client_id, num_samples=10, tensors=tensors))
            http.put(f"/v1/federations/{fid}/rounds/{round_}/update", content=body, headers=MSGPACK).raise_for_status()
        else:
            report = {"correct": 5, "total": 10, "loss": 0.1}
            http.post(f"/v1/federations/{fid}/rounds/{round_}/metrics", json=report).raise_for_status()
            if round_ + 1 >= rounds:
                return


def soak(rounds: int, clients: int, root: Path) -> dict[str, Any]:
    redis, redis_url = servers.start_redis()
    s3, s3_endpoint = servers.start_s3()
    group = ProcessGroup(root / "logs")
    env = {
        "FEDLOOM_REDIS_URL": redis_url,
        "FEDLOOM_S3_ENDPOINT": s3_endpoint,
        "FEDLOOM_S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
        "FEDLOOM_S3_SECRET_KEY": servers.S3_SECRET_KEY,
        "FEDLOOM_ADMIN_TOKEN": ADMIN,
        "FEDLOOM_RATE_LIMIT_PER_SECOND": "1000",  # short rounds: a scripted client polls faster than 20/s
        "OMP_NUM_THREADS": "1",
    }
    try:
        port = free_port()
        aggregator = group.start("aggregator", ["aggregator", "--port", str(port)], env)
        url = f"http://127.0.0.1:{port}"
        group.wait_ready(aggregator, f"{url}/readyz")
        return run_federation(url, aggregator.process.pid, rounds, clients)
    finally:
        group.stop()
        servers.stop(redis)
        servers.stop(s3)


def run_federation(url: str, pid: int, rounds: int, clients: int) -> dict[str, Any]:
    series: dict[int, float] = {}
    lock = threading.Lock()

    def on_round(round_: int) -> None:  # rounds 0 .. round_ - 1 are done when round_'s task arrives
        with lock:
            if round_ % 25 == 0 and round_ not in series:
                series[round_] = round(rss_mb(pid), 2)

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60) as admin:
        players = [enrol(url, admin) for _ in range(clients)]
        config = {
            "algorithm": "fedktl",
            "options": {"server_epochs": 2},
            "num_classes": CLASSES,
            "feature_dim": 64,
            "input_shape": [1, 16, 16],
            "rounds": rounds,
            "generator": "tiny",
            "round_deadline_seconds": 60,
        }
        fid = admin.post("/v1/federations", json=config).json()["federation_id"]
        started = time.perf_counter()
        admin.post(f"/v1/federations/{fid}/start").raise_for_status()
        threads = [threading.Thread(target=play, args=(cid, http, rounds, on_round)) for cid, http in players]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        while (state := admin.get(f"/v1/federations/{fid}").json())["status"] == "running":
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    series[rounds] = round(rss_mb(pid), 2)
    if state["status"] != "finished" or len(state["rounds"]) != rounds:
        raise RuntimeError(f"the federation did not finish all rounds: {state['status']} {state.get('error')}")
    first, last = series[50], series[rounds]
    return {
        "rounds": rounds,
        "clients": clients,
        "algorithm": "fedktl (tiny generator in the aggregator, C=10)",
        "rss_mb_round_50": first,
        "rss_mb_round_300": last,
        "drift_percent": round(100 * (last - first) / first, 2),
        "rss_mb_by_round": {str(k): v for k, v in sorted(series.items())},
        "seconds_per_round": round(seconds / rounds, 4),
        "uploads_accounted": sum(r["uploads"] for r in state["rounds"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path("runs/soak"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/soak.json"))
    args = parser.parse_args()
    if args.rounds <= 50:
        parser.error("--rounds must exceed 50 (memory is compared with round 50)")
    result = soak(args.rounds, args.clients, args.work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["drift_percent"] <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
