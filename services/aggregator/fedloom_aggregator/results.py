"""What a federation produced, read back for operators: per-client round metrics and the latest images."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fedloom.algorithms import get_algorithm
from fedloom.wire import GlobalPayload, decode
from fedloom.wire.control import ClientRoundMetrics
from fedloom_aggregator.coordinator import Coordinator
from fedloom_aggregator.transport import package_key


@dataclass(frozen=True)
class GeneratedImages:
    """FedKTL's prototype-induced images of one round, one per class, in [0, 1] ([C, channels, H, W])."""

    round: int
    images: torch.Tensor


class Results:
    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def client_metrics(self, fid: str) -> list[ClientRoundMetrics]:
        """Every client's report for every finished round, by round then client id."""
        rounds = len(self.coordinator.load(fid)["rounds"])
        rows = []
        for round_ in range(rounds):
            for cid, report in sorted(self.coordinator.book.metrics(fid, round_).items()):
                accuracy = report.correct / report.total if report.total else None
                rows.append(
                    ClientRoundMetrics(
                        round=round_,
                        client_id=cid,
                        correct=report.correct,
                        total=report.total,
                        accuracy=accuracy,
                        loss=report.loss,
                    )
                )
        return rows

    def latest_images(self, fid: str) -> GeneratedImages | None:
        """The newest published images (None for algorithms without a generator or before the first round).

        Round r's images travel in the package of round r + 1, normalised to [-1, 1] for the clients.
        """
        record = self.coordinator.load(fid)
        if not get_algorithm(record["config"]["algorithm"]).needs_generator:
            return None
        newest = len(record["rounds"])
        for package_round in range(newest, max(newest - 2, 0), -1):
            images = self.images_in_package(fid, package_round)
            if images is not None:
                return GeneratedImages(package_round - 1, images)
        return None

    def images_in_package(self, fid: str, package_round: int) -> torch.Tensor | None:
        artifacts = self.coordinator.artifacts
        if not artifacts.exists(package_key(fid, package_round)):
            return None
        images = decode(artifacts.get(package_key(fid, package_round)), GlobalPayload).tensors.get("images")
        return None if images is None else ((images + 1) / 2).clamp(0, 1)
