"""Convolution and pooling, written to be read: the reference ops of chapter 02.

Tensors follow PyTorch's layout: images ``Tensor[N, C_in, H, W]``, filters
``Tensor[C_out, C_in, kH, kW]``, biases ``Tensor[C_out]``. Like PyTorch (and every deep
learning library), "convolution" here is cross-correlation: the filter is not flipped.

Each op comes twice: a loop version that mirrors the equation

    out[n, o, i, j] = b[o] + sum_{c, u, v} x_pad[n, c, i*s + u*d, j*s + v*d] * w[o, c, u, v]

and a vectorized version (im2col + one matrix multiply, or ``unfold``). Both are tested
against ``torch.nn.functional``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_utils.checks import (
    check_bool,
    check_in,
    check_nonnegative_int,
    check_numel,
    check_positive_int,
    check_tensor,
)
from course_utils.references import reference_of

__all__ = [
    "conv_output_size", "pad2d", "conv2d_loop", "im2col", "conv2d_im2col",
    "max_pool2d_loop", "max_pool2d", "avg_pool2d_loop", "receptive_field", "activation_bytes",
]

PAD_MODES = ("zeros", "reflect", "circular", "replicate")


def _pair(value, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """``value`` or ``(value, value)`` as two checked ints (>= 1, or >= 0 with ``minimum=0``)."""
    check = check_positive_int if minimum == 1 else check_nonnegative_int
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return check(value[0], name), check(value[1], name)
    value = check(value, name)
    return value, value


def _check_window(x: torch.Tensor, kh: int, kw: int, stride, padding, kernel: str) -> None:
    """A window of ``kh x kw`` (the ``kernel`` argument) slid over ``x`` with ``stride`` and ``padding``."""
    check_positive_int(stride, "stride")
    check_nonnegative_int(padding, "padding")
    h, w = x.shape[-2:]
    if h == 0 or w == 0:
        raise ValueError(f"x must have a non-empty height and width, got shape {list(x.shape)}")
    if kh > h + 2 * padding or kw > w + 2 * padding:
        raise ValueError(f"{kernel} window {kh}x{kw} does not fit in x of height x width {h}x{w} "
                         f"padded by {padding} (x shape {list(x.shape)})")


def _check_pool(x, kernel_size, stride) -> int:
    """The inputs of the pooling ops; returns the stride (``kernel_size`` when None)."""
    check_tensor(x, "x", ndim=4)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"x must hold real numbers, got dtype {str(x.dtype).replace('torch.', '')}")
    check_positive_int(kernel_size, "kernel_size")
    stride = kernel_size if stride is None else stride
    _check_window(x, kernel_size, kernel_size, stride, 0, "kernel_size")
    return stride


def _conv_output_size_twin(in_size, kernel_size, stride=1, padding=0, dilation=1, *, exact=True):
    """Twin of :func:`conv_output_size`: PyTorch's answer, the length of a ``conv2d`` output on a meta tensor."""
    for value, name in ((in_size, "in_size"), (kernel_size, "kernel_size"), (stride, "stride"),
                        (dilation, "dilation")):
        check_positive_int(value, name)
    check_nonnegative_int(padding, "padding")
    check_bool(exact, "exact")
    span = dilation * (kernel_size - 1) + 1
    if span > in_size + 2 * padding:
        raise ValueError(f"kernel spans {span} pixels but the padded input is only {in_size + 2 * padding} "
                         f"(in_size={in_size}, padding={padding})")
    row = torch.empty(1, 1, 1, in_size, device="meta")  # meta: shapes only, no memory, no arithmetic
    out = F.conv2d(row, torch.empty(1, 1, 1, kernel_size, device="meta"), stride=stride, padding=(0, padding),
                   dilation=dilation).shape[-1]
    uncovered = in_size + 2 * padding - ((out - 1) * stride + span)
    if exact and uncovered:
        raise ValueError(f"stride {stride} does not fit: (in_size + 2*padding - span) = {in_size + 2 * padding - span} "
                         f"is not divisible by {stride} (remainder {uncovered}); "
                         f"the last {uncovered} pixel(s) would never be covered")
    return out


