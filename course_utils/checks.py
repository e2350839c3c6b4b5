"""One small helper for checking the inputs of public functions.

Every public function of ``course_utils`` validates what it is given through these
helpers, so that a wrong input fails with a message that names the expected and
the actual value (shape, dtype, format) instead of a bare ``AssertionError`` or a
cryptic broadcasting error deep inside PyTorch.
"""
from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["check_tensor", "check_positive_int", "check_nonnegative_int", "check_in"]


def _fmt_shape(shape: Sequence) -> str:
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"


def check_tensor(
    x,
    name: str,
    *,
    ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    dtypes: Sequence[torch.dtype] | None = None,
    floating: bool | None = None,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the given rank, shape and dtype.

    ``shape`` may contain ``None`` for "any size" along that dimension.

    Examples:
        >>> check_tensor(torch.zeros(2, 4), "boxes", shape=(None, 4)).shape
        torch.Size([2, 4])
        >>> check_tensor(torch.zeros(2, 3), "boxes", shape=(None, 4))
        Traceback (most recent call last):
        ...
        ValueError: boxes must have shape [*, 4], got [2, 3]
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if shape is not None:
        ok = x.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, x.shape))
        if not ok:
            raise ValueError(f"{name} must have shape {_fmt_shape(shape)}, got {_fmt_shape(tuple(x.shape))}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got {x.ndim} dimensions (shape {_fmt_shape(tuple(x.shape))})")
    if dtypes is not None and x.dtype not in tuple(dtypes):
        names = ", ".join(str(d).replace("torch.", "") for d in dtypes)
        raise TypeError(f"{name} must have dtype in ({names}), got {str(x.dtype).replace('torch.', '')}")
    if floating is True and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {str(x.dtype).replace('torch.', '')}")
    return x


def check_positive_int(value, name: str) -> int:
    """Check that ``value`` is an ``int`` (not a bool) and at least 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def check_nonnegative_int(value, name: str) -> int:
    """Check that ``value`` is an ``int`` (not a bool) and at least 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return value


def check_in(value, name: str, allowed: Sequence) -> None:
    """Check that ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
