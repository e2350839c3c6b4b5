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
import json
import math
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable

import numpy as np
import torch

__all__ = ["expect_tensor", "expect_close", "expect_equal", "expect_answer", "as_bool", "as_number", "as_numbers",
           "expect_raises", "forbid", "resolve"]


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {list(x.shape)} and dtype {str(x.dtype).replace('torch.', '')}"
    return f"{type(x).__name__} {x!r}"[:200]


# Numbers: the fair-tests policy (../STYLE.md "Fair tests"). A correct number may come
# back as an int, a float, a numpy scalar or a 0-d tensor; it is converted to a plain
# Python value *before* any comparison, and the conversion trusts only exact types, so
# an object that fakes ``__eq__`` or ``__float__`` never reaches a comparison.
DEFAULT_REL_TOL = 1e-6   # float32 arithmetic passes; tighter only where the prompt says so
DEFAULT_ABS_TOL = 1e-7   # for expected values at (or near) zero
_NUMPY_SCALARS = tuple(t for t in (getattr(np, n, None) for n in (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "longdouble", "bool_")) if t is not None)


class _NotANumber(Exception):
    pass


def _plain(x):
    """``x`` as a plain ``bool``/``int``/``float``, or raise ``_NotANumber``.

    Only exact types are trusted: ``int``, ``float``, ``bool``, numpy's scalar types and
    a 0-d (or one-element) ``torch.Tensor``; subclasses are refused.
    """
    t = type(x)
    if t in (bool, int, float):
        return x
    if t in _NUMPY_SCALARS:
        return x.item()
    if t is np.ndarray and x.size == 1 and x.ndim == 0:
        return x.item()
    if t is torch.Tensor and x.numel() == 1 and x.ndim == 0:
        return x.detach().cpu().item()
    raise _NotANumber


def as_number(x, what: str, *, integer: bool = False):
    """``x`` (int, float, numpy scalar or 0-d tensor) as a plain Python ``int``/``float``.

    With ``integer=True`` (for prompts that ask for an int) a float is refused, even a
    whole one; numpy and 0-d tensor integers are accepted. Use it in visible tests to check
    the kind of a quiz answer without revealing its value.

    Examples:
        >>> as_number(np.float32(0.5), "ap"), as_number(torch.tensor(3), "n"), as_number(np.int64(7), "n", integer=True)
        (0.5, 3, 7)
        >>> as_number("3", "n")
        Traceback (most recent call last):
        ...
        AssertionError: n should be a number, got str '3'
        >>> as_number(10.0, "stride3_output_size", integer=True)
        Traceback (most recent call last):
        ...
        AssertionError: stride3_output_size should be an int (the exercise asks for one), got the float 10.0
    """
    try:
        value = _plain(x)
    except _NotANumber:
        raise AssertionError(f"{what} should be a number, got {_describe(x)}") from None
    if type(value) is bool:
        raise AssertionError(f"{what} should be a number, got the bool {value!r}")
    if integer and type(value) is not int:
        raise AssertionError(f"{what} should be an int (the exercise asks for one), got the float {value!r}")
    return value


def as_bool(x, what: str) -> bool:
    """``x`` (``bool``, numpy bool or 0-d bool tensor) as a plain ``bool``, without showing it in a message.

    Examples:
        >>> as_bool(np.bool_(True), "fits"), as_bool(torch.tensor(False), "fits")
        (True, False)
        >>> as_bool(1, "fits")
        Traceback (most recent call last):
        ...
        AssertionError: fits should be True or False, got int 1
    """
    try:
        value = _plain(x)
    except _NotANumber:
        value = None
    if type(value) is not bool:
        raise AssertionError(f"{what} should be True or False, got {_describe(x)}")
    return value


def as_numbers(x, what: str, *, length: int | None = None, integer: bool = False) -> list:
    """``x`` (a tuple, list or ``torch.Size`` of numbers) as a list of plain Python numbers.

    Examples:
        >>> as_numbers([np.int64(28), 28, torch.tensor(6)], "shape", length=3, integer=True)
        [28, 28, 6]
        >>> as_numbers((28, 28), "shape", length=3)
        Traceback (most recent call last):
        ...
        AssertionError: shape should have 3 values, got 2: tuple (28, 28)
    """
    if type(x) not in (tuple, list, torch.Size):
        raise AssertionError(f"{what} should be a sequence (a tuple or a list), got {_describe(x)}")
    items = list(tuple.__iter__(x)) if isinstance(x, tuple) else list(list.__iter__(x))
    if length is not None and len(items) != length:
        raise AssertionError(f"{what} should have {length} values, got {len(items)}: {_describe(x)}")
    return [as_number(v, f"{what}[{i}]", integer=integer) for i, v in enumerate(items)]


