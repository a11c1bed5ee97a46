import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms.fedl2g.math import guide_step, guided_loss, mean_class_gradients, meta_guide_gradient
from fedloom.models.base import BaseHeadModel


def tiny_model() -> BaseHeadModel:
    torch.manual_seed(0)
    model = BaseHeadModel(nn.Sequential(nn.Linear(3, 2), nn.Tanh()), nn.Linear(2, 3), feature_dim=2, arch="tiny")
    return model.double()


def test_guided_loss_adds_the_mse_to_the_class_guide() -> None:
    logits = torch.zeros(2, 2)  # CE = log 2 for both samples
    guided = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    guides = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    # squared errors: sample 0 (class 0) 0 + 4, sample 1 (class 1) 0 + 4 -> 8 / 4 elements
    expected = torch.log(torch.tensor(2.0)) + 2.0
    assert torch.isclose(guided_loss(logits, guided, torch.tensor([0, 1]), guides), expected)


Batch = tuple[torch.Tensor, torch.Tensor]


def quiz_after_explicit_step(model: BaseHeadModel, study: Batch, quiz: Batch, guides: torch.Tensor, lr: float) -> float:
    """The quiz loss after one plain SGD step on a copy of the model (no autograd through the step)."""
    copy = tiny_model()
    copy.load_state_dict(model.state_dict())
    features = copy.base(study[0])
    loss = guided_loss(copy.head(features), features, study[1], guides)
    grads = torch.autograd.grad(loss, list(copy.parameters()))
    with torch.no_grad():
        for p, g in zip(copy.parameters(), grads, strict=True):
            p -= lr * g
        return float(F.cross_entropy(copy(quiz[0]), quiz[1]))


def test_meta_gradient_matches_finite_differences_and_is_zero_for_unseen_classes() -> None:
    model = tiny_model()
    gen = torch.Generator().manual_seed(3)
    study = (torch.randn(4, 3, generator=gen, dtype=torch.float64), torch.tensor([0, 1, 0, 1]))
    quiz = (torch.randn(3, 3, generator=gen, dtype=torch.float64), torch.tensor([2, 1, 0]))
    guides = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    lr, eps = 0.5, 1e-6
    grad, quiz_loss = meta_guide_gradient(model, [study], [quiz], guides, lr, on_logits=False)
    assert abs(quiz_loss - quiz_after_explicit_step(model, study, quiz, guides, lr)) < 1e-12
    for c in range(2):
        for d in range(2):
            up, down = guides.clone(), guides.clone()
            up[c, d] += eps
            down[c, d] -= eps
            numeric = (
                quiz_after_explicit_step(model, study, quiz, up, lr)
                - quiz_after_explicit_step(model, study, quiz, down, lr)
            ) / (2 * eps)
            assert abs(float(grad[c, d]) - numeric) < 1e-7
    assert grad[2].tolist() == [0.0, 0.0]  # class 2 is not in the study batch: V[2] does not matter
    assert grad[:2].abs().sum() > 0


def test_meta_step_leaves_the_model_and_its_buffers_alone() -> None:
    model = BaseHeadModel(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), nn.Linear(2, 2), 2, "bn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = (torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))
    meta_guide_gradient(model, [batch], [batch], torch.zeros(2, 2), 0.1, on_logits=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_server_gradient_is_the_per_class_mean_with_zeros_for_missing_classes() -> None:
    labels = torch.tensor([0, 0, 2])
    rows = torch.tensor([[2.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    assert mean_class_gradients(labels, rows, 3).tolist() == [[1.0, 1.0], [0.0, 0.0], [4.0, 4.0]]


def test_guide_step_is_sgd_with_norm_clipping() -> None:
    guides = torch.tensor([[1.0, 1.0]])
    assert guide_step(guides, torch.tensor([[1.0, 0.0]]), lr=0.5, clip=100.0).tolist() == [[0.5, 1.0]]
    # ||g|| = 500 > 100: g is scaled to norm 100 (up to torch's 1e-6), i.e. [60, 80]
    clipped = guide_step(guides, torch.tensor([[300.0, 400.0]]), lr=0.01, clip=100.0)
    assert torch.allclose(clipped, torch.tensor([[1.0 - 0.6, 1.0 - 0.8]]), atol=1e-6)