@reference_of("02_cnns/conv_output_size", twin=_conv_output_size_twin)
def conv_output_size(in_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1, *, exact: bool = True) -> int:
    """Output length of a convolution (or pooling) along one dimension.

    ``out = (in + 2*padding - dilation*(kernel - 1) - 1) // stride + 1``; with
    ``dilation = 1`` this is the lectures' ``(N - F + 2P) / S + 1``.

    Args:
        exact: if True (default) a configuration where the filter does not tile the
            padded input exactly (the division has a remainder) is rejected, as the
            lectures do; if False the remainder is dropped, as PyTorch does.

    Raises:
        ValueError: the filter is larger than the padded input, or (with ``exact``) the
            stride does not tile it. The message gives the numbers.

    Examples:
        >>> conv_output_size(32, 5)
        28
        >>> conv_output_size(227, 11, stride=4)
        55
        >>> conv_output_size(224, 11, stride=4, exact=False)
        54
    """
    for value, name in ((in_size, "in_size"), (kernel_size, "kernel_size"), (stride, "stride"),
                        (dilation, "dilation")):
        check_positive_int(value, name)
    check_nonnegative_int(padding, "padding")
    check_bool(exact, "exact")
    span = dilation * (kernel_size - 1) + 1  # how many input pixels one filter covers
    padded = in_size + 2 * padding
    if span > padded:
        raise ValueError(f"kernel spans {span} pixels but the padded input is only {padded} "
                         f"(in_size={in_size}, padding={padding})")
    steps, remainder = divmod(padded - span, stride)
    if exact and remainder:
        raise ValueError(f"stride {stride} does not fit: (in_size + 2*padding - span) = {padded - span} "
                         f"is not divisible by {stride} (remainder {remainder}); "
                         f"the last {remainder} pixel(s) would never be covered")
    return steps + 1


def pad2d(x: torch.Tensor, padding: int | tuple[int, int], mode: str = "zeros") -> torch.Tensor:
    """Pad the last two dimensions of ``Tensor[..., H, W]`` by ``padding`` on each side.

    Modes: ``zeros``, ``reflect`` (mirror without repeating the edge, so ``padding < H, W``),
    ``circular`` (wrap around, ``padding <= H, W``) and ``replicate`` (repeat the edge).

    Args:
        x: ``Tensor[..., H, W]`` (any dtype; at least 2 dimensions).
        padding: a non-negative int, or ``(ph, pw)`` for the height and the width.
        mode: one of ``"zeros"``, ``"reflect"``, ``"circular"``, ``"replicate"``.

    Returns:
        ``Tensor[..., H + 2 ph, W + 2 pw]`` of the dtype of ``x`` (``x`` itself for zero padding).

    Examples:
        >>> pad2d(torch.tensor([[1, 2], [3, 4]]), (0, 1), mode="replicate")
        tensor([[1, 1, 2, 2],
                [3, 3, 4, 4]])
    """
    ph, pw = _check_pad(x, padding, mode)
    if ph == 0 and pw == 0:
        return x
    if mode == "zeros":
        return F.pad(x, (pw, pw, ph, ph), mode="constant")
    # The other modes want [N, C, H, W]: every leading dimension goes into N.
    flat = x.reshape(-1, 1, *x.shape[-2:])  # [prod(...), 1, H, W]
    if x.dtype == torch.bool:  # reflect and replicate have no bool kernel
        flat = flat.to(torch.uint8)
    out = F.pad(flat, (pw, pw, ph, ph), mode=mode).to(x.dtype)  # [prod(...), 1, H + 2ph, W + 2pw]
    return out.reshape(*x.shape[:-2], *out.shape[-2:])


