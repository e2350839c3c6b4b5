"""Tests for course_utils.gradcheck: numeric gradients on NumPy and torch, against autograd."""
import numpy as np
import pytest
import torch

from course_utils.gradcheck import gradient_check, numeric_gradient, relative_error


def test_numeric_gradient_matches_autograd_on_torch():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    w = torch.randn(4, generator=g, dtype=torch.float64)

    def f(v):
        return torch.tanh(v @ w).pow(2).sum() + v.exp().mean()

    leaf = x.clone().requires_grad_(True)
    f(leaf).backward()
    numeric = numeric_gradient(f, x)
    assert numeric.shape == x.shape and numeric.dtype == torch.float64
    assert relative_error(numeric, leaf.grad) < 1e-8


def test_numeric_gradient_on_numpy_and_restores_x():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = numeric_gradient(lambda v: float(np.sum(np.sin(v))), x)
    assert isinstance(grad, np.ndarray) and grad.shape == (2, 2)
    np.testing.assert_allclose(grad, np.cos(before), atol=1e-8)
    np.testing.assert_array_equal(x, before)
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    numeric_gradient(lambda v: v.sum(), t)
    assert t.tolist() == [1.0, 2.0]


def test_central_difference_is_second_order():
    # For f = x^3 the central difference error is eps^2 exactly (times x-independent 1).
    x = torch.tensor([2.0], dtype=torch.float64)
    for eps in (1e-2, 1e-3):
        g = numeric_gradient(lambda v: (v ** 3).sum(), x, eps=eps)
        assert abs(float(g) - 12.0 - eps ** 2) < 1e-7


def test_relative_error_and_gradient_check():
    a = torch.tensor([1.0, 2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(torch.zeros(3), torch.zeros(3)) == 0.0
    assert relative_error(a, 1000 * a) == pytest.approx(999 / 1001)
    x = torch.tensor([0.3, -0.7], dtype=torch.float64)
    assert gradient_check(lambda v: (v ** 2).sum(), x, 2 * x) < 1e-9
    assert gradient_check(lambda v: (v ** 2).sum(), x, x) > 0.1  # gradient missing the factor 2


def test_input_checks():
    with pytest.raises(TypeError, match="x must be a numpy.ndarray or torch.Tensor, got list"):
        numeric_gradient(lambda v: v.sum(), [1.0, 2.0])
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got int64"):
        numeric_gradient(lambda v: v.sum(), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="scalar"):
        numeric_gradient(lambda v: v * 2, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="shape"):
        relative_error(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="eps"):
        numeric_gradient(lambda v: v.sum(), torch.zeros(2), eps=0.0)
