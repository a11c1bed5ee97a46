"""FedTGP's client uploads the prototypes of the model it has just trained (HtFLlib took them from the model
of the round's start: algorithms.md section 7), computed in eval mode on its train split."""

from __future__ import annotations

import copy

import torch
from torch import nn

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, TrainSettings
from fedloom.algorithms.prototypes import class_means, unpack
from fedloom.data.types import ClientData
from fedloom.models.base import BaseHeadModel
from fedloom.wire import GlobalPayload

C, K = 3, 4


def context() -> ClientContext:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(24, 5, generator=gen), torch.arange(24) % C
    base = nn.Sequential(nn.Linear(5, K), nn.BatchNorm1d(K), nn.ReLU())  # batch norm: eval mode matters
    model = BaseHeadModel(base, nn.Linear(K, C), K, "tiny")
    data = ClientData(client_id=0, train_x=x, train_y=y, test_x=x, test_y=y)
    return ClientContext(0, model, data, C, TrainSettings(batch_size=4, lr=0.5), torch.Generator().manual_seed(0))


def eval_means(model: BaseHeadModel, data: ClientData) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return class_means(model.base(data.train_x), data.train_y, C)[1]


def test_uploaded_prototypes_are_the_trained_models_class_means() -> None:
    spec = get_algorithm("fedtgp")
    ctx = context()
    before = copy.deepcopy(ctx.model)
    update = spec.make_client(make_config(spec, {})).fit(ctx, GlobalPayload(round=0))
    classes, protos = unpack(update.tensors, C, K)
    assert classes.tolist() == [0, 1, 2]
    torch.testing.assert_close(protos, eval_means(ctx.model, ctx.data))  # the model after training
    assert not torch.allclose(protos, eval_means(before, ctx.data), atol=1e-3)  # not the round's start model
