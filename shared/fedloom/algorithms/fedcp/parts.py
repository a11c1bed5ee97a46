"""FedCP's modules and the names they travel under (pfl_algorithms.md 9).

- `policy_network(K)`: the conditional policy network (CPN), Linear(K -> 2K) -> LayerNorm(2K) -> ReLU; 527,360
  parameters for K = 512. Its Linear is a `StepLinear`, so its SGD step can be fused into backward.
- `FedCPModel`: the client's ensemble of base (aggregated), head_p (personal), head_g (frozen global head),
  base_g (frozen global base, for the MMD term only) and CPN, with FedCP's forward pass.
- On the wire: `base.*` (the model's base), `head_g.weight`, `head_g.bias` and `cpn.*`; for cnn4 on 1x28x28 with
  C = 10 that is 576,896 + 5,130 + 527,360 = 1,109,386 floats.
- The server builds the base and head of `ServerEnv.reference_arch` and then the CPN from one generator seeded
  with the run seed (PFLlib creates the CPN after the model), so every client starts from the same values.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedcp.math import policy_masks, split_features
from fedloom.algorithms.global_model import BASE, BASE_ONLY, Shapes, expected_shapes
from fedloom.algorithms.model_parts import TensorMap, part_shapes, part_tensors
from fedloom.algorithms.shared_model import build_shared
from fedloom.errors import ConfigError
from fedloom.models.step_linear import StepLinear

HEAD_G, CPN = "head_g.", "cpn."
UPLOAD_PARTS: tuple[str, ...] = (BASE, HEAD_G, CPN)


def policy_network(feature_dim: int) -> nn.Sequential:
    """Linear(K -> 2K) -> LayerNorm(2K, affine) -> ReLU, PyTorch's default initialisation."""
    return nn.Sequential(
        OrderedDict(
            linear=StepLinear(feature_dim, 2 * feature_dim),
            norm=nn.LayerNorm(2 * feature_dim),
            relu=nn.ReLU(),
        )
    )


def frozen(module: nn.Module) -> nn.Module:
    """`module` with every parameter excluded from training (it still passes gradients to its input)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


class FedCPModel(nn.Module):
    """The client's ensemble; a view over modules the client keeps (ctx.model's base and head, ctx.state's rest)."""

    def __init__(
        self, base: nn.Module, head_p: nn.Module, head_g: nn.Module, base_g: nn.Module, cpn: nn.Module
    ) -> None:
        super().__init__()
        self.base, self.head_p, self.head_g, self.base_g, self.cpn = base, head_p, head_g, base_g, cpn

    def trainable(self) -> list[nn.Parameter]:
        """What FedCP's one SGD updates: base, head_p and CPN."""
        return [*self.base.parameters(), *self.head_p.parameters(), *self.cpn.parameters()]

    def logits(self, features: torch.Tensor, unit_context: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """head_p(r * m_p) + head_g(r * m_g) with (m_p, m_g) = Gumbel-softmax of CPN(r * c / ||c||) (both biases
        added); `noise` [B, K] is the Logistic noise of the two-channel Gumbel-softmax (`math.policy_masks`)."""
        masks = policy_masks(self.cpn(features * unit_context), noise)
        personal, global_ = split_features(features, masks)
        out: torch.Tensor = self.head_p(personal) + self.head_g(global_)
        return out


def reference_parts(env: ServerEnv) -> tuple[nn.Module, nn.Module, nn.Module]:
    """(base, head, CPN) of `env.reference_arch` from one generator seeded with `env.seed`; the base and head are
    `shared_model.reference_model`'s, so FedCP starts from FedAvg's initial model."""
    if env.reference_arch is None or env.input_shape is None:
        raise ConfigError("fedcp shares a model: the server needs reference_arch and input_shape")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(env.seed)
        model = build_shared(env.reference_arch, env.input_shape, env.num_classes, env.feature_dim, env.feature_dim)
        cpn = policy_network(env.feature_dim)
    return model.base, model.head, cpn


def reference_tensors(env: ServerEnv) -> TensorMap:
    """The first package: the reference base, its head as head_g, and the CPN."""
    base, head, cpn = reference_parts(env)
    return {**part_tensors(base, BASE), **part_tensors(head, HEAD_G), **part_tensors(cpn, CPN)}


def head_and_policy_shapes(num_classes: int, feature_dim: int) -> Shapes:
    """Shapes of head_g (Linear K -> C) and the CPN, which depend on (C, K) only."""
    with torch.device("meta"):
        head, cpn = nn.Linear(feature_dim, num_classes), policy_network(feature_dim)
    return {**part_shapes(head, HEAD_G), **part_shapes(cpn, CPN)}


def upload_shapes(env: ServerEnv) -> Shapes:
    """Every tensor of an upload (and of a package) with its shape, found on the meta device."""
    return {**expected_shapes(env, BASE_ONLY), **head_and_policy_shapes(env.num_classes, env.feature_dim)}
