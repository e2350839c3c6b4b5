"""CIE Lab colour space and the quantized ab space of colorization (twin: ``skimage.color``).

Images are ``Tensor[..., 3, H, W]`` (channels third from the end, the course's layout),
RGB in [0, 1], sRGB with the D65 white point, exactly as ``skimage.color.rgb2lab``:

1. undo the sRGB gamma: ``c / 12.92`` if ``c <= 0.04045`` else ``((c + 0.055) / 1.055) ** 2.4``;
2. linear RGB to XYZ with :data:`XYZ_FROM_RGB`, divided by the white point :data:`D65_WHITE`;
3. ``f(t) = t ** (1/3)`` if ``t > 0.008856`` else ``7.787 t + 16/116``;
4. ``L = 116 f(Y) - 16``, ``a = 500 (f(X) - f(Y))``, ``b = 200 (f(Y) - f(Z))``.

``L`` runs from 0 (black) to 100 (white); ``a`` (green to red) and ``b`` (blue to yellow)
are 0 for greys and stay within about +-110 for colours that sRGB can show.

Colorization as classification (Zhang, Isola and Efros 2016) cuts the ab plane into square
bins of side ``grid_size`` over ``[-ab_max, ab_max)^2`` (10 and 110: 22 x 22 = 484 bins),
numbered row by row: bin ``i * n + j`` holds ``a`` in bin ``i`` and ``b`` in bin ``j``. Values
outside the range go to the nearest edge bin.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from course_utils.checks import check_tensor
from course_utils.references import reference_of

__all__ = ["XYZ_FROM_RGB", "D65_WHITE", "rgb_to_lab_pixel", "rgb_to_lab", "lab_to_rgb", "ab_to_bin",
           "bin_centers", "num_bins_per_axis", "rebalancing_weights", "annealed_mean", "AB_GRID", "AB_MAX"]

XYZ_FROM_RGB = ((0.412453, 0.357580, 0.180423),
                (0.212671, 0.715160, 0.072169),
                (0.019334, 0.119193, 0.950227))
D65_WHITE = (0.95047, 1.0, 1.08883)
SRGB_LINEAR_KNEE = 0.04045  # below it sRGB is linear (slope 1/12.92)
LAB_EPSILON = 0.008856  # (6/29)**3: below it f(t) is linear
LAB_KAPPA_SLOPE = 7.787  # (29/6)**2 / 3
AB_GRID = 10.0
AB_MAX = 110.0


def _check_rgb(x: Tensor, name: str) -> None:
    check_tensor(x, name, floating=True)
    if x.ndim < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must have shape [..., 3, H, W], got {list(x.shape)}")


def _f(t: float) -> float:
    return t ** (1.0 / 3.0) if t > LAB_EPSILON else LAB_KAPPA_SLOPE * t + 16.0 / 116.0


def _rgb_to_lab_pixel_twin(r: float, g: float, b: float) -> tuple[float, float, float]:
    """Twin of :func:`rgb_to_lab_pixel`: ``skimage.color.rgb2lab`` on a one-pixel image."""
    from skimage.color import rgb2lab

    L, a, b_ = rgb2lab(np.array([[[r, g, b]]], dtype=np.float64))[0, 0].tolist()
    return L, a, b_


@reference_of("07_self_supervised/rgb_to_lab", twin=_rgb_to_lab_pixel_twin)
def rgb_to_lab_pixel(r: float, g: float, b: float) -> tuple[float, float, float]:
    """One RGB colour (floats in [0, 1]) to (L, a, b), step by step as in the module docstring.

    Examples:
        >>> [round(v, 2) for v in rgb_to_lab_pixel(1.0, 0.0, 0.0)]  # pure red
        [53.24, 80.09, 67.2]
        >>> [round(v, 2) + 0.0 for v in rgb_to_lab_pixel(0.5, 0.5, 0.5)]  # grey: a = b = 0
        [53.39, 0.0, 0.0]
    """
    linear = [c / 12.92 if c <= SRGB_LINEAR_KNEE else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    x, y, z = (sum(m * c for m, c in zip(row, linear)) / w for row, w in zip(XYZ_FROM_RGB, D65_WHITE))
    fx, fy, fz = _f(x), _f(y), _f(z)
    return 116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)


def _rgb_to_lab_twin(rgb: Tensor) -> Tensor:
    """Twin of :func:`rgb_to_lab`: ``skimage.color.rgb2lab`` on a channels-last numpy copy."""
    from skimage.color import rgb2lab

    _check_rgb(rgb, "rgb")
    if rgb.numel() == 0:
        return rgb.clone()
    array = rgb.detach().cpu().movedim(-3, -1).double().numpy()  # [..., H, W, 3]
    lab = torch.from_numpy(np.ascontiguousarray(rgb2lab(array)))
    return lab.movedim(-1, -3).to(dtype=rgb.dtype, device=rgb.device)


@reference_of("07_self_supervised/rgb_to_lab", twin=_rgb_to_lab_twin)
def rgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB (D65) to CIE Lab, vectorized; equal to ``skimage.color.rgb2lab``.

    Args:
        rgb: ``Tensor[..., 3, H, W]`` float, values in [0, 1].

    Returns:
        ``Tensor[..., 3, H, W]`` of the input's dtype and device: channel 0 is L in [0, 100],
        channels 1 and 2 are a and b.

    Examples:
        >>> lab = rgb_to_lab(torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1))
        >>> [round(v, 2) for v in lab.flatten().tolist()]
        [53.24, 80.09, 67.2]
    """
    _check_rgb(rgb, "rgb")
    linear = torch.where(rgb <= SRGB_LINEAR_KNEE, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)  # [..., 3, H, W]
    matrix = torch.tensor(XYZ_FROM_RGB, dtype=rgb.dtype, device=rgb.device)  # [3, 3]
    white = torch.tensor(D65_WHITE, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)  # [3, 1, 1]
    xyz = torch.einsum("ij,...jhw->...ihw", matrix, linear) / white  # [..., 3, H, W]
    f = torch.where(xyz > LAB_EPSILON, xyz.clamp(min=0) ** (1.0 / 3.0), LAB_KAPPA_SLOPE * xyz + 16.0 / 116.0)
    fx, fy, fz = f.unbind(dim=-3)  # each [..., H, W]
    return torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-3)


