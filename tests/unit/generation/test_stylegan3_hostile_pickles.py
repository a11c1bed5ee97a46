"""Network pickles built to exhaust memory or to change the loader for later loads (issue 19, items 4-5):
refused with the loader's own error, quickly, without large allocations, and without lasting effects."""

from __future__ import annotations

import contextlib
import pickle
import random
import resource
import struct
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import _stylegan3_fake_pickle as fake
import pytest
import torch
from _stylegan3_data import Reference

from fedloom.errors import FedLoomError
from fedloom.generation.stylegan3 import NetworkFormatError, load_network, read_network, unpickler

pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")


class Call:
    """Pickles as REDUCE(func, args) with the real global of `func`."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "network.pkl"
    path.write_bytes(data)
    return path


def tensor_of(storage: Any, size: tuple[int, ...], stride: tuple[int, ...]) -> Call:
    return Call(torch._utils._rebuild_tensor_v2, storage, 0, size, stride, False, OrderedDict())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_zero_stride_tensor_cannot_claim_more_than_its_storage(tmp_path: Path) -> None:
    one = torch.zeros(1).storage()
    data = fake.dumps({"G_ema": tensor_of(one, (25_000_000,), (0,))}, protocol=2)  # 100 MB claimed
    assert len(data) < 500
    before, start = peak_rss_mb(), time.monotonic()
    with pytest.raises(NetworkFormatError, match="claims 25000000 elements, its storage holds 1"):
        read_network(write(tmp_path, data))
    assert time.monotonic() - start < 1.0 and peak_rss_mb() - before < 50


@pytest.mark.parametrize(
    ("size", "stride"), [((4, 4), (1, 1)), ((2, 8), (0, 1)), ((3, 5), (4, 1))], ids=["overlap", "zero", "short"]
)
def test_overlapping_strides_are_refused(tmp_path: Path, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
    storage = torch.arange(16.0).storage()
    with pytest.raises(NetworkFormatError, match="reuses storage elements"):
        read_network(write(tmp_path, fake.dumps({"G_ema": tensor_of(storage, size, stride)})))


def test_one_storage_named_many_times_runs_out_of_budget(tmp_path: Path) -> None:
    storage = torch.zeros(100_000).storage()  # 400 kB in the file once, then only memo references
    data = fake.dumps({"G_ema": [tensor_of(storage, (100_000,), (1,)) for _ in range(1000)]})
    assert len(data) < 1_000_000
    with pytest.raises(NetworkFormatError, match="budget"):
        read_network(write(tmp_path, data))


@pytest.mark.parametrize(
    "change", [{"channel_max": 1 << 20}, {"img_resolution": 1 << 16}, {"z_dim": 0}, {"num_layers": 1000}]
)
def test_absurd_init_kwargs_are_refused_before_building(
    tiny_t: Reference, tmp_path: Path, change: dict[str, int]
) -> None:
    g_ema = fake.generator_object(tiny_t.init_kwargs, tiny_t.state_dict)
    g_ema.meta["state"]["_init_kwargs"].update(change)  # a file whose kwargs say more than its weights
    with pytest.raises(NetworkFormatError, match="outside the supported range"):
        load_network(write(tmp_path, fake.dumps({"G_ema": g_ema})))


def build_on_global(module: str, name: str, state: dict[str, Any]) -> bytes:
    """GLOBAL module.name, then BUILD with (None, state): setattr on the global itself, as pickle does it."""
    body = pickle.dumps((None, state), protocol=2)[2:-1]  # the tuple's opcodes, without PROTO and STOP
    return b"\x80\x02" + b"c" + f"{module}\n{name}\n".encode() + body + b"b" + b"."


def stand_in_state() -> dict[str, Any]:
    """What a pickle could change of the stand-ins: functions' defaults and attributes, classes' dicts."""
    targets = [*unpickler.ALLOWED_FUNCTIONS.values(), *unpickler.BUDGETED_FUNCTIONS.values()]
    targets += unpickler.ALLOWED_CLASSES.values()
    return {t.__qualname__: (getattr(t, "__defaults__", None), dict(vars(t))) for t in targets}


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch_utils.persistence", "_reconstruct_persistent_obj"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("dnnlib.util", "EasyDict"),
    ],
)
def test_a_pickle_cannot_change_the_allowed_globals(tiny_t: Reference, tmp_path: Path, module: str, name: str) -> None:
    before = stand_in_state()
    poison = {"__defaults__": (True, None, None), "__kwdefaults__": {}, "marker": 1}
    with pytest.raises(NetworkFormatError):
        read_network(write(tmp_path, build_on_global(module, name, poison)))
    assert stand_in_state() == before
    network = load_network(write(tmp_path, fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict)))
    v = tiny_t.vectors
    with torch.no_grad():  # a clean load afterwards still matches the reference vectors
        torch.testing.assert_close(network.mapping(v["z"], v["c"], truncation_psi=0.7), v["ws_psi0p7"])
        torch.testing.assert_close(network.synthesis(v["ws_psi1"]), v["img_psi1"], atol=1e-5, rtol=1e-5)


def test_damaged_files_only_ever_give_the_loaders_errors(tiny_t: Reference, tmp_path: Path) -> None:
    whole = fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict)
    rng = random.Random(0)
    variants = [whole[: rng.randrange(len(whole))] for _ in range(40)]
    for _ in range(80):
        damaged = bytearray(whole)
        for _ in range(rng.randrange(1, 4)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        variants.append(bytes(damaged))
    variants.append(whole[:2] + struct.pack("<Q", 2**62) + whole[10:])
    for data in variants:
        with contextlib.suppress(FedLoomError):  # NetworkFormatError, UnsafePickleError: the loader's own
            load_network(write(tmp_path, data))