def _check_pad(x, padding, mode) -> tuple[int, int]:
    check_tensor(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions [..., H, W], got shape {list(x.shape)}")
    ph, pw = _pair(padding, "padding", minimum=0)
    check_in(mode, "mode", PAD_MODES)
    h, w = x.shape[-2:]
    lead = math.prod(x.shape[:-2])
    check_numel(lead * (h + 2 * ph) * (w + 2 * pw), "padding", (*x.shape[:-2], h + 2 * ph, w + 2 * pw))
    if mode == "reflect" and (ph >= h and ph > 0 or pw >= w and pw > 0):
        raise ValueError(f"padding must be smaller than the height and width of x for mode 'reflect', "
                         f"got padding {(ph, pw)} for x of shape {list(x.shape)}")
    if mode == "circular" and (ph > h or pw > w):
        raise ValueError(f"padding must be at most the height and width of x for mode 'circular', "
                         f"got padding {(ph, pw)} for x of shape {list(x.shape)}")
    if mode == "replicate" and (ph > 0 and h == 0 or pw > 0 and w == 0):
        raise ValueError(f"x must have a non-empty height and width for mode 'replicate', got shape {list(x.shape)}")
    return ph, pw


def _check_conv_inputs(x, weight, bias, stride=1, padding=0):
    check_tensor(x, "x", ndim=4, floating=True)
    check_tensor(weight, "weight", ndim=4, floating=True)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight expects {weight.shape[1]} input channels (weight shape {list(weight.shape)}) "
                         f"but x has {x.shape[1]} (x shape {list(x.shape)})")
    if bias is not None:
        check_tensor(bias, "bias", shape=(weight.shape[0],))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dtype != x.dtype or t.device != x.device):
            raise TypeError(f"{name} must have the dtype and device of x ({x.dtype}, {x.device}), got {t.dtype}, {t.device}")
    _check_window(x, weight.shape[2], weight.shape[3], stride, padding, "weight")


def _conv2d_twin(x, weight, bias=None, stride=1, padding=0):
    """Twin of :func:`conv2d_loop` and :func:`conv2d_im2col`: ``F.conv2d`` after the same checks."""
    _check_conv_inputs(x, weight, bias, stride, padding)
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)


@reference_of("02_cnns/conv2d_loops", twin=_conv2d_twin)
def conv2d_loop(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                stride: int = 1, padding: int = 0) -> torch.Tensor:
    """2D convolution (cross-correlation) with explicit loops, for teaching.

    Args:
        x: ``Tensor[N, C_in, H, W]``.
        weight: ``Tensor[C_out, C_in, kH, kW]``.
        bias: ``Tensor[C_out]`` or None.

    Returns:
        ``Tensor[N, C_out, H_out, W_out]`` with ``H_out = (H + 2p - kH) // s + 1``.

    Examples:
        >>> x = torch.arange(16.).reshape(1, 1, 4, 4)
        >>> conv2d_loop(x, torch.ones(1, 1, 2, 2), stride=2).squeeze().tolist()
        [[10.0, 18.0], [42.0, 50.0]]
    """
    _check_conv_inputs(x, weight, bias, stride, padding)
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = conv_output_size(h, kh, stride, padding, exact=False)
    w_out = conv_output_size(w, kw, stride, padding, exact=False)
    xp = pad2d(x, padding)
    out = x.new_zeros(n, c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]  # [N, C_in, kH, kW]
            for o in range(c_out):
                out[:, o, i, j] = (patch * weight[o]).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.view(1, c_out, 1, 1)
    return out


def _im2col_twin(x, kernel_size, stride=1, padding=0):
    """Twin of :func:`im2col`: ``F.unfold`` (computed in float64 for integer tensors, exact up to 2**53)."""
    kh, kw = _check_im2col(x, kernel_size, stride, padding)
    if not x.is_floating_point():
        return F.unfold(x.double(), (kh, kw), stride=stride, padding=padding).to(x.dtype)
    return F.unfold(x, (kh, kw), stride=stride, padding=padding)


def _check_im2col(x, kernel_size, stride, padding) -> tuple[int, int]:
    check_tensor(x, "x", ndim=4)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"x must hold real numbers, got dtype {str(x.dtype).replace('torch.', '')}")
    kh, kw = _pair(kernel_size, "kernel_size")
    _check_window(x, kh, kw, stride, padding, "kernel_size")
    return kh, kw