def lab_to_rgb(lab: Tensor) -> Tensor:
    """CIE Lab to sRGB in [0, 1] (clipped), the inverse of :func:`rgb_to_lab` (as ``skimage.color.lab2rgb``).

    Args:
        lab: ``Tensor[..., 3, H, W]`` float.

    Returns:
        ``Tensor[..., 3, H, W]`` RGB in [0, 1]; colours outside the sRGB gamut are clipped.

    Examples:
        >>> rgb = torch.rand(3, 4, 5, dtype=torch.float64)
        >>> bool(torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb))
        True
    """
    _check_rgb(lab, "lab")
    L, a, b = lab.unbind(dim=-3)  # [..., H, W]
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = (fy - b / 200.0).clamp(min=0)  # skimage sets negative z to 0 (with a warning)
    f = torch.stack([fx, fy, fz], dim=-3)  # [..., 3, H, W]
    knee = 6.0 / 29.0  # f(t) at t = LAB_EPSILON
    white = torch.tensor(D65_WHITE, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    xyz = torch.where(f > knee, f ** 3, (f - 16.0 / 116.0) / LAB_KAPPA_SLOPE) * white
    inverse = torch.linalg.inv(torch.tensor(XYZ_FROM_RGB, dtype=torch.float64)).to(lab.dtype).to(lab.device)
    linear = torch.einsum("ij,...jhw->...ihw", inverse, xyz)
    srgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp(min=0) ** (1 / 2.4) - 0.055, linear * 12.92)
    return srgb.clamp(0.0, 1.0)


