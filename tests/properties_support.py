"""Shared pieces of the property-based tests (``tests/test_properties_*.py``, Hypothesis).

The input rule of ``course_utils`` (see :mod:`course_utils.checks`), as properties:

* a malformed argument gives a ``ValueError`` (wrong value) or a ``TypeError`` (wrong kind)
  whose message names the argument: :func:`assert_refuses`;
* within bounded time and memory: :func:`bounded` (an alarm and an address-space limit
  around the call), so a hang or a request for terabytes fails the test instead of the machine;
* finite input gives finite output, and a loop twin agrees with its vectorized version on
  valid input and refuses what it refuses (written in each test module).

Settings: the ``dlcv`` profile (few examples, derandomized so that ``make test`` is the same
on every run, no deadline because the machine is shared). ``DLCV_HYPOTHESIS_PROFILE=thorough``
runs many more examples with fresh randomness, to hunt for new counterexamples.
"""
from __future__ import annotations

import contextlib
import inspect
import math
import os
import resource
import signal
import threading

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "assert_refuses", "bounded", "floats", "tensors", "boxes", "kind_errors", "tensor_errors",
    "number_errors", "int_errors", "assert_finite", "kwargs_for", "refuse_all", "few", "call",
]

settings.register_profile(
    "dlcv",
    max_examples=12,
    deadline=None,  # wall time on a shared 2-core machine says nothing; bounded() limits each call
    derandomize=True,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.register_profile("thorough", parent=settings.get_profile("dlcv"), max_examples=400, derandomize=False)
settings.load_profile(os.environ.get("DLCV_HYPOTHESIS_PROFILE", "dlcv"))

TIME_LIMIT = 20.0  # seconds of wall time for one call on a tiny input (generous: the machine is shared)
MEMORY_LIMIT = 2 << 30  # bytes of address space one call may add


class Exhausted(Exception):
    """A call ran past :data:`TIME_LIMIT`."""


def _address_space() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def bounded(seconds: float = TIME_LIMIT, memory: int = MEMORY_LIMIT):
    """Fail (:class:`Exhausted`, or an allocation error) instead of hanging or swapping.

    The alarm works in the main thread only (where pytest runs tests); the address-space
    limit is the process's, lowered for the duration of the block and restored after it.
    """
    main = threading.current_thread() is threading.main_thread()
    old_handler = None
    if main:
        def on_alarm(signum, frame):
            raise Exhausted(f"the call took more than {seconds} s")
        old_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = _address_space()
    limited = used > 0 and (soft == resource.RLIM_INFINITY or soft > used + memory)
    if limited:
        resource.setrlimit(resource.RLIMIT_AS, (used + memory, hard))
    try:
        yield
    finally:
        if limited:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)


def assert_refuses(fn, *args, name: str | tuple[str, ...], **kwargs) -> BaseException:
    """``fn(*args, **kwargs)`` must raise ValueError or TypeError whose message names ``name``
    (or one of several names), within bounded time and memory."""
    names = (name,) if isinstance(name, str) else name
    try:
        with bounded():
            result = fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(n in message for n in names), (
            f"{getattr(fn, '__qualname__', fn)}: the message should name {' or '.join(names)}, got "
            f"{type(exc).__name__}: {message}")
        return exc
    except Exception as exc:  # noqa: BLE001 - the kind of the exception is what is tested
        raise AssertionError(f"{getattr(fn, '__qualname__', fn)} raised {type(exc).__name__} "
                             f"instead of ValueError/TypeError naming {' or '.join(names)}: {exc}") from exc
    raise AssertionError(f"{getattr(fn, '__qualname__', fn)} accepted the malformed {' or '.join(names)} "
                         f"and returned {type(result).__name__}")


def kwargs_for(fn, arguments: dict) -> dict:
    """The entries of ``arguments`` that ``fn`` takes (the cases of a table serve several functions)."""
    params = inspect.signature(fn).parameters
    return {k: v for k, v in arguments.items() if k in params}


def refuse_all(fns, arguments: dict, name: str, bad_values) -> None:
    """Every function of ``fns`` refuses every value of ``bad_values`` given as ``name`` (the other
    arguments valid), naming ``name``: the loop twin refuses exactly what the fast version refuses."""
    for bad in bad_values:
        for fn in fns:
            kwargs = kwargs_for(fn, arguments)
            kwargs[name] = bad
            assert_refuses(fn, name=name, **kwargs)