@reference_of("02_cnns/im2col", twin=_im2col_twin)
def im2col(x: torch.Tensor, kernel_size: int | tuple[int, int], stride: int = 1,
           padding: int = 0) -> torch.Tensor:
    """Unroll every receptive field of ``x`` into a column.

    Args:
        x: ``Tensor[N, C, H, W]``.

    Returns:
        ``Tensor[N, C*kH*kW, L]`` where ``L = H_out*W_out`` windows in row-major order;
        the rows are ordered (channel, kernel row, kernel column), matching
        ``weight.reshape(C_out, -1)``. Equal to ``torch.nn.functional.unfold``.
    """
    kh, kw = _check_im2col(x, kernel_size, stride, padding)
    n, c, h, w = x.shape
    h_out = conv_output_size(h, kh, stride, padding, exact=False)
    w_out = conv_output_size(w, kw, stride, padding, exact=False)
    xp = pad2d(x, padding)
    # Gather with strides instead of loops: windows[n, c, i, j, u, v] = xp[n, c, i*s+u, j*s+v].
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)  # [N, C, H_out, W_out, kH, kW]
    cols = windows.permute(0, 1, 4, 5, 2, 3)                   # [N, C, kH, kW, H_out, W_out]
    return cols.reshape(n, c * kh * kw, h_out * w_out)         # [N, C*kH*kW, L]


@reference_of("02_cnns/conv2d_im2col", twin=_conv2d_twin)
def conv2d_im2col(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                  stride: int = 1, padding: int = 0) -> torch.Tensor:
    """2D convolution as one matrix multiply: ``W[C_out, C_in*kH*kW] @ cols[N, C_in*kH*kW, L]``.

    Same arguments and result as :func:`conv2d_loop`.
    """
    _check_conv_inputs(x, weight, bias, stride, padding)
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = conv_output_size(h, kh, stride, padding, exact=False)
    w_out = conv_output_size(w, kw, stride, padding, exact=False)
    cols = im2col(x, (kh, kw), stride, padding)              # [N, C_in*kH*kW, L]
    out = weight.reshape(c_out, -1) @ cols                   # [N, C_out, L]
    if bias is not None:
        out = out + bias.view(1, c_out, 1)
    return out.reshape(n, c_out, h_out, w_out)


