"""What ran where, recorded next to every timing: which processor, how fast this (shared) machine is right now
(a fixed pure-Python loop and a fixed single-thread matrix update; timings from runs whose probes or processors
differ are not comparable: sessions of this project have run on AMD EPYC and on Intel Xeon hosts of the same
kind), and which commit of a checkout ran."""

from __future__ import annotations

import platform
import re
import subprocess
import time
from pathlib import Path

import torch


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def speed_probe() -> dict[str, float | str]:
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    python_seconds = time.perf_counter() - started
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    weight, x, g = torch.zeros(1024, 4608), torch.randn(10, 4608), torch.randn(1024, 10)
    started = time.perf_counter()
    for _ in range(100):
        weight.addmm_(g, x, alpha=-0.01)
    torch_seconds = time.perf_counter() - started
    small_ops_seconds = small_steps()
    torch.set_num_threads(threads)
    return {
        "cpu_model": cpu_model(),
        "python_loop_seconds": round(python_seconds, 3),
        "torch_addmm_seconds": round(torch_seconds, 3),
        "torch_small_steps_seconds": round(small_ops_seconds, 3),
    }


def small_steps(steps: int = 300) -> float:
    """Forward and backward of a small MLP on 10 rows: bound by per-operation overhead, like FedTGP's server."""
    layer_1, layer_2 = torch.nn.Linear(512, 512), torch.nn.Linear(512, 512)
    x = torch.randn(10, 512)
    started = time.perf_counter()
    for _ in range(steps):
        layer_2(torch.relu(layer_1(x))).pow(2).mean().backward()
    return time.perf_counter() - started


def git_commit(checkout: Path | None = None) -> str:
    """The checkout's HEAD (this repository's by default), with '+changes' when its tracked files differ from it
    (the code that ran); 'unknown' outside a git checkout."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=checkout, capture_output=True, text=True
    )
    return (head.stdout.strip() or "unknown") + ("+changes" if dirty.stdout.strip() else "")


def link_fmnist20(checkout: Path, data: Path) -> None:
    """Make a PFLlib or HtFLlib checkout read `data` as its FMNIST20 (they load `dataset/FMNIST20`)."""
    link = checkout / "dataset" / "FMNIST20"
    link.parent.mkdir(exist_ok=True)
    if not link.exists():
        link.symlink_to(data.resolve())


ROUND_TIME_LINE = re.compile(r"^-{25,} (?:time cost -{25} )?([0-9.]+)$")


def library_round_seconds(log: str) -> list[float]:
    """The per-round seconds PFLlib or HtFLlib printed: 50 dashes and the time, or 25 dashes, 'time cost', 25
    dashes and the time (each library's servers use one or the other)."""
    return [float(match.group(1)) for line in log.splitlines() if (match := ROUND_TIME_LINE.match(line))]