#: For the tests that try a whole list of malformed values in every example: a few examples suffice.
few = settings(max_examples=max(2, settings.default.max_examples // 4))


def call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on valid input, within bounded time and memory."""
    with bounded():
        return fn(*args, **kwargs)


def close(a: torch.Tensor, b: torch.Tensor, what: str, tol: float = 1e-6) -> None:
    """``a`` and ``b`` have one shape and agree to ``tol`` (absolute and relative), compared in float64."""
    assert a.shape == b.shape, f"{what}: shapes {list(a.shape)} and {list(b.shape)}"
    torch.testing.assert_close(a.double(), b.double(), rtol=tol, atol=tol, msg=lambda m: f"{what}: {m}")


def assert_finite(x, what: str) -> None:
    """No NaN (nor infinity) anywhere in a tensor, a number or a nest of them."""
    if isinstance(x, torch.Tensor):
        if (x.is_floating_point() or x.is_complex()) and x.numel():
            assert bool(torch.isfinite(x).all()), f"{what}: non-finite values from finite input: {x}"
    elif isinstance(x, float):
        assert math.isfinite(x), f"{what}: {x} from finite input"
    elif isinstance(x, (tuple, list)):
        for i, v in enumerate(x):
            assert_finite(v, f"{what}[{i}]")
    elif isinstance(x, dict):
        for k, v in x.items():
            assert_finite(v, f"{what}[{k!r}]")


# ------------------------------------------------------------------ strategies of valid input


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite floats in [low, high] that float32 represents exactly (so both dtypes see the same input)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def tensors(draw, shape: tuple[int, ...], low: float = -10.0, high: float = 10.0, dtype=torch.float64,
            integer: bool = False) -> torch.Tensor:
    """A tensor of ``shape`` with values in [low, high] (whole numbers with ``integer``), drawn as a seed:
    cheap to draw and to shrink, whatever the size."""
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low
    if integer:
        x = x.round()
    return x.to(dtype)


@st.composite
def boxes(draw, n: int | None = None, max_n: int = 6, dtype=None, span: float = 100.0, max_size: float = 40.0,
          min_size: float = 0.0, integer: bool = False) -> torch.Tensor:
    """Valid xyxy boxes ``Tensor[n, 4]`` (x1 <= x2, y1 <= y2), some overlapping, some empty."""
    n = draw(st.integers(0, max_n)) if n is None else n
    dtype = draw(st.sampled_from([torch.float32, torch.float64])) if dtype is None else dtype
    xy = draw(tensors((n, 2), -span / 4, span, integer=integer))
    wh = draw(tensors((n, 2), min_size, max_size, integer=integer))
    if n and draw(st.booleans()):  # an exact duplicate and an empty box: the classic edge cases
        xy[-1], wh[-1] = xy[0], wh[0]
        wh[0, draw(st.integers(0, 1))] = 0.0 if min_size == 0 else wh[0, 0]
    return torch.cat([xy, xy + wh], dim=1).to(dtype)


# ------------------------------------------------------------------ malformed arguments

#: Not a tensor at all: every function that wants a tensor must say TypeError, naming the argument.
def kind_errors(valid) -> list:
    """Values of the wrong kind for an argument whose valid value is ``valid``."""
    out = [None, "text", object()]
    if isinstance(valid, torch.Tensor):
        out += [valid.tolist(), valid.numpy() if valid.device.type == "cpu" else None]
    return [v for v in out if v is not None or valid is not None]


def tensor_errors(valid: torch.Tensor, *, floating: bool = False, finite: bool = True, real: bool = True,
                  ndim: bool = True) -> list:
    """Malformed versions of the tensor ``valid``: other kinds, other ranks, NaN/inf, bool/complex/int dtypes."""
    out = kind_errors(valid)
    if ndim:
        out += [valid[None], valid.reshape(-1)[:1].reshape(()) if valid.numel() else torch.zeros(())]
    if real:
        out += [valid.bool(), valid.to(torch.complex64)]
    if floating:
        out += [valid.long()]
    if finite and valid.is_floating_point() and valid.numel():
        for bad in (math.nan, math.inf, -math.inf):
            odd = valid.clone()
            odd.view(-1)[valid.numel() // 2] = bad
            out.append(odd)
    return out


def number_errors(low: float | None = None, high: float | None = None, *, allow_nan: bool = False) -> list:
    """Malformed values of a real-number argument: other kinds, NaN, and values outside [low, high]."""
    out = [None, "0.5", [0.5], True]
    if not allow_nan:
        out += [math.nan]
    if low is not None:
        out += [low - 1.0, -math.inf]
    if high is not None:
        out += [high + 1.0, math.inf]
    return out


def int_errors(low: int = 1, high: int | None = None) -> list:
    """Malformed values of an integer argument: floats, strings, bools, too small, too large."""
    out = [None, 1.5, float(low), "2", True, [low], low - 1]
    if high is not None:
        out.append(high + 1)
    return out


def numpy_free(x):
    """``x`` with every ndarray turned into a list (for comparing results)."""
    return x.tolist() if isinstance(x, np.ndarray) else x
