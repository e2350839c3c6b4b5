"""Upsampling operations of encoder-decoder networks, each written twice.

Every op takes feature maps ``Tensor[N, C, H, W]`` and returns ``Tensor[N, C, H', W']``
(or ``C_out`` channels for the transposed convolution). Each has a slow loop version
(``*_loop``) that says what the op *means*, one output or input pixel at a time, and a
vectorized version that is fast; the tests compare both with PyTorch
(``F.max_unpool2d``, ``F.interpolate``, ``F.conv_transpose2d``).

* :func:`nearest_upsample`: copy every pixel into an ``s x s`` block.
* :func:`bed_of_nails`: put every pixel in the top-left corner of its block, zeros elsewhere.
* :func:`max_unpool2d`: put every pixel back where the max-pooling layer found its maximum
  (the ``indices`` that ``F.max_pool2d(..., return_indices=True)`` returns).
* :func:`bilinear_upsample`: interpolate between the four nearest input pixels, with
  PyTorch's two conventions for where pixel centres are (``align_corners``).
* :func:`conv_transpose2d`: every input pixel stamps a copy of the filter, scaled by its
  value, onto the output; where stamps overlap, they *add up*.
* :func:`conv_matrix` / :func:`conv_transpose_matrix`: a convolution of a fixed input
  size is a matrix ``C``; the transposed convolution is ``C.T``, hence the name.

Convention (PyTorch's): a transposed-convolution weight is ``Tensor[C_in, C_out, kh, kw]``
(input channels first, the reverse of ``nn.Conv2d``), so the same tensor can serve a
convolution ``C_out -> C_in`` and its transpose ``C_in -> C_out``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import (
    check_bool,
    check_device,
    check_nonnegative_int,
    check_numel,
    check_positive_int,
    check_tensor,
)
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "nearest_upsample",
    "nearest_upsample_loop",
    "bed_of_nails",
    "bed_of_nails_loop",
    "max_unpool2d",
    "max_unpool2d_loop",
    "bilinear_upsample",
    "bilinear_upsample_loop",
    "interpolation_matrix",
    "conv_transpose_output_size",
    "conv_transpose2d",
    "conv_transpose2d_loop",
    "conv_matrix",
    "conv_transpose_matrix",
]


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(value)  # type: ignore[return-value]
    return (value, value)


def _check_maps(x: Tensor, name: str = "x") -> Tensor:
    check_tensor(x, name, ndim=4)
    if x.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {str(x.dtype).replace('torch.', '')}")
    return x


def _check_scale(x: Tensor, scale, name: str) -> int:
    """An integer upsampling factor of the maps ``x`` (checked first), whose output stays allocatable."""
    _check_maps(x)
    scale = check_positive_int(scale, name)
    n, c, h, w = x.shape
    check_numel(n * c * h * scale * w * scale, name, (n, c, h * scale, w * scale))
    return scale


# --------------------------------------------------------------------------- nearest, bed of nails


def nearest_upsample_loop(x: Tensor, scale: int) -> Tensor:
    """Reference for :func:`nearest_upsample`: one output pixel at a time. Slow; meant to be read.

    Output pixel ``(i, j)`` copies input pixel ``(i // scale, j // scale)``.

    Examples:
        >>> nearest_upsample_loop(torch.tensor([[[[1., 2.], [3., 4.]]]]), 2)[0, 0]
        tensor([[1., 1., 2., 2.],
                [1., 1., 2., 2.],
                [3., 3., 4., 4.],
                [3., 3., 4., 4.]])
    """
    _check_scale(x, scale, "scale")
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h * scale, w * scale)
    for i in range(h * scale):
        for j in range(w * scale):
            out[:, :, i, j] = x[:, :, i // scale, j // scale]
    return out


def nearest_upsample(x: Tensor, scale: int) -> Tensor:
    """Nearest-neighbour upsampling by an integer factor.

    Same as ``F.interpolate(x, scale_factor=scale, mode="nearest")``.

    Args:
        x: ``Tensor[N, C, H, W]``.
        scale: integer factor ``s >= 1``.

    Returns:
        ``Tensor[N, C, s * H, s * W]``.

    Examples:
        >>> nearest_upsample(torch.arange(4.).reshape(1, 1, 2, 2), 2).shape
        torch.Size([1, 1, 4, 4])
    """
    _check_scale(x, scale, "scale")
    return x.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)  # [N, C, sH, sW]


def bed_of_nails_loop(x: Tensor, stride: int) -> Tensor:
    """Reference for :func:`bed_of_nails`: one input pixel at a time.

    Examples:
        >>> bed_of_nails_loop(torch.tensor([[[[1., 2.], [3., 4.]]]]), 2)[0, 0]
        tensor([[1., 0., 2., 0.],
                [0., 0., 0., 0.],
                [3., 0., 4., 0.],
                [0., 0., 0., 0.]])
    """
    _check_scale(x, stride, "stride")
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h * stride, w * stride)
    for i in range(h):
        for j in range(w):
            out[:, :, i * stride, j * stride] = x[:, :, i, j]
    return out


def bed_of_nails(x: Tensor, stride: int) -> Tensor:
    """"Bed of nails" upsampling: each value goes to the top-left of its ``stride x stride`` block.

    The other ``stride^2 - 1`` positions of the block are zero. Followed by a normal
    convolution this is exactly a transposed convolution (the "fractionally strided" view).

    Args:
        x: ``Tensor[N, C, H, W]``.
        stride: integer factor ``s >= 1``.

    Returns:
        ``Tensor[N, C, s * H, s * W]``.

    Examples:
        >>> bed_of_nails(torch.ones(1, 1, 2, 2), 2)[0, 0]
        tensor([[1., 0., 1., 0.],
                [0., 0., 0., 0.],
                [1., 0., 1., 0.],
                [0., 0., 0., 0.]])
    """
    _check_scale(x, stride, "stride")
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h * stride, w * stride)
    out[:, :, ::stride, ::stride] = x  # strided view: every s-th row and column
    return out


# --------------------------------------------------------------------------- max unpooling


def _check_unpool(x: Tensor, indices: Tensor, output_size) -> tuple[int, int]:
    _check_maps(x)
    check_tensor(indices, "indices", dtypes=(torch.int64,))
    if indices.shape != x.shape:
        raise ValueError(f"indices must have the shape of x {list(x.shape)}, got {list(indices.shape)}")
    oh, ow = _pair(output_size, "output_size")
    check_positive_int(oh, "output_size")
    check_positive_int(ow, "output_size")
    check_numel(x.shape[0] * x.shape[1] * oh * ow, "output_size", (*x.shape[:2], oh, ow))
    if indices.device != x.device:
        raise ValueError(f"indices must be on the device of x ({x.device}), got {indices.device}")
    if indices.numel() and (indices.min() < 0 or indices.max() >= oh * ow):
        raise ValueError(f"indices must lie in [0, {oh * ow - 1}] for output_size {(oh, ow)}, "
                         f"got values in [{int(indices.min())}, {int(indices.max())}]")
    return oh, ow


def _max_unpool2d_twin(x, indices, output_size):
    """Twin of the max-unpooling references: the ``max_unpool2d`` operator behind ``F.max_unpool2d``.

    It takes the output size directly (``F.max_unpool2d`` wants a kernel size to check it against).
    """
    oh, ow = _check_unpool(x, indices, output_size)
    if not x.is_floating_point():  # the operator is floating-point only; float64 is exact up to 2**53
        return torch._C._nn.max_unpool2d(x.double(), indices, (oh, ow)).to(x.dtype)
    return torch._C._nn.max_unpool2d(x, indices, (oh, ow))


@reference_of("04_segmentation/max_unpool", twin=_max_unpool2d_twin)
def max_unpool2d_loop(x: Tensor, indices: Tensor, output_size: int | tuple[int, int]) -> Tensor:
    """Reference for :func:`max_unpool2d`: one pooled value at a time.

    Examples:
        >>> x = torch.tensor([[[[1., 2., 6., 3.], [3., 5., 2., 1.], [1., 2., 2., 1.], [7., 3., 4., 8.]]]])
        >>> pooled, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> max_unpool2d_loop(torch.tensor([[[[1., 2.], [3., 4.]]]]), idx, (4, 4))[0, 0]
        tensor([[0., 0., 2., 0.],
                [0., 1., 0., 0.],
                [0., 0., 0., 0.],
                [3., 0., 0., 4.]])
    """
    oh, ow = _check_unpool(x, indices, output_size)
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, oh, ow)
    for b in range(n):
        for ch in range(c):
            for i in range(h):
                for j in range(w):
                    k = int(indices[b, ch, i, j])  # flat position in the [oh, ow] plane
                    out[b, ch, k // ow, k % ow] = x[b, ch, i, j]
    return out


@reference_of("04_segmentation/max_unpool", twin=_max_unpool2d_twin)
def max_unpool2d(x: Tensor, indices: Tensor, output_size: int | tuple[int, int]) -> Tensor:
    """Max unpooling: put each value back at the position its pooling window's maximum came from.

    Args:
        x: ``Tensor[N, C, h, w]`` values to place (the decoder's features).
        indices: ``Tensor[N, C, h, w]`` int64, the flat positions ``row * W + col`` in
            each ``[H, W]`` plane, as returned by ``F.max_pool2d(..., return_indices=True)``.
        output_size: ``(H, W)`` of the map that was pooled (or one int for a square).

    Returns:
        ``Tensor[N, C, H, W]``: zeros except at the saved positions. Same as
        ``F.max_unpool2d(x, indices, kernel_size, output_size=(H, W))``.

    Examples:
        >>> idx = torch.tensor([[[[3]]]])
        >>> max_unpool2d(torch.tensor([[[[5.]]]]), idx, (2, 2))[0, 0]
        tensor([[0., 0.],
                [0., 5.]])
    """
    oh, ow = _check_unpool(x, indices, output_size)
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, oh * ow)  # [N, C, H*W]: flat planes, so a flat index is enough
    out = out.scatter(2, indices.reshape(n, c, h * w), x.reshape(n, c, h * w))  # [N, C, h*w] -> positions
    return out.reshape(n, c, oh, ow)


# --------------------------------------------------------------------------- bilinear


def _source_coords(in_size: int, out_size: int, align_corners: bool, dtype: torch.dtype,
                   device: torch.device) -> Tensor:
    """Where each output pixel centre falls in input pixel coordinates, ``Tensor[out_size]``.

    ``align_corners=True`` maps the first and last pixel *centres* onto each other;
    ``False`` (PyTorch's default) maps the outer pixel *edges* onto each other, so output
    centre ``i + 0.5`` sits at input ``(i + 0.5) * in / out``; left of the first input
    centre there is nothing to interpolate with, so it is clamped to 0.
    """
    i = torch.arange(out_size, dtype=dtype, device=device)
    if align_corners:
        return i * ((in_size - 1) / (out_size - 1)) if out_size > 1 else torch.zeros_like(i)
    return ((i + 0.5) * (in_size / out_size) - 0.5).clamp_min(0)


def _interpolation_matrix_twin(in_size, out_size, align_corners=False, *, dtype=torch.float32, device=None):
    """Twin of :func:`interpolation_matrix`: ``F.interpolate`` (linear) applied to the identity's rows."""
    _check_interpolation(in_size, out_size, align_corners, dtype, device)
    basis = torch.eye(in_size, dtype=dtype, device=torch.device(device or "cpu"))[None]  # [1, in, in]: in signals
    return F.interpolate(basis, size=out_size, mode="linear", align_corners=align_corners)[0].T  # [out, in]


def _check_interpolation(in_size, out_size, align_corners, dtype, device) -> None:
    check_positive_int(in_size, "in_size")
    check_positive_int(out_size, "out_size")
    check_numel(in_size * out_size, "out_size", (out_size, in_size))
    check_bool(align_corners, "align_corners")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")
    if device is not None:
        check_device(device, "device")


@reference_of("04_segmentation/bilinear", twin=_interpolation_matrix_twin)
def interpolation_matrix(in_size: int, out_size: int, align_corners: bool = False, *,
                         dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> Tensor:
    """1-D linear interpolation as a matrix ``A``: ``Tensor[out_size, in_size]``, rows summing to 1.

    Bilinear upsampling of an image ``X[H, W]`` is ``A_h @ X @ A_w.T``: interpolate the
    columns, then the rows (the two 1-D steps commute).

    Examples:
        >>> interpolation_matrix(2, 4)
        tensor([[1.0000, 0.0000],
                [0.7500, 0.2500],
                [0.2500, 0.7500],
                [0.0000, 1.0000]])
    """
    _check_interpolation(in_size, out_size, align_corners, dtype, device)
    src = _source_coords(in_size, out_size, align_corners, dtype, torch.device(device or "cpu"))  # [out]
    lo = src.floor().long().clamp(max=in_size - 1)  # [out] left neighbour
    hi = (lo + 1).clamp(max=in_size - 1)  # [out] right neighbour (the same at the border)
    frac = src - lo.to(dtype)  # [out] weight of the right neighbour
    a = torch.zeros(out_size, in_size, dtype=dtype, device=src.device)
    rows = torch.arange(out_size, device=src.device)
    a.index_put_((rows, lo), 1 - frac, accumulate=True)
    a.index_put_((rows, hi), frac, accumulate=True)  # lo == hi at the border: weights add to 1
    return a


def _check_bilinear(x: Tensor, scale: int, align_corners=False) -> None:
    _check_maps(x)
    check_tensor(x, "x", floating=True)
    _check_scale(x, scale, "scale")
    check_bool(align_corners, "align_corners")


def _bilinear_upsample_twin(x, scale, align_corners=False):
    """Twin of the bilinear references: ``F.interpolate(mode="bilinear")``."""
    _check_bilinear(x, scale, align_corners)
    return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=align_corners)


@reference_of("04_segmentation/bilinear", twin=_bilinear_upsample_twin)
def bilinear_upsample_loop(x: Tensor, scale: int, align_corners: bool = False) -> Tensor:
    """Reference for :func:`bilinear_upsample`: one output pixel at a time.

    Examples:
        >>> bilinear_upsample_loop(torch.tensor([[[[0., 4.]]]]), 2)[0, 0]
        tensor([[0., 1., 3., 4.],
                [0., 1., 3., 4.]])
    """
    _check_bilinear(x, scale, align_corners)
    n, c, h, w = x.shape
    oh, ow = h * scale, w * scale
    ys = _source_coords(h, oh, align_corners, torch.float64, x.device).tolist()
    xs = _source_coords(w, ow, align_corners, torch.float64, x.device).tolist()
    out = x.new_zeros(n, c, oh, ow)
    for i, sy in enumerate(ys):
        y0 = min(int(sy), h - 1)
        y1, dy = min(y0 + 1, h - 1), sy - y0
        for j, sx in enumerate(xs):
            x0 = min(int(sx), w - 1)
            x1, dx = min(x0 + 1, w - 1), sx - x0
            top = (1 - dx) * x[:, :, y0, x0] + dx * x[:, :, y0, x1]
            bottom = (1 - dx) * x[:, :, y1, x0] + dx * x[:, :, y1, x1]
            out[:, :, i, j] = (1 - dy) * top + dy * bottom
    return out


@reference_of("04_segmentation/bilinear", twin=_bilinear_upsample_twin)
def bilinear_upsample(x: Tensor, scale: int, align_corners: bool = False) -> Tensor:
    """Bilinear upsampling by an integer factor, as two small matrix products.

    Same as ``F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=...)``.

    Args:
        x: floating ``Tensor[N, C, H, W]``.
        scale: integer factor ``s >= 1``.
        align_corners: see :func:`interpolation_matrix`.

    Returns:
        ``Tensor[N, C, s * H, s * W]``.

    Examples:
        >>> bilinear_upsample(torch.tensor([[[[0., 4.]]]]), 2, align_corners=True)[0, 0]
        tensor([[0.0000, 1.3333, 2.6667, 4.0000],
                [0.0000, 1.3333, 2.6667, 4.0000]])
    """
    _check_bilinear(x, scale, align_corners)
    h, w = x.shape[-2:]
    a_h = interpolation_matrix(h, h * scale, align_corners, dtype=x.dtype, device=x.device)  # [sH, H]
    a_w = interpolation_matrix(w, w * scale, align_corners, dtype=x.dtype, device=x.device)  # [sW, W]
    return a_h @ x @ a_w.T  # [sH, H] @ [N, C, H, W] @ [W, sW] -> [N, C, sH, sW]


# --------------------------------------------------------------------------- transposed convolution


def _conv_transpose_output_size_twin(in_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Twin of :func:`conv_transpose_output_size`: PyTorch's answer, from ``conv_transpose1d`` on meta tensors."""
    check_positive_int(in_size, "in_size")
    check_positive_int(kernel_size, "kernel_size")
    check_positive_int(stride, "stride")
    check_nonnegative_int(padding, "padding")
    check_nonnegative_int(output_padding, "output_padding")
    check_positive_int(dilation, "dilation")
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding ({output_padding}) must be smaller than stride ({stride}) "
                         f"or dilation ({dilation})")
    full = F.conv_transpose1d(torch.empty(1, 1, in_size, device="meta"), torch.empty(1, 1, kernel_size, device="meta"),
                              stride=stride, output_padding=output_padding, dilation=dilation).shape[-1]
    out = full - 2 * padding  # the padding is cropped from both ends
    if out < 1:
        raise ValueError(f"padding {padding} crops everything: the output size would be {out}")
    return out


@reference_of("04_segmentation/transpose_size", twin=_conv_transpose_output_size_twin)
def conv_transpose_output_size(in_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output size of a transposed convolution along one axis.

    ``(in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``:
    the input pixels are ``stride`` apart in the output, the last one stamps a (dilated)
    kernel, ``padding`` is cropped from both ends and ``output_padding`` adds rows at the
    end only. A strided convolution maps several input sizes to the same output size;
    ``output_padding`` (``< max(stride, dilation)``) picks which one the transpose returns.

    Raises:
        ValueError: if ``output_padding >= max(stride, dilation)`` or the size is < 1.

    Examples:
        >>> conv_transpose_output_size(2, 3, stride=2)       # the lecture's 2x2 -> 5x5
        5
        >>> conv_transpose_output_size(2, 3, stride=2, padding=1, output_padding=1)
        4
    """
    check_positive_int(in_size, "in_size")
    check_positive_int(kernel_size, "kernel_size")
    check_positive_int(stride, "stride")
    check_nonnegative_int(padding, "padding")
    check_nonnegative_int(output_padding, "output_padding")
    check_positive_int(dilation, "dilation")
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding ({output_padding}) must be smaller than stride ({stride}) "
                         f"or dilation ({dilation})")
    out = (in_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"padding {padding} crops everything: the output size would be {out}")
    return out


def _check_conv_transpose(x: Tensor, weight: Tensor, bias: Tensor | None, stride, padding,
                          output_padding) -> tuple[int, int, int, int, int, int]:
    _check_maps(x)
    check_tensor(x, "x", floating=True)
    check_tensor(weight, "weight", ndim=4, floating=True)
    if weight.shape[0] != x.shape[1]:
        raise ValueError(f"weight must be [C_in={x.shape[1]}, C_out, kh, kw] (input channels first), "
                         f"got {list(weight.shape)}")
    if bias is not None:
        check_tensor(bias, "bias", shape=(weight.shape[1],))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dtype != x.dtype or t.device != x.device):
            raise TypeError(f"{name} must have the dtype and device of x ({x.dtype}, {x.device}), got {t.dtype}, {t.device}")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    oph, opw = _pair(output_padding, "output_padding")
    kh, kw = weight.shape[-2:]
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"x must have a non-empty height and width, got shape {list(x.shape)}")
    # Validates every value and gives the output size (raises for bad output_padding).
    oh = conv_transpose_output_size(x.shape[2], kh, sh, ph, oph)
    ow = conv_transpose_output_size(x.shape[3], kw, sw, pw, opw)
    full = x.shape[0] * weight.shape[1] * (oh + 2 * ph) * (ow + 2 * pw)  # before cropping
    check_numel(full, "stride", (x.shape[0], weight.shape[1], oh + 2 * ph, ow + 2 * pw))
    return sh, sw, ph, pw, oph, opw


def _conv_transpose2d_twin(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Twin of the transposed-convolution references: ``F.conv_transpose2d`` after the same checks."""
    sh, sw, ph, pw, oph, opw = _check_conv_transpose(x, weight, bias, stride, padding, output_padding)
    return F.conv_transpose2d(x, weight, bias, stride=(sh, sw), padding=(ph, pw), output_padding=(oph, opw))


@reference_of("04_segmentation/transpose_loops", twin=_conv_transpose2d_twin)
def conv_transpose2d_loop(x: Tensor, weight: Tensor, bias: Tensor | None = None,
                          stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                          output_padding: int | tuple[int, int] = 0) -> Tensor:
    """Reference for :func:`conv_transpose2d`: every input pixel stamps the filter. Slow.

    Input pixel ``(i, j)`` adds ``x[i, j] * weight`` to the full output at rows
    ``i*s .. i*s + kh - 1``; overlapping stamps add. ``padding`` rows are then cropped.

    Examples:
        >>> x = torch.tensor([[[[10., 20.], [30., 40.]]]])
        >>> w = torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]).reshape(1, 1, 3, 3)
        >>> conv_transpose2d_loop(x, w, stride=2)[0, 0, :2]
        tensor([[10., 20., 30., 40., 20.],
                [20., 40., 60., 80., 40.]])
    """
    sh, sw, ph, pw, oph, opw = _check_conv_transpose(x, weight, bias, stride, padding, output_padding)
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    full = x.new_zeros(n, c_out, (h - 1) * sh + kh + oph, (w - 1) * sw + kw + opw)  # before cropping
    for i in range(h):
        for j in range(w):
            for ci in range(c_in):
                # [N, 1, 1, 1] * [C_out, kh, kw] -> [N, C_out, kh, kw]: one stamp per image
                full[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += x[:, ci, i, j, None, None, None] * weight[ci]
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    if bias is not None:
        out = out + bias[:, None, None]  # [C_out, 1, 1] broadcasts over N, H, W
    return out


@reference_of("04_segmentation/transpose_loops", twin=_conv_transpose2d_twin)
def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                     output_padding: int | tuple[int, int] = 0) -> Tensor:
    """Transposed convolution, vectorized: one matrix product and one ``fold`` (col2im).

    A convolution is ``im2col`` then a matrix product; its transpose is the transposed
    matrix product then ``col2im`` (``F.fold``), which *sums* the columns back into
    overlapping windows. Same as ``F.conv_transpose2d`` with ``groups=1, dilation=1``.

    Args:
        x: ``Tensor[N, C_in, H, W]``.
        weight: ``Tensor[C_in, C_out, kh, kw]`` (PyTorch's ``ConvTranspose2d.weight`` layout).
        bias: ``Tensor[C_out]`` or None.
        stride, padding, output_padding: ints or ``(h, w)`` pairs, as in PyTorch.

    Returns:
        ``Tensor[N, C_out, H_out, W_out]`` with sizes from :func:`conv_transpose_output_size`.

    Examples:
        >>> x, w = torch.randn(2, 3, 4, 5), torch.randn(3, 6, 3, 3)
        >>> conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape
        torch.Size([2, 6, 8, 10])
    """
    sh, sw, ph, pw, oph, opw = _check_conv_transpose(x, weight, bias, stride, padding, output_padding)
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    full_h, full_w = (h - 1) * sh + kh + oph, (w - 1) * sw + kw + opw
    cols = weight.reshape(c_in, c_out * kh * kw).T @ x.reshape(n, c_in, h * w)  # [C_out*kh*kw, C_in] @ [N, C_in, H*W]
    full = F.fold(cols, (full_h, full_w), (kh, kw), stride=(sh, sw))  # [N, C_out, full_h, full_w]: overlaps add
    out = full[:, :, ph:full_h - ph, pw:full_w - pw]
    if bias is not None:
        out = out + bias[:, None, None]
    return out


def _conv_matrix_twin(weight, in_size, stride=1, padding=0):
    """Twin of :func:`conv_matrix`: column ``k`` is ``F.conv2d`` of the k-th one-hot image."""
    h, w = _check_conv_matrix(weight, in_size, stride, padding)
    kernel = weight.reshape(1, 1, -1, weight.shape[-1])  # [1, 1, kh, kw]
    pad = (0, padding) if weight.ndim == 1 else (padding, padding)
    dtype = weight.dtype if weight.is_floating_point() else torch.float64
    one_hot = torch.eye(h * w, dtype=dtype, device=weight.device).reshape(h * w, 1, h, w)  # every input pixel alone
    columns = F.conv2d(one_hot, kernel.to(dtype), stride=stride, padding=pad)  # [h*w, 1, oh, ow]
    return columns.reshape(h * w, -1).T.to(weight.dtype).contiguous()  # [oh*ow, h*w]


def _check_conv_matrix(weight, in_size, stride, padding) -> tuple[int, int]:
    check_tensor(weight, "weight")
    if weight.ndim not in (1, 2):
        raise ValueError(f"weight must be a 1-D [k] or 2-D [kh, kw] kernel, got shape {list(weight.shape)}")
    if weight.dtype == torch.bool or weight.is_complex():
        raise TypeError(f"weight must hold real numbers, got dtype {str(weight.dtype).replace('torch.', '')}")
    if weight.numel() == 0:
        raise ValueError(f"weight must not be empty, got shape {list(weight.shape)}")
    check_positive_int(stride, "stride")
    check_nonnegative_int(padding, "padding")
    h, w = (1, in_size) if weight.ndim == 1 else _pair(in_size, "in_size")
    check_positive_int(h, "in_size")
    check_positive_int(w, "in_size")
    kh, kw = (1, weight.shape[0]) if weight.ndim == 1 else weight.shape
    pad_h = 0 if weight.ndim == 1 else padding
    oh, ow = (h + 2 * pad_h - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"weight {list(weight.shape)} does not fit in in_size {in_size} with padding {padding}")
    check_numel(h * w * h * w, "in_size", (h * w, h * w))  # at most one row per input pixel
    return h, w


@reference_of("04_segmentation/transpose_loops", twin=_conv_matrix_twin)
def conv_matrix(weight: Tensor, in_size: int | tuple[int, int], stride: int = 1, padding: int = 0) -> Tensor:
    """The matrix ``C`` of a single-channel convolution (cross-correlation, as in PyTorch).

    For a 1-D kernel ``Tensor[k]`` and input length ``L``, ``conv1d(x, w) = C @ x``; for a
    2-D kernel ``Tensor[kh, kw]`` and an ``(H, W)`` input, ``conv2d(x, w).flatten() =
    C @ x.flatten()`` (row-major flattening). Then ``C.T @ y`` is the transposed
    convolution of ``y`` with the same kernel, stride and padding (see
    :func:`conv_transpose_matrix`), and ``<C x, y> = <x, C.T y>``: it is the adjoint.

    Args:
        weight: ``Tensor[k]`` or ``Tensor[kh, kw]``.
        in_size: ``L`` or ``(H, W)``.
        stride, padding: of the convolution (zero padding, the same on both sides).

    Returns:
        ``Tensor[out_elements, in_elements]`` with the dtype and device of ``weight``.

    Examples:
        >>> conv_matrix(torch.tensor([1., 2., 3.]), 4)
        tensor([[1., 2., 3., 0.],
                [0., 1., 2., 3.]])
    """
    h, w = _check_conv_matrix(weight, in_size, stride, padding)
    w2 = weight[None] if weight.ndim == 1 else weight  # [kh, kw]: a 1-D kernel is a 1-row 2-D one
    kh, kw = w2.shape
    pad_h = 0 if weight.ndim == 1 else padding  # a 1-D convolution pads along its one axis only
    oh, ow = (h + 2 * pad_h - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    c = weight.new_zeros(oh * ow, h * w)
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    r, s = i * stride - pad_h + u, j * stride - padding + v  # input pixel under tap (u, v)
                    if 0 <= r < h and 0 <= s < w:  # taps on the zero padding contribute nothing
                        c[i * ow + j, r * w + s] += w2[u, v]
    return c


@not_an_answer("04_segmentation/transpose_loops", why="the transpose of conv_matrix, which is withheld")
def conv_transpose_matrix(weight: Tensor, in_size: int | tuple[int, int], stride: int = 1,
                          padding: int = 0) -> Tensor:
    """``C.T`` for :func:`conv_matrix`: the transposed convolution as a matrix.

    ``in_size`` is the size of the *convolution's* input, i.e. the transposed
    convolution's output. ``C.T @ y`` equals ``conv_transpose1d/2d(y, w, stride, padding,
    output_padding)`` with the ``output_padding`` that gives back ``in_size``.

    Examples:
        >>> conv_transpose_matrix(torch.tensor([1., 2., 3.]), 4) @ torch.tensor([1., 10.])
        tensor([ 1., 12., 23., 30.])
    """
    return conv_matrix(weight, in_size, stride, padding).T
