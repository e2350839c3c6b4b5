"""Optical flow by Lucas–Kanade, written to be read: the reference ops of chapter 08.

Conventions. A frame is ``Tensor[H, W]`` (grey levels, any float dtype), or a batch
``Tensor[..., H, W]``. A flow field is ``Tensor[2, H, W]`` (``Tensor[..., 2, H, W]``):
channel 0 is ``u``, the motion along x (columns, to the right), channel 1 is ``v``, along
y (rows, down), in pixels per frame. Brightness constancy says that the pixel at
``(x, y)`` in frame 0 is found at ``(x + u, y + v)`` in frame 1::

    I1(x + u, y + v) = I0(x, y)

A first-order Taylor expansion turns it into one linear equation per pixel,
``Ix u + Iy v + It = 0`` with ``It = I1 - I0`` and the spatial gradients of ``I1``; one
equation cannot fix two unknowns (the aperture problem), so Lucas and Kanade (1981)
assume the flow is constant in a small window and solve the equations of the window in
the least-squares sense: the 2 x 2 normal equations

    [sum Ix Ix  sum Ix Iy] [u]     [sum Ix It]
    [sum Ix Iy  sum Iy Iy] [v] = - [sum Iy It]

The gradients are central differences inside the frame and one-sided differences on its
border (``torch.gradient``, ``numpy.gradient``), taken on the *second* frame, as
scikit-image's ``optical_flow_ilk`` does; windows that cross the border are mirrored
(``d c b | a b c d | c b a``, scipy's ``mode="mirror"``). With those choices
:func:`lucas_kanade` equals one step of scikit-image's iterative Lucas–Kanade
(``optical_flow_ilk(frame0, frame1, radius=r, num_warp=1)`` on frames of at most 32
pixels a side, where it builds no pyramid); note that scikit-image returns ``(v, u)``,
rows first. A window whose matrix is singular (flat, or an edge seen through the
aperture) gets zero flow.

Each op comes twice: :func:`lucas_kanade_loop` solves one 2 x 2 system per pixel in a
Python loop; :func:`lucas_kanade` does all pixels at once with box sums and Cramer's rule.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["image_gradients", "lucas_kanade_patch", "lucas_kanade_loop", "lucas_kanade", "min_eigenvalue",
           "clip_flows", "endpoint_error", "shift_image", "DEFAULT_EPS"]

DEFAULT_EPS = 1e-9  # a window whose 2 x 2 matrix has |det| at most this is singular: zero flow


def _check_frames(frame0, frame1, name0: str = "frame0", name1: str = "frame1", min_ndim: int = 2) -> None:
    check_tensor(frame0, name0, floating=True)
    check_tensor(frame1, name1, floating=True)
    if frame0.ndim < min_ndim:
        raise ValueError(f"{name0} must have at least {min_ndim} dimensions [..., H, W], got shape {list(frame0.shape)}")
    if frame0.shape != frame1.shape:
        raise ValueError(f"{name0} and {name1} must have the same shape, got {list(frame0.shape)} and {list(frame1.shape)}")
    if frame0.dtype != frame1.dtype:
        raise TypeError(f"{name0} and {name1} must have the same dtype, got {frame0.dtype} and {frame1.dtype}")
    if min(frame0.shape[-2:]) < 2:
        raise ValueError(f"frames need at least 2 x 2 pixels for gradients, got {list(frame0.shape[-2:])}")


def image_gradients(frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Spatial gradients ``(Ix, Iy)`` of ``Tensor[..., H, W]``, each of the same shape.

    Central differences ``(I[x+1] - I[x-1]) / 2`` inside, one-sided differences on the
    border (``numpy.gradient`` with ``edge_order=1``). ``Ix`` is along x (columns).

    Examples:
        >>> gx, gy = image_gradients(torch.tensor([[0.0, 1.0, 4.0], [0.0, 1.0, 4.0]]))
        >>> gx.tolist(), gy.tolist()
        ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """
    check_tensor(frame, "frame", floating=True)
    if frame.ndim < 2 or min(frame.shape[-2:]) < 2:
        raise ValueError(f"frame must be [..., H, W] with H, W >= 2, got shape {list(frame.shape)}")
    gy, gx = torch.gradient(frame, dim=(-2, -1))
    return gx, gy


