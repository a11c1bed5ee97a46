"""Speed of a full-size StyleGAN3-T generator with random weights, on this CPU (and on CUDA when present).

Builds NVIDIA's -T configuration (z_dim = w_dim = 512, a 2-layer mapping network, channel_base 32768,
channel_max 512, 3x3 convolutions, separable filters; stylegan3.md section 1.3) at --resolution with
`Generator.from_init_kwargs`, warms up, then times `G.mapping` and `G.synthesis` separately under
torch.inference_mode, --repeats times per batch size, and reports medians. On a CUDA device it also
measures images per second in float32 (force_fp32, TF32 off) and through the network's float16 layers.

Writes bench/results/generator.json. Pass --baseline with a JSON this script wrote for another version
of the code (e.g. run with PYTHONPATH pointing at a checkout of it) to record its CPU timings alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from fedloom.generation.stylegan3 import Generator

T_CONFIG: dict[str, Any] = {  # what an NVIDIA --cfg=stylegan3-t pickle stores (batch 32), c_dim 0
    "z_dim": 512,
    "w_dim": 512,
    "mapping_kwargs": {"num_layers": 2},
    "channel_base": 32768,
    "channel_max": 512,
    "magnitude_ema_beta": 0.5 ** (32 / 20000),
    "c_dim": 0,
    "img_channels": 3,
}


def _median_seconds(fn: Callable[[], object], repeats: int, sync: Callable[[], None] = lambda: None) -> list[float]:
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss is in KiB on Linux


def measure_cpu(g: Generator, batch: int, repeats: int, warmup: int) -> dict[str, Any]:
    """Median seconds per image for synthesis (mapping reported apart), every repeat, peak RSS so far."""
    z = torch.randn(batch, g.z_dim, generator=torch.Generator().manual_seed(batch))
    with torch.inference_mode():
        ws = g.mapping(z, None)
        for _ in range(warmup):
            g.synthesis(ws, noise_mode="const")
        synthesis = _median_seconds(lambda: g.synthesis(ws, noise_mode="const"), repeats)
        mapping = _median_seconds(lambda: g.mapping(z, None), max(repeats, 10))
    return {
        "batch": batch,
        "seconds_per_image": statistics.median(synthesis) / batch,
        "synthesis_seconds_per_call": [round(t, 3) for t in synthesis],
        "mapping_seconds_per_call": statistics.median(mapping),
        "peak_rss_mb_so_far": round(_peak_rss_mb(), 1),
    }


def measure_cuda(g: Generator, batch: int, repeats: int, fp16: bool) -> float:
    """Images per second of synthesis on CUDA: float32 with TF32 off, or the network's float16 layers."""
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    g = g.to("cuda")
    z = torch.randn(batch, g.z_dim, device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    with torch.inference_mode():
        ws = g.mapping(z, None)
        for _ in range(3):
            g.synthesis(ws, force_fp32=not fp16)
        times = _median_seconds(lambda: g.synthesis(ws, force_fp32=not fp16), repeats, torch.cuda.synchronize)
    return batch / statistics.median(times)


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _cuda_results(g: Generator, args: argparse.Namespace) -> dict[str, Any]:
    if not torch.cuda.is_available():
        return {"cuda_fp32_images_per_second": None, "cuda_fp16_images_per_second": None, "cuda": None}
    fp32 = measure_cuda(g, args.cuda_batch, args.repeats, fp16=False)
    fp16 = measure_cuda(g, args.cuda_batch, args.repeats, fp16=True)
    cuda = {"device": torch.cuda.get_device_name(), "batch": args.cuda_batch}
    cuda["peak_memory_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
    return {"cuda_fp32_images_per_second": fp32, "cuda_fp16_images_per_second": fp16, "cuda": cuda}


def _note(load_before: list[float], load_after: list[float], threads: int, cuda: bool) -> str:
    gpu = "" if cuda else " No CUDA device in this run: the cuda_* keys are null; rerun on a GPU machine to fill them."
    return (
        f"CPU: {_cpu_model()}, {os.cpu_count()} cores, {threads} intra-op threads. Load average (1, 5, 15 min) "
        f"{load_before} before and {load_after} after: other processes shared the cores, so repeats vary; "
        "seconds_per_image_* are medians of the synthesis calls (mapping excluded, see mapping_seconds_per_call)." + gpu
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--resolution", type=int, default=512)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--cuda-batch", type=int, default=16)
    p.add_argument("--baseline", type=Path, help="a JSON written by this script for another code version")
    p.add_argument("--baseline-label", help="what --baseline measured (default: its path)")
    p.add_argument("--out", type=Path, default=Path("bench/results/generator.json"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    init_kwargs = {**T_CONFIG, "img_resolution": args.resolution}
    g = Generator.from_init_kwargs(init_kwargs).eval().requires_grad_(False)
    load_before = _load()
    runs = [measure_cpu(g, b, args.repeats, args.warmup) for b in args.batch_sizes]
    load_after = _load()
    report: dict[str, Any] = {
        "config": {**init_kwargs, "parameters": sum(p.numel() for p in g.parameters()), "repeats": args.repeats},
        **{f"seconds_per_image_batch{r['batch']}": round(r["seconds_per_image"], 3) for r in runs},
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cpu_runs": runs,
        "load_average": {"before": load_before, "after": load_after},
        "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS") if k in os.environ},
    }
    report.update(_cuda_results(g, args))
    report["note"] = _note(load_before, load_after, report["threads"], report["cuda"] is not None)
    if args.baseline:
        base = json.loads(args.baseline.read_text())
        keep = ("peak_rss_mb", "threads", "load_average", "torch")
        report["baseline"] = {"source": args.baseline_label or str(args.baseline)}
        report["baseline"].update({k: v for k, v in base.items() if k.startswith("seconds_per_image") or k in keep})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