def num_bins_per_axis(grid_size: float = AB_GRID, ab_max: float = AB_MAX) -> int:
    """Bins along a or b: ``2 ab_max / grid_size`` (which must be a whole number).

    Examples:
        >>> num_bins_per_axis(10.0, 110.0)
        22
    """
    if not grid_size > 0 or not ab_max > 0:
        raise ValueError(f"grid_size and ab_max must be positive, got {grid_size} and {ab_max}")
    n = 2 * ab_max / grid_size
    if abs(n - round(n)) > 1e-9:
        raise ValueError(f"2 * ab_max / grid_size must be a whole number, got 2 * {ab_max} / {grid_size} = {n}")
    return int(round(n))


def _ab_to_bin_twin(ab: Tensor, grid_size: float = AB_GRID, ab_max: float = AB_MAX) -> Tensor:
    """Twin of :func:`ab_to_bin`: ``torch.bucketize`` against the bin edges."""
    check_tensor(ab, "ab", floating=True)
    if ab.ndim < 3 or ab.shape[-3] != 2:
        raise ValueError(f"ab must have shape [..., 2, H, W], got {list(ab.shape)}")
    n = num_bins_per_axis(grid_size, ab_max)
    inner_edges = torch.tensor([-ab_max + k * grid_size for k in range(1, n)], dtype=ab.dtype, device=ab.device)
    a_bin = torch.bucketize(ab.select(-3, 0).contiguous(), inner_edges, right=True)
    b_bin = torch.bucketize(ab.select(-3, 1).contiguous(), inner_edges, right=True)
    return a_bin * n + b_bin