def _fmt_pair(got, expected) -> tuple[str, str]:
    """Enough digits to show where two numbers differ."""
    if isinstance(got, float) or isinstance(expected, float):
        for digits in (6, 10, 17):
            a, b = f"{got:.{digits}g}", f"{expected:.{digits}g}"
            if a != b:
                return a, b
        return repr(got), repr(expected)
    return repr(got), repr(expected)


def _mismatch(actual, expected, what: str, *, rel_tol: float, abs_tol: float, integer: bool,
              reveal: bool) -> str | None:
    """None if ``actual`` matches ``expected`` under the policy, else the message."""
    tell = (lambda: "") if not reveal else (lambda: f", expected {expected!r}")
    if isinstance(expected, (tuple, list)):
        if type(actual) not in (tuple, list, torch.Size):
            return f"{what} should be a sequence (tuple or list) of {len(expected)} values, got {_describe(actual)}"
        items = list(tuple.__iter__(actual)) if isinstance(actual, tuple) else list(list.__iter__(actual))
        if len(items) != len(expected):
            return (f"{what} should have {len(expected)} values, got {len(items)}: {_describe(actual)}"
                    + (f" (expected {list(expected)!r})" if reveal else ""))
        for i, (a, e) in enumerate(zip(items, expected)):
            msg = _mismatch(a, e, f"{what}[{i}]", rel_tol=rel_tol, abs_tol=abs_tol, integer=integer,
                            reveal=reveal)
            if msg:
                return msg
        return None
    if type(expected) is str:
        if type(actual) is not str:
            return f"{what} should be a str, got {_describe(actual)}"
        return None if actual == expected else f"{what} is {actual!r}, which is not right{tell()}"
    if type(expected) is bool or expected is None:
        try:
            value = _plain(actual)
        except _NotANumber:
            value = actual if actual is None else _NotANumber
        if type(value) is not type(expected):
            want = "True or False" if type(expected) is bool else "None"
            return f"{what} should be {want}, got {_describe(actual)}"
        return None if value == expected else f"{what} is {value!r}, which is not right{tell()}"
    try:
        e = _plain(expected)
    except _NotANumber:
        raise TypeError(f"expect_equal cannot compare with expected value {_describe(expected)}") from None
    try:
        a = _plain(actual)
    except _NotANumber:
        return f"{what} should be a number, got {_describe(actual)}"
    if type(a) is bool:
        return f"{what} should be a number, got the bool {a!r}"
    if integer and (isinstance(a, float) and not a.is_integer()):
        return f"{what} should be a whole number, got {a!r}"
    if integer and isinstance(a, float):
        return f"{what} should be an int (the exercise asks for one), got the float {a!r}"
    if isinstance(e, float) and math.isnan(e):  # NaN is expected (an undefined value): NaN matches it
        if isinstance(a, float) and math.isnan(a):
            return None
        return f"{what} is {a!r}, " + ("expected nan" if reveal else "which is not right")
    if isinstance(a, float) and math.isnan(a):
        return f"{what} is nan" + (f", expected {e!r}" if reveal else ", which is not right")
    ok = a == e if (type(a) is int and type(e) is int) else math.isclose(a, e, rel_tol=rel_tol, abs_tol=abs_tol)
    if ok:
        return None
    if not reveal:
        return f"{what} is {a!r}, which is not right"
    g, x = _fmt_pair(a, e)
    return f"{what}: got {g}, expected {x}"


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
        got_s, exp_s = _fmt_pair(float(a[index]), float(e[index]))
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {a.numel()} values are wrong; the largest difference is "
            f"{float(diff.flatten()[flat]):.4g} at index {index} (got {got_s}, expected {exp_s})")


