"""One small set of helpers for checking the inputs of public functions.

Every public function of ``course_utils`` validates what it is given through these
helpers, so that a wrong input fails early with a message that names the argument,
the expected and the actual value (shape, dtype, format) instead of a bare
``AssertionError`` or a cryptic error deep inside PyTorch. The rule:

* ``TypeError`` for the wrong *kind* of thing (a list where a tensor is expected, a
  float where an int is, an integer tensor where a floating one is);
* ``ValueError`` for the wrong *value* (a negative size, a NaN threshold, a shape
  that does not match another argument);
* non-finite coordinates, scales, thresholds and statistics are rejected (or handled
  as the function's docstring says), and empty inputs give empty outputs of the right
  shape and dtype.

Every helper returns the checked value (converted where that is the point: an
``int`` from a NumPy integer, a ``float`` from a 0-d tensor, a ``torch.device`` from
a string), so a check reads ``value = check_x(value, "value")``.
"""
from __future__ import annotations

import math
import operator
from numbers import Integral, Real
from typing import Any, Callable, Sequence

import numpy as np
import torch

__all__ = [
    "check_tensor",
    "check_finite",
    "check_positive_int",
    "check_nonnegative_int",
    "check_number",
    "check_bool",
    "check_in",
    "check_callable",
    "check_device",
    "check_generator",
    "check_numel",
    "check_seed",
    "check_interval",
    "check_index",
    "MAX_ELEMENTS",
    "MAX_SEED",
]

#: Largest tensor a function of the course agrees to allocate (8 GiB of float32): a request for more
#: is a mistake (a scale of 10**6, a class id of 10**12) and fails with a message, not a swap storm.
MAX_ELEMENTS = 2**31
#: Largest seed: PyTorch's generators take 64-bit seeds.
MAX_SEED = 2**64 - 1


def _fmt_shape(shape: Sequence) -> str:
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _kind(value: Any) -> str:
    """``type(value).__name__`` with a short repr, for messages: ``list ([1, 2])``."""
    text = repr(value)
    return f"{type(value).__name__} ({text if len(text) <= 60 else text[:57] + '...'})"


def check_tensor(
    x,
    name: str,
    *,
    ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    dtypes: Sequence[torch.dtype] | None = None,
    floating: bool | None = None,
    finite: bool = False,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the given rank, shape and dtype (and finite if asked).

    ``shape`` may contain ``None`` for "any size" along that dimension. ``finite=True``
    rejects NaN and infinities (integer and bool tensors are always finite).

    Examples:
        >>> check_tensor(torch.zeros(2, 4), "boxes", shape=(None, 4)).shape
        torch.Size([2, 4])
        >>> check_tensor(torch.zeros(2, 3), "boxes", shape=(None, 4))
        Traceback (most recent call last):
        ...
        ValueError: boxes must have shape [*, 4], got [2, 3]
        >>> check_tensor([[0, 0, 1, 1]], "boxes")
        Traceback (most recent call last):
        ...
        TypeError: boxes must be a torch.Tensor, got list ([[0, 0, 1, 1]])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_kind(x)}")
    if shape is not None:
        ok = x.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, x.shape))
        if not ok:
            raise ValueError(f"{name} must have shape {_fmt_shape(shape)}, got {_fmt_shape(tuple(x.shape))}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got {x.ndim} dimensions (shape {_fmt_shape(tuple(x.shape))})")
    if dtypes is not None and x.dtype not in tuple(dtypes):
        names = ", ".join(_dtype_name(d) for d in dtypes)
        raise TypeError(f"{name} must have dtype in ({names}), got {_dtype_name(x.dtype)}")
    if floating is True and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {_dtype_name(x.dtype)}")
    if finite:
        check_finite(x, name)
    return x


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Check that a tensor holds no NaN and no infinity; the message gives the first bad entry.

    Examples:
        >>> check_finite(torch.tensor([[0., 1.], [float("nan"), 2.]]), "boxes")
        Traceback (most recent call last):
        ...
        ValueError: boxes must be finite, got nan at index [1, 0]
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_kind(x)}")
    if (x.is_floating_point() or x.is_complex()) and x.numel() and not bool(torch.isfinite(x).all()):
        where = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise ValueError(f"{name} must be finite, got {x[tuple(where)].item()} at index {where}")
    return x


