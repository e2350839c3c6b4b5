"""Tests for course_utils.checks: the one place where inputs are checked (TypeError for the
wrong kind, ValueError for the wrong value, the argument, the expected and the actual in words)."""
import math

import numpy as np
import pytest
import torch

from course_utils import checks as C


def test_check_tensor():
    x = torch.zeros(2, 4)
    assert C.check_tensor(x, "boxes", shape=(None, 4), dtypes=(torch.float32,), floating=True, finite=True) is x
    with pytest.raises(TypeError, match=r"boxes must be a torch.Tensor, got list \(\[\[0, 0, 1, 1\]\]\)"):
        C.check_tensor([[0, 0, 1, 1]], "boxes")
    with pytest.raises(TypeError, match=r"boxes must be a torch.Tensor, got ndarray"):
        C.check_tensor(np.zeros((2, 4)), "boxes")
    with pytest.raises(ValueError, match=r"boxes must have shape \[\*, 4\], got \[2, 3\]"):
        C.check_tensor(torch.zeros(2, 3), "boxes", shape=(None, 4))
    with pytest.raises(ValueError, match=r"x must be 4-dimensional, got 2 dimensions \(shape \[2, 4\]\)"):
        C.check_tensor(x, "x", ndim=4)
    with pytest.raises(TypeError, match=r"labels must have dtype in \(int64\), got float32"):
        C.check_tensor(x, "labels", dtypes=(torch.int64,))
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got int64"):
        C.check_tensor(x.long(), "x", floating=True)
    with pytest.raises(ValueError, match=r"x must be finite, got -inf at index \[1, 2\]"):
        C.check_tensor(torch.tensor([[0.0, 1.0, 2.0], [0.0, 1.0, -math.inf]]), "x", finite=True)


def test_check_finite_ignores_integers_and_empty_tensors():
    assert C.check_finite(torch.tensor([1, 2]), "x") is not None
    assert C.check_finite(torch.zeros(0, 4), "x").shape == (0, 4)
    with pytest.raises(ValueError, match=r"z must be finite, got \(nan\+0j\) at index \[0\]"):
        C.check_finite(torch.tensor([complex(math.nan, 0)]), "z")


@pytest.mark.parametrize("fn, low", [(C.check_positive_int, 1), (C.check_nonnegative_int, 0)])
def test_check_positive_and_nonnegative_int(fn, low):
    assert fn(low, "k") == low and fn(7, "k") == 7
    assert fn(np.int64(5), "k") == 5 and type(fn(np.int64(5), "k")) is int  # NumPy integers are ints
    with pytest.raises(ValueError, match=f"k must be a (positive|non-negative) integer, got {low - 1}"):
        fn(low - 1, "k")
    for bad in (True, 2.0, "3", None, torch.tensor(3), [1]):
        with pytest.raises(TypeError, match="k must be an int, got"):
            fn(bad, "k")
    assert fn(10, "k", maximum=10) == 10
    with pytest.raises(ValueError, match="k must be at most 10, got 11"):
        fn(11, "k", maximum=10)


def test_check_number():
    assert C.check_number(1, "t") == 1.0 and type(C.check_number(1, "t")) is float
    assert C.check_number(np.float32(0.25), "t") == 0.25
    assert C.check_number(torch.tensor(0.5), "t") == 0.5  # a 0-d tensor is a number
    assert C.check_number(math.inf, "t", allow_inf=True) == math.inf
    with pytest.raises(ValueError, match="t must be a finite number, got nan"):
        C.check_number(math.nan, "t")
    with pytest.raises(ValueError, match="t must be a number, got nan"):
        C.check_number(math.nan, "t", allow_inf=True)
    with pytest.raises(ValueError, match=r"t must be a finite number in \[0, 1\], got inf"):
        C.check_number(math.inf, "t", low=0, high=1)
    with pytest.raises(ValueError, match=r"t must be in \(0, 1\], got 0"):
        C.check_number(0, "t", low=0, high=1, low_open=True)
    with pytest.raises(ValueError, match=r"t must be < 1, got 1"):
        C.check_number(1, "t", high=1, high_open=True)
    with pytest.raises(ValueError, match=r"t must be >= 0.5, got 0.25"):
        C.check_number(0.25, "t", low=0.5)
    for bad in (True, "0.5", None, [0.5], torch.tensor([0.5]), complex(1, 0)):
        with pytest.raises(TypeError, match="t must be a real number, got"):
            C.check_number(bad, "t")


