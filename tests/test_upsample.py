"""Tests of course_utils.ops.upsample: loop and vectorized versions against each other and PyTorch."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from course_utils.ops import upsample as U

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.float64: dict(atol=1e-10, rtol=1e-10)}


def _randn(*shape, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


# --------------------------------------------------------------------------- nearest, bed of nails


@pytest.mark.parametrize("scale", [1, 2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_nearest_matches_interpolate(scale, dtype):
    x = _randn(2, 3, 4, 5, dtype=dtype)
    expected = F.interpolate(x, scale_factor=scale, mode="nearest")
    torch.testing.assert_close(U.nearest_upsample(x, scale), expected, **TOL[dtype])
    torch.testing.assert_close(U.nearest_upsample_loop(x, scale), expected, **TOL[dtype])


def test_nearest_keeps_integer_dtype():
    x = torch.arange(4).reshape(1, 1, 2, 2)
    out = U.nearest_upsample(x, 2)
    assert out.dtype == torch.int64 and out.shape == (1, 1, 4, 4)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_bed_of_nails_loop_and_vectorized_agree(stride):
    x = _randn(2, 3, 3, 4)
    out = U.bed_of_nails(x, stride)
    torch.testing.assert_close(out, U.bed_of_nails_loop(x, stride))
    assert out.shape == (2, 3, 3 * stride, 4 * stride)
    torch.testing.assert_close(out[:, :, ::stride, ::stride], x)
    assert out.abs().sum() == pytest.approx(x.abs().sum().item())  # nothing else is non-zero


def test_bed_of_nails_lecture_example():
    out = U.bed_of_nails(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), 2)[0, 0]
    expected = torch.tensor([[1.0, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("fn", [U.nearest_upsample, U.nearest_upsample_loop, U.bed_of_nails, U.bed_of_nails_loop])
def test_upsample_input_checks(fn):
    with pytest.raises(ValueError, match="4-dimensional"):
        fn(torch.zeros(2, 2), 2)
    with pytest.raises(ValueError, match="positive"):
        fn(torch.zeros(1, 1, 2, 2), 0)
    with pytest.raises(TypeError, match="int"):
        fn(torch.zeros(1, 1, 2, 2), 2.0)
    # a factor whose output cannot be allocated is refused before anything is allocated
    with pytest.raises(ValueError, match=r"(scale|stride) asks for a tensor of 4,000,000,000,000 elements"):
        fn(torch.zeros(1, 1, 2, 2), 10**6)


@pytest.mark.parametrize("fn", [U.nearest_upsample, U.bed_of_nails, U.bilinear_upsample])
def test_upsample_empty_batch(fn):
    out = fn(torch.zeros(0, 3, 2, 2), 2)
    assert out.shape == (0, 3, 4, 4) and out.dtype == torch.float32


# --------------------------------------------------------------------------- max unpooling


def test_max_unpool_lecture_example():
    x = torch.tensor([[1.0, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]])[None, None]
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    torch.testing.assert_close(pooled[0, 0], torch.tensor([[5.0, 6], [7, 8]]))
    values = torch.tensor([[[[1.0, 2], [3, 4]]]])
    expected = torch.tensor([[0.0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]])
    torch.testing.assert_close(U.max_unpool2d(values, idx, (4, 4))[0, 0], expected)
    torch.testing.assert_close(U.max_unpool2d_loop(values, idx, (4, 4))[0, 0], expected)


@pytest.mark.parametrize("kernel,stride,size", [(2, 2, (6, 8)), (2, 2, (5, 7)), (3, 3, (9, 6)), (3, 2, (7, 7))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_unpool_matches_torch(kernel, stride, size, dtype):
    x = _randn(2, 3, *size, dtype=dtype, seed=1)
    pooled, idx = F.max_pool2d(x, kernel, stride, return_indices=True)
    values = _randn(*pooled.shape, dtype=dtype, seed=2)
    if kernel > stride:
        values = pooled  # overlapping windows may share a maximum: only the same value is well defined
    expected = F.max_unpool2d(values, idx, kernel, stride, output_size=size)
    torch.testing.assert_close(U.max_unpool2d(values, idx, size), expected, **TOL[dtype])
    torch.testing.assert_close(U.max_unpool2d_loop(values, idx, size), expected, **TOL[dtype])


def test_max_unpool_square_int_size_and_checks():
    x = _randn(1, 1, 4, 4)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    assert U.max_unpool2d(pooled, idx, 4).shape == (1, 1, 4, 4)
    with pytest.raises(ValueError, match="indices must lie"):
        U.max_unpool2d(pooled, idx, (2, 2))
    with pytest.raises(ValueError, match="shape of x"):
        U.max_unpool2d(pooled, idx[..., :1], (4, 4))
    with pytest.raises(TypeError, match="int64"):
        U.max_unpool2d(pooled, idx.int(), (4, 4))
    empty = U.max_unpool2d(torch.zeros(0, 2, 2, 2), torch.zeros(0, 2, 2, 2, dtype=torch.long), (4, 4))
    assert empty.shape == (0, 2, 4, 4)


def test_max_unpool_gradient_goes_to_values():
    x = _randn(1, 2, 4, 4)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    values = pooled.clone().requires_grad_(True)
    U.max_unpool2d(values, idx, (4, 4)).sum().backward()
    torch.testing.assert_close(values.grad, torch.ones_like(values))


# --------------------------------------------------------------------------- bilinear


@pytest.mark.parametrize("scale,align_corners", list(itertools.product([1, 2, 3, 4], [False, True])))
@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_matches_interpolate(scale, align_corners, dtype):
    x = _randn(2, 3, 4, 5, dtype=dtype, seed=3)
    expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=align_corners)
    torch.testing.assert_close(U.bilinear_upsample(x, scale, align_corners), expected, **TOL[dtype])
    torch.testing.assert_close(U.bilinear_upsample_loop(x, scale, align_corners), expected, **TOL[dtype])


@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_one_pixel_and_one_row(align_corners):
    for shape in [(1, 1, 1, 1), (1, 2, 1, 3)]:
        x = _randn(*shape)
        expected = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=align_corners)
        torch.testing.assert_close(U.bilinear_upsample(x, 2, align_corners), expected)
        torch.testing.assert_close(U.bilinear_upsample_loop(x, 2, align_corners), expected)


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolation_matrix_rows_sum_to_one(align_corners):
    a = U.interpolation_matrix(5, 13, align_corners, dtype=torch.float64)
    assert a.shape == (13, 5)
    torch.testing.assert_close(a.sum(dim=1), torch.ones(13, dtype=torch.float64))
    assert (a >= 0).all()


def test_bilinear_rejects_integer_input():
    with pytest.raises(TypeError, match="floating"):
        U.bilinear_upsample(torch.zeros(1, 1, 2, 2, dtype=torch.long), 2)


# --------------------------------------------------------------------------- transposed convolution


@pytest.mark.parametrize("in_size,k,s,p,op", [(2, 3, 2, 0, 0), (2, 3, 2, 1, 1), (7, 4, 2, 1, 0), (5, 2, 2, 0, 0),
                                              (4, 3, 3, 2, 2), (1, 1, 1, 0, 0), (6, 5, 1, 2, 0)])
def test_conv_transpose_output_size_matches_layer(in_size, k, s, p, op):
    layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
    expected = layer(torch.zeros(1, 1, in_size, in_size)).shape[-1]
    assert U.conv_transpose_output_size(in_size, k, s, p, op) == expected


def test_conv_transpose_output_size_checks():
    with pytest.raises(ValueError, match="output_padding"):
        U.conv_transpose_output_size(4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="crops everything"):
        U.conv_transpose_output_size(1, 1, stride=1, padding=1)
    with pytest.raises(TypeError, match=r"in_size must be an int, got float \(4.0\)"):
        U.conv_transpose_output_size(4.0, 3)
    assert U.conv_transpose_output_size(3, 3, stride=1, output_padding=1, dilation=2) == 8


CASES = [  # (C_in, C_out, H, W, k, stride, padding, output_padding)
    (1, 1, 2, 2, 3, 2, 0, 0),
    (2, 3, 4, 5, 3, 2, 1, 1),
    (3, 2, 3, 3, 4, 2, 1, 0),
    (2, 2, 5, 4, 2, 2, 0, 0),
    (1, 4, 3, 4, 3, 1, 1, 0),
    (2, 1, 3, 2, (3, 2), (3, 1), (1, 0), (2, 0)),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_conv_transpose2d_matches_torch(case, dtype, with_bias):
    c_in, c_out, h, w, k, s, p, op = case
    kh, kw = k if isinstance(k, tuple) else (k, k)
    x = _randn(2, c_in, h, w, dtype=dtype, seed=4)
    weight = _randn(c_in, c_out, kh, kw, dtype=dtype, seed=5)
    bias = _randn(c_out, dtype=dtype, seed=6) if with_bias else None
    expected = F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op)
    torch.testing.assert_close(U.conv_transpose2d(x, weight, bias, s, p, op), expected, **TOL[dtype])
    torch.testing.assert_close(U.conv_transpose2d_loop(x, weight, bias, s, p, op), expected, **TOL[dtype])


def test_conv_transpose2d_lecture_quiz():
    x = torch.tensor([[[[10.0, 20.0], [30.0, 40.0]]]])
    w = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]])[None, None]
    out = U.conv_transpose2d(x, w, stride=2)[0, 0]
    torch.testing.assert_close(out, F.conv_transpose2d(x, w, stride=2)[0, 0])
    assert out[1, 1:4].tolist() == [40.0, 60.0, 80.0]  # answer C: overlaps add, they are not averaged
    assert out.sum().item() == x.sum().item() * w.sum().item()  # every input spreads its whole filter


def test_conv_transpose2d_gradient_matches_torch():
    x = _randn(1, 2, 3, 3).requires_grad_(True)
    w = _randn(2, 3, 3, 3, seed=7).requires_grad_(True)
    U.conv_transpose2d(x, w, stride=2, padding=1).square().sum().backward()
    gx, gw = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    F.conv_transpose2d(x, w, stride=2, padding=1).square().sum().backward()
    torch.testing.assert_close(gx, x.grad)
    torch.testing.assert_close(gw, w.grad)


def test_conv_transpose2d_checks_and_empty():
    x = torch.zeros(1, 2, 3, 3)
    for fn in (U.conv_transpose2d, U.conv_transpose2d_loop):
        with pytest.raises(TypeError, match="weight must have the dtype and device of x"):
            fn(x, torch.zeros(2, 4, 3, 3, dtype=torch.float64))
        with pytest.raises(TypeError, match="x must be a floating-point tensor"):
            fn(x.long(), torch.zeros(2, 4, 3, 3))
        with pytest.raises(ValueError, match="stride asks for a tensor of"):
            fn(x, torch.zeros(2, 4, 3, 3), stride=10**6)
    with pytest.raises(ValueError, match="input channels first"):
        U.conv_transpose2d(x, torch.zeros(3, 2, 3, 3))
    with pytest.raises(ValueError, match="bias"):
        U.conv_transpose2d(x, torch.zeros(2, 4, 3, 3), bias=torch.zeros(2))
    with pytest.raises(ValueError, match="output_padding"):
        U.conv_transpose2d_loop(x, torch.zeros(2, 4, 3, 3), stride=2, output_padding=2)
    for fn in (U.conv_transpose2d, U.conv_transpose2d_loop):
        out = fn(torch.zeros(0, 2, 3, 3), torch.zeros(2, 4, 3, 3), stride=2)
        assert out.shape == (0, 4, 7, 7) and out.dtype == torch.float32


# --------------------------------------------------------------------------- the matrix view


@pytest.mark.parametrize("length,k,s,p", [(4, 3, 1, 1), (6, 3, 2, 0), (7, 3, 2, 1), (5, 2, 1, 0)])
def test_conv_matrix_1d_is_conv1d_and_its_transpose_is_conv_transpose1d(length, k, s, p):
    w = _randn(k, seed=8)
    c = U.conv_matrix(w, length, s, p)
    x = _randn(length, seed=9)
    y_conv = F.conv1d(x[None, None], w[None, None], stride=s, padding=p)[0, 0]
    torch.testing.assert_close(c @ x, y_conv)
    y = _randn(c.shape[0], seed=10)
    op = length - U.conv_transpose_output_size(c.shape[0], k, s, p)  # the size the conv forgot
    torch.testing.assert_close(U.conv_transpose_matrix(w, length, s, p) @ y,
                               F.conv_transpose1d(y[None, None], w[None, None], stride=s, padding=p,
                                                  output_padding=op)[0, 0])
    torch.testing.assert_close((c @ x) @ y, x @ (c.T @ y))  # the adjoint identity <Cx, y> = <x, C^T y>


@pytest.mark.parametrize("size,k,s,p", [((4, 4), 3, 1, 0), ((5, 5), 3, 2, 0), ((6, 5), 3, 2, 1), ((4, 6), 2, 2, 0)])
def test_conv_matrix_2d(size, k, s, p):
    w = _randn(k, k, seed=11)
    c = U.conv_matrix(w, size, s, p)
    x = _randn(*size, seed=12)
    y_conv = F.conv2d(x[None, None], w[None, None], stride=s, padding=p)[0, 0]
    torch.testing.assert_close(c @ x.flatten(), y_conv.flatten())
    y = _randn(*y_conv.shape, seed=13)
    op = tuple(n - U.conv_transpose_output_size(m, k, s, p) for n, m in zip(size, y.shape))
    expected = F.conv_transpose2d(y[None, None], w[None, None], stride=s, padding=p, output_padding=op)[0, 0]
    torch.testing.assert_close(U.conv_transpose_matrix(w, size, s, p) @ y.flatten(), expected.flatten())


def test_conv_matrix_lecture_example():
    """The 1-D example of the lectures: input a b c d, kernel x y z, stride 1, pad 1."""
    a, b, c, d, x, y, z = 2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 17.0
    m = U.conv_matrix(torch.tensor([x, y, z]), 4, stride=1, padding=1)
    expected = torch.tensor([a * y + b * z, a * x + b * y + c * z, b * x + c * y + d * z, c * x + d * y])
    torch.testing.assert_close(m @ torch.tensor([a, b, c, d]), expected)


def test_conv_matrix_checks():
    with pytest.raises(ValueError, match="1-D"):
        U.conv_matrix(torch.zeros(1, 2, 3), 4)
    with pytest.raises(ValueError, match="does not fit"):
        U.conv_matrix(torch.zeros(5), 3)
    with pytest.raises(ValueError, match="in_size asks for a tensor of"):
        U.conv_matrix(torch.zeros(3, 3), (1000, 1000))
    with pytest.raises(TypeError, match="weight must hold real numbers"):
        U.conv_matrix(torch.zeros(3, dtype=torch.bool), 4)


@pytest.mark.parametrize("fn", [U.bilinear_upsample, U.bilinear_upsample_loop])
def test_bilinear_checks_align_corners_and_size(fn):
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(TypeError, match="align_corners must be True or False"):
        fn(x, 2, align_corners="yes")
    with pytest.raises(ValueError, match="scale asks for a tensor of"):
        fn(x, 10**6)


def test_interpolation_matrix_checks():
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        U.interpolation_matrix(2, 4, dtype=torch.int64)
    with pytest.raises(ValueError, match="device must name a device"):
        U.interpolation_matrix(2, 4, device="banana")
    with pytest.raises(ValueError, match="out_size asks for a tensor of"):
        U.interpolation_matrix(10**6, 10**6)
    with pytest.raises(TypeError, match="align_corners must be True or False"):
        U.interpolation_matrix(2, 4, align_corners=None)
