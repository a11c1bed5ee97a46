"""Workers as Ray actors (the optional `fedloom[ray]` extra): same ClientHost, same codec bytes, Ray's scheduler
placing them over the cluster's nodes. An actor that dies fails the run, naming its clients (no restart: a
client's optimizer and RNG state live only in its actor, so a rebuilt one would not give the same run)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fedloom.errors import ConfigError
from fedloom.simulation.workers.host import ClientHost
from fedloom.simulation.workers.messages import WorkerError, WorkerReady, WorkerSetup
from fedloom.wire import decode, encode

READY_SECONDS = 300.0


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'fedloom[ray]'") from None
    return ray


def connect(address: str, threads: int | None) -> tuple[bool, int]:
    """Join the cluster at `address` ('local' starts one in this process with `threads` CPUs) unless this
    process is already connected; returns (whether we connected, the cluster's CPUs)."""
    ray = import_ray()
    connected = not ray.is_initialized()
    if connected and address == "local":
        ray.init(address="local", num_cpus=threads, include_dashboard=False, logging_level="warning")
    elif connected:
        ray.init(address=address, logging_level="warning")
    return connected, int(ray.cluster_resources().get("CPU", 0))


class HostActor:
    """The Ray actor's body: a ClientHost behind two methods that take and return codec bytes."""

    def __init__(self, setup_bytes: bytes) -> None:
        self.host = ClientHost(decode(setup_bytes, WorkerSetup))

    def ready(self) -> bytes:
        return encode(self.host.ready(node=import_ray().get_runtime_context().get_node_id()))

    def handle(self, request: bytes) -> bytes:
        return self.host.handle(request)


def gpus_for(clients: int, gpus_per_client: float) -> float:
    """An actor reserves its clients' GPU fractions; Ray takes fractions up to 1 or whole numbers above."""
    gpus = clients * gpus_per_client
    if gpus > 1 and not math.isclose(gpus, round(gpus)):
        raise ConfigError(
            f"{clients} clients x {gpus_per_client} GPU = {gpus:g} GPUs for one actor: Ray needs at most 1 or a "
            f"whole number; use more workers or another --gpus-per-client"
        )
    return float(round(gpus)) if gpus > 1 else gpus


def check_gpus(client_counts: list[int], gpus_per_client: float, cluster: Mapping[str, float]) -> None:
    """Refuse at once (not after READY_SECONDS of pending actors) GPU fractions the cluster cannot hold in all."""
    needed = sum(gpus_for(count, gpus_per_client) for count in client_counts)
    available = cluster.get("GPU", 0.0)
    if needed > available + 1e-9:
        raise ConfigError(
            f"--gpus-per-client {gpus_per_client:g} for {sum(client_counts)} clients needs {needed:g} GPUs; the Ray "
            f"cluster has {available:g}"
        )


class RayWorkers:
    """One actor per entry of `setups`, each with `setup.threads` CPUs and its clients' GPU fractions."""

    def __init__(self, setups: list[WorkerSetup], gpus_per_client: float, disconnect: bool) -> None:
        ray = import_ray()
        self.ray, self.setups, self.disconnect = ray, setups, disconnect
        if gpus_per_client:
            check_gpus([len(setup.client_ids) for setup in setups], gpus_per_client, ray.cluster_resources())
        actor_class = ray.remote(HostActor)
        self.actors = [
            actor_class.options(
                num_cpus=setup.threads, num_gpus=gpus_for(len(setup.client_ids), gpus_per_client), max_restarts=0
            ).remote(encode(setup))
            for setup in setups
        ]
        self.ready: list[WorkerReady] = []
        try:
            self.ready = self.started()
        except BaseException:
            self.close()
            raise

    def started(self) -> list[WorkerReady]:
        refs = [actor.ready.remote() for actor in self.actors]
        try:
            return [decode(data, WorkerReady) for data in self.ray.get(refs, timeout=READY_SECONDS)]
        except self.ray.exceptions.GetTimeoutError:
            raise WorkerError(
                f"Ray placed not all of {len(self.actors)} actors ({self.setups[0].threads} CPUs each) within "
                f"{READY_SECONDS:.0f} s; the cluster has {self.ray.cluster_resources()}"
            ) from None
        except self.ray.exceptions.RayActorError as exc:
            raise WorkerError(f"a Ray worker could not build its clients: {exc}") from None

    def exchange(self, requests: Mapping[int, bytes]) -> dict[int, bytes]:
        refs = {index: self.actors[index].handle.remote(data) for index, data in requests.items()}
        replies = {}
        for index, ref in refs.items():
            try:
                replies[index] = self.ray.get(ref)
            except self.ray.exceptions.RayActorError as exc:
                raise WorkerError(
                    f"Ray worker {index} died; it owned clients {self.setups[index].client_ids}, whose state is "
                    f"lost: the run stops ({type(exc).__name__})"
                ) from exc
        return replies

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        if self.disconnect:
            self.ray.shutdown()
