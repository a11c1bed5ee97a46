"""Run HtFLlib (a checkout of github.com/TsingZ0/HtFLlib, measured at e959261) on FMNIST20 with the HCNNs8
models and read its own seconds per round, so `bench/sim_parallel.py` can time it in the same run as ours.

HtFLlib removed the HCNNs8 family from its `main.py` in 3fb1596 (the models themselves, its `CNN` class, are
still there). `hcnns8_main` writes `system/main_hcnns8.py` beside HtFLlib's `main.py`: the same file with one
more family, whose constructor calls are made from FedLoom's own list of the 8 models (`CNN_SPECS`). Nothing
else of HtFLlib changes. Its imports need scikit-learn, h5py, calmsize and `higher` besides torch: pass a
folder holding them as `site` (it goes on PYTHONPATH).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from fedloom.models.cnn import CNN_SPECS
from machine import library_round_seconds, link_fmnist20

ALGORITHMS = {"fedproto": "FedProto", "fedtgp": "FedTGP", "local": "Local"}
FLAGS = ["-lam", "10", "-se", "100", "-mart", "100"]  # htfllib_fmnist.md: lambda 10, 100 server epochs, margin 100
FIRST_FAMILY = 'if args.model_family == "HtFE-img-2":'


def hcnns8_main(checkout: Path) -> Path:
    """`system/main_hcnns8.py`: HtFLlib's main.py with the HCNNs8 family (client i gets model i mod 8)."""
    main = checkout / "system" / "main.py"
    source = main.read_text()
    if FIRST_FAMILY not in source:
        raise SystemExit(f"{main}: no {FIRST_FAMILY!r} to put the HCNNs8 family before (another HtFLlib version?)")
    models = ", ".join(
        f"'CNN(num_cov={convs}, hidden_dims={list(hidden)}, in_features=1, num_classes=args.num_classes)'"
        for convs, hidden in CNN_SPECS.values()
    )
    family = f'if args.model_family == "HCNNs8":\n            args.models = [{models}]\n        el'
    patched = main.with_name("main_hcnns8.py")
    patched.write_text(source.replace(FIRST_FAMILY, family + FIRST_FAMILY, 1))
    return patched


def run_htfllib(
    checkout: Path, site: Path | None, data: Path, algorithm: str, rounds: int, threads: int
) -> dict[str, Any]:
    """One HtFLlib run of `rounds` rounds with `threads` torch threads; its median seconds per round after the
    first (which pays the warm-up, as HtFLlib's own average leaves it out too)."""
    link_fmnist20(checkout, data)
    main = hcnns8_main(checkout)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"  # HtFLlib torch.loads the whole client models it saved itself
    if site is not None:
        env["PYTHONPATH"] = str(site)
    command = [sys.executable, main.name, "-data", "FMNIST20", "-m", "HCNNs8", "-algo", ALGORITHMS[algorithm]]
    command += ["-gr", str(rounds), "-dev", "cpu", "-nc", "20", "-lr", "0.01", "-lbs", "10", "-fd", "512", *FLAGS]
    done = subprocess.run(command, cwd=main.parent, env=env, capture_output=True, text=True)
    seconds = library_round_seconds(done.stdout)
    if done.returncode != 0 or len(seconds) < 2:
        raise SystemExit(f"HtFLlib {algorithm} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return {"seconds_per_round": statistics.median(seconds[1:]), "round_seconds": seconds, "threads": threads}
