import torch

from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.algorithms.fd.config import FDConfig
from fedloom.algorithms.fd.math import logit_distillation
from fedloom.algorithms.fd.server import FDServer
from fedloom.algorithms.prototypes import pack
from fedloom.wire import ClientUpdate


def test_distillation_is_mse_to_the_global_logit_of_the_class_over_batch_times_classes() -> None:
    logits = torch.tensor([[1.0, 3.0], [2.0, 0.0], [5.0, 5.0]])
    labels = torch.tensor([0, 0, 1])
    table = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    mask = torch.tensor([True, False])
    # sample 0: (0 + 4), sample 1: (1 + 1), sample 2: class 1 has no global logit -> 0; / (3 * 2)
    assert torch.isclose(logit_distillation(logits, labels, table, mask), torch.tensor(6.0 / 6.0))


def test_distillation_gradient_pulls_logits_towards_the_global_ones() -> None:
    logits = torch.tensor([[2.0, 0.0]], requires_grad=True)
    logit_distillation(logits, torch.tensor([0]), torch.tensor([[0.0, 0.0]]), torch.tensor([True])).backward()
    assert logits.grad is not None
    assert logits.grad.tolist() == [[2.0, 0.0]]  # d/dz (z - g)^2 / 2 = (z - g)


def test_global_logits_are_the_unweighted_mean_over_clients_per_class() -> None:
    server = FDServer(FDConfig())
    env = ServerEnv(num_classes=2, feature_dim=512, settings=TrainSettings())
    uploads = [
        ClientUpdate(round=0, client_id=0, num_samples=90, tensors=pack(torch.tensor([1]), torch.tensor([[0.0, 4.0]]))),
        ClientUpdate(
            round=0,
            client_id=1,
            num_samples=10,
            tensors=pack(torch.tensor([1, 0]), torch.tensor([[2.0, 0.0], [7.0, 1.0]])),
        ),
    ]
    payload = server.broadcast(server.aggregate(server.init(env), uploads))
    assert payload.tensors["classes"].tolist() == [0, 1]
    assert payload.tensors["prototypes"].tolist() == [[7.0, 1.0], [1.0, 2.0]]