def _max_pool2d_twin(x, kernel_size, stride=None):
    """Twin of :func:`max_pool2d_loop` and :func:`max_pool2d`: ``F.max_pool2d`` (integers go through float64)."""
    stride = _check_pool(x, kernel_size, stride)
    if x.shape[0] * x.shape[1] == 0:  # F.max_pool2d wants channels: an empty result of the right shape
        return x.new_empty(*x.shape[:2], (x.shape[2] - kernel_size) // stride + 1, (x.shape[3] - kernel_size) // stride + 1)
    if not x.is_floating_point():
        return F.max_pool2d(x.double(), kernel_size, stride=stride).to(x.dtype)
    return F.max_pool2d(x, kernel_size, stride=stride)


@reference_of("02_cnns/max_pool2d_forward", twin=_max_pool2d_twin)
def max_pool2d_loop(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Max pooling with loops. ``x``: ``Tensor[N, C, H, W]`` -> ``Tensor[N, C, H_out, W_out]``.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.

    Examples:
        >>> x = torch.tensor([[1., 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
        >>> max_pool2d_loop(x.view(1, 1, 4, 4), 2).squeeze().tolist()
        [[6.0, 8.0], [3.0, 4.0]]
    """
    stride = _check_pool(x, kernel_size, stride)
    n, c, h, w = x.shape
    h_out = conv_output_size(h, kernel_size, stride, exact=False)
    w_out = conv_output_size(w, kernel_size, stride, exact=False)
    out = x.new_empty(n, c, h_out, w_out)
    if n * c == 0:  # nothing to pool (amax has no value to start from)
        return out
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            out[:, :, i, j] = window.amax(dim=(2, 3))
    return out


@reference_of("02_cnns/max_pool2d_forward", twin=_max_pool2d_twin)
def max_pool2d(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Vectorized max pooling through ``unfold``; same contract as :func:`max_pool2d_loop`."""
    stride = _check_pool(x, kernel_size, stride)
    windows = x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)  # [N, C, H_out, W_out, k, k]
    return windows.amax(dim=(-2, -1))


def _avg_pool2d_twin(x, kernel_size, stride=None):
    """Twin of :func:`avg_pool2d_loop`: ``F.avg_pool2d``."""
    check_tensor(x, "x", ndim=4, floating=True)
    stride = _check_pool(x, kernel_size, stride)
    return F.avg_pool2d(x, kernel_size, stride=stride)


# Withheld with max pooling: it is the max-pooling loop with one word changed.
@reference_of("02_cnns/max_pool2d_forward", twin=_avg_pool2d_twin)
def avg_pool2d_loop(x: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Average pooling with loops; same contract as :func:`max_pool2d_loop`."""
    check_tensor(x, "x", ndim=4, floating=True)
    stride = _check_pool(x, kernel_size, stride)
    n, c, h, w = x.shape
    h_out = conv_output_size(h, kernel_size, stride, exact=False)
    w_out = conv_output_size(w, kernel_size, stride, exact=False)
    out = x.new_empty(n, c, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + kernel_size,
                                j * stride:j * stride + kernel_size].mean(dim=(2, 3))
    return out


def _receptive_field_twin(layers):
    """Twin of :func:`receptive_field`: grow one output pixel back through the stack with meta ``conv_transpose1d``."""
    _check_layers(layers)
    span = torch.empty(1, 1, 1, device="meta")  # the input pixels one output pixel depends on
    for k, s in reversed(layers):
        span = F.conv_transpose1d(span, torch.empty(1, 1, k, device="meta"), stride=s)
    return span.shape[-1]


def _check_layers(layers) -> None:
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of (kernel_size, stride) pairs, got {type(layers).__name__}")
    for i, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise ValueError(f"layers[{i}] must be a pair (kernel_size, stride), got {layer!r}")
        check_positive_int(layer[0], f"layers[{i}] kernel_size")
        check_positive_int(layer[1], f"layers[{i}] stride")


@reference_of("03_architectures/receptive_field", twin=_receptive_field_twin)
def receptive_field(layers: list[tuple[int, int]]) -> int:
    """Receptive field (in input pixels) of a stack of ``(kernel_size, stride)`` layers.

    Each layer adds ``(k - 1) * jump`` pixels, where ``jump`` is the product of the
    strides before it: ``r = 1 + sum_l (k_l - 1) * prod_{m<l} s_m``.

    Examples:
        >>> receptive_field([(3, 1)] * 3)     # three 3x3 convs see as far as one 7x7
        7
        >>> receptive_field([(3, 1), (2, 2), (3, 1)])
        8
    """
    _check_layers(layers)
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r


def _activation_bytes_twin(channels, height, width, *, batch=1, layers=1, bytes_per_value=4):
    """Twin of :func:`activation_bytes`: the element count of a meta tensor of that shape."""
    for v, n in ((channels, "channels"), (height, "height"), (width, "width"), (batch, "batch"),
                 (layers, "layers"), (bytes_per_value, "bytes_per_value")):
        check_positive_int(v, n)
    return torch.empty(batch, layers, channels, height, width, device="meta").numel() * bytes_per_value


@reference_of("04_segmentation/naive_costs", twin=_activation_bytes_twin)
def activation_bytes(channels: int, height: int, width: int, *, batch: int = 1, layers: int = 1,
                     bytes_per_value: int = 4) -> int:
    """Memory of the activations ``batch x layers x channels x height x width`` in bytes.

    Examples:
        >>> activation_bytes(200, 400, 400)   # one float32 feature map
        128000000
    """
    for v, n in ((channels, "channels"), (height, "height"), (width, "width"), (batch, "batch"),
                 (layers, "layers"), (bytes_per_value, "bytes_per_value")):
        check_positive_int(v, n)
    return batch * layers * channels * height * width * bytes_per_value
