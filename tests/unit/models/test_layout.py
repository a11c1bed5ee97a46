"""Speed-minded layout choices must not change what a model computes."""

import torch
import torch.nn.functional as F

from fedloom.models import build_client_model


def test_pool_then_relu_is_relu_then_pool() -> None:
    x = torch.randn(4, 8, 12, 12)
    assert torch.equal(F.relu(F.max_pool2d(x, 2)), F.max_pool2d(F.relu(x), 2))


def test_channels_last_weights_compute_the_contiguous_function() -> None:
    torch.manual_seed(0)
    model = build_client_model("hcnn8", 1, (1, 28, 28), 10, 64).eval()
    assert model.base.conv2.weight.is_contiguous(memory_format=torch.channels_last)
    reference = build_client_model("hcnn8", 1, (1, 28, 28), 10, 64).eval()
    reference.load_state_dict(model.state_dict())
    reference.to(memory_format=torch.contiguous_format)
    x = torch.randn(6, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-5)