def test_check_bool():
    assert C.check_bool(True, "flag") is True and C.check_bool(np.bool_(False), "flag") is False
    for bad in (1, 0, "False", None, torch.tensor(True)):
        with pytest.raises(TypeError, match="flag must be True or False, got"):
            C.check_bool(bad, "flag")


def test_check_in():
    assert C.check_in("xyxy", "fmt", ("xyxy", "xywh")) == "xyxy"
    assert C.check_in(np.str_("xywh"), "fmt", ("xyxy", "xywh")) == "xywh"
    assert C.check_in(3, "channels", (1, 3)) == 3 and C.check_in(np.int64(1), "channels", (1, 3)) == 1
    assert C.check_in(False, "amp", ("auto", True, False)) is False
    with pytest.raises(ValueError, match=r"fmt must be one of \['xyxy', 'xywh'\], got 'xyzw'"):
        C.check_in("xyzw", "fmt", ("xyxy", "xywh"))
    # compared by kind and value: True is not 1, 1.0 is not the int 1, a tensor is not a mode
    for value, allowed in ((1, ("auto", True, False)), (True, (1, 3)), (1.0, (1, 3)), (torch.zeros(3), ("auto", True))):
        with pytest.raises(ValueError, match="x must be one of"):
            C.check_in(value, "x", allowed)


def test_check_callable_device_generator():
    assert C.check_callable(print, "fn") is print
    with pytest.raises(TypeError, match=r"fn must be callable \(a function\), got int \(5\)"):
        C.check_callable(5, "fn")
    assert C.check_device("cpu") == torch.device("cpu") and C.check_device(torch.device("cpu")).type == "cpu"
    assert C.check_device("meta").type == "meta"
    with pytest.raises(ValueError, match="device must name a device such as 'cpu'"):
        C.check_device("banana")
    with pytest.raises(TypeError, match="where must be a torch.device or a string"):
        C.check_device(1.5, "where")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available on this machine"):
            C.check_device("cuda")
    g = torch.Generator()
    assert C.check_generator(g) is g and C.check_generator(None) is None
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int"):
        C.check_generator(0)


def test_check_numel_seed_interval_index():
    assert C.check_numel(C.MAX_ELEMENTS, "size") == C.MAX_ELEMENTS
    with pytest.raises(ValueError, match=r"scale asks for a tensor of 2,147,483,649 elements \(shape \[2147483649\]\)"):
        C.check_numel(C.MAX_ELEMENTS + 1, "scale", (C.MAX_ELEMENTS + 1,))
    assert C.check_seed(2**64 - 1) == 2**64 - 1
    with pytest.raises(ValueError, match="seed must be at most"):
        C.check_seed(2**64)
    assert C.check_interval([0.1, 0.2], "r", low=0, high=1) == (0.1, 0.2)
    with pytest.raises(TypeError, match=r"r must be a pair \(low, high\) of numbers, got float"):
        C.check_interval(0.1, "r", low=0, high=1)
    with pytest.raises(ValueError, match=r"r must be a finite number in \[0, 1\], got nan"):
        C.check_interval((math.nan, 0.5), "r", low=0, high=1)
    assert C.check_index(-1, 4, "ds") == 3 and C.check_index(np.int64(2), 4, "ds") == 2
    with pytest.raises(IndexError, match="index 4 is out of range for ds of length 4"):
        C.check_index(4, 4, "ds")
    with pytest.raises(TypeError, match="index must be an int, got str"):
        C.check_index("0", 4, "ds")
