"""course_utils.losses.focal against torchvision.ops.sigmoid_focal_loss and its own definition."""
import math

import pytest
import torch
import torch.nn.functional as F
import torchvision

from course_utils.losses.focal import _sigmoid_focal_loss_twin, sigmoid_focal_loss


def _case(seed, shape, dtype):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g, dtype=dtype) * 4
    targets = (torch.rand(shape, generator=g) < 0.2).to(dtype)
    return logits, targets


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.5, 0.0), (-1.0, 1.5), (1.0, 5.0), (0.0, 2.0)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_matches_torchvision(dtype, tol, alpha, gamma, reduction):
    logits, targets = _case(0, (3, 7, 5), dtype)
    got = sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    expected = torchvision.ops.sigmoid_focal_loss(logits, targets, alpha, gamma, reduction)
    assert got.dtype == dtype and got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=tol, rtol=tol)
    torch.testing.assert_close(_sigmoid_focal_loss_twin(logits, targets, alpha, gamma, reduction), got,
                               atol=tol, rtol=tol)


def test_definition_and_special_cases():
    x = torch.tensor([2.0, -1.0, 3.0, 0.0], dtype=torch.float64)
    t = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    p = torch.sigmoid(x)
    p_t = torch.where(t == 1, p, 1 - p)
    alpha_t = torch.where(t == 1, 0.25, 0.75)
    torch.testing.assert_close(sigmoid_focal_loss(x, t), -alpha_t * (1 - p_t) ** 2 * torch.log(p_t))
    # gamma = 0 and no alpha: the binary cross-entropy
    torch.testing.assert_close(sigmoid_focal_loss(x, t, alpha=-1, gamma=0),
                               F.binary_cross_entropy_with_logits(x, t, reduction="none"))


def test_finite_for_large_logits_and_gradcheck():
    x = torch.tensor([100.0, -100.0, 40.0, -40.0])
    t = torch.tensor([0.0, 1.0, 1.0, 0.0])
    out = sigmoid_focal_loss(x, t)
    assert torch.isfinite(out).all()
    assert out[0] == pytest.approx(0.75 * 100.0) and out[1] == pytest.approx(0.25 * 100.0)
    assert out[2] == 0 and out[3] == 0
    logits, targets = _case(1, (4, 3), torch.float64)
    torch.autograd.gradcheck(lambda z: sigmoid_focal_loss(z, targets, 0.25, 2.0, "sum"),
                             (logits.clone().requires_grad_(),))


def test_empty_integer_targets_and_device():
    out = sigmoid_focal_loss(torch.zeros(0, 4), torch.zeros(0, 4, dtype=torch.int64))
    assert out.shape == (0, 4) and out.dtype == torch.float32
    assert sigmoid_focal_loss(torch.zeros(0), torch.zeros(0), reduction="sum").item() == 0
    assert math.isnan(sigmoid_focal_loss(torch.zeros(0), torch.zeros(0), reduction="mean").item())
    x = torch.tensor([0.3, -2.0])
    assert torch.equal(sigmoid_focal_loss(x, torch.tensor([1, 0])), sigmoid_focal_loss(x, torch.tensor([1.0, 0.0])))


def test_errors():
    x = torch.zeros(3)
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        sigmoid_focal_loss(torch.zeros(3, dtype=torch.int64), x)
    with pytest.raises(ValueError, match="targets must have shape"):
        sigmoid_focal_loss(x, torch.zeros(4))
    with pytest.raises(ValueError, match="targets must lie in"):
        sigmoid_focal_loss(x, torch.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="gamma"):
        sigmoid_focal_loss(x, x, gamma=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        sigmoid_focal_loss(x, x, alpha=1.5)
    with pytest.raises(ValueError, match="reduction"):
        sigmoid_focal_loss(x, x, reduction="avg")


def test_targets_found_by_the_property_tests():
    x = torch.zeros(3)
    with pytest.raises(ValueError, match="targets must lie in"):  # NaN lies outside [0, 1]; it used to give a NaN loss
        sigmoid_focal_loss(x, torch.tensor([0.0, math.nan, 1.0]))
    with pytest.raises(TypeError, match="targets must be real"):  # used to crash in a comparison
        sigmoid_focal_loss(x, torch.zeros(3, dtype=torch.complex64))
