"""GPU scale check: 500 cnn4 clients on CIFAR-100-shaped synthetic data in one process.

Writes bench/results/sim_gpu.json with seconds per round and peak GPU memory (PFLlib's published
figure for 500 clients on an RTX 3090 is 5.08 GB). Needs a CUDA device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

from fedloom.simulation import SimulationConfig, run_simulation


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--algorithm", default="fedtgp")
    p.add_argument("--out", type=Path, default=Path("bench/results/sim_gpu.json"))
    args = p.parse_args()
    if not torch.cuda.is_available():
        sys.stderr.write("sim_gpu: no CUDA device; nothing measured\n")
        return 1
    cfg = SimulationConfig(
        algorithm=args.algorithm,
        dataset="synthetic",
        dataset_options={"num_classes": 100, "samples": 60_000, "image_shape": (3, 32, 32)},
        clients=args.clients,
        partition="dir:0.1",
        rounds=args.rounds,
        models="cnn4",
        device="cuda",
        seed=0,
    )
    torch.cuda.reset_peak_memory_stats()
    result = run_simulation(cfg, progress=True)
    report = {
        "clients": args.clients,
        "algorithm": args.algorithm,
        "models": "cnn4",
        "data": "3x32x32, 100 classes",
        "seconds_per_round": statistics.median(m.seconds for m in result.history),
        "peak_gpu_memory_gb": torch.cuda.max_memory_allocated() / 1e9,
        "peak_gpu_reserved_gb": torch.cuda.max_memory_reserved() / 1e9,
        "target_gb": 5.08,
        "device": torch.cuda.get_device_name(),
        "accuracy": result.history[-1].accuracy,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
