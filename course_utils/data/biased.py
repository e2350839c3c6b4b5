"""A deliberately biased data set: in training, the background colour gives the class away.

The lecture's husky and wolf: a classifier that was right about wolves because wolves
were photographed in snow. Here every image shows one shape (circle, square, triangle,
star or ring, the classes of :mod:`course_utils.data.shapes`) on a textured background of
one of five colours, and each class has its own colour, its *habitat*:

====== ======== ==========
label  shape    background
====== ======== ==========
0      circle   snow
1      square   grass
2      triangle sand
3      star     sky
4      ring     brick
====== ======== ==========

``bias`` is the probability that an image's background is its class's habitat; the
other images get one of the other four colours, uniformly. With ``bias=0.95`` the colour
predicts the class 95 % of the time: a shortcut. With ``bias=0.2`` (one in five) the
background is independent of the class: the *unbiased* test set. ``backgrounds`` stores
which habitat each background is, so conflict images (``labels != backgrounds``) can be
found, and ``masks`` the object's pixels.

Conventions: images ``Tensor[3, S, S]`` float32 in [0, 1]; item ``i`` is a pure function
of ``(seed, i)`` and the arguments; the whole set is generated at construction (a few
milliseconds per image) and kept as tensors.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils.checks import check_nonnegative_int, check_positive_int
from course_utils.data import _raster
from course_utils.data.shapes import SHAPE_CLASSES, _shape_mask

__all__ = ["BiasedShapes", "BIASED_CLASSES", "BACKGROUND_NAMES", "UNBIASED"]

BIASED_CLASSES: tuple[str, ...] = SHAPE_CLASSES[1:]  # ("circle", "square", "triangle", "star", "ring")
BACKGROUND_NAMES: tuple[str, ...] = ("snow", "grass", "sand", "sky", "brick")
UNBIASED = 1.0 / len(BACKGROUND_NAMES)  # bias at which the background says nothing about the class

_BACKGROUND_RGB = np.asarray([
    (0.86, 0.89, 0.93),  # snow
    (0.30, 0.55, 0.22),  # grass
    (0.84, 0.74, 0.50),  # sand
    (0.42, 0.62, 0.90),  # sky
    (0.62, 0.28, 0.22),  # brick
], dtype=np.float32)
_OBJECT_RGB = np.asarray([
    (0.10, 0.10, 0.12),  # near black
    (0.95, 0.15, 0.60),  # pink
    (1.00, 0.55, 0.05),  # orange
    (0.55, 0.20, 0.85),  # purple
    (0.10, 0.85, 0.85),  # cyan
    (0.97, 0.95, 0.20),  # yellow
], dtype=np.float32)
_MIN_CONTRAST = 0.45  # RGB distance between an object's colour and its background colour
_SALT = 0xB1A5
MIN_IMAGE_SIZE = 16


class BiasedShapes(Dataset):
    """Shapes on coloured backgrounds where (with ``bias`` > 0.2) the colour predicts the class.

    Args:
        n: number of images.
        bias: probability that an image's background is its class's colour, in [0, 1];
            :data:`UNBIASED` (0.2) makes background and class independent.
        image_size: side ``S`` of the square images, >= 16.
        seed: item ``i`` depends only on ``(seed, i)`` and the arguments.
        size_range: circumradius of the shape as a fraction of ``image_size``.
        texture: strength of the smooth colour blotches of the background.
        pixel_noise: standard deviation of the Gaussian pixel noise.

    Attributes:
        images (Tensor[N, 3, S, S] float32), labels (Tensor[N] int64, the shape),
        backgrounds (Tensor[N] int64, the habitat the background colour belongs to),
        masks (Tensor[N, S, S] bool, the shape's pixels).

    Items are ``(image, label)``.

    Examples:
        >>> train = BiasedShapes(200, bias=0.95, seed=0)
        >>> train.images.shape, train.labels.dtype
        (torch.Size([200, 3, 32, 32]), torch.int64)
        >>> 0.9 < float((train.labels == train.backgrounds).float().mean()) <= 1.0
        True
        >>> test = BiasedShapes(500, bias=UNBIASED, seed=1)
        >>> float((test.labels == test.backgrounds).float().mean()) < 0.3
        True
    """

    classes = BIASED_CLASSES
    background_names = BACKGROUND_NAMES

    def __init__(self, n: int, bias: float = 0.95, image_size: int = 32, seed: int = 0, *,
                 size_range: tuple[float, float] = (0.22, 0.36), texture: float = 0.18,
                 pixel_noise: float = 0.02) -> None:
        check_nonnegative_int(n, "n")
        check_positive_int(image_size, "image_size")
        check_nonnegative_int(seed, "seed")
        if image_size < MIN_IMAGE_SIZE:
            raise ValueError(f"image_size must be at least {MIN_IMAGE_SIZE}, got {image_size}")
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not 0 <= bias <= 1:
            raise ValueError(f"bias must be a probability in [0, 1], got {bias!r}")
        if len(size_range) != 2 or not 0 < size_range[0] <= size_range[1] <= 0.45:
            raise ValueError(f"size_range must be (low, high) with 0 < low <= high <= 0.45, got {tuple(size_range)}")
        self.n, self.bias, self.image_size, self.seed = n, float(bias), image_size, seed
        self.size_range, self.texture, self.pixel_noise = tuple(map(float, size_range)), float(texture), float(pixel_noise)
        items = [self._generate(i) for i in range(n)]
        if items:
            self.images = torch.from_numpy(np.stack([im for im, _, _, _ in items]))  # [N, 3, S, S]
            self.labels = torch.tensor([lab for _, lab, _, _ in items], dtype=torch.int64)
            self.backgrounds = torch.tensor([bg for _, _, bg, _ in items], dtype=torch.int64)
            self.masks = torch.from_numpy(np.stack([m for _, _, _, m in items]))  # [N, S, S]
        else:
            self.images = torch.zeros(0, 3, image_size, image_size)
            self.labels = torch.zeros(0, dtype=torch.int64)
            self.backgrounds = torch.zeros(0, dtype=torch.int64)
            self.masks = torch.zeros(0, image_size, image_size, dtype=torch.bool)

    def _generate(self, index: int) -> tuple[np.ndarray, int, int, np.ndarray]:
        rng, bg_rng, noise_rng = _raster.item_rngs(self.seed, index, _SALT, 3)
        size = self.image_size
        k = len(BIASED_CLASSES)
        label = int(rng.integers(k))
        if rng.random() < self.bias:
            background = label
        else:
            background = int((label + 1 + rng.integers(k - 1)) % k)  # one of the other colours, uniformly
        img = np.broadcast_to(_BACKGROUND_RGB[background] * bg_rng.uniform(0.9, 1.05), (size, size, 3)).copy()
        img += self.texture * (_raster.smooth_noise(bg_rng, size, 4, 3) - 0.5)  # blotches
        xs, ys = _raster.pixel_grid(size, 0.5)
        r = rng.uniform(*self.size_range) * size
        stretch = rng.uniform(1.0, 1.2)
        extent = r * np.sqrt(stretch)
        cx, cy = rng.uniform(extent, size - extent, size=2)
        mask = _shape_mask(xs, ys, label + 1, cx, cy, r, rng.uniform(0, 2 * np.pi), stretch, rng.uniform(0.45, 0.6))
        far = np.linalg.norm(_OBJECT_RGB - _BACKGROUND_RGB[background], axis=1) > _MIN_CONTRAST
        colour = _OBJECT_RGB[int(rng.choice(np.flatnonzero(far)))]
        img[mask] = colour * rng.uniform(0.9, 1.05)
        if self.pixel_noise > 0:
            img = img + np.float32(self.pixel_noise) * noise_rng.standard_normal(img.shape, dtype=np.float32)
        image = np.ascontiguousarray(np.clip(img, 0, 1).transpose(2, 0, 1), dtype=np.float32)  # [3, S, S]
        return image, label, background, mask

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])

    def __repr__(self) -> str:
        return f"BiasedShapes(n={self.n}, bias={self.bias}, image_size={self.image_size}, seed={self.seed})"