def _solve_2x2(a, b, c, p, q, eps: float):
    """Solve ``[[a, b], [b, c]] [u, v] = [p, q]`` elementwise by Cramer's rule; 0 where |det| <= eps."""
    det = a * c - b * b
    singular = det.abs() <= eps
    safe = torch.where(singular, torch.ones_like(det), det)  # never divide by ~0, even where the result is dropped
    u = torch.where(singular, torch.zeros_like(det), (c * p - b * q) / safe)
    v = torch.where(singular, torch.zeros_like(det), (a * q - b * p) / safe)
    return u, v


# scikit-image's optical_flow_ilk builds an image pyramid for frames larger than this (min side).
_ILK_SINGLE_LEVEL = 32


def _ilk_one_step(frame0: torch.Tensor, frame1: torch.Tensor, radius: int) -> np.ndarray:
    """(u, v) of one warp of scikit-image's iterative Lucas–Kanade, float64, np.ndarray[2, H, W]."""
    from skimage.registration import optical_flow_ilk

    v_u = optical_flow_ilk(frame0.detach().cpu().double().numpy(), frame1.detach().cpu().double().numpy(),
                           radius=radius, num_warp=1, dtype=np.float64)
    return v_u[::-1].copy()  # scikit-image answers rows first: (v, u)


def _lucas_kanade_patch_twin(patch0, patch1, eps=DEFAULT_EPS):
    """Twin of :func:`lucas_kanade_patch`: scikit-image's ``optical_flow_ilk`` read at the patch's centre.

    A square patch of odd side ``2r + 1`` is one window of radius ``r`` around its centre; other
    shapes are solved by ``torch.linalg.lstsq`` on the stacked equations.
    """
    _check_frames(patch0, patch1, "patch0", "patch1")
    if patch0.ndim != 2:
        raise ValueError(f"patch0 must be [H, W], got shape {list(patch0.shape)}")
    p0, p1 = patch0.detach().cpu().double(), patch1.detach().cpu().double()
    gy, gx = torch.gradient(p1, dim=(0, 1))
    design = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # [HW, 2]
    if torch.linalg.det(design.T @ design).abs() <= eps:
        return patch0.new_zeros(2)
    height, width = patch0.shape
    if height == width and height % 2 == 1 and height <= _ILK_SINGLE_LEVEL:
        r = height // 2
        flow = torch.from_numpy(_ilk_one_step(p0, p1, r)[:, r, r].copy())
    else:
        flow = torch.linalg.lstsq(design, -(p1 - p0).flatten()[:, None]).solution[:, 0]
    return flow.to(dtype=patch0.dtype, device=patch0.device)


