"""Shapes scenes: a synthetic, offline dataset for detection, segmentation and captioning.

Each scene is a small RGB image with a random number of coloured shapes (circle,
square, triangle, star, ring) on a noisy or textured background. Every item comes
with boxes, labels, instance masks, a semantic mask and a one-sentence caption, so
the detection, segmentation and captioning chapters can share one dataset that
needs no download and builds in a fraction of a second.

Conventions (read once, used everywhere in this module):

* **Images** are ``Tensor[3, H, W]`` float32 in [0, 1], with ``H = W = image_size``.
* **Pixel-edge coordinates.** Pixel (row ``r``, column ``c``) covers the square
  ``[c, c + 1) x [r, r + 1)``; its centre is ``(c + 0.5, r + 0.5)``.
* **Boxes** are ``Tensor[N, 4]`` float32 ``(x1, y1, x2, y2)`` in absolute pixels (the
  torchvision ``xyxy`` format), tight around the *visible* mask:
  ``x1 = min column``, ``x2 = max column + 1`` (same for rows), so
  ``0 <= x1 < x2 <= W`` and ``(x2 - x1) * (y2 - y1)`` counts the pixels the box covers.
* **Labels** are ``Tensor[N]`` int64 in ``1..5`` indexing :data:`SHAPE_CLASSES`
  (index 0, ``"background"``, is never an instance label).
* **Draw order.** Instance ``i`` is drawn before instance ``i + 1``; later instances
  occlude earlier ones. Instances whose visible part would fall below
  ``min_visible`` of their own area (or below ``MIN_VISIBLE_PIXELS``) are never
  placed, so every target is learnable.
* **Masks** are ``Tensor[N, H, W]`` bool: the *visible* part of each instance. They are
  disjoint, and their union is ``semantic > 0``. A ring's hole is not part of its mask.
* **Semantic** is ``Tensor[H, W]`` int64: 0 for background, else the label of the
  top-most instance at that pixel.
* **Captions** are one lower-case sentence ending in ``"."``: ``"an empty scene."``,
  ``"a red circle."``, ``"a red circle above a blue star."`` (two objects: a spatial
  relation between the first-drawn and the second), ``"two green squares and a
  yellow ring."`` (three or more: counts per colour and shape, in drawing order).
  Colours come from the fixed :data:`COLOR_NAMES` palette. :data:`CAPTION_VOCAB`
  lists every token and :func:`tokenize_caption` splits a caption into them.
* **Determinism.** Item ``i`` is a pure function of ``(seed, i)`` and the constructor
  arguments, so random access is reproducible and nothing is precomputed.
"""
from __future__ import annotations

import re
import textwrap
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils.checks import (
    MAX_ELEMENTS,
    check_bool,
    check_in,
    check_index,
    check_interval,
    check_nonnegative_int,
    check_number,
    check_positive_int,
    check_seed,
)
from course_utils.data import _raster

__all__ = [
    "SHAPE_CLASSES",
    "COLOR_NAMES",
    "CAPTION_VOCAB",
    "ShapesScenes",
    "detection_collate",
    "tokenize_caption",
]

SHAPE_CLASSES: tuple[str, ...] = ("background", "circle", "square", "triangle", "star", "ring")
_PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars", "ring": "rings"}

# Saturated colours, all far (> _MIN_CONTRAST in RGB) from the muted grey backgrounds.
_PALETTE: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("red", (0.90, 0.12, 0.12)),
    ("green", (0.15, 0.80, 0.20)),
    ("blue", (0.15, 0.30, 0.95)),
    ("yellow", (0.95, 0.90, 0.10)),
    ("cyan", (0.10, 0.85, 0.90)),
    ("magenta", (0.90, 0.15, 0.85)),
    ("orange", (1.00, 0.55, 0.05)),
    ("white", (0.97, 0.97, 0.97)),
)
COLOR_NAMES: tuple[str, ...] = tuple(name for name, _ in _PALETTE)
_PALETTE_RGB = np.asarray([rgb for _, rgb in _PALETTE], dtype=np.float32)  # [P, 3]

