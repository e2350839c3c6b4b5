"""Private numpy rasterization helpers shared by the synthetic datasets.

Everything here works on whole coordinate grids (no Python loop over pixels), so a
64 x 64 scene costs a few dozen array operations. Random draws come from the
``numpy.random.Generator`` that the caller derived from ``(seed, index)``.

The grids are built by the caller with :func:`pixel_grid`, which takes the offset of
a pixel's centre: ``0.5`` for the pixel-edge convention of the shapes scenes,
``0.0`` for the pixel-index convention of the articulated figures.
"""
from __future__ import annotations

import numpy as np


def item_rngs(seed: int, index: int, salt: int, streams: int) -> list[np.random.Generator]:
    """Independent random streams for item ``index`` of a dataset with ``seed``.

    ``SeedSequence`` mixes the three integers, so neighbouring seeds and indices give
    unrelated streams; ``salt`` keeps two datasets with the same seed apart. Separate
    streams per part of the picture (background, objects, noise...) mean that switching
    one part off (e.g. ``clutter=False``) leaves the others unchanged.
    """
    return [np.random.default_rng(s) for s in np.random.SeedSequence([seed, index, salt]).spawn(streams)]


def pixel_grid(size: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``xs: [1, W]`` and ``ys: [H, 1]`` (float32) of a square grid."""
    coords = np.arange(size, dtype=np.float32) + np.float32(offset)
    return coords[None, :], coords[:, None]


def smooth_noise(rng: np.random.Generator, size: int, cells: int, channels: int) -> np.ndarray:
    """Low-frequency value noise in [0, 1]: a ``(cells + 1)^2`` random lattice, bilinearly upsampled.

    Returns:
        np.ndarray[H, W, C] float32 with H = W = ``size``.
    """
    lattice = rng.random((cells + 1, cells + 1, channels), dtype=np.float32)  # [g, g, C]
    pos = np.linspace(0.0, cells, size, dtype=np.float32)  # lattice coordinate of each pixel
    i0 = np.minimum(pos.astype(np.int64), cells - 1)
    frac = pos - i0
    # Bilinear upsampling is separable: out = A @ lattice @ A^T with A the [S, g] matrix
    # holding the two linear-interpolation weights of each output pixel.
    weights = np.zeros((size, cells + 1), dtype=np.float32)  # [S, g]
    rows = np.arange(size)
    weights[rows, i0] = 1 - frac
    weights[rows, i0 + 1] = frac
    out = np.tensordot(weights, lattice, axes=(1, 0))  # [S, g, C]
    out = np.tensordot(weights, out, axes=(1, 1))  # [S(x), S(y), C]
    return np.ascontiguousarray(out.transpose(1, 0, 2))  # [S(y), S(x), C]


def rotate_to_local(
    xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of every pixel in a frame centred at (cx, cy) and rotated by ``angle`` radians.

    Returns ``u, v`` of shape [H, W]; a shape defined around the origin in (u, v) appears
    rotated by ``angle`` in the image.
    """
    dx, dy = xs - cx, ys - cy  # [1, W], [H, 1]
    c, s = np.cos(angle), np.sin(angle)
    u = c * dx + s * dy  # [H, W]
    v = -s * dx + c * dy  # [H, W]
    return u, v


def convex_polygon_mask(xs: np.ndarray, ys: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Filled convex polygon: pixels on the inner side of every edge.

    Args:
        xs, ys: grids from :func:`pixel_grid`, [1, W] and [H, 1].
        vertices: np.ndarray[V, 2] (x, y), in either winding order.

    Returns:
        np.ndarray[H, W] bool.
    """
    a = vertices  # [V, 2]
    b = np.roll(vertices, -1, axis=0)  # [V, 2], next vertex
    ex, ey = (b - a).T  # [V] edge vectors
    # Cross product edge x (p - a) has one sign inside a convex polygon; the sign of the
    # polygon's signed area tells which, so both windings work.
    area2 = np.sum(a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1])  # 2 * signed area (shoelace formula)
    sign = 1.0 if area2 >= 0 else -1.0
    cross = ex[:, None, None] * (ys[None] - a[:, 1, None, None]) - ey[:, None, None] * (
        xs[None] - a[:, 0, None, None]
    )  # [V, H, W]
    return np.all(sign * cross >= 0, axis=0)


def segment_distance_sq(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance from every pixel centre to each of L line segments a[l] -> b[l].

    Squared, so a capsule test ``segment_distance_sq(...) <= radius ** 2`` needs no square root.

    Args:
        xs, ys: grids from :func:`pixel_grid`, [1, W] and [H, 1].
        a, b: np.ndarray[L, 2] segment end points (x, y).

    Returns:
        np.ndarray[L, H, W] float32.
    """
    a = np.asarray(a, dtype=np.float32)
    d = np.asarray(b, dtype=np.float32) - a  # [L, 2]
    dx, dy = d[:, 0, None, None], d[:, 1, None, None]  # [L, 1, 1]
    length2 = np.maximum(dx * dx + dy * dy, np.float32(1e-12))  # [L, 1, 1]
    px = xs[None] - a[:, 0, None, None]  # [L, 1, W]
    py = ys[None] - a[:, 1, None, None]  # [L, H, 1]
    # Project each pixel onto the segment's line and clamp to the segment.
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)  # [L, H, W]
    qx = px - t * dx
    qy = py - t * dy
    return qx * qx + qy * qy


def paint(img: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Paint (mask [H, W] bool, colour [3]) layers in order, later on top; returns the new image.

    Writing one small integer layer map and gathering the colours once is cheaper than
    a three-channel boolean assignment per layer.
    """
    if not layers:
        return img
    top = np.zeros(img.shape[:2], dtype=np.int64)  # [H, W] index of the top layer + 1, 0 = none
    for k, (mask, _) in enumerate(layers, start=1):
        top[mask] = k
    colours = np.stack([np.zeros(3, dtype=np.float32)] + [np.asarray(c, dtype=np.float32) for _, c in layers])  # [L+1, 3]
    return np.where((top > 0)[:, :, None], colours[top], img).astype(np.float32)


def dilate(mask: np.ndarray) -> np.ndarray:
    """Binary dilation by one pixel with a 3 x 3 square (a mask touching ``mask`` intersects the result)."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


def hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    """One HSV colour (all in [0, 1]) to an RGB np.ndarray[3] float32."""
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.asarray(rgb, dtype=np.float32)
