"""upload_bytes / download_bytes of every registered algorithm against reference/algorithms.md section 4.4.

Setting of that table: C = 10 classes, K = 512, float32, every client holding every class; the shared
model of FML / FedKD / FedMRL is client 0's, the 4-layer CNN (FedAvgCNN) on 3x32x32. The bytes are the
transport's own count of the encoded messages, round 1 (after every client has joined); they must
equal the formula's tensor bytes plus at most a message envelope (names, dtype and shape headers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fedloom.algorithms import algorithm_names
from fedloom.federation import RoundMetrics
from fedloom.models import build_model, count_parameters
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.simulation.setup import load_dataset

C, K, SHAPE = 10, 512, (3, 32, 32)
ENVELOPE = 1024  # msgpack envelope of one message: field names, tensor names, {dtype, shape} headers
TINY_W = 64  # w_dim of the `tiny` generator that FedKTL uses here (StyleGAN3 in the table: 512)
SHARED = count_parameters(build_model("cnn4", SHAPE, C, K))  # FedAvgCNN: 878,538
HEAD = K * C + C  # 5,130
CPN = K * 2 * K + 2 * K + 2 * 2 * K  # FedCP's policy network Linear(K, 2K) + LayerNorm(2K): 527,360


@dataclass(frozen=True)
class Size:
    """Tensor bytes of one message: `floats` float32 and `ints` int64 values, or a range up to `most`."""

    floats: int
    ints: int = 0
    most: int | None = None  # an upper bound in bytes where the table gives one ("<= C K")

    @property
    def low(self) -> int:
        return 4 * self.floats + 8 * self.ints

    @property
    def high(self) -> int:
        return self.most if self.most is not None else self.low


# name -> (upload, download per round); class ids (int64) travel beside class-indexed rows
FORMULAS: dict[str, tuple[Size, Size]] = {
    "local": (Size(0), Size(0)),
    "fd": (Size(C * C, C), Size(C * C, C)),
    "fedproto": (Size(C * K, C), Size(C * K, C)),
    "fedtgp": (Size(C * K, C), Size(C * K, C)),
    "fedgh": (Size(C * K, C), Size(HEAD)),
    "lg": (Size(HEAD), Size(HEAD)),
    # FedGen also sends train counts per class (int64 [C]) both ways: the server samples labels by them
    "fedgen": (Size(HEAD, C), Size(HEAD + 285_696, C)),
    "fedktl": (Size(C * C, C), Size(C * (3 * 32 * 32 + TINY_W))),
    # FedL2G uploads the rows of classes its study batch held: between 1 and C rows of V's gradient
    "fedl2g": (Size(K, 1, most=C * (4 * K + 8)), Size(C * K)),
    "fedl2g-logit": (Size(C, 1, most=C * (4 * C + 8)), Size(C * C)),
    "fml": (Size(SHARED), Size(SHARED)),
    "fedmrl": (Size(SHARED - HEAD + 128 * C + C), Size(SHARED - HEAD + 128 * C + C)),  # 874,698: head Linear(128, C)
    # FedKD: truncated SVD of the mentee; near full size early, can exceed it (1.00M > 0.88M at T = 0.95)
    "fedkd": (Size(1, most=int(1.25 * 4 * SHARED)), Size(1, most=int(1.25 * 4 * SHARED))),
    # one architecture for all (pfl_algorithms.md 12): the whole model, or the base without the head
    "fedavg": (Size(SHARED), Size(SHARED)),
    "ditto": (Size(SHARED), Size(SHARED)),
    "fedala": (Size(SHARED), Size(SHARED)),  # W stays on the client
    "feddbe": (Size(SHARED), Size(SHARED)),  # b stays on the client; no init round with kl_weight 0
    "fedper": (Size(SHARED - HEAD), Size(SHARED - HEAD)),
    "fedrep": (Size(SHARED - HEAD), Size(SHARED - HEAD)),
    "fedbabu": (Size(SHARED - HEAD), Size(SHARED - HEAD)),
    # GPFL: base + GCE (C x K) + CoV (two branches of Linear(K, K) and LayerNorm(K)), both ways
    "gpfl": (Size(SHARED - HEAD + C * K + 2 * (K * K + 3 * K)), Size(SHARED - HEAD + C * K + 2 * (K * K + 3 * K))),
    # FedCP: base + head_g + CPN both ways; every client gets the one package, the selected ones use all of it
    "fedcp": (Size(SHARED + CPN), Size(SHARED + CPN)),
}
ONE_TIME = {"fedktl": Size(C * C + K * TINY_W + TINY_W)}  # ETF C x C + proj_fc Linear(K, w)
OPTIONS = {"fedl2g-logit": {"variant": "logit"}}
CASES = sorted({*algorithm_names(), *(case for case in OPTIONS if case.split("-")[0] in algorithm_names())})


def config(case: str) -> SimulationConfig:
    return SimulationConfig(
        algorithm=case.split("-")[0],
        options=OPTIONS.get(case, {}),
        dataset="synthetic",
        dataset_options={"num_classes": C, "samples": 200, "image_shape": SHAPE},
        partition="iid",
        clients=2,
        rounds=2,
        models="cnn4",
        feature_dim=K,
        generator="tiny",
        seed=0,
    )


def assert_within(measured_total: int, messages: int, size: Size, what: str) -> None:
    per_message = measured_total / messages
    assert size.low <= per_message <= size.high + ENVELOPE, f"{what}: {per_message} bytes, formula {size}"


def test_every_client_holds_every_class_so_the_table_applies() -> None:
    dataset = load_dataset(config("local"))
    assert all(set(client.train_y.tolist()) == set(range(C)) for client in dataset.clients)


def test_every_registered_algorithm_has_a_formula() -> None:
    assert set(algorithm_names()) <= set(FORMULAS)


@pytest.mark.parametrize("case", CASES)
def test_measured_bytes_match_the_formulas(case: str) -> None:
    history: list[RoundMetrics] = run_simulation(config(case), progress=False).history
    upload, download = FORMULAS[case]
    steady = history[1]
    assert steady.uploads == steady.clients == 2
    assert_within(steady.upload_bytes, steady.uploads, upload, f"{case} upload")
    assert_within(steady.download_bytes, steady.clients, download, f"{case} download")
    if case in ONE_TIME:  # round 0 = the one-time bootstrap plus an empty first package
        assert_within(history[0].download_bytes, 2, ONE_TIME[case], f"{case} one-time download")
