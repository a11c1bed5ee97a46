"""`fedloom generator info|sample|convert`: look at a generator, draw a grid, convert a pickle."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_generator(sub: Any) -> None:
    p = sub.add_parser("generator", help="inspect, sample or convert an image generator")
    verbs = p.add_subparsers(dest="verb", required=True)
    info = verbs.add_parser("info", help="print a generator's dimensions as JSON")
    info.add_argument("path", help="'builtin', 'tiny', a StyleGAN3 .pkl or a converted folder")
    info.set_defaults(handler=run_info)
    sample = verbs.add_parser("sample", help="write a PNG grid of random samples")
    sample.add_argument("path")
    sample.add_argument("--n", type=int, default=16, help="number of images")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", type=Path, default=Path("grid.png"))
    sample.add_argument("--device", default="cpu")
    sample.set_defaults(handler=run_sample)
    convert = verbs.add_parser("convert", help="NVIDIA pickle -> G_ema.safetensors + init_kwargs.json")
    convert.add_argument("path", type=Path)
    convert.add_argument("out_dir", type=Path)
    convert.set_defaults(handler=run_convert)
    serve = verbs.add_parser("serve", help="serve the generator REST API (settings: FEDLOOM_* variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8081)
    serve.set_defaults(handler=run_serve)


def run_info(args: argparse.Namespace) -> int:
    from fedloom.generation.backends import load_generator

    g = load_generator(args.path)
    fields = {"source": args.path, "backend": type(g).__name__}
    fields |= {name: getattr(g, name) for name in ("z_dim", "w_dim", "num_ws", "resolution")}
    sys.stdout.write(json.dumps(fields, indent=2) + "\n")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    import torch

    from fedloom.errors import ConfigError
    from fedloom.generation.backends import load_generator
    from fedloom.generation.grid import save_image_grid

    if args.n < 1:
        raise ConfigError("--n must be at least 1")
    g = load_generator(args.path, args.device)
    with torch.no_grad():
        images = g.synthesize(g.sample_latents(args.n, torch.Generator().manual_seed(args.seed)))
    nrow = max(1, round(args.n**0.5))
    save_image_grid(images, args.out, nrow=nrow, scale=max(1, 128 // g.resolution))
    sys.stderr.write(f"wrote {args.n} samples to {args.out}\n")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from fedloom.generation.stylegan3 import convert_pickle

    convert_pickle(args.path, args.out_dir)
    sys.stderr.write(f"wrote {args.out_dir}/G_ema.safetensors and init_kwargs.json\n")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from fedloom_generator import serve

    serve(args.host, args.port)
    return 0