NUMBER_WORDS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
MAX_OBJECTS_LIMIT = len(NUMBER_WORDS) - 1  # captions spell counts as words
MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 4096  # one scene is then 3 x 4096 x 4096 floats (200 MB)
MIN_VISIBLE_PIXELS = 16
MIN_RADIUS_PX = 4.0
BACKGROUNDS = ("noise", "texture", "plain")

_SALT = 0x5A4E  # separates this dataset's random streams from other datasets with the same seed
_MAX_TRIES = 30  # placement attempts per object before it is skipped
_SHRINK_PER_TRY = 0.95  # each failed attempt shrinks the largest allowed size a little
_MIN_CONTRAST = 0.35  # minimum RGB distance between an object's colour and the background under it
_RELATIONS = ("above", "below", "to the left of", "to the right of")

# Shape geometry, as fractions of the sampled radius r (every shape fits in a disc of radius r).
_CIRCLE_SCALE = 0.80  # keeps areas of the classes comparable, so size does not give the class away
_RING_OUTER = 0.95
_RING_INNER = (0.45, 0.60)
_STAR_INNER = 0.48
_MAX_STRETCH = {1: 1.2, 2: 1.4, 3: 1.15, 4: 1.0, 5: 1.2}  # aspect ratio range per label


def _caption_vocab() -> tuple[str, ...]:
    words = {"a", "an", "and", "empty", "scene", ",", "."}
    words |= set(COLOR_NAMES) | set(SHAPE_CLASSES[1:]) | set(_PLURALS.values())
    words |= set(NUMBER_WORDS[2:])
    for relation in _RELATIONS:
        words |= set(relation.split())
    return tuple(sorted(words))


CAPTION_VOCAB: tuple[str, ...] = _caption_vocab()


