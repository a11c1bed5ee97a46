import math

import torch

from fedloom.algorithms.fml.math import distillation_kl, mutual_losses

# p = softmax([0, 0]) = [.5, .5]; q = softmax([ln 3, 0]) = [.75, .25]
KL_Q_P = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)  # 0.130812...


def test_kl_is_teacher_to_student_and_averaged_over_the_batch_not_the_elements() -> None:
    student = torch.zeros(2, 2)
    teacher = torch.tensor([[math.log(3.0), 0.0]] * 2)
    assert math.isclose(float(distillation_kl(student, teacher)), KL_Q_P, rel_tol=1e-6)  # `mean` would give /2


def test_the_peer_distribution_is_detached() -> None:
    student = torch.zeros(1, 2, requires_grad=True)
    teacher = torch.tensor([[math.log(3.0), 0.0]], requires_grad=True)
    distillation_kl(student, teacher).backward()
    assert teacher.grad is None
    assert student.grad is not None
    # d KL / d z_student = p - q = [.5 - .75, .5 - .25]
    torch.testing.assert_close(student.grad, torch.tensor([[-0.25, 0.25]]))


def test_mutual_losses_by_hand() -> None:
    out, out_g, y = torch.zeros(1, 2), torch.tensor([[math.log(3.0), 0.0]]), torch.tensor([0])
    local, meme = mutual_losses(out, out_g, y, alpha=0.5, beta=0.25)
    ce, ce_g = math.log(2.0), -math.log(0.75)
    kl_p_q = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)  # KL(p || q)
    assert math.isclose(float(local), 0.5 * ce + 0.5 * KL_Q_P, rel_tol=1e-6)
    assert math.isclose(float(meme), 0.25 * ce_g + 0.75 * kl_p_q, rel_tol=1e-6)
