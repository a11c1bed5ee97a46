"""FMNIST20: the Fashion-MNIST federation of the benchmarks (HtFLlib's and PFLlib's figures were measured on
it), written in the PFLlib/HtFLlib folder layout that `--dataset pfl:DIR` reads.

Every byte is a function of the IDX files and the options: every `stride`-th image of train + test merged,
normalised to [-1, 1]; a Dirichlet(alpha) label split over the clients drawn from numpy's legacy generator
seeded with `seed` (the draws PFLlib's own scripts make), repeated until each client holds `least_samples`;
then a shuffled 75/25 split per client from the same stream. With the defaults the fingerprint (sha256 of
SHA256SUMS) is FINGERPRINT, the folder the reference figures were measured on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fedloom.data.idx import FMNIST_DIR, load_fmnist

FINGERPRINT = "86bcb13e5c047a1fbbf250b3bbab727452f9f5eca94e91c9a30fa7e7971a8234"
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fmnist20Options:
    idx_dir: Path = FMNIST_DIR
    stride: int = 5
    clients: int = 20
    classes: int = 10
    alpha: float = 0.1
    seed: int = 1
    train_ratio: float = 0.75
    batch_size: int = 10

    def least_samples(self, total: int) -> int:
        """Each client needs a batch's worth of test samples and no more than half its even share."""
        return int(min(self.batch_size / (1 - self.train_ratio), total / self.clients / 2))


def dirichlet_buckets(
    labels: IntArray, options: Fmnist20Options, rng: np.random.RandomState
) -> tuple[list[list[int]], int]:
    """Per class: shuffle its indices, draw client shares ~ Dir(alpha), zero the shares of clients already at
    their even share, cut. Repeated until every client has `least_samples`; returns the buckets and attempts."""
    cap = len(labels) / options.clients
    least = options.least_samples(len(labels))
    attempts = 0
    while True:
        attempts += 1
        buckets: list[list[int]] = [[] for _ in range(options.clients)]
        for k in range(options.classes):
            members = np.where(labels == k)[0]
            rng.shuffle(members)
            shares = rng.dirichlet(np.repeat(options.alpha, options.clients))
            shares = shares * np.array([len(b) < cap for b in buckets], dtype=np.float64)
            cuts = (np.cumsum(shares / shares.sum()) * len(members)).astype(int)[:-1]
            for bucket, part in zip(buckets, np.split(members, cuts), strict=True):
                bucket.extend(part.tolist())
        if min(len(b) for b in buckets) >= least:
            return buckets, attempts


def train_test_split(n: int, train_ratio: float, rng: np.random.RandomState) -> tuple[IntArray, IntArray]:
    """A seeded permutation: its first n - floor(ratio * n) positions are the test split, the rest train."""
    order = rng.permutation(n)
    n_test = n - int(np.floor(train_ratio * n))
    return order[n_test:], order[:n_test]


def label_counts(labels: IntArray) -> list[list[int]]:
    return [[int(k), int(v)] for k, v in zip(*np.unique(labels, return_counts=True), strict=True)]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_client_file(path: Path, x: npt.NDArray[np.float32], y: IntArray) -> str:
    """One client split as PFLlib writes it (key `data` -> {x, y}); returns the file's sha256."""
    with open(path, "wb") as f:
        np.savez_compressed(f, data={"x": np.ascontiguousarray(x), "y": np.ascontiguousarray(y)})  # type: ignore[arg-type]
    return sha256_file(path)


def write_clients(
    out: Path,
    images: npt.NDArray[np.float32],
    labels: IntArray,
    buckets: list[list[int]],
    options: Fmnist20Options,
    rng: np.random.RandomState,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """train/<i>.npz and test/<i>.npz per client (split with `rng`, after the allocation); their statistics
    and sha256 digests."""
    for split in ("train", "test"):
        (out / split).mkdir(parents=True, exist_ok=True)
    clients, digests = [], {}
    for cid, bucket in enumerate(buckets):
        idx = np.asarray(bucket, dtype=np.int64)
        x, y = images[idx], labels[idx]
        train, test = train_test_split(len(idx), options.train_ratio, rng)
        for split, chosen in (("train", train), ("test", test)):
            digests[f"{split}/{cid}.npz"] = save_client_file(out / split / f"{cid}.npz", x[chosen], y[chosen])
        clients.append(
            {
                "client": cid,
                "samples": len(idx),
                "train_samples": len(train),
                "test_samples": len(test),
                "labels": label_counts(y),
                "train_labels": label_counts(y[train]),
                "test_labels": label_counts(y[test]),
            }
        )
    return clients, digests


def folder_config(clients: list[dict[str, Any]], total: int, attempts: int, options: Fmnist20Options) -> dict[str, Any]:
    """config.json: the options, PFLlib's per-client label statistic and each client's sizes."""
    return {
        "num_clients": options.clients,
        "num_classes": options.classes,
        "non_iid": True,
        "balance": False,
        "partition": "dir",
        "alpha": options.alpha,
        "batch_size": options.batch_size,
        "train_ratio": options.train_ratio,
        "least_samples": options.least_samples(total),
        "seed": options.seed,
        "source": f"Fashion-MNIST IDX (train 60000 + test 10000 merged), every {options.stride}-th image kept",
        "num_samples": total,
        "allocation_attempts": attempts,
        "Size of samples for labels in clients": [c["labels"] for c in clients],
        "clients": clients,
    }


def write_fmnist20(out: Path, options: Fmnist20Options | None = None) -> dict[str, Any]:
    """Write the folder; returns a summary with the fingerprint (sha256 of SHA256SUMS)."""
    options = options or Fmnist20Options()
    raw = load_fmnist(options.idx_dir)
    keep = np.arange(0, len(raw.y), options.stride)
    images = raw.x.numpy()[keep]
    labels = raw.y.numpy()[keep].astype(np.int64)
    rng = np.random.RandomState(options.seed)
    buckets, attempts = dirichlet_buckets(labels, options, rng)
    clients, digests = write_clients(out, images, labels, buckets, options, rng)
    config_path = out / "config.json"
    config_path.write_text(json.dumps(folder_config(clients, len(labels), attempts, options), indent=1) + "\n")
    digests["config.json"] = sha256_file(config_path)
    sums = out / "SHA256SUMS"
    sums.write_text("".join(f"{digests[name]}  {name}\n" for name in sorted(digests)))
    return {
        "out_dir": str(out.resolve()),
        "num_samples": len(labels),
        "allocation_attempts": attempts,
        "client_sizes": [c["samples"] for c in clients],
        "sha256_of_SHA256SUMS": sha256_file(sums),
        "reference_fingerprint": sha256_file(sums) == FINGERPRINT,
    }
