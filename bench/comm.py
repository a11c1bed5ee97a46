"""Bytes on the wire per client per round for every registered algorithm, HtFE8 group, C = 10 and C = 100.

Algorithms that need one architecture for every client (`AlgorithmSpec.one_architecture`: FedAvg and the
personalised ones) run on the `cnn4` group instead (the 4-layer CNN, 878,538 parameters on 3x32x32, C = 10).

No training to convergence: every client holds one synthetic 3x32x32 image per class (so every class
is present, as in reference/algorithms.md 4.4) and runs the algorithm's real client half for one round
(one local epoch, batch 10); the server aggregates once. Every number is the length of an encoded wire
message, exactly what the in-process transport counts:
- `upload_bytes`: each measured client's ClientUpdate of round 0 (one entry per client, `--clients` of them);
- `download_bytes_per_round`: the round-1 RoundTask (the package after one aggregation) per client;
- `one_time_bytes`: the bootstrap RoundTask each client receives once when it joins.
Writes bench/results/comm.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from fedloom.algorithms import algorithm_names, get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.data.types import ClientData
from fedloom.federation import InProcessTransport
from fedloom.generation.backends import load_generator
from fedloom.models import BaseHeadModel, build_client_model, group_architectures
from fedloom.wire import GlobalPayload, RoundTask, encode

GROUP, SHAPE, K = "htfe8", (3, 32, 32), 512
ONE_ARCHITECTURE_GROUP = "cnn4"  # for algorithms that average whole models or bases
ROUNDS = 50  # the federation length FedKD's SVD energy schedule is set for (as in bench-sim)
VARIANTS = {"fedl2g-logit": ("fedl2g", {"variant": "logit"})}


def one_image_per_class(client_id: int, num_classes: int) -> ClientData:
    gen = torch.Generator().manual_seed(client_id)
    x = torch.rand(num_classes, *SHAPE, generator=gen) * 2 - 1
    y = torch.arange(num_classes)
    return ClientData(client_id=client_id, train_x=x, train_y=y, test_x=x[:1], test_y=y[:1])


def client_models(num_classes: int, clients: int, group: str = GROUP) -> list[tuple[BaseHeadModel, ClientData]]:
    """The first `clients` models of the group (built once per C: weights change no size here) and their data."""
    out = []
    for index in range(clients):
        torch.manual_seed(index)
        out.append((build_client_model(group, index, SHAPE, num_classes, K), one_image_per_class(index, num_classes)))
    return out


def group_of(algorithm: str) -> str:
    return ONE_ARCHITECTURE_GROUP if get_algorithm(algorithm).one_architecture else GROUP


def contexts(models: list[tuple[BaseHeadModel, ClientData]], settings: TrainSettings) -> dict[int, ClientContext]:
    """Fresh client contexts (empty algorithm state, seeded RNGs) around the shared models."""
    num_classes = len(models[0][1].train_y)  # one image per class
    return {
        i: ClientContext(i, model, data, num_classes, settings, torch.Generator().manual_seed(i))
        for i, (model, data) in enumerate(models)
    }


def task_bytes(cid: int, payload: GlobalPayload) -> int:
    return len(encode(RoundTask(kind="fit", round=payload.round, client_id=cid, payload=payload)))


def measure(algorithm: str, options: dict[str, Any], models: list[tuple[BaseHeadModel, ClientData]]) -> dict[str, Any]:
    """One round of `algorithm` over the HtFE8 clients; the encoded size of every message."""
    spec, num_classes = get_algorithm(algorithm), len(models[0][1].train_y)
    config = make_config(spec, options)
    settings = TrainSettings()
    generator = load_generator("builtin") if spec.needs_generator else None
    env = ServerEnv(
        num_classes,
        K,
        settings,
        seed=0,
        generator=generator,
        input_shape=SHAPE,
        reference_arch=models[0][0].arch,
        rounds=ROUNDS,
    )
    server = spec.make_server(config)
    state = server.init(env)
    clients = contexts(models, settings)
    transport = InProcessTransport(spec.make_client(config), clients)
    bootstrap, payload = server.bootstrap(state), server.broadcast(state)
    uploads = {cid: transport.fit([cid], payload, bootstrap) for cid in clients}
    state = server.aggregate(state, [u for outcome in uploads.values() for u in outcome.updates])
    next_payload = server.broadcast(state)
    return {
        "upload_bytes": [uploads[cid].upload_bytes for cid in clients],
        "download_bytes_per_round": [task_bytes(cid, next_payload) for cid in clients],
        "one_time_bytes": [task_bytes(cid, bootstrap) for cid in clients],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/results/comm.json"))
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 100])
    parser.add_argument(
        "--clients",
        type=int,
        default=len(group_architectures(GROUP)),
        help="measure the first N clients of the group (every size here is the same for every backbone: "
        "heads are Linear(K, C), shared models are client 0's)",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cases: dict[str, tuple[str, dict[str, Any]]] = {name: (name, {}) for name in algorithm_names()}
    cases |= {case: spec for case, spec in VARIANTS.items() if spec[0] in cases}
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for num_classes in args.classes:
        results[str(num_classes)] = {}
        models = {group: client_models(num_classes, args.clients, group) for group in (GROUP, ONE_ARCHITECTURE_GROUP)}
        for case, (algorithm, options) in sorted(cases.items()):
            results[str(num_classes)][case] = measure(algorithm, options, models[group_of(algorithm)])
            upload = max(results[str(num_classes)][case]["upload_bytes"])
            elapsed = time.perf_counter() - started
            print(f"C={num_classes} {case}: upload {upload} B ({elapsed:.0f} s)", flush=True)  # noqa: T201
    report = {
        "benchmark": f"wire bytes per client per round, group {GROUP} ({', '.join(group_architectures(GROUP))}; "
        f"{ONE_ARCHITECTURE_GROUP} for the algorithms that need one architecture: "
        f"{', '.join(sorted(a for a in algorithm_names() if group_of(a) == ONE_ARCHITECTURE_GROUP))}), "
        f"input {list(SHAPE)}, K={K}, float32, every class present, B=10, FedKTL with the builtin generator, "
        f"FedKD's SVD energy for round 0 of {ROUNDS}",
        "entries": f"per client, in client order, for the first {args.clients} client(s) of the group",
        "machine": platform.machine(),
        "torch": torch.__version__,
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