def _check_int(value, name: str) -> int:
    # numbers.Integral covers int and NumPy integers; bool is an int in Python but never a count here.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {_kind(value)}")
    return int(value)


def _check_maximum(value: int, name: str, maximum: int | None) -> int:
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def check_positive_int(value, name: str, *, maximum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) in ``[1, maximum]``; return it as an ``int``.

    Examples:
        >>> check_positive_int(3, "k")
        3
        >>> check_positive_int(0, "k")
        Traceback (most recent call last):
        ...
        ValueError: k must be a positive integer, got 0
    """
    value = _check_int(value, name)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return _check_maximum(value, name, maximum)


def check_nonnegative_int(value, name: str, *, maximum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) in ``[0, maximum]``; return it as an ``int``.

    Examples:
        >>> check_nonnegative_int(0, "padding")
        0
        >>> check_nonnegative_int(1.5, "padding")
        Traceback (most recent call last):
        ...
        TypeError: padding must be an int, got float (1.5)
    """
    value = _check_int(value, name)
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    return _check_maximum(value, name, maximum)


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    low, high = (f"{b:g}" if isinstance(b, float) else b for b in (low, high))  # 0.0 -> "0"
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def check_number(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Check that ``value`` is a real number (int, float, NumPy scalar or 0-d tensor; not a bool).

    NaN is always rejected, infinities unless ``allow_inf``; ``low``/``high`` bound the value
    (inclusive unless ``low_open``/``high_open``). Returns it as a Python ``float``.

    Examples:
        >>> check_number(0.5, "iou_threshold", low=0, high=1)
        0.5
        >>> check_number(float("nan"), "iou_threshold", low=0, high=1)
        Traceback (most recent call last):
        ...
        ValueError: iou_threshold must be a finite number in [0, 1], got nan
        >>> check_number("0.5", "iou_threshold")
        Traceback (most recent call last):
        ...
        TypeError: iou_threshold must be a real number, got str ('0.5')
    """
    if (isinstance(value, torch.Tensor) and value.ndim == 0 and value.dtype != torch.bool
            and not value.is_complex()):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {_kind(value)}")
    v = float(value)
    where = _interval(low, high, low_open, high_open)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a {'number' if allow_inf else 'finite number'}{' ' + where if where else ''}, "
                         f"got {v}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {where}, got {value!r}")
    return v


def check_bool(value, name: str) -> bool:
    """Check that ``value`` is a ``bool`` (NumPy's too); ``1`` or ``"yes"`` are refused.

    Examples:
        >>> check_bool("False", "training")
        Traceback (most recent call last):
        ...
        TypeError: training must be True or False, got str ('False')
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_kind(value)}")
    return bool(value)


def _same_kind(value, allowed) -> bool:
    if isinstance(allowed, (bool, np.bool_)):
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False  # True is not 1 here
    if isinstance(allowed, Integral):
        return isinstance(value, Integral)
    return isinstance(value, type(allowed))


def check_in(value, name: str, allowed: Sequence) -> Any:
    """Check that ``value`` is one of ``allowed`` (compared by kind and value: ``True`` is not ``1``).

    Examples:
        >>> check_in("xyxy", "in_fmt", ("xyxy", "xywh"))
        'xyxy'
        >>> check_in("xyzw", "in_fmt", ("xyxy", "xywh"))
        Traceback (most recent call last):
        ...
        ValueError: in_fmt must be one of ['xyxy', 'xywh'], got 'xyzw'
    """
    for a in allowed:
        if value is a:
            return value
        if isinstance(value, (torch.Tensor, np.ndarray)) or not _same_kind(value, a):
            continue
        try:
            if bool(value == a):
                return value
        except Exception:  # an object whose == is not a plain True/False
            continue
    raise ValueError(f"{name} must be one of {list(allowed)}, got {_kind(value) if not isinstance(value, str) else repr(value)}")


def check_callable(value, name: str) -> Callable:
    """Check that ``value`` can be called (a function, a module, a class).

    Examples:
        >>> check_callable(5, "loss_fn")
        Traceback (most recent call last):
        ...
        TypeError: loss_fn must be callable (a function), got int (5)
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function), got {_kind(value)}")
    return value


def check_device(value, name: str = "device") -> torch.device:
    """Check that ``value`` names a device of this machine; return it as a ``torch.device``.

    Accepts a ``torch.device``, a string such as ``"cpu"`` or ``"cuda:0"``, or a CUDA index.

    Examples:
        >>> check_device("cpu")
        device(type='cpu')
        >>> check_device("banana")
        Traceback (most recent call last):
        ...
        ValueError: device must name a device such as 'cpu', 'cuda', 'cuda:0' or 'mps', got 'banana'
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, torch.device, Integral)):
        raise TypeError(f"{name} must be a torch.device or a string such as 'cpu', got {_kind(value)}")
    try:
        device = torch.device(int(value) if isinstance(value, Integral) else value)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"{name} must name a device such as 'cpu', 'cuda', 'cuda:0' or 'mps', got {value!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {str(device)!r} but CUDA is not available on this machine (use 'cpu')")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"{name} is {str(device)!r} but this machine has {torch.cuda.device_count()} CUDA device(s)")
    mps = getattr(torch.backends, "mps", None)
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError(f"{name} is 'mps' but Apple's MPS is not available on this machine (use 'cpu')")
    return device


