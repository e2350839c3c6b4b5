"""Numeric gradient checking: is a hand-written gradient right?

The derivative of a scalar function ``f`` along coordinate ``i`` is approximated by the
**central difference** ``(f(x + h e_i) - f(x - h e_i)) / (2h)``, whose error shrinks like
``h**2`` (a one-sided difference only shrinks like ``h``). Comparing it with an analytic
gradient through a **relative error** makes the test independent of the scale of the
function. Work in float64: in float32 the rounding error of ``f`` divided by ``2h``
swamps the comparison.

Both NumPy arrays and torch tensors are accepted; the result has the type of ``x``.
``torch.autograd.gradcheck`` does the same job for autograd functions; this module is
for gradients you write yourself.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

__all__ = ["numeric_gradient", "relative_error", "gradient_check"]

DEFAULT_EPS = 1e-6
_TINY = 1e-300  # guards 0 / 0 when both gradients are exactly zero


def _as_float(value) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"f must return a scalar, got a tensor of shape {list(value.shape)}")
        return float(value.detach())
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {list(arr.shape)}")
    return float(arr.reshape(()))


def numeric_gradient(f: Callable, x, eps: float = DEFAULT_EPS):
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    ``x`` is changed in place one element at a time and restored afterwards, so ``f`` may
    close over other data. ``2 * x.size`` calls of ``f``: use it on small inputs.

    Args:
        f: ``f(x) -> scalar`` (a float, a 0-d/1-element array or tensor).
        x: ``np.ndarray`` or ``torch.Tensor`` of any shape, floating point (float64 advised).
        eps: the step ``h``.

    Returns:
        The gradient, same shape and type as ``x`` (float64 for arrays, ``x``'s dtype for tensors).

    Examples:
        >>> g = numeric_gradient(lambda v: (v ** 2).sum(), torch.tensor([1.0, -3.0], dtype=torch.float64))
        >>> [round(float(a), 6) for a in g]
        [2.0, -6.0]
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got {str(x.dtype).replace('torch.', '')}")
        grad = torch.zeros_like(x)
        with torch.no_grad():
            flat, gflat = x.view(-1), grad.view(-1)  # views: writing flat[i] changes x
            for i in range(flat.numel()):
                old = flat[i].item()
                flat[i] = old + eps
                plus = _as_float(f(x))
                flat[i] = old - eps
                minus = _as_float(f(x))
                flat[i] = old
                gflat[i] = (plus - minus) / (2.0 * eps)
        return grad
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"x must be a floating-point array, got {x.dtype}")
        grad = np.zeros(x.shape, dtype=np.float64)
        it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
        for _ in it:
            idx = it.multi_index
            old = x[idx]
            x[idx] = old + eps
            plus = _as_float(f(x))
            x[idx] = old - eps
            minus = _as_float(f(x))
            x[idx] = old
            grad[idx] = (plus - minus) / (2.0 * eps)
        return grad
    raise TypeError(f"x must be a numpy.ndarray or torch.Tensor, got {type(x).__name__}")


def _to_numpy(a, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().to("cpu", torch.float64).numpy()
    if isinstance(a, np.ndarray):
        return a.astype(np.float64)
    raise TypeError(f"{name} must be a numpy.ndarray or torch.Tensor, got {type(a).__name__}")


def relative_error(a, b) -> float:
    """``||a - b|| / (||a|| + ||b||)``: 0 when equal, 1 when opposite, scale-free.

    Norms are Euclidean over all elements. Two all-zero inputs give 0. As a rule of thumb
    for float64 gradients: below 1e-7 the analytic gradient is right, above 1e-4 it is wrong.

    Examples:
        >>> relative_error(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]))
        0.0
        >>> relative_error(np.array([1.0]), np.array([-1.0]))
        1.0
    """
    a_np, b_np = _to_numpy(a, "a"), _to_numpy(b, "b")
    if a_np.shape != b_np.shape:
        raise ValueError(f"a and b must have the same shape, got {list(a_np.shape)} and {list(b_np.shape)}")
    num = float(np.linalg.norm((a_np - b_np).ravel()))
    den = float(np.linalg.norm(a_np.ravel()) + np.linalg.norm(b_np.ravel()))
    return num / max(den, _TINY)


def gradient_check(f: Callable, x, analytic, eps: float = DEFAULT_EPS) -> float:
    """Relative error between ``analytic`` and the numeric gradient of ``f`` at ``x``.

    Args:
        f: ``f(x) -> scalar``.
        x: the point (array or tensor, float64 advised); restored after the check.
        analytic: the gradient to check, same shape as ``x``.
        eps: central-difference step.

    Returns:
        :func:`relative_error` of the two gradients (small is good).

    Examples:
        >>> x = torch.tensor([0.5, -1.0], dtype=torch.float64)
        >>> gradient_check(lambda v: (v ** 3).sum(), x, 3 * x ** 2) < 1e-8
        True
        >>> gradient_check(lambda v: (v ** 3).sum(), x, 2 * x ** 2) > 1e-2
        True
    """
    numeric = numeric_gradient(f, x, eps)
    return relative_error(analytic, numeric)
