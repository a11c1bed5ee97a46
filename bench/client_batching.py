"""`make bench-batching`: does one vmapped SGD step over same-architecture clients beat one step per client?

For hcnn8 architectures (FMNIST-sized inputs, batch 10, 1 thread, CPU), times k copies of a model trained
sequentially (as the simulator does) against one `torch.func.vmap` step over the k stacked parameter sets,
alternating the two. Writes bench/results/batching.json (milliseconds per k-client step, and the ratio).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.func import functional_call, grad, vmap

from fedloom.models.registry import build_client_model, group_architectures
from machine import speed_probe

LR = 0.01


def sequential_step(models: list[torch.nn.Module], xs: torch.Tensor, ys: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        for model, x, y in zip(models, xs, ys, strict=True):
            params = list(model.parameters())
            for p in params:
                p.grad = None
            torch.nn.functional.cross_entropy(model(x), y).backward()
            with torch.no_grad():
                torch._foreach_add_(params, [p.grad for p in params], alpha=-LR)

    return step


def vmapped_step(models: list[torch.nn.Module], xs: torch.Tensor, ys: torch.Tensor) -> Callable[[], None]:
    skeleton = copy.deepcopy(models[0]).to("meta")
    per_model = [dict(m.named_parameters()) for m in models]
    names = list(per_model[0])
    stacked = {n: torch.stack([params[n].detach() for params in per_model]) for n in names}

    def loss(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(functional_call(skeleton, params, (x,)), y)

    grads_of = vmap(grad(loss))

    def step() -> None:
        grads = grads_of(stacked, xs, ys)
        torch._foreach_add_([stacked[n] for n in names], [grads[n] for n in names], alpha=-LR)

    return step


def milliseconds(step: Callable[[], None], repeats: int) -> float:
    for _ in range(3):
        step()
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    return 1000 * (time.perf_counter() - started) / repeats


def measure(index: int, clients: int, repeats: int, rounds: int) -> dict[str, Any]:
    torch.manual_seed(index)
    models = [build_client_model("hcnn8", index, (1, 28, 28), 10, 512) for _ in range(clients)]
    xs, ys = torch.randn(clients, 10, 1, 28, 28), torch.randint(0, 10, (clients, 10))
    seq, vec = sequential_step(models, xs, ys), vmapped_step(models, xs, ys)
    seq_ms, vec_ms = [], []
    for _ in range(rounds):  # alternate, so a change of machine speed hits both alike
        seq_ms.append(milliseconds(seq, repeats))
        vec_ms.append(milliseconds(vec, repeats))
    return {
        "architecture": group_architectures("hcnn8")[index],
        "sequential_ms": round(statistics.median(seq_ms), 2),
        "vmap_ms": round(statistics.median(vec_ms), 2),
        "vmap_over_sequential": round(statistics.median(vec_ms) / statistics.median(seq_ms), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3, help="same-architecture clients per step (hcnn8, 20: 2-3)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/batching.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    probe = speed_probe()
    rows = [measure(i, args.clients, args.repeats, args.rounds) for i in range(len(group_architectures("hcnn8")))]
    result = {"clients_per_step": args.clients, "batch_size": 10, "threads": 1, "machine_speed_before": probe}
    result["models"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        seq, vec = row["sequential_ms"], row["vmap_ms"]
        sys.stdout.write(f"{row['architecture']:>18}: sequential {seq:7.2f} ms, vmap {vec:7.2f} ms\n")


if __name__ == "__main__":
    main()