def expect_equal(actual, expected, what: str, *, rel_tol: float = DEFAULT_REL_TOL,
                 abs_tol: float = DEFAULT_ABS_TOL, integer: bool = False) -> None:
    """Fail unless ``actual`` equals ``expected`` under the course's comparison policy.

    * Numbers: ``actual`` may be an int, a float, a numpy scalar or a 0-d tensor; it is
      converted to a plain value first. Floats are compared with ``math.isclose``
      (``rel_tol`` 1e-6 by default, so float32 arithmetic passes; ``abs_tol`` for values
      near zero). ``integer=True`` requires an integral type, for prompts that ask for an int.
    * Sequences: a tuple, a list or a ``torch.Size`` is accepted wherever ``expected`` is a
      tuple or a list; elements are compared one by one under the same rules.
    * ``str``, ``bool`` and ``None`` are compared exactly (a numpy or 0-d tensor bool counts).

    The message shows what was got and what was expected: use it for implementation
    tests. For quiz answers use :func:`expect_answer`, which never shows the answer.

    Examples:
        >>> expect_equal(np.float32(0.61428571), 0.6142857142857143, "AP")
        >>> expect_equal([28, 28, 6], (28, 28, 6), "shape")
        >>> expect_equal(0.574014, 0.5740141, "IoU", rel_tol=1e-9, abs_tol=0)
        Traceback (most recent call last):
        ...
        AssertionError: IoU: got 0.574014, expected 0.5740141
    """
    msg = _mismatch(actual, expected, what, rel_tol=rel_tol, abs_tol=abs_tol, integer=integer, reveal=True)
    if msg:
        raise AssertionError(msg)


def expect_answer(actual, expected, what: str, *, rel_tol: float = DEFAULT_REL_TOL,
                  abs_tol: float = DEFAULT_ABS_TOL, integer: bool = False, hint: str | None = None) -> None:
    """Like :func:`expect_equal`, for graded quiz answers: the message never shows the answer.

    ``hint`` (optional) is added to the message to say where to look. When the
    environment variable ``DLCV_RECORD_ANSWERS`` names a file, the expected value is
    appended to it as a JSON line: the grading-validity tool uses this to check that no
    cell a student can run displays a graded answer.

    Examples:
        >>> expect_answer(10, 10, "stride3_output_size")
        >>> expect_answer(9, 10, "stride3_output_size", hint="count the positions of the filter")
        Traceback (most recent call last):
        ...
        AssertionError: stride3_output_size is 9, which is not right (hint: count the positions of the filter)
    """
    _record_answer(expected, what)
    msg = _mismatch(actual, expected, what, rel_tol=rel_tol, abs_tol=abs_tol, integer=integer, reveal=False)
    if msg:
        raise AssertionError(msg + (f" (hint: {hint})" if hint else ""))


def _record_answer(expected, what: str) -> None:
    path = os.environ.get("DLCV_RECORD_ANSWERS")
    if not path:
        return
    try:
        value = list(expected) if isinstance(expected, (tuple, list)) else _plain(expected)
    except _NotANumber:
        value = repr(expected)
    try:
        with open(path, "a") as f:
            f.write(json.dumps({"what": what, "expected": value}, default=repr) + "\n")
    except OSError:
        pass  # recording is a validity-tool aid, never a reason to fail a student


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