@reference_of("07_self_supervised/ab_to_bin", twin=_ab_to_bin_twin)
def ab_to_bin(ab: Tensor, grid_size: float = AB_GRID, ab_max: float = AB_MAX) -> Tensor:
    """Index of the ab bin of every pixel.

    Args:
        ab: ``Tensor[..., 2, H, W]`` float, channel 0 is a and channel 1 is b.
        grid_size: side of a square bin in ab units.
        ab_max: the bins cover ``[-ab_max, ab_max)`` on both axes; ``2 ab_max / grid_size``
            must be a whole number ``n``.

    Returns:
        ``Tensor[..., H, W]`` int64 in ``[0, n * n)``: ``i * n + j`` with
        ``i = floor((a + ab_max) / grid_size)`` and ``j`` the same for b, both clamped to
        ``[0, n - 1]``. A value on a bin edge belongs to the bin above it.

    Examples:
        >>> ab_to_bin(torch.tensor([0.0, 0.0]).view(2, 1, 1)).item()  # 11 * 22 + 11
        253
        >>> ab_to_bin(torch.tensor([-200.0, 109.9]).view(2, 1, 1)).item()  # clamped to bin 0 along a
        21
    """
    check_tensor(ab, "ab", floating=True)
    if ab.ndim < 3 or ab.shape[-3] != 2:
        raise ValueError(f"ab must have shape [..., 2, H, W], got {list(ab.shape)}")
    n = num_bins_per_axis(grid_size, ab_max)
    index = torch.floor((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [..., 2, H, W]
    return index.select(-3, 0) * n + index.select(-3, 1)  # [..., H, W]


def bin_centers(grid_size: float = AB_GRID, ab_max: float = AB_MAX, dtype: torch.dtype = torch.float32) -> Tensor:
    """``Tensor[n * n, 2]``: the (a, b) centre of every bin, in the numbering of :func:`ab_to_bin`.

    Examples:
        >>> centers = bin_centers()
        >>> centers.shape, centers[0].tolist(), centers[253].tolist()
        (torch.Size([484, 2]), [-105.0, -105.0], [5.0, 5.0])
    """
    n = num_bins_per_axis(grid_size, ab_max)
    axis = -ab_max + grid_size * (torch.arange(n, dtype=dtype) + 0.5)  # [n]
    a, b = torch.meshgrid(axis, axis, indexing="ij")  # [n, n]: row i is a bin i
    return torch.stack([a.flatten(), b.flatten()], dim=1)  # [n * n, 2]


def rebalancing_weights(counts: Tensor, centers: Tensor, *, mix: float = 0.5, sigma: float = 5.0) -> Tensor:
    """Class-rebalancing weights of Zhang et al. (2016, eq. 4), one per bin.

    The empirical bin distribution ``p`` (``counts`` normalized) is smoothed with a Gaussian
    of width ``sigma`` in ab space, mixed with the uniform distribution over the ``Q`` bins,
    ``w = 1 / ((1 - mix) p~ + mix / Q)``, and scaled so that ``sum(p~ * w) = 1``: the
    weighted loss keeps the size of the unweighted one while rare, saturated colours count more.

    Args:
        counts: ``Tensor[Q]`` pixel count of each bin (float or int).
        centers: ``Tensor[Q, 2]`` the bins' ab centres (for the smoothing).
        mix: weight of the uniform distribution, in [0, 1] (0.5 in the paper).
        sigma: width of the smoothing kernel in ab units (5 in the paper).

    Returns:
        ``Tensor[Q]`` float, positive.

    Examples:
        >>> w = rebalancing_weights(torch.tensor([90.0, 10.0]), torch.tensor([[0.0, 0.0], [50.0, 0.0]]))
        >>> bool(w[1] > w[0]), round(float(0.9 * w[0] + 0.1 * w[1]), 6)
        (True, 1.0)
    """
    check_tensor(counts, "counts", ndim=1)
    check_tensor(centers, "centers", shape=(counts.shape[0], 2), floating=True)
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"mix must be in [0, 1], got {mix}")
    p = counts.to(centers.dtype)
    p = p / p.sum().clamp(min=1)  # [Q]
    if sigma > 0:
        kernel = torch.exp(-torch.cdist(centers, centers) ** 2 / (2 * sigma ** 2))  # [Q, Q]
        p = kernel @ p
        p = p / p.sum().clamp(min=torch.finfo(p.dtype).tiny)
    weights = 1.0 / ((1 - mix) * p + mix / len(p))  # [Q]
    return weights / (p * weights).sum()


def annealed_mean(probs: Tensor, centers: Tensor, temperature: float = 0.38) -> Tensor:
    """Decode per-pixel bin probabilities into ab values (Zhang et al.'s annealed mean).

    ``temperature`` 1 gives the mean of the distribution (greyish, like regression), values
    towards 0 its mode (vivid but patchy); the paper uses 0.38.

    Args:
        probs: ``Tensor[N, Q, H, W]`` probabilities over the ``Q`` bins.
        centers: ``Tensor[Q, 2]`` the ab centre of each bin.

    Returns:
        ``Tensor[N, 2, H, W]`` ab values.

    Examples:
        >>> probs = torch.tensor([0.6, 0.4]).view(1, 2, 1, 1)
        >>> centers = torch.tensor([[50.0, 0.0], [-50.0, 0.0]])
        >>> [round(v, 4) for v in annealed_mean(probs, centers, 1.0).flatten().tolist()]
        [10.0, 0.0]
    """
    check_tensor(probs, "probs", ndim=4, floating=True)
    check_tensor(centers, "centers", shape=(probs.shape[1], 2), floating=True)
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logits = torch.log(probs.clamp(min=torch.finfo(probs.dtype).tiny)) / temperature  # [N, Q, H, W]
    sharpened = torch.softmax(logits, dim=1)
    return torch.einsum("nqhw,qc->nchw", sharpened, centers.to(probs.dtype))  # [N, 2, H, W]
