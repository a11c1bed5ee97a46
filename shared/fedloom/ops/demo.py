"""`fedloom demo`: a real local federation — aggregator, generator service and client agents as separate
processes on localhost over HTTP — with embedded stores unless FEDLOOM_REDIS_URL / FEDLOOM_S3_ENDPOINT are set.

Writes accuracy.png, generated_grid.png (the last round's prototype-induced images, one per class) and
summary.json under the output folder, and prints a per-round table.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from fedloom.errors import FedLoomError
from fedloom.ops.packages import download_package
from fedloom.ops.processes import ProcessGroup, free_port
from fedloom.wire import encode
from fedloom.wire.control import FederationConfig, FederationState

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
log = logging.getLogger("fedloom.demo")


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


SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: Fashion-MNIST is not installed in {dir}, so this demo learns a made-up task. "
    "For the real one run `scripts/bootstrap demo` (Debian package dataset-fashion-mnist), then `make demo`."
)


def resolve_dataset(settings: DemoSettings) -> DemoSettings:
    """`auto` becomes fmnist when its IDX files are installed, synthetic (with a loud banner) otherwise."""
    if settings.dataset != "auto":
        return settings
    found = (FMNIST_DIR / "train-images-idx3-ubyte.gz").is_file() or (FMNIST_DIR / "train-images-idx3-ubyte").is_file()
    return replace(settings, dataset="fmnist" if found else "synthetic")


def data_banner(settings: DemoSettings) -> str | None:
    return SYNTHETIC_BANNER.format(dir=FMNIST_DIR) if settings.dataset == "synthetic" else None


def data_spec(settings: DemoSettings, index: int) -> str:
    return f"{settings.dataset},clients={settings.clients},partition=dir:0.1,index={index},seed={settings.seed}"


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
    from fedloom.ops.report import write_report

    settings = resolve_dataset(settings)
    banner = data_banner(settings)
    if banner:
        log.warning("\n%s\n%s\n%s", "=" * 100, banner, "=" * 100)
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
            notes = {"dataset": settings.dataset, "data_warning": banner}
            return write_report(settings.out, state, encode(package) if package is not None else None, notes)
    finally:
        group.stop()