# Public entry points that reach the same computation. Forbidding any member of a group
# forbids all of them, and the operators (``namespace::name``) that they dispatch to: every
# alias of an op ends in the same operator, so ``torch.special.log_softmax``,
# ``x.log_softmax(1)``, ``F.max_pool2d_with_indices(...)[0]`` or ``torch.convolution`` are
# caught whichever of them a test lists. Members that this PyTorch lacks are skipped.
ALIAS_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("torch.nn.functional.log_softmax", "torch.log_softmax", "torch.special.log_softmax", "torch.Tensor.log_softmax",
      "torch._log_softmax"), ("aten::_log_softmax",)),
    (("torch.nn.functional.cross_entropy", "torch._C._nn.cross_entropy_loss"),
     ("aten::cross_entropy_loss", "aten::nll_loss_forward", "aten::nll_loss2d_forward")),
    (("torch.nn.functional.nll_loss", "torch._C._nn.nll_loss", "torch._C._nn.nll_loss_nd", "torch._C._nn.nll_loss2d"),
     ("aten::nll_loss_forward", "aten::nll_loss2d_forward")),
    (("torch.nn.functional.multi_margin_loss", "torch._C._nn.multi_margin_loss"), ("aten::multi_margin_loss",)),
    (("torch.nn.functional.max_pool2d", "torch.max_pool2d", "torch.nn.functional.max_pool2d_with_indices",
      "torch._C._nn.max_pool2d_with_indices", "torch.nn.MaxPool2d.forward"),
     ("aten::max_pool2d_with_indices", "aten::max_pool2d", "aten::mkldnn_max_pool2d")),
    (("torch.nn.functional.conv2d", "torch.conv2d", "torch.convolution", "torch._convolution", "torch.nn.Conv2d.forward"),
     ("aten::convolution", "aten::_convolution", "aten::conv2d")),
    (("torch.nn.functional.conv_transpose2d", "torch.conv_transpose2d", "torch.nn.ConvTranspose2d.forward"),
     ("aten::convolution", "aten::_convolution", "aten::conv_transpose2d")),
    (("torch.nn.functional.unfold", "torch._C._nn.im2col", "torch.nn.Unfold.forward"), ("aten::im2col",)),
    (("torch.nn.functional.max_unpool2d", "torch._C._nn.max_unpool2d", "torch.nn.MaxUnpool2d.forward"),
     ("aten::max_unpool2d",)),
    (("torch.nn.functional.interpolate", "torch.nn.functional.upsample", "torch.nn.functional.upsample_bilinear",
      "torch._C._nn.upsample_bilinear2d", "torch._C._nn.upsample_nearest2d", "torch.nn.Upsample.forward"),
     ("aten::upsample_bilinear2d", "aten::_upsample_bilinear2d_aa", "aten::upsample_nearest2d",
      "aten::_upsample_nearest_exact2d", "aten::upsample_bicubic2d")),
    (("torch.nn.functional.grid_sample", "torch.grid_sampler", "torch.grid_sampler_2d"),
     ("aten::grid_sampler_2d", "aten::grid_sampler")),
    (("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm", "torch.nn.BatchNorm2d.forward"),
     ("aten::native_batch_norm", "aten::_native_batch_norm_legit", "aten::_native_batch_norm_legit_no_training",
      "aten::_batch_norm_impl_index", "aten::cudnn_batch_norm", "aten::miopen_batch_norm")),
    (("torchvision.ops.nms", "torchvision.ops.boxes.nms", "torch.ops.torchvision.nms"), ("torchvision::nms",)),
    (("torchvision.ops.batched_nms", "torchvision.ops.boxes.batched_nms"), ("torchvision::nms",)),
)
_resolved_groups: list[tuple[list[tuple[Any, str]], tuple[str, ...]]] | None = None


def _alias_groups() -> list[tuple[list[tuple[Any, str]], tuple[str, ...]]]:
    """ALIAS_GROUPS with the members resolved to objects (once)."""
    global _resolved_groups
    if _resolved_groups is None:
        groups = []
        for names, ops in ALIAS_GROUPS:
            members = []
            for name in names:
                try:
                    members.append((resolve(name), name))
                except (ValueError, AttributeError, ImportError):
                    pass  # not in this version of PyTorch / torchvision
            groups.append((members, ops))
        _resolved_groups = groups
    return _resolved_groups


def _name_of(obj) -> str:
    """A readable dotted name: the public one of ALIAS_GROUPS if ``obj`` is there, else module.qualname."""
    for members, _ in _alias_groups():
        for m, name in members:
            if _same(obj, m):
                return name
    return f"{getattr(obj, '__module__', '') or ''}.{getattr(obj, '__qualname__', repr(obj))}".lstrip(".")


def _same(a, b) -> bool:
    return a is b or (hasattr(a, "__code__") and getattr(b, "__code__", None) is a.__code__)


