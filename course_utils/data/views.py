"""Random augmentations and the two-view wrapper of contrastive learning (SimCLR).

Every augmentation works on a batch ``Tensor[N, C, H, W]`` (or one image ``Tensor[C, H, W]``)
with values in [0, 1], draws an independent random setting *per image* from a
``torch.Generator``, and returns a tensor of the same shape, dtype and device with values
still in [0, 1]. Batched draws keep them fast enough to augment every step of training on a
CPU. The four SimCLR families (Chen et al. 2020, fig. 4):

* :func:`random_resized_crop`: a random part of the image (area fraction ``scale``, aspect
  ``ratio``, optionally a small rotation) resized back to the full size;
* :func:`random_hflip`: left-right mirror;
* :func:`intensity_jitter` (brightness and contrast, any number of channels) and
  :func:`color_jitter` (plus saturation, RGB);
* :func:`gaussian_blur`.

:class:`Augment` composes them with switches for ablations; :func:`two_views` makes the
positive pairs of a batch and :class:`TwoViews` wraps a dataset so that each item is a pair.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from course_utils.checks import check_tensor

__all__ = ["random_resized_crop", "random_hflip", "intensity_jitter", "color_jitter", "gaussian_blur",
           "Augment", "two_views", "TwoViews"]

GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as torchvision's rgb_to_grayscale


def _batch(images: Tensor) -> tuple[Tensor, bool]:
    check_tensor(images, "images", floating=True)
    if images.ndim == 3:
        return images.unsqueeze(0), True
    if images.ndim != 4:
        raise ValueError(f"images must be [N, C, H, W] or [C, H, W], got shape {list(images.shape)}")
    return images, False


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None, like: Tensor) -> Tensor:
    u = torch.rand(n, generator=generator, dtype=like.dtype)  # drawn on the CPU: same numbers on every device
    return (low + (high - low) * u).to(like.device)


def _check_range(value, name: str, low: float, high: float) -> tuple[float, float]:
    lo, hi = value
    if not low <= lo <= hi <= high:
        raise ValueError(f"{name} must be (low, high) with {low} <= low <= high <= {high}, got {value}")
    return float(lo), float(hi)


def random_resized_crop(images: Tensor, scale: tuple[float, float] = (0.3, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3), max_rotation: float = 0.0,
                        generator: torch.Generator | None = None) -> Tensor:
    """Crop a random region of each image and resize it to the full size (bilinear).

    Args:
        images: ``Tensor[N, C, H, W]`` or ``Tensor[C, H, W]`` in [0, 1].
        scale: range of the crop's area as a fraction of the image.
        ratio: range of the crop's aspect ratio (width / height), drawn log-uniformly.
        max_rotation: the crop is also rotated by an angle uniform in ``[-max_rotation, max_rotation]``
            radians (0: no rotation). Outside the image counts as 0 (black).
        generator: the source of randomness.

    Returns:
        Same shape as ``images``.

    Examples:
        >>> x = torch.rand(4, 1, 8, 8)
        >>> random_resized_crop(x, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([4, 1, 8, 8])
    """
    x, single = _batch(images)
    lo, hi = _check_range(scale, "scale", 0.0, 1.0)
    n = x.shape[0]
    if n == 0:
        return images.clone()
    area = _uniform(n, lo, hi, generator, x)
    log_ratio = _uniform(n, math.log(ratio[0]), math.log(ratio[1]), generator, x)
    w = (area * log_ratio.exp()).sqrt().clamp(max=1.0)  # crop width as a fraction of the image
    h = (area / log_ratio.exp()).sqrt().clamp(max=1.0)
    cx = (2 * _uniform(n, 0.0, 1.0, generator, x) - 1) * (1 - w)  # centre in [-1, 1] coordinates, crop inside
    cy = (2 * _uniform(n, 0.0, 1.0, generator, x) - 1) * (1 - h)
    angle = _uniform(n, -max_rotation, max_rotation, generator, x)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack([torch.stack([w * cos, -h * sin, cx], 1), torch.stack([w * sin, h * cos, cy], 1)], 1)  # [N, 2, 3]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # [N, H, W, 2] sampling positions
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp(0.0, 1.0)
    return out[0] if single else out


def random_hflip(images: Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Mirror each image left-right with probability ``p``.

    Examples:
        >>> x = torch.arange(4.0).view(1, 1, 1, 4) / 4
        >>> random_hflip(x, p=1.0)[0, 0, 0].tolist()
        [0.75, 0.5, 0.25, 0.0]
    """
    x, single = _batch(images)
    flip = (_uniform(x.shape[0], 0.0, 1.0, generator, x) < p).view(-1, 1, 1, 1)  # [N, 1, 1, 1]
    out = torch.where(flip, x.flip(-1), x)
    return out[0] if single else out


def intensity_jitter(images: Tensor, brightness: float = 0.3, contrast: float = 0.5,
                     generator: torch.Generator | None = None) -> Tensor:
    """Random contrast (around 0.5) and brightness shift per image, clipped to [0, 1].

    ``x -> clip((x - 0.5) * c + 0.5 + b)`` with ``c`` uniform in ``[1 - contrast, 1 + contrast]``
    and ``b`` uniform in ``[-brightness, brightness]``; the same for all channels.

    Examples:
        >>> x = torch.full((2, 1, 3, 3), 0.5)
        >>> bool((intensity_jitter(x, brightness=0.0, generator=torch.Generator().manual_seed(0)) == 0.5).all())
        True
    """
    x, single = _batch(images)
    n = x.shape[0]
    c = _uniform(n, 1 - contrast, 1 + contrast, generator, x).view(n, 1, 1, 1)
    b = _uniform(n, -brightness, brightness, generator, x).view(n, 1, 1, 1)
    out = ((x - 0.5) * c + 0.5 + b).clamp(0.0, 1.0)
    return out[0] if single else out


def color_jitter(images: Tensor, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.4,
                 generator: torch.Generator | None = None) -> Tensor:
    """SimCLR's colour distortion without the hue shift: brightness and contrast
    (:func:`intensity_jitter`) then saturation, a mix of each RGB image with its grey version
    (factor uniform in ``[1 - saturation, 1 + saturation]``).

    Examples:
        >>> x = torch.rand(3, 3, 4, 4)
        >>> color_jitter(x, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3, 3, 4, 4])
    """
    x, single = _batch(images)
    if x.shape[1] != 3:
        raise ValueError(f"color_jitter needs RGB images (3 channels), got {x.shape[1]}")
    x = intensity_jitter(x, brightness, contrast, generator)
    weights = torch.tensor(GREY_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    grey = (x * weights).sum(1, keepdim=True)  # [N, 1, H, W]
    s = _uniform(x.shape[0], 1 - saturation, 1 + saturation, generator, x).view(-1, 1, 1, 1)
    out = (grey + s * (x - grey)).clamp(0.0, 1.0)
    return out[0] if single else out


def gaussian_blur(images: Tensor, sigma: tuple[float, float] = (0.1, 1.0), p: float = 0.5,
                  kernel_size: int = 3, generator: torch.Generator | None = None) -> Tensor:
    """Blur each image, with probability ``p``, by a Gaussian of width uniform in ``sigma``.

    Borders are replicated, so a constant image stays constant.

    Examples:
        >>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 2, 2] = 1.0
        >>> y = gaussian_blur(x, sigma=(1.0, 1.0), p=1.0)
        >>> round(float(y.sum()), 5), bool(y[0, 0, 2, 2] < 1)
        (1.0, True)
    """
    x, single = _batch(images)
    if kernel_size % 2 != 1 or kernel_size < 1:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
    n, c, h, w = x.shape
    if n == 0:
        return images.clone()
    s = _uniform(n, sigma[0], sigma[1], generator, x).clamp(min=1e-3)
    apply = (_uniform(n, 0.0, 1.0, generator, x) < p).view(n, 1, 1, 1)
    r = torch.arange(kernel_size, dtype=x.dtype, device=x.device) - kernel_size // 2  # [k]
    k1 = torch.exp(-r[None] ** 2 / (2 * s[:, None] ** 2))  # [N, k]
    k1 = k1 / k1.sum(1, keepdim=True)
    kernels = (k1[:, :, None] * k1[:, None, :]).repeat_interleave(c, 0)[:, None]  # [N*C, 1, k, k] separable
    pad = kernel_size // 2
    padded = F.pad(x.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode="replicate")
    blurred = F.conv2d(padded, kernels, groups=n * c).reshape(n, c, h, w)  # one kernel per image and channel
    out = torch.where(apply, blurred, x).clamp(0.0, 1.0)
    return out[0] if single else out


@dataclass
class Augment:
    """A composition of the augmentations above, each switchable (for ablations).

    Order: crop, flip, intensity (or colour) jitter, blur. ``color=True`` uses
    :func:`color_jitter` (RGB) instead of :func:`intensity_jitter`.

    Examples:
        >>> augment = Augment(flip=False)
        >>> augment(torch.rand(8, 1, 8, 8), torch.Generator().manual_seed(0)).shape
        torch.Size([8, 1, 8, 8])
    """
    crop: bool = True
    flip: bool = True
    jitter: bool = True
    blur: bool = True
    color: bool = False
    crop_scale: tuple[float, float] = (0.3, 1.0)
    max_rotation: float = 0.0
    brightness: float = 0.3
    contrast: float = 0.5
    saturation: float = 0.4
    blur_sigma: tuple[float, float] = (0.1, 1.0)
    blur_p: float = 0.5

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = images
        if self.crop:
            x = random_resized_crop(x, self.crop_scale, max_rotation=self.max_rotation, generator=generator)
        if self.flip:
            x = random_hflip(x, generator=generator)
        if self.jitter:
            x = (color_jitter(x, self.brightness, self.contrast, self.saturation, generator) if self.color
                 else intensity_jitter(x, self.brightness, self.contrast, generator))
        if self.blur:
            x = gaussian_blur(x, self.blur_sigma, self.blur_p, generator=generator)
        return x


def two_views(images: Tensor, augment, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Two independent augmentations of every image: the positive pairs of a batch.

    Returns:
        ``(view1, view2)``, each of the shape of ``images``; ``view1[i]`` and ``view2[i]``
        come from ``images[i]``.

    Examples:
        >>> v1, v2 = two_views(torch.rand(4, 1, 8, 8), Augment(), torch.Generator().manual_seed(0))
        >>> v1.shape == v2.shape, bool((v1 != v2).any())
        (True, True)
    """
    return augment(images, generator), augment(images, generator)


class TwoViews(Dataset):
    """Wrap a dataset so that each item is two augmented views of one image (and its label).

    Args:
        dataset: items ``(image Tensor[C, H, W], label)`` or bare images.
        augment: ``augment(image Tensor[C, H, W], generator) -> Tensor[C, H, W]``, e.g. :class:`Augment`.
        seed: item ``i`` at its ``r``-th access uses a generator seeded from ``(seed, i, r)``, so a run
            is reproducible and every access gives fresh views.

    Items are ``((view1, view2), label)`` (label ``-1`` for bare images), ready for a DataLoader.

    Examples:
        >>> pairs = TwoViews([(torch.rand(1, 8, 8), 3)], Augment())
        >>> (v1, v2), label = pairs[0]
        >>> v1.shape, label
        (torch.Size([1, 8, 8]), 3)
    """

    def __init__(self, dataset, augment, seed: int = 0) -> None:
        self.dataset, self.augment, self.seed = dataset, augment, seed
        self._accesses: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        item = self.dataset[index]
        image, label = (item[0], item[1]) if isinstance(item, (tuple, list)) else (item, -1)
        count = self._accesses.get(index, 0)
        self._accesses[index] = count + 1
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + index) * 1_009 + count)
        return (self.augment(image, generator), self.augment(image, generator)), label
