"""`fedloom demo`: a real local federation — aggregator, generator service and client agents as separate
processes on localhost over HTTP — with embedded stores unless FEDLOOM_REDIS_URL / FEDLOOM_S3_ENDPOINT are set.

Writes accuracy.png, generated_grid.png (the last round's prototype-induced images, one per class) and
summary.json under the output folder, and prints a per-round table.
"""

from __future__ import annotations

import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from fedloom.errors import FedLoomError
from fedloom.services.packages import download_package
from fedloom.services.processes import ProcessGroup, free_port
from fedloom.wire import encode
from fedloom.wire.control import FederationConfig, FederationState

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclass(frozen=True)
class DemoSettings:
    out: Path = Path("runs/demo")
    clients: int = 4
    rounds: int = 4
    algorithm: str = "fedktl"
    models: str = "hcnn8"
    dataset: str = "auto"  # fmnist when its files are present, else synthetic
    generator: str = "builtin"
    seed: int = 0


def data_spec(settings: DemoSettings, index: int) -> str:
    name = settings.dataset
    if name == "auto":
        name = "fmnist" if FMNIST_DIR.is_dir() else "synthetic"
    return f"{name},clients={settings.clients},partition=dir:0.1,index={index},seed={settings.seed}"


def start_services(group: ProcessGroup, settings: DemoSettings, admin_token: str) -> str:
    gen_port, agg_port = free_port(), free_port()
    generator = group.start(
        "generator", ["generator", "serve", "--port", str(gen_port)], {"FEDLOOM_GENERATOR": settings.generator}
    )
    group.wait_ready(generator, f"http://127.0.0.1:{gen_port}/readyz")
    env = {
        "FEDLOOM_ADMIN_TOKEN": admin_token,
        "FEDLOOM_GENERATOR_URL": f"http://127.0.0.1:{gen_port}",
        "FEDLOOM_ARTIFACT_DIR": str(settings.out / "artifacts"),
    }
    aggregator = group.start("aggregator", ["aggregator", "--port", str(agg_port)], env)
    url = f"http://127.0.0.1:{agg_port}"
    group.wait_ready(aggregator, f"{url}/readyz")
    return url


def start_agents(group: ProcessGroup, settings: DemoSettings, url: str, admin: httpx.Client) -> None:
    for index in range(settings.clients):
        token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 600}).json()["token"]
        args = [
            "agent",
            "--server",
            url,
            "--enrollment-token",
            token,
            "--data",
            data_spec(settings, index),
            "--model",
            f"{settings.models}:{index}",
            "--state-dir",
            str(settings.out / f"agent-{index}"),
            "--name",
            f"edge-{index}",
        ]
        group.start(f"agent-{index}", args, {"OMP_NUM_THREADS": "1"})  # agents share the machine's cores
    deadline = time.monotonic() + 300
    while len(admin.get("/v1/clients").json()) < settings.clients:
        if time.monotonic() > deadline:
            raise FedLoomError("agents did not enrol within 5 minutes")
        time.sleep(0.2)


def federation_config(settings: DemoSettings) -> FederationConfig:
    spec = data_spec(settings, 0)
    return FederationConfig(
        algorithm=settings.algorithm,
        num_classes=10,
        feature_dim=512,
        input_shape=(1, 28, 28),
        rounds=settings.rounds,
        seed=settings.seed,
        generator="remote",
        round_deadline_seconds=600,
        options={"server_epochs": 100} if "synthetic" not in spec else {},
    )


def follow(admin: httpx.Client, fid: str, rounds: int) -> FederationState:
    """Show a progress bar per finished round until the federation ends."""
    bar = tqdm(total=rounds, desc="demo", unit="round", file=sys.stderr)
    while True:
        state = FederationState.model_validate(admin.get(f"/v1/federations/{fid}").json())
        if len(state.rounds) > bar.n:
            last = state.rounds[-1]
            bar.set_postfix(acc=f"{last.accuracy or 0:.4f}")
            bar.update(len(state.rounds) - bar.n)
        if state.status in ("finished", "failed"):
            bar.close()
            return state
        time.sleep(0.5)


def run_demo(settings: DemoSettings) -> dict[str, Any]:
    from fedloom.services.demo_report import write_report

    admin_token = secrets.token_urlsafe(24)
    group = ProcessGroup(settings.out / "logs")
    try:
        url = start_services(group, settings, admin_token)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60) as admin:
            start_agents(group, settings, url, admin)
            fid = admin.post("/v1/federations", json=federation_config(settings).model_dump(mode="json")).json()
            admin.post(f"/v1/federations/{fid['federation_id']}/start").raise_for_status()
            state = follow(admin, fid["federation_id"], settings.rounds)
            package = download_package(admin, state.federation_id, settings.rounds)
            return write_report(settings.out, state, encode(package) if package is not None else None)
    finally:
        group.stop()
