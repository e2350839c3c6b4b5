"""Helpers for the tests inside chapter notebooks.

Visible tests must tell a student *what* is wrong, with the values, instead of a bare
``AssertionError``. These helpers raise ``AssertionError`` with such messages. They
also refuse to trust objects the student controls: a tensor must be a real
``torch.Tensor`` (not a subclass whose ``__eq__`` always says yes) and an integer a
real ``int``.

:func:`forbid` catches a submission that calls a library function (``F.conv2d``,
torchvision's ``nms``, the course's own reference) instead of implementing it.
"""
from __future__ import annotations

import importlib
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable

import torch

__all__ = ["expect_tensor", "expect_close", "expect_equal", "expect_raises", "forbid", "resolve"]


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {list(x.shape)} and dtype {str(x.dtype).replace('torch.', '')}"
    return f"{type(x).__name__} {x!r}"[:200]


def expect_tensor(actual, what: str, *, shape=None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Fail unless ``actual`` is a plain ``torch.Tensor`` of the given shape and dtype."""
    if type(actual) is not torch.Tensor:
        raise AssertionError(f"{what} should be a torch.Tensor, got {_describe(actual)}")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        raise AssertionError(f"{what} should have shape {list(shape)}, got {list(actual.shape)}")
    if dtype is not None and actual.dtype != dtype:
        raise AssertionError(f"{what} should have dtype {dtype}, got {actual.dtype}")
    return actual


def expect_close(actual, expected: torch.Tensor, what: str, *, atol: float = 1e-5,
                 rtol: float = 1e-5) -> None:
    """Fail unless tensor ``actual`` matches ``expected`` in shape and values.

    The message names the shapes, the largest difference and where it is.
    """
    expect_tensor(actual, what, shape=expected.shape)
    a = actual.detach().to(device="cpu", dtype=torch.float64)
    e = expected.detach().to(device="cpu", dtype=torch.float64)
    if a.numel() == 0:
        return
    finite_mismatch = torch.isfinite(a) != torch.isfinite(e)
    diff = (a - e).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    bad = (diff > atol + rtol * e.abs()) | finite_mismatch
    if bool(bad.any()):
        flat = int(torch.argmax(diff.flatten()))
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), a.shape))
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {a.numel()} values are wrong; the largest difference is "
            f"{float(diff.flatten()[flat]):.4g} at index {index} (got {float(a[index]):.6g}, "
            f"expected {float(e[index]):.6g})")


def expect_equal(actual, expected, what: str) -> None:
    """Fail unless ``actual == expected`` with the same plain type (int, float, bool, str, tuple)."""
    if isinstance(expected, (tuple, list)):
        if type(actual) not in (tuple, list) or len(actual) != len(expected):
            raise AssertionError(f"{what} should be a {type(expected).__name__} of {len(expected)} values, "
                                 f"got {_describe(actual)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            expect_equal(a, e, f"{what}[{i}]")
        return
    if type(expected) is int and type(actual) is not int:
        raise AssertionError(f"{what} should be an int, got {_describe(actual)}")
    if type(expected) is bool and type(actual) is not bool:
        raise AssertionError(f"{what} should be True or False, got {_describe(actual)}")
    if type(expected) is float and type(actual) not in (int, float):
        raise AssertionError(f"{what} should be a number, got {_describe(actual)}")
    if type(expected) is str and type(actual) is not str:
        raise AssertionError(f"{what} should be a str, got {_describe(actual)}")
    if type(expected) is float:
        ok = abs(float(actual) - expected) <= 1e-9 * max(1.0, abs(expected))
    else:
        ok = bool(expected == actual) and bool(actual == expected)
    if not ok:
        raise AssertionError(f"{what} is {actual!r}, which is not right")


def expect_raises(fn: Callable[[], Any], exceptions, what: str) -> BaseException:
    """Fail unless calling ``fn()`` raises one of ``exceptions``; return the exception."""
    try:
        fn()
    except exceptions as err:  # noqa: PERF203
        return err
    except Exception as err:  # the wrong kind of error
        names = exceptions.__name__ if isinstance(exceptions, type) else [e.__name__ for e in exceptions]
        raise AssertionError(f"{what} should raise {names}, but raised {type(err).__name__}: {err}") from None
    names = exceptions.__name__ if isinstance(exceptions, type) else [e.__name__ for e in exceptions]
    raise AssertionError(f"{what} should raise {names}, but returned normally")


def resolve(dotted: str) -> Callable:
    """Import ``"package.module.attr"`` and return the object."""
    module_name, _, attr = dotted.rpartition(".")
    while module_name:
        try:
            obj = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            attr = f"{head}.{attr}"
    else:
        raise ValueError(f"cannot import {dotted!r}")
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@contextmanager
def forbid(*targets: str | Callable, exercise: str = "this exercise"):
    """Fail if any of ``targets`` is called while the block runs.

    Targets are callables or dotted names (``"torch.nn.functional.conv2d"``). Calls are
    seen through the interpreter's profiling hook, so an alias bound before the test
    (``from torch.nn.functional import conv2d as c``) or a call from inside an
    ``nn.Module`` is caught too.

    Examples:
        >>> import math
        >>> with forbid(math.sqrt):
        ...     _ = math.floor(2.5)
        >>> with forbid(math.sqrt):
        ...     _ = math.sqrt(4.0)
        Traceback (most recent call last):
        ...
        AssertionError: this exercise asks you to write the computation yourself, but your code called math.sqrt
    """
    objs = []
    for t in targets:
        obj = resolve(t) if isinstance(t, str) else t
        label = t if isinstance(t, str) else f"{getattr(obj, '__module__', '') or ''}.{getattr(obj, '__qualname__', repr(obj))}".lstrip(".")
        objs.append((obj, label))
    builtin_ids = {id(o): label for o, label in objs if not hasattr(o, "__code__")}
    codes = {getattr(o, "__code__"): label for o, label in objs if hasattr(o, "__code__")}
    called: list[str] = []

    def profiler(frame, event, arg):
        if event == "c_call" and id(arg) in builtin_ids:
            called.append(builtin_ids[id(arg)])
        elif event == "call" and frame.f_code in codes:
            called.append(codes[frame.f_code])

    previous = sys.getprofile()
    sys.setprofile(profiler)
    threading.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)
        threading.setprofile(None)
    if called:
        names = ", ".join(dict.fromkeys(called))
        raise AssertionError(f"{exercise} asks you to write the computation yourself, but your code called {names}")