def check_generator(value, name: str = "generator") -> torch.Generator | None:
    """Check that ``value`` is a ``torch.Generator`` or None.

    Examples:
        >>> check_generator("seed")
        Traceback (most recent call last):
        ...
        TypeError: generator must be a torch.Generator or None, got str ('seed')
    """
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {_kind(value)}")
    return value


def check_numel(numel: int, name: str, shape: Sequence[int] | None = None) -> int:
    """Check that a tensor the arguments ask for (``numel`` elements) stays under :data:`MAX_ELEMENTS`.

    ``name`` is the argument that decides the size; ``shape`` the tensor's shape, for the message.

    Examples:
        >>> check_numel(10**12, "scale", (1, 1, 10**6, 10**6))
        Traceback (most recent call last):
        ...
        ValueError: scale asks for a tensor of 1,000,000,000,000 elements (shape [1, 1, 1000000, 1000000]); at most 2,147,483,648
    """
    if numel > MAX_ELEMENTS:
        where = f" (shape {_fmt_shape(tuple(shape))})" if shape is not None else ""
        raise ValueError(f"{name} asks for a tensor of {numel:,} elements{where}; at most {MAX_ELEMENTS:,}")
    return numel


def check_seed(value, name: str = "seed") -> int:
    """Check that ``value`` is a seed every generator accepts: an int in ``[0, 2**64 - 1]``.

    Examples:
        >>> check_seed(2**64)
        Traceback (most recent call last):
        ...
        ValueError: seed must be at most 18446744073709551615, got 18446744073709551616
    """
    return check_nonnegative_int(value, name, maximum=MAX_SEED)


def check_interval(value, name: str, *, low: float, high: float, low_open: bool = False) -> tuple[float, float]:
    """Check that ``value`` is a pair ``(a, b)`` of finite numbers with ``low <= a <= b <= high``
    (``low < a`` with ``low_open``); return it as two floats.

    Examples:
        >>> check_interval((0.1, 0.25), "size_range", low=0, high=0.5, low_open=True)
        (0.1, 0.25)
        >>> check_interval((0.3, 0.2), "size_range", low=0, high=0.5, low_open=True)
        Traceback (most recent call last):
        ...
        ValueError: size_range must be (low, high) with low <= high, got (0.3, 0.2)
    """
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {_kind(value)}")
    if len(value) != 2:
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {value!r}")
    a = check_number(value[0], name, low=low, high=high, low_open=low_open)
    b = check_number(value[1], name, low=low, high=high, low_open=low_open)
    if a > b:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {tuple(value)!r}")
    return a, b


def check_index(index, length: int, what: str) -> int:
    """An item index of a dataset of ``length`` items (negative counts from the end), as an int.

    A float or a string is a ``TypeError``; an index out of range is an ``IndexError``, as for
    every Python sequence (``for item in dataset`` stops on it).

    Examples:
        >>> check_index(-1, 3, "ShapesScenes")
        2
        >>> check_index(1.0, 3, "ShapesScenes")
        Traceback (most recent call last):
        ...
        TypeError: index must be an int, got float (1.0)
    """
    try:
        index = operator.index(index)  # int, NumPy and 0-d integer tensors; never floats
    except TypeError:
        raise TypeError(f"index must be an int, got {_kind(index)}") from None
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for {what} of length {length}")
    return index % length