@reference_of("08_video/lucas_kanade_patch", twin=_lucas_kanade_patch_twin)
def lucas_kanade_patch(patch0: torch.Tensor, patch1: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """One flow vector ``(u, v)`` for a whole patch, by Lucas–Kanade least squares.

    Args:
        patch0, patch1: Tensor[H, W] float, the patch in frame 0 and in frame 1 (H, W >= 2).
        eps: the 2 x 2 matrix counts as singular when ``|det| <= eps``.

    Returns:
        Tensor[2] ``(u, v)`` in pixels (dtype of the inputs); zeros when the matrix is singular.

    Examples:
        >>> x = torch.arange(5.0)
        >>> def pattern(dx, dy):  # a smooth pattern moved by (dx, dy)
        ...     return torch.sin(0.9 * (x[None, :] - dx)) + torch.cos(0.7 * (x[:, None] - dy))
        >>> lucas_kanade_patch(pattern(0.0, 0.0), pattern(0.3, 0.2))  # close to (0.3, 0.2)
        tensor([0.3194, 0.2180])
    """
    _check_frames(patch0, patch1, "patch0", "patch1")
    if patch0.ndim != 2:
        raise ValueError(f"patch0 must be [H, W], got shape {list(patch0.shape)}")
    gx, gy = image_gradients(patch1)  # [H, W] each
    it = patch1 - patch0  # temporal derivative, [H, W]
    a, b, c = (gx * gx).sum(), (gx * gy).sum(), (gy * gy).sum()
    p, q = -(gx * it).sum(), -(gy * it).sum()
    u, v = _solve_2x2(a, b, c, p, q, eps)
    return torch.stack([u, v])


def _mirror(index: int, size: int) -> int:
    """Reflect an index into ``[0, size)`` without repeating the edge (``-1 -> 1``, ``size -> size - 2``)."""
    if index < 0:
        return -index
    if index >= size:
        return 2 * (size - 1) - index
    return index


def _check_radius(radius, frame: torch.Tensor) -> None:
    check_nonnegative_int(radius, "radius")
    if radius >= min(frame.shape[-2:]):
        raise ValueError(f"radius must be smaller than the frame ({list(frame.shape[-2:])}) to mirror the window, "
                         f"got {radius}")


def _box_sum(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Sum over the ``(2r+1) x (2r+1)`` window around every pixel of ``Tensor[..., H, W]``, mirrored borders."""
    if radius == 0:
        return x
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, *x.shape[-2:])  # [B, 1, H, W]
    padded = F.pad(flat, (radius, radius, radius, radius), mode="reflect")  # mirror: d c b | a b c d | c b a
    size = 2 * radius + 1
    # Separable: sum along rows, then along columns (cumulative sums would lose float32 precision).
    rows = F.avg_pool2d(padded, (size, 1), stride=1) * size
    sums = F.avg_pool2d(rows, (1, size), stride=1) * size  # [B, 1, H, W]
    return sums.reshape(*lead, *x.shape[-2:])


def _lucas_kanade_twin(frame0, frame1, radius=2, eps=DEFAULT_EPS):
    """Twin of :func:`lucas_kanade` and :func:`lucas_kanade_loop`: one warp of scikit-image's ``optical_flow_ilk``.

    For one frame of at most 32 pixels a side scikit-image builds no pyramid, and one warp from
    zero flow is exactly Lucas–Kanade; batches and larger frames use the same computation
    written with scipy's box filter and numpy's solver.
    """
    from scipy import ndimage

    _check_frames(frame0, frame1)
    _check_radius(radius, frame0)
    if frame0.ndim == 2 and min(frame0.shape) <= _ILK_SINGLE_LEVEL:
        flow = torch.from_numpy(_ilk_one_step(frame0, frame1, radius))
        gx, gy = image_gradients(frame1.detach().cpu().double())
        a, b, c = _box_sum(gx * gx, radius), _box_sum(gx * gy, radius), _box_sum(gy * gy, radius)
        flow = torch.where((a * c - b * b).abs() <= eps, torch.zeros_like(flow), flow)  # the course's singular rule
        return flow.to(dtype=frame0.dtype, device=frame0.device)
    f0 = frame0.detach().cpu().numpy().astype(np.float64)
    f1 = frame1.detach().cpu().numpy().astype(np.float64)
    axes = (f0.ndim - 2, f0.ndim - 1)
    gy, gx = np.gradient(f1, axis=axes)
    it = f1 - f0
    size = [1] * (f0.ndim - 2) + [2 * radius + 1] * 2
    n = float((2 * radius + 1) ** 2)

    def box(z):
        return ndimage.uniform_filter(z, size=size, mode="mirror") * n

    A = np.stack([np.stack([box(gx * gx), box(gx * gy)], -1), np.stack([box(gx * gy), box(gy * gy)], -1)], -2)
    rhs = -np.stack([box(gx * it), box(gy * it)], -1)[..., None]  # [..., H, W, 2, 1]
    singular = np.abs(np.linalg.det(A)) <= eps
    A[singular] = np.eye(2)
    rhs[singular] = 0.0
    flow = np.moveaxis(np.linalg.solve(A, rhs)[..., 0], -1, -3)  # [..., 2, H, W]
    return torch.from_numpy(flow).to(dtype=frame0.dtype, device=frame0.device)


@reference_of("08_video/lucas_kanade_patch", twin=_lucas_kanade_twin)
def lucas_kanade_loop(frame0: torch.Tensor, frame1: torch.Tensor, radius: int = 2,
                      eps: float = DEFAULT_EPS) -> torch.Tensor:
    """Dense Lucas–Kanade flow, one pixel at a time (the teaching version of :func:`lucas_kanade`).

    Args:
        frame0, frame1: Tensor[H, W] float.
        radius: the window around each pixel is ``(2 * radius + 1)`` pixels a side, mirrored
            at the border (``radius < min(H, W)``).
        eps: singular windows (``|det| <= eps``) get zero flow.

    Returns:
        Tensor[2, H, W], ``(u, v)`` at every pixel.
    """
    _check_frames(frame0, frame1)
    if frame0.ndim != 2:
        raise ValueError(f"frame0 must be [H, W] (use lucas_kanade for batches), got shape {list(frame0.shape)}")
    _check_radius(radius, frame0)
    height, width = frame0.shape
    gx, gy = image_gradients(frame1)  # gradients of the whole frame, then windows of them
    it = frame1 - frame0
    flow = frame0.new_zeros(2, height, width)
    for i in range(height):
        rows = torch.tensor([_mirror(i + k, height) for k in range(-radius, radius + 1)])
        for j in range(width):
            cols = torch.tensor([_mirror(j + k, width) for k in range(-radius, radius + 1)])
            wx, wy, wt = gx[rows][:, cols], gy[rows][:, cols], it[rows][:, cols]  # [2r+1, 2r+1] each
            u, v = _solve_2x2((wx * wx).sum(), (wx * wy).sum(), (wy * wy).sum(),
                              -(wx * wt).sum(), -(wy * wt).sum(), eps)
            flow[0, i, j], flow[1, i, j] = u, v
    return flow


@reference_of("08_video/lucas_kanade_patch", twin=_lucas_kanade_twin)
def lucas_kanade(frame0: torch.Tensor, frame1: torch.Tensor, radius: int = 2, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """Dense Lucas–Kanade flow for every pixel at once.

    Args:
        frame0, frame1: Tensor[..., H, W] float (any leading batch dimensions).
        radius: window half-size; windows are mirrored at the border (``radius < min(H, W)``).
        eps: singular windows (``|det| <= eps``) get zero flow.

    Returns:
        Tensor[..., 2, H, W], ``(u, v)`` at every pixel, the dtype and device of the inputs.

    Examples:
        >>> x = torch.arange(6.0)
        >>> frame0 = (x[None, :] - 2.5) ** 2 + (x[:, None] - 2.5) ** 2  # a smooth bowl
        >>> flow = lucas_kanade(frame0, frame0, radius=1)  # nothing moves
        >>> flow.shape, bool(flow.abs().max() == 0)
        (torch.Size([2, 6, 6]), True)
    """
    _check_frames(frame0, frame1)
    _check_radius(radius, frame0)
    gx, gy = image_gradients(frame1)  # [..., H, W]
    it = frame1 - frame0
    a, b, c = _box_sum(gx * gx, radius), _box_sum(gx * gy, radius), _box_sum(gy * gy, radius)
    p, q = -_box_sum(gx * it, radius), -_box_sum(gy * it, radius)
    u, v = _solve_2x2(a, b, c, p, q, eps)
    return torch.stack([u, v], dim=-3)  # [..., 2, H, W]


def min_eigenvalue(frame: torch.Tensor, radius: int = 2) -> torch.Tensor:
    """The smaller eigenvalue of the structure tensor of every window: how well flow is determined there.

    The 2 x 2 matrix of :func:`lucas_kanade` (sums of ``Ix Ix``, ``Ix Iy``, ``Iy Iy`` over the
    window) has two large eigenvalues at corners and in textures, one near zero on a
    straight edge (the aperture problem) and two near zero in flat regions. Shi and Tomasi
    (1994) keep the points where the smaller one is large ("good features to track").

    Args:
        frame: Tensor[..., H, W] float; radius: window half-size (mirrored borders).

    Returns:
        Tensor[..., H, W], non-negative.

    Examples:
        >>> bool(min_eigenvalue(torch.ones(6, 6)).max() == 0)  # flat: no information
        True
    """
    check_tensor(frame, "frame", floating=True)
    _check_radius(radius, frame)
    gx, gy = image_gradients(frame)
    a, b, c = _box_sum(gx * gx, radius), _box_sum(gx * gy, radius), _box_sum(gy * gy, radius)
    half_trace, half_gap = (a + c) / 2, torch.sqrt(((a - c) / 2) ** 2 + b * b)
    return (half_trace - half_gap).clamp(min=0)


@not_an_answer("08_video/lucas_kanade_patch", why="dense flow of whole clips through lucas_kanade (the "
               "two-stream preprocessing); the exercise is the least squares of one patch")
def clip_flows(clips: torch.Tensor, radius: int = 2, stride: int = 1, eps: float = DEFAULT_EPS) -> torch.Tensor:
    """Lucas–Kanade flow between frames ``t`` and ``t + stride`` of clips, on grey levels.

    Args:
        clips: Tensor[..., C, T, H, W] float (the layout of ``ActionClips``); colour is
            averaged to grey first.
        radius, eps: see :func:`lucas_kanade`.
        stride: frame distance of each pair (``1 <= stride < T``).

    Returns:
        Tensor[..., T - stride, 2, H, W]: flow ``t -> t + stride`` for ``t = 0 .. T - stride - 1``.
        ``flows.flatten(-4, -3)`` is the ``[2 (T - 1), H, W]`` stack a two-stream network reads.

    Examples:
        >>> clip_flows(torch.rand(2, 3, 5, 8, 8)).shape
        torch.Size([2, 4, 2, 8, 8])
    """
    check_tensor(clips, "clips", floating=True)
    if clips.ndim < 4:
        raise ValueError(f"clips must be [..., C, T, H, W], got shape {list(clips.shape)}")
    check_positive_int(stride, "stride")
    frames = clips.shape[-3]
    if stride >= frames:
        raise ValueError(f"stride must be smaller than the number of frames ({frames}), got {stride}")
    grey = clips.mean(dim=-4)  # [..., T, H, W]
    return lucas_kanade(grey[..., :-stride, :, :], grey[..., stride:, :, :], radius=radius, eps=eps)


def endpoint_error(flow: torch.Tensor, true_flow: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean end-point error ``|| flow - true_flow ||`` over pixels (the standard flow metric).

    Args:
        flow, true_flow: Tensor[..., 2, H, W].
        mask: Tensor[..., H, W] bool, or None for every pixel.

    Returns:
        Tensor[] (0-d), in pixels.

    Examples:
        >>> true_flow = torch.stack([torch.full((4, 4), 3.0), torch.full((4, 4), 4.0)])  # (u, v) = (3, 4)
        >>> endpoint_error(torch.zeros(2, 4, 4), true_flow)
        tensor(5.)
    """
    check_tensor(flow, "flow", floating=True)
    check_tensor(true_flow, "true_flow", shape=tuple(flow.shape), floating=True)
    if flow.ndim < 3 or flow.shape[-3] != 2:
        raise ValueError(f"flow must be [..., 2, H, W], got shape {list(flow.shape)}")
    error = (flow - true_flow).norm(dim=-3)  # [..., H, W]
    if mask is None:
        return error.mean()
    check_tensor(mask, "mask", shape=tuple(error.shape), dtypes=(torch.bool,))
    return error[mask].mean()


def shift_image(image: torch.Tensor, dx: float, dy: float) -> torch.Tensor:
    """Translate ``Tensor[..., H, W]`` by ``(dx, dy)`` pixels, any real shift: ``out(x + dx, y + dy) = image(x, y)``.

    The image is treated as periodic and shifted exactly in the Fourier domain (a phase
    ramp), so nothing enters from the border and nothing is blurred: a smooth periodic
    image and its shifted copy obey brightness constancy with a true flow of exactly
    ``(dx, dy)`` everywhere. (The Nyquist frequency of an even-sized axis cannot be shifted
    exactly; smooth images have next to no energy there.)

    Examples:
        >>> row = torch.arange(4.0)[None, :].repeat(2, 1)
        >>> shift_image(row, 1.0, 0.0)[0].round(decimals=6).tolist()
        [3.0, 0.0, 1.0, 2.0]
    """
    check_tensor(image, "image", floating=True)
    if image.ndim < 2:
        raise ValueError(f"image must be [..., H, W], got shape {list(image.shape)}")
    height, width = image.shape[-2:]
    fy = torch.fft.fftfreq(height, dtype=image.dtype, device=image.device)[:, None]  # cycles per pixel, [H, 1]
    fx = torch.fft.fftfreq(width, dtype=image.dtype, device=image.device)[None, :]  # [1, W]
    phase = torch.exp(-2j * math.pi * (fx * dx + fy * dy))  # shift theorem: f(x - d) <-> F(k) e^{-2 pi i k d}
    return torch.fft.ifft2(torch.fft.fft2(image) * phase).real.to(image.dtype)
