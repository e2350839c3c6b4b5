"""Tests for course_utils.layers against torch.nn (BatchNorm2d, Conv2d) and hand formulas."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import layers
from course_utils.layers import (
    BasicBlock,
    BatchNorm2dScratch,
    Bottleneck,
    DepthwiseSeparableConv,
    batch_norm_forward,
    batch_norm_forward_loop,
    conv1x1,
    conv3x3,
    depthwise_separable_cost,
)
from course_utils.summary import summarize

TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.float64: dict(atol=1e-12, rtol=1e-12)}


def _randn(*shape, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


# --------------------------------------------------------------------------- functional batch norm
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("fn", [batch_norm_forward, batch_norm_forward_loop], ids=["vectorized", "loop"])
def test_batch_norm_forward_matches_torch(fn, training, dtype):
    x = _randn(6, 4, 5, 3, dtype=dtype) * 3 + 1
    gamma, beta = _randn(4, seed=1, dtype=dtype), _randn(4, seed=2, dtype=dtype)
    rm, rv = _randn(4, seed=3, dtype=dtype), _randn(4, seed=4, dtype=dtype).abs() + 0.5
    rm_ref, rv_ref = rm.clone(), rv.clone()
    y = fn(x, gamma, beta, rm, rv, training=training, momentum=0.3, eps=1e-3)
    y_ref = F.batch_norm(x, rm_ref, rv_ref, gamma, beta, training=training, momentum=0.3, eps=1e-3)
    torch.testing.assert_close(y, y_ref, **TOL[dtype])
    torch.testing.assert_close(rm, rm_ref, **TOL[dtype])
    torch.testing.assert_close(rv, rv_ref, **TOL[dtype])  # unbiased variance in the running update


def test_running_var_uses_unbiased_variance():
    x = torch.tensor([0.0, 2.0, 4.0, 6.0]).reshape(4, 1, 1, 1)
    rm, rv = torch.zeros(1), torch.zeros(1)
    y = batch_norm_forward(x, None, None, rm, rv, training=True, momentum=1.0, eps=0.0)
    assert rv.item() == pytest.approx(20 / 3)  # sum of squared deviations 20, divided by n - 1
    assert y.pow(2).mean().item() == pytest.approx(1.0)  # normalized with the biased variance 20 / 4


def test_batch_norm_forward_2d_input_and_no_running_stats():
    x = _randn(8, 3)
    torch.testing.assert_close(batch_norm_forward(x, None, None, None, None, training=False),
                               F.batch_norm(x, None, None, training=True))


def test_batch_norm_forward_loop_matches_vectorized_many_channels():
    x = _randn(3, 7, 4, 4, seed=5)
    rm1, rv1, rm2, rv2 = torch.zeros(7), torch.ones(7), torch.zeros(7), torch.ones(7)
    a = batch_norm_forward_loop(x, None, None, rm1, rv1, training=True)
    b = batch_norm_forward(x, None, None, rm2, rv2, training=True)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(rv1, rv2)


def test_batch_norm_forward_errors():
    x = torch.zeros(1, 3, 1, 1)
    with pytest.raises(ValueError, match="more than 1 value"):
        batch_norm_forward(x, None, None, torch.zeros(3), torch.ones(3), training=True)
    with pytest.raises(ValueError, match=r"gamma must have shape \[3\], got \[4\]"):
        batch_norm_forward(torch.zeros(2, 3), torch.ones(4), None, None, None, training=True)
    with pytest.raises(TypeError, match="floating"):
        batch_norm_forward(torch.zeros(2, 3, dtype=torch.long), None, None, None, None, training=True)
    with pytest.raises(ValueError, match="together"):
        batch_norm_forward(torch.zeros(2, 3), None, None, torch.zeros(3), None, training=True)
    with pytest.raises(ValueError, match="momentum"):
        batch_norm_forward(torch.zeros(2, 3), None, None, None, None, training=True, momentum=2.0)


def test_batch_norm_empty_eval():
    x = torch.zeros(0, 3, 4, 4)
    y = batch_norm_forward(x, None, None, torch.zeros(3), torch.ones(3), training=False)
    assert y.shape == (0, 3, 4, 4) and y.dtype == x.dtype


# --------------------------------------------------------------------------- module
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": None}, {"momentum": 0.5, "eps": 1e-3}, {"affine": False}, {"track_running_stats": False}],
    ids=["default", "cumulative", "momentum", "no-affine", "no-running"],
)
def test_batch_norm_module_matches_nn(kwargs):
    torch.manual_seed(0)
    ref = nn.BatchNorm2d(5, **kwargs).double()
    mine = BatchNorm2dScratch(5, **kwargs).double()
    if ref.affine:  # non-trivial affine parameters
        with torch.no_grad():
            ref.weight.normal_(), ref.bias.normal_()
        mine.load_state_dict(ref.state_dict())
    for step in range(3):  # several training steps, then evaluation
        x = _randn(4, 5, 3, 3, seed=step, dtype=torch.float64) * (step + 1) + step
        torch.testing.assert_close(mine(x), ref(x))
    if ref.track_running_stats:
        torch.testing.assert_close(mine.running_mean, ref.running_mean)
        torch.testing.assert_close(mine.running_var, ref.running_var)
        assert int(mine.num_batches_tracked) == int(ref.num_batches_tracked) == 3
    mine.eval(), ref.eval()
    x = _randn(2, 5, 3, 3, seed=10, dtype=torch.float64)
    torch.testing.assert_close(mine(x), ref(x))


def test_batch_norm_module_gradients_match_nn():
    ref = nn.BatchNorm2d(3).double()
    mine = BatchNorm2dScratch(3).double()
    x1 = _randn(4, 3, 2, 2, dtype=torch.float64).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    w = _randn(4, 3, 2, 2, seed=1, dtype=torch.float64)
    (ref(x1) * w).sum().backward()
    (mine(x2) * w).sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad)
    torch.testing.assert_close(mine.weight.grad, ref.weight.grad)
    torch.testing.assert_close(mine.bias.grad, ref.bias.grad)
    assert torch.autograd.gradcheck(
        lambda t: batch_norm_forward(t, None, None, None, None, training=True), (x1.detach().requires_grad_(),))


def test_batch_norm_module_state_dict_roundtrip_and_errors():
    mine = BatchNorm2dScratch(4)
    assert set(mine.state_dict()) == set(nn.BatchNorm2d(4).state_dict())
    nn.BatchNorm2d(4).load_state_dict(mine.state_dict())
    with pytest.raises(ValueError, match="4 channels"):
        mine(torch.zeros(2, 3, 2, 2))
    with pytest.raises(ValueError, match="4-dimensional"):
        mine(torch.zeros(2, 4))


# --------------------------------------------------------------------------- depthwise separable
def test_depthwise_separable_cost_formula():
    for C in (1, 3, 32, 128, 512):
        cost = depthwise_separable_cost(C, 14, 10)
        assert cost["standard"] == 9 * C * C * 14 * 10
        assert cost["separable"] == (9 * C + C * C) * 14 * 10
        assert cost["speedup"] == pytest.approx(9 * C / (9 + C))
    cost = depthwise_separable_cost(32, 8, 8, k=5, C_out=64)
    assert cost["standard_params"] == 25 * 32 * 64 and cost["separable_params"] == 25 * 32 + 32 * 64
    with pytest.raises(ValueError, match="C must be a positive"):
        depthwise_separable_cost(0, 8, 8)


def test_depthwise_separable_cost_matches_summary():
    C, C_out, H, W = 16, 24, 12, 10
    cost = depthwise_separable_cost(C, H, W, C_out=C_out)
    sep = summarize(DepthwiseSeparableConv(C, C_out), (1, C, H, W))
    std = summarize(nn.Conv2d(C, C_out, 3, padding=1, bias=False), (1, C, H, W))
    assert sep.total_macs == cost["separable"]
    assert std.total_macs == cost["standard"]
    assert std.total_params == cost["standard_params"]
    assert sep.total_params == cost["separable_params"] + 2 * (C + C_out)  # + BatchNorm scales and shifts


def test_depthwise_separable_conv_structure():
    block = DepthwiseSeparableConv(8, 16, stride=2)
    assert block.depthwise.groups == 8 and block.depthwise.weight.shape == (8, 1, 3, 3)
    assert block.pointwise.weight.shape == (16, 8, 1, 1)
    assert block(torch.zeros(2, 8, 9, 9)).shape == (2, 16, 5, 5)
    with pytest.raises(ValueError, match="odd"):
        DepthwiseSeparableConv(8, 16, kernel_size=2)


# --------------------------------------------------------------------------- residual blocks
@pytest.mark.parametrize(
    "block, in_ch, ch, stride, out_shape, has_downsample",
    [
        (BasicBlock, 16, 16, 1, (2, 16, 8, 8), False),
        (BasicBlock, 16, 32, 2, (2, 32, 4, 4), True),
        (Bottleneck, 64, 16, 1, (2, 64, 8, 8), False),
        (Bottleneck, 16, 16, 1, (2, 64, 8, 8), True),
        (Bottleneck, 64, 32, 2, (2, 128, 4, 4), True),
    ],
)
def test_residual_block_shapes(block, in_ch, ch, stride, out_shape, has_downsample):
    b = block(in_ch, ch, stride=stride)
    assert b(torch.randn(2, in_ch, 8, 8)).shape == out_shape
    assert (b.downsample is not None) == has_downsample
    assert out_shape[1] == ch * block.expansion
    plain = block(in_ch, ch, stride=stride, residual=False)
    assert plain.downsample is None and plain(torch.randn(2, in_ch, 8, 8)).shape == out_shape


@pytest.mark.parametrize("block", [BasicBlock, Bottleneck])
def test_residual_block_is_identity_when_last_bn_is_zero(block):
    # With the last BatchNorm scaled to 0, F(x) = 0 and the block returns relu(x): the skip at work.
    in_ch = 8 * block.expansion
    b = block(in_ch, 8).eval()
    last_bn = b.bn3 if block is Bottleneck else b.bn2
    nn.init.zeros_(last_bn.weight)
    x = torch.randn(2, in_ch, 5, 5)
    torch.testing.assert_close(b(x), torch.relu(x))
    plain = block(in_ch, 8, residual=False).eval()
    nn.init.zeros_(plain.bn3.weight if block is Bottleneck else plain.bn2.weight)
    assert torch.count_nonzero(plain(x)) == 0  # no skip: nothing gets through


def test_residual_block_errors():
    with pytest.raises(ValueError, match="stride must be a positive"):
        BasicBlock(4, 4, stride=0)
    with pytest.raises(ValueError, match="residual"):
        Bottleneck(4, 4, residual="yes")


@pytest.mark.parametrize("fn", [batch_norm_forward, batch_norm_forward_loop, layers._batch_norm_twin])
def test_batch_norm_checks_statistics_eps_and_dtypes(fn):
    x = _randn(4, 2, 3, 3)
    # integer running statistics used to fail in an in-place cast deep inside torch
    with pytest.raises(TypeError, match=r"running_mean must have dtype in \(float32\), got int64"):
        fn(x, None, None, torch.zeros(2, dtype=torch.int64), torch.ones(2, dtype=torch.int64), training=True)
    with pytest.raises(TypeError, match=r"gamma must have dtype in \(float32\), got float64"):
        fn(x, torch.ones(2, dtype=torch.float64), None, None, None, training=True)
    # a negative running_var or eps=nan used to give NaN everywhere
    with pytest.raises(ValueError, match="running_var must be non-negative .*got -1.0"):
        fn(x, None, None, torch.zeros(2), torch.tensor([1.0, -1.0]), training=False)
    with pytest.raises(ValueError, match="running_mean must be finite, got nan at index"):
        fn(x, None, None, torch.tensor([0.0, math.nan]), torch.ones(2), training=False)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0, got nan"):
        fn(x, None, None, None, None, training=True, eps=math.nan)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 1.5"):
        fn(x, None, None, torch.zeros(2), torch.ones(2), training=True, momentum=1.5)
    with pytest.raises(TypeError, match="momentum must be a real number, got str"):
        fn(x, None, None, torch.zeros(2), torch.ones(2), training=True, momentum="0.1")
    with pytest.raises(TypeError, match="training must be True or False, got str"):
        fn(x, None, None, None, None, training="False")
    # no channel: an empty result, as for any empty input
    assert fn(_randn(4, 0, 3, 3), None, None, torch.zeros(0), torch.ones(0), training=True).shape == (4, 0, 3, 3)


def test_conv3x3_and_conv1x1():
    conv = conv3x3(4, 6, stride=2)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.bias) == ((3, 3), (2, 2), (1, 1), None)
    assert conv(torch.zeros(1, 4, 7, 8)).shape == (1, 6, 4, 4)  # 'same' padding, then the stride
    conv = conv1x1(4, 6)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.bias) == ((1, 1), (1, 1), (0, 0), None)
    assert conv(torch.zeros(1, 4, 7, 8)).shape == (1, 6, 7, 8)
    assert sum(p.numel() for p in conv.parameters()) == 4 * 6  # no bias: a BatchNorm follows
    for fn in (conv3x3, conv1x1):
        with pytest.raises(ValueError, match="out_channels must be a positive integer, got 0"):
            fn(4, 0)
        with pytest.raises(TypeError, match="stride must be an int, got float"):
            fn(4, 6, stride=1.5)


@pytest.mark.parametrize("block", [BasicBlock(4, 4), Bottleneck(16, 4), DepthwiseSeparableConv(4, 8)])
def test_blocks_check_their_input(block):
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        block([[0.0]])
    with pytest.raises(ValueError, match="x must have .* channels"):
        block(torch.zeros(1, 3, 4, 4))