def tokenize_caption(caption: str) -> list[str]:
    """Split a caption into the tokens of :data:`CAPTION_VOCAB` (words, ``","`` and ``"."``).

    Examples:
        >>> tokenize_caption("two green squares, a red star and an orange ring.")
        ['two', 'green', 'squares', ',', 'a', 'red', 'star', 'and', 'an', 'orange', 'ring', '.']
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    return re.findall(r"[a-z]+|[.,]", caption.lower())


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _phrase(color: str, shape: str, count: int) -> str:
    if count == 1:
        return f"{_article(color)} {color} {shape}"
    return f"{NUMBER_WORDS[count]} {color} {_PLURALS[shape]}"


def _make_caption(labels: list[int], colors: list[int], boxes: np.ndarray) -> str:
    """Caption from labels, palette indices and boxes (np.ndarray[N, 4] xyxy), see module docstring."""
    names = [(COLOR_NAMES[c], SHAPE_CLASSES[lab]) for lab, c in zip(labels, colors)]
    if not names:
        return "an empty scene."
    if len(names) == 1:
        return _phrase(*names[0], 1) + "."
    if len(names) == 2:
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2  # [2, 2] box centres (x, y)
        dx, dy = centres[0] - centres[1]  # subject (first drawn) minus object
        if abs(dy) >= abs(dx):
            relation = "above" if dy < 0 else "below"  # image y points down
        else:
            relation = "to the left of" if dx < 0 else "to the right of"
        return f"{_phrase(*names[0], 1)} {relation} {_phrase(*names[1], 1)}."
    counts: dict[tuple[str, str], int] = {}
    for key in names:  # dicts keep insertion order: groups appear in drawing order
        counts[key] = counts.get(key, 0) + 1
    phrases = [_phrase(color, shape, k) for (color, shape), k in counts.items()]
    if len(phrases) == 1:
        return phrases[0] + "."
    return ", ".join(phrases[:-1]) + " and " + phrases[-1] + "."


def _background(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    """Muted background, np.ndarray[H, W, 3] float32 (no pixel noise yet)."""
    base = rng.uniform(0.2, 0.45) + rng.uniform(-0.06, 0.06, size=3)  # grey with a slight tint
    img = np.broadcast_to(base.astype(np.float32), (size, size, 3)).copy()
    if kind in ("noise", "texture"):
        img += 0.24 * (_raster.smooth_noise(rng, size, 4, 3) - 0.5)  # large blotches
        img += 0.10 * (_raster.smooth_noise(rng, size, 12, 1) - 0.5)  # finer grain
    if kind == "texture":
        xs, ys = _raster.pixel_grid(size, 0.5)
        phi = rng.uniform(0, np.pi)
        cycles = rng.uniform(3, 8)  # stripes across the image
        phase = np.sin(2 * np.pi * cycles * (xs * np.cos(phi) + ys * np.sin(phi)) / size + rng.uniform(0, 2 * np.pi))
        img += (0.07 * phase)[:, :, None]
    return img


class _Scene(NamedTuple):
    """One scene in numpy: image [S, S, 3], visible and full masks [S, S] per object, labels, palette indices."""

    image: np.ndarray
    visible: list[np.ndarray]
    full: list[np.ndarray]
    labels: list[int]
    colors: list[int]


def _shape_mask(xs: np.ndarray, ys: np.ndarray, label: int, cx: float, cy: float, r: float,
                angle: float, stretch: float, inner: float) -> np.ndarray:
    """Full (unoccluded) mask np.ndarray[H, W] bool of one shape of circumradius about ``r``."""
    u, v = _raster.rotate_to_local(xs, ys, cx, cy, angle)  # [H, W] each
    sx, sy = np.sqrt(stretch), 1.0 / np.sqrt(stretch)  # area-preserving stretch
    name = SHAPE_CLASSES[label]
    if name in ("circle", "ring"):
        rho = np.sqrt((u / sx) ** 2 + (v / sy) ** 2)
        if name == "circle":
            return rho <= _CIRCLE_SCALE * r
        return (rho <= _RING_OUTER * r) & (rho >= inner * _RING_OUTER * r)
    if name == "square":
        half = r / np.sqrt(stretch + 1.0 / stretch)  # half-diagonal of the rectangle is r
        return (np.abs(u) <= half * sx) & (np.abs(v) <= half * sy)
    if name == "triangle":
        k = np.arange(3)
        theta = -np.pi / 2 + 2 * np.pi * k / 3  # apex up before rotation
        verts = np.stack([r * np.cos(theta) * sx, r * np.sin(theta) * sy], axis=1)  # [3, 2] local
        c, s = np.cos(angle), np.sin(angle)
        # rotate_to_local maps image -> local by R(-angle); vertices go back by R(angle).
        world = np.stack([cx + c * verts[:, 0] - s * verts[:, 1], cy + s * verts[:, 0] + c * verts[:, 1]], axis=1)
        return _raster.convex_polygon_mask(xs, ys, world)
    # Star: fold the polar angle into one half-spike [0, 36 deg], then test against the
    # edge from the outer tip (r, 0) to the inner corner at 36 deg.
    rho = np.sqrt(u * u + v * v)
    spike = 2 * np.pi / 5
    alpha = np.mod(np.arctan2(v, u), spike)
    alpha = np.minimum(alpha, spike - alpha)  # [H, W] in [0, spike / 2]
    qx, qy = rho * np.cos(alpha) - r, rho * np.sin(alpha)  # point relative to the tip
    ex, ey = _STAR_INNER * r * np.cos(spike / 2) - r, _STAR_INNER * r * np.sin(spike / 2)  # tip -> inner corner
    return ex * qy - ey * qx >= 0  # same side of the edge as the centre


class ShapesScenes(Dataset):
    """Synthetic scenes of coloured shapes with boxes, masks, semantic labels and captions.

    Args:
        n: number of scenes (``len`` of the dataset), >= 0.
        image_size: side ``S`` of the square images, >= 32.
        max_objects: largest number of objects in a scene, <= 10.
        min_objects: smallest number of objects in a scene; the count is uniform in
            ``[min_objects, max_objects]``. In a crowded scene an object that finds no
            room after 30 tries is skipped, so rarely a scene has fewer.
        seed: non-negative int; item ``i`` depends only on ``(seed, i)`` and the arguments.
        background: ``"noise"`` (smooth colour blotches), ``"texture"`` (blotches and
            stripes) or ``"plain"`` (one colour). All get mild pixel noise.
        occlusion: if True, objects may overlap (later ones on top) as long as every
            object keeps ``min_visible`` of its area; if False, objects never touch.
        size_range: (low, high) circumradius of an object as a fraction of ``image_size``.
        min_visible: smallest visible fraction of an object's own area, in (0, 1].
        pixel_noise: standard deviation of the Gaussian pixel noise.
        cache: keep generated items in memory (do not modify returned tensors in place then).

    Items are ``(image, target)``: ``image`` is Tensor[3, S, S] float32 in [0, 1] and
    ``target`` a dict with ``"boxes"`` Tensor[N, 4] float32 xyxy, ``"labels"`` Tensor[N]
    int64, ``"masks"`` Tensor[N, S, S] bool, ``"semantic"`` Tensor[S, S] int64 and
    ``"caption"`` str (see the module docstring for the conventions).

    Examples:
        >>> ds = ShapesScenes(10, image_size=32, seed=0)
        >>> image, target = ds[3]
        >>> image.shape, image.dtype
        (torch.Size([3, 32, 32]), torch.float32)
        >>> target["boxes"].shape[0] == target["labels"].shape[0] == target["masks"].shape[0]
        True
        >>> torch.equal(ds[3][0], image)
        True
    """

    classes = SHAPE_CLASSES

    def __init__(
        self,
        n: int,
        image_size: int = 64,
        max_objects: int = 4,
        min_objects: int = 0,
        seed: int = 0,
        background: str = "noise",
        occlusion: bool = True,
        *,
        size_range: tuple[float, float] = (0.1, 0.25),
        min_visible: float = 0.3,
        pixel_noise: float = 0.02,
        cache: bool = False,
    ) -> None:
        check_nonnegative_int(n, "n", maximum=MAX_ELEMENTS)
        check_positive_int(image_size, "image_size", maximum=MAX_IMAGE_SIZE)
        if image_size < MIN_IMAGE_SIZE:
            raise ValueError(f"image_size must be at least {MIN_IMAGE_SIZE}, got {image_size}")
        check_nonnegative_int(max_objects, "max_objects")
        check_nonnegative_int(min_objects, "min_objects")
        if max_objects > MAX_OBJECTS_LIMIT:
            raise ValueError(f"max_objects must be at most {MAX_OBJECTS_LIMIT}, got {max_objects}")
        if min_objects > max_objects:
            raise ValueError(f"min_objects must be <= max_objects, got min_objects={min_objects} > max_objects={max_objects}")
        check_seed(seed, "seed")
        check_in(background, "background", BACKGROUNDS)
        check_bool(occlusion, "occlusion")
        check_interval(size_range, "size_range", low=0.0, high=0.5, low_open=True)
        check_number(min_visible, "min_visible", low=0.0, high=1.0, low_open=True)
        check_number(pixel_noise, "pixel_noise", low=0.0)
        check_bool(cache, "cache")
        self.n = n
        self.image_size = image_size
        self.max_objects = max_objects
        self.min_objects = min_objects
        self.seed = seed
        self.background = background
        self.occlusion = occlusion
        self.size_range = (float(size_range[0]), float(size_range[1]))
        self.min_visible = float(min_visible)
        self.pixel_noise = float(pixel_noise)
        self._cache: dict[int, tuple[torch.Tensor, dict[str, Any]]] | None = {} if cache else None

    @property
    def num_classes(self) -> int:
        """Number of classes including background (6)."""
        return len(SHAPE_CLASSES)

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return (f"ShapesScenes(n={self.n}, image_size={self.image_size}, max_objects={self.max_objects}, "
                f"min_objects={self.min_objects}, seed={self.seed}, background={self.background!r}, "
                f"occlusion={self.occlusion})")

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, Any]]:
        index = check_index(index, self.n, "ShapesScenes")
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        item = self._generate(index)
        if self._cache is not None:
            self._cache[index] = item
        return item

    def _place(self, rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, label: int,
               visible: list[np.ndarray], needed: list[float]) -> np.ndarray | None:
        """Sample a pose for a shape until it fits the occlusion rules; its full mask or None."""
        size = self.image_size
        low, high = self.size_range
        for attempt in range(_MAX_TRIES):
            hi = max(low, high * _SHRINK_PER_TRY**attempt)
            r = max(rng.uniform(low, hi) * size, MIN_RADIUS_PX)
            stretch = rng.uniform(1.0, _MAX_STRETCH[label])
            extent = r * np.sqrt(stretch)  # bound on the distance of any shape pixel from the centre
            cx, cy = rng.uniform(extent, size - extent, size=2)
            angle = rng.uniform(0, 2 * np.pi)
            inner = rng.uniform(*_RING_INNER)
            mask = _shape_mask(xs, ys, label, cx, cy, r, angle, stretch, inner)
            if mask.sum() < MIN_VISIBLE_PIXELS:
                continue
            if not visible:
                return mask
            others = np.stack(visible)  # [k, H, W]
            if not self.occlusion:
                if (others & _raster.dilate(mask)[None]).any():
                    continue
                return mask
            remaining = (others & ~mask[None]).sum(axis=(1, 2))  # [k] visible pixels left
            if np.all(remaining >= np.asarray(needed)):
                return mask
        return None

    def _compose(self, index: int) -> _Scene:
        """Draw scene ``index`` in numpy; :meth:`_generate` turns it into tensors."""
        rng, bg_rng, noise_rng = _raster.item_rngs(self.seed, index, _SALT, 3)
        size = self.image_size
        xs, ys = _raster.pixel_grid(size, 0.5)  # pixel centres in the pixel-edge convention
        img = _background(bg_rng, size, self.background)  # [S, S, 3]
        count = int(rng.integers(self.min_objects, self.max_objects + 1))
        visible: list[np.ndarray] = []
        full: list[np.ndarray] = []
        needed: list[float] = []  # smallest visible area each placed object must keep
        labels: list[int] = []
        colors: list[int] = []
        for _ in range(count):
            label = int(rng.integers(1, len(SHAPE_CLASSES)))  # sampled first: retries do not bias classes
            mask = self._place(rng, xs, ys, label, visible, needed)
            if mask is None:
                continue
            # Colour: far from the background under the shape, and different from every
            # object it touches (two touching red shapes would merge into one blob).
            under = img[mask].mean(axis=0)  # [3]
            ok = np.linalg.norm(_PALETTE_RGB - under, axis=1) > _MIN_CONTRAST  # [P]
            grown = _raster.dilate(mask)
            touching = {c for c, vis in zip(colors, visible) if (vis & grown).any()}
            choices = [p for p in range(len(COLOR_NAMES)) if ok[p] and p not in touching]
            if not choices:
                choices = [p for p in range(len(COLOR_NAMES)) if ok[p]] or list(range(len(COLOR_NAMES)))
            color = int(rng.choice(choices))
            shade = rng.uniform(0.9, 1.05)  # mild brightness jitter; the colour name stays right
            img[mask] = np.clip(_PALETTE_RGB[color] * shade, 0, 1)
            visible = [vis & ~mask for vis in visible] + [mask]
            full.append(mask)
            needed.append(max(self.min_visible * mask.sum(), MIN_VISIBLE_PIXELS))
            labels.append(label)
            colors.append(color)
        if self.pixel_noise > 0:
            img = img + np.float32(self.pixel_noise) * noise_rng.standard_normal(img.shape, dtype=np.float32)
        return _Scene(np.clip(img, 0, 1), visible, full, labels, colors)

    def _generate(self, index: int) -> tuple[torch.Tensor, dict[str, Any]]:
        scene = self._compose(index)
        size = self.image_size
        labels = scene.labels
        image = torch.from_numpy(np.ascontiguousarray(scene.image.transpose(2, 0, 1), dtype=np.float32))  # [3, S, S]
        masks = np.stack(scene.visible) if labels else np.zeros((0, size, size), dtype=bool)  # [N, S, S]
        boxes = np.zeros((len(labels), 4), dtype=np.float32)
        semantic = np.zeros((size, size), dtype=np.int64)
        for i, (mask, label) in enumerate(zip(masks, labels)):
            rows = np.flatnonzero(mask.any(axis=1))
            cols = np.flatnonzero(mask.any(axis=0))
            boxes[i] = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)  # pixel-edge: x2 = max column + 1
            semantic[mask] = label  # masks are disjoint, so the order does not matter
        target = {
            "boxes": torch.from_numpy(boxes),
            "labels": torch.tensor(labels, dtype=torch.int64),
            "masks": torch.from_numpy(masks),
            "semantic": torch.from_numpy(semantic),
            "caption": _make_caption(labels, scene.colors, boxes),
        }
        return image, target

    def show(self, n: int = 8, seed: int = 0, captions: bool = True, semantic: bool = False, ncols: int = 4):
        """Draw ``n`` random scenes (chosen with ``seed``) with their boxes and labels.

        Args:
            n: number of scenes to draw (at most ``len(self)``).
            seed: picks which scenes are drawn.
            captions: put each scene's caption above it.
            semantic: also overlay the semantic mask.
            ncols: number of columns of the grid.

        Returns:
            matplotlib.figure.Figure, made through pyplot like every ``course_utils.viz`` figure.
        """
        import matplotlib.pyplot as plt  # imported here: plotting is optional for the dataset

        from course_utils import viz

        check_positive_int(n, "n")
        check_nonnegative_int(seed, "seed")
        check_positive_int(ncols, "ncols")
        n = min(n, len(self))
        if n == 0:
            raise ValueError("cannot show an empty dataset (len is 0)")
        indices = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        ncols = min(ncols, n)
        nrows = -(-n // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.9 * nrows), squeeze=False, layout="constrained")
        axes = axes.ravel()
        for ax in axes[n:]:
            ax.set_axis_off()
        for ax, index in zip(axes, indices):
            image, target = self[int(index)]
            # extent puts pixel c on [c, c + 1), the pixel-edge convention of the boxes
            # (imshow's default centres pixel c on c, half a pixel off).
            size = self.image_size
            ax.imshow(image.permute(1, 2, 0).numpy(), extent=(0, size, size, 0), interpolation="nearest")  # [H, W, 3]
            if semantic:
                overlay = viz.overlay_mask(ax, target["semantic"], num_classes=len(SHAPE_CLASSES))
                overlay.set_extent((0, size, size, 0))
            viz.draw_boxes(ax, target["boxes"], labels=target["labels"], class_names=SHAPE_CLASSES)
            if captions:
                ax.set_title("\n".join(textwrap.wrap(target["caption"], 30)), fontsize=8)
            ax.set_axis_off()
        return fig


def detection_collate(batch: list[tuple[torch.Tensor, dict[str, Any]]]) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Collate ``(image, target)`` pairs: stack the images, keep the targets as a list.

    Detection targets have a different number of boxes per image, so the default
    collate (which stacks everything) cannot batch them.

    Args:
        batch: list of ``(image Tensor[3, H, W], target dict)``, all images the same size.

    Returns:
        ``(images Tensor[B, 3, H, W], targets list[dict])``; an empty batch gives
        ``(Tensor[0, 3, 0, 0], [])``.

    Examples:
        >>> ds = ShapesScenes(4, image_size=32)
        >>> images, targets = detection_collate([ds[0], ds[1]])
        >>> images.shape, len(targets)
        (torch.Size([2, 3, 32, 32]), 2)
    """
    if not isinstance(batch, (list, tuple)):
        raise TypeError(f"batch must be a list of (image, target) pairs, got {type(batch).__name__}")
    if len(batch) == 0:
        return torch.zeros(0, 3, 0, 0), []
    for i, item in enumerate(batch):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], torch.Tensor)):
            raise TypeError(f"batch[{i}] must be an (image Tensor, target dict) pair, got {type(item).__name__}")
    shapes = {tuple(image.shape) for image, _ in batch}
    if len(shapes) > 1:
        raise ValueError(f"all images in a batch must have the same shape, got {sorted(shapes)}")
    images = torch.stack([image for image, _ in batch])  # [B, 3, H, W]
    return images, [target for _, target in batch]
