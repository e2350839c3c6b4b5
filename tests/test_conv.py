"""Reference conv/pool ops against torch.nn.functional, and their input checks."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from course_utils.ops import conv


def _case(seed, n=2, c_in=3, c_out=4, h=7, w=6, k=3, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c_in, h, w, generator=g, dtype=dtype)
    weight = torch.randn(c_out, c_in, k, k, generator=g, dtype=dtype)
    bias = torch.randn(c_out, generator=g, dtype=dtype)
    return x, weight, bias


@pytest.mark.parametrize("fn", [conv.conv2d_loop, conv.conv2d_im2col])
@pytest.mark.parametrize("stride,padding,k", list(itertools.product([1, 2, 3], [0, 1, 2], [1, 3])))
def test_conv2d_matches_torch(fn, stride, padding, k):
    x, weight, bias = _case(stride * 10 + padding + k, k=k)
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    torch.testing.assert_close(fn(x, weight, bias, stride=stride, padding=padding), expected)
    torch.testing.assert_close(fn(x, weight, None, stride=stride, padding=padding),
                               F.conv2d(x, weight, None, stride=stride, padding=padding))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_loop_and_im2col_agree(dtype):
    x, weight, bias = _case(0, h=9, w=11, k=3, dtype=dtype)
    tol = {torch.float32: 1e-5, torch.float64: 1e-12}[dtype]
    torch.testing.assert_close(conv.conv2d_loop(x, weight, bias, 2, 1), conv.conv2d_im2col(x, weight, bias, 2, 1),
                               atol=tol, rtol=tol)


def test_im2col_matches_unfold():
    x, _, _ = _case(1, h=8, w=5)
    for k, s, p in [(3, 1, 0), (2, 2, 1), (3, 2, 1)]:
        torch.testing.assert_close(conv.im2col(x, k, s, p), F.unfold(x, k, padding=p, stride=s))


def test_conv_gradients_flow():
    x, weight, bias = _case(2, n=1, c_in=2, c_out=2, h=5, w=5)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: conv.conv2d_im2col(a, weight, bias, 1, 1), (x,))


@pytest.mark.parametrize("k,s", [(2, 2), (3, 1), (3, 2), (2, 1)])
def test_pooling_matches_torch(k, s):
    x = torch.randn(2, 3, 7, 8, generator=torch.Generator().manual_seed(k + s)) - 5  # negative values
    torch.testing.assert_close(conv.max_pool2d_loop(x, k, s), F.max_pool2d(x, k, s))
    torch.testing.assert_close(conv.max_pool2d(x, k, s), F.max_pool2d(x, k, s))
    torch.testing.assert_close(conv.avg_pool2d_loop(x, k, s), F.avg_pool2d(x, k, s))


def test_pool_stride_defaults_to_kernel():
    x = torch.randn(1, 1, 4, 4)
    assert conv.max_pool2d(x, 2).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("n,k,s,p,d", [(32, 5, 1, 0, 1), (227, 11, 4, 0, 1), (28, 3, 1, 1, 1), (17, 3, 2, 1, 2),
                                       (10, 1, 1, 0, 1), (9, 3, 3, 0, 1)])
def test_output_size_matches_torch(n, k, s, p, d):
    layer = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    expected = layer(torch.zeros(1, 1, n, n)).shape[-1]
    assert conv.conv_output_size(n, k, s, p, d, exact=False) == expected


def test_output_size_rejects_impossible_configurations():
    with pytest.raises(ValueError, match="not divisible"):
        conv.conv_output_size(7, 3, stride=3)          # (7 - 3) / 3 + 1 = 2.33
    assert conv.conv_output_size(32, 5, stride=3) == 10  # (32 - 5) / 3 + 1 = 10 exactly: it fits
    with pytest.raises(ValueError, match="padded input"):
        conv.conv_output_size(4, 5)
    with pytest.raises(TypeError, match=r"in_size must be an int, got float \(32.0\)"):
        conv.conv_output_size(32.0, 5)
    with pytest.raises(ValueError, match="stride must be a positive integer, got 0"):
        conv.conv_output_size(32, 5, stride=0)
    with pytest.raises(TypeError, match="exact must be True or False"):
        conv.conv_output_size(32, 5, exact="no")


def test_bad_inputs_name_the_shapes():
    x, weight, bias = _case(3)
    with pytest.raises(ValueError, match="input channels"):
        conv.conv2d_loop(x[:, :2], weight)
    with pytest.raises(ValueError, match="4-dimensional"):
        conv.conv2d_im2col(x[0], weight)
    with pytest.raises(ValueError, match="shape"):
        conv.conv2d_loop(x, weight, bias[:2])


def test_empty_batch_gives_empty_output():
    x, weight, bias = _case(4)
    out = conv.conv2d_im2col(x[:0], weight, bias, padding=1)
    assert out.shape == (0, 4, 7, 6)
    assert conv.conv2d_loop(x[:0], weight, bias, padding=1).shape == (0, 4, 7, 6)


@pytest.mark.parametrize("mode,torch_mode", [("zeros", "constant"), ("reflect", "reflect"), ("circular", "circular"),
                                             ("replicate", "replicate")])
def test_pad_modes(mode, torch_mode):
    x = torch.arange(16.).view(1, 1, 4, 4)
    torch.testing.assert_close(conv.pad2d(x, 1, mode), F.pad(x, (1, 1, 1, 1), mode=torch_mode))
    torch.testing.assert_close(conv.pad2d(x, (2, 1), mode), F.pad(x, (1, 1, 2, 2), mode=torch_mode))
    # any leading dimensions (here none, and three), any dtype: the same planes
    torch.testing.assert_close(conv.pad2d(x[0, 0], 1, mode), F.pad(x, (1, 1, 1, 1), mode=torch_mode)[0, 0])
    y = torch.arange(2 * 3 * 2 * 16).view(2, 3, 2, 4, 4)
    expected = F.pad(y.double().view(-1, 1, 4, 4), (1, 1, 1, 1), mode=torch_mode).long().view(2, 3, 2, 6, 6)
    assert torch.equal(conv.pad2d(y, 1, mode), expected)
    with pytest.raises(ValueError, match="mode must be one of"):
        conv.pad2d(x, 1, "mirror")


def test_pad2d_checks_its_arguments():
    # pad2d used to check nothing: -1 cropped, 1.7 padded by 1, None returned None
    x = torch.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="padding must be a non-negative integer, got -1"):
        conv.pad2d(x, -1)
    with pytest.raises(TypeError, match=r"padding must be an int, got float \(1.7\)"):
        conv.pad2d(x, 1.7)
    with pytest.raises(TypeError, match="padding must be an int, got bool"):
        conv.pad2d(x, True)
    with pytest.raises(ValueError, match="padding must be an int or a pair of ints"):
        conv.pad2d(x, (1, 1, 1))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got NoneType"):
        conv.pad2d(None, 1)
    with pytest.raises(ValueError, match="x must have at least 2 dimensions"):
        conv.pad2d(torch.zeros(3), 1)
    with pytest.raises(ValueError, match="padding must be smaller than the height and width of x for mode 'reflect'"):
        conv.pad2d(x, 3, "reflect")
    with pytest.raises(ValueError, match="padding must be at most the height and width of x for mode 'circular'"):
        conv.pad2d(x, 4, "circular")
    assert conv.pad2d(x, 0) is x
    assert conv.pad2d(torch.zeros(0, 2, 3), 1, "reflect").shape == (0, 4, 5)  # an empty batch stays empty


def test_window_errors_name_the_argument():
    x = torch.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="kernel_size window 4x4 does not fit in x of height x width 3x3"):
        conv.max_pool2d(x, 4)
    with pytest.raises(ValueError, match="weight window 4x4 does not fit in x"):
        conv.conv2d_loop(x, torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError, match="weight must have the dtype and device of x"):
        conv.conv2d_im2col(x, torch.zeros(1, 1, 2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="x must have a non-empty height and width"):
        conv.im2col(torch.zeros(1, 1, 0, 3), 1)
    with pytest.raises(TypeError, match="kernel_size must be an int, got float"):
        conv.im2col(x, (2.5, 2))  # used to be truncated to 2
    with pytest.raises(TypeError, match="layers must be a list of"):
        conv.receptive_field(5)
    with pytest.raises(ValueError, match=r"layers\[1\] must be a pair"):
        conv.receptive_field([(3, 1), (3,)])


def test_receptive_field_and_memory():
    for n in range(1, 6):
        assert conv.receptive_field([(3, 1)] * n) == 2 * n + 1
    assert conv.activation_bytes(200, 400, 400) == 128_000_000
    assert conv.activation_bytes(200, 400, 400, batch=20, layers=100) == 256_000_000_000