def _operator_mode(ops: dict[str, str], called: list[str]):
    """A dispatch mode that records every call of an operator named in ``ops``."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Watch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            key = f"{getattr(func, 'namespace', 'aten')}::{func.overloadpacket.__name__}"
            if key in ops:
                called.append(ops[key])
            return func(*args, **(kwargs or {}))

    return _Watch()


@contextmanager
def forbid(*targets: str | Callable, exercise: str = "this exercise"):
    """Fail if any of ``targets``, or an alias of one, is called while the block runs.

    Targets are callables, dotted names (``"torch.nn.functional.conv2d"``) or operator names
    (``"aten::_log_softmax"``). Calls are seen through the interpreter's profiling hook, so
    an alias bound before the test (``from torch.nn.functional import conv2d as c``), a
    method call (``x.log_softmax(1)`` for ``torch.Tensor.log_softmax``) or a call from inside
    an ``nn.Module`` is caught too. For the PyTorch ops of :data:`ALIAS_GROUPS`, every other
    entry point of the same op is forbidden with it, and so is the operator they all end in
    (seen by a ``TorchDispatchMode``): ``torch.special.log_softmax`` when the test names
    ``F.log_softmax``, ``F.max_pool2d_with_indices`` when it names ``F.max_pool2d``.

    Examples:
        >>> import math
        >>> with forbid(math.sqrt):
        ...     _ = math.floor(2.5)
        >>> with forbid(math.sqrt):
        ...     _ = math.sqrt(4.0)
        Traceback (most recent call last):
        ...
        AssertionError: this exercise asks you to write the computation yourself, but your code called math.sqrt
        >>> with forbid("torch.nn.functional.log_softmax", exercise="softmax"):
        ...     _ = torch.special.log_softmax(torch.zeros(2, 3), dim=1)
        Traceback (most recent call last):
        ...
        AssertionError: softmax asks you to write the computation yourself, but your code called torch.special.log_softmax (an alias of torch.nn.functional.log_softmax)
    """
    # Each watched callable or operator maps to (a key: the listed target, or its alias group;
    # what to tell the student). One name per key is reported.
    objs: list[tuple[Any, tuple[str, str]]] = []
    ops: dict[str, tuple[str, str]] = {}
    groups = _alias_groups()
    for t in targets:
        if isinstance(t, str) and "::" in t:
            ops[t] = (t, t)
            continue
        obj = resolve(t) if isinstance(t, str) else t
        label = t if isinstance(t, str) else _name_of(obj)
        in_groups = [g for g, (members, _) in enumerate(groups) if any(_same(obj, m) for m, _ in members)]
        key = f"group {in_groups[0]}" if in_groups else label
        objs.append((obj, (key, label)))
        for g in in_groups:
            members, group_ops = groups[g]
            objs += [(m, (key, f"{name} (an alias of {label})")) for m, name in members if not _same(obj, m)]
            for op in group_ops:
                ops.setdefault(op, (key, f"{label} (through the operator {op})"))
    builtin_ids = {id(o): info for o, info in objs if not hasattr(o, "__code__")}
    codes = {getattr(o, "__code__"): info for o, info in objs if hasattr(o, "__code__")}
    # Methods of C types (torch.Tensor.log_softmax) are called as bound builtins: match by type and name.
    methods = {(getattr(o, "__objclass__"), o.__name__): info for o, info in objs
               if type(o).__name__ == "method_descriptor" and hasattr(o, "__objclass__")}
    called: list[tuple[str, str]] = []

    def profiler(frame, event, arg):
        if event == "c_call":
            if id(arg) in builtin_ids:
                called.append(builtin_ids[id(arg)])
            elif methods:
                owner = getattr(arg, "__self__", None)
                if owner is not None and not isinstance(owner, type):
                    for (cls, name), info in methods.items():
                        if name == getattr(arg, "__name__", None) and isinstance(owner, cls):
                            called.append(info)
        elif event == "call" and frame.f_code in codes:
            called.append(codes[frame.f_code])

    mode = _operator_mode(ops, called) if ops else None
    previous = sys.getprofile()
    sys.setprofile(profiler)
    threading.setprofile(profiler)
    try:
        if mode is not None:
            with mode:
                yield
        else:
            yield
    finally:
        sys.setprofile(previous)
        threading.setprofile(None)
    if called:
        first: dict[str, str] = {}
        for key, text in called:  # one name per listed target: the first alias the code reached
            first.setdefault(key, text)
        names = ", ".join(first.values())
        raise AssertionError(f"{exercise} asks you to write the computation yourself, but your code called {names}")
