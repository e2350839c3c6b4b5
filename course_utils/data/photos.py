"""Real photographs that ship inside the scikit-image wheel, as float tensors.

Chapters need a few real images (to convolve, to rotate, to feed a pretrained-style
pipeline) without any download. scikit-image bundles some sample images in its
wheel; others (``eagle``, ``lily``, ``brain``, ...) would be fetched from the
internet through ``pooch`` and are deliberately not offered here. Every name in
:data:`PHOTO_NAMES` was checked to load with the network disabled
(scikit-image 0.26).

All photos are returned in one format: ``Tensor[3, H, W]`` float32 in [0, 1], RGB.
Grey-level images are repeated to three channels, the alpha channel of ``logo`` is
dropped, and the boolean ``horse`` silhouette becomes 0.0 / 1.0.
"""
from __future__ import annotations

from functools import lru_cache
from numbers import Integral
from typing import Callable, Sequence

import numpy as np
import torch

from course_utils.checks import check_numel, check_positive_int

__all__ = ["PHOTO_NAMES", "load_photo"]


def _sk(name: str, item: int | None = None) -> Callable[[], np.ndarray]:
    """Loader calling ``skimage.data.<name>()`` (optionally taking one element of a tuple)."""

    def load() -> np.ndarray:
        import skimage.data  # imported lazily: scikit-image is slow to import

        out = getattr(skimage.data, name)()
        return out if item is None else out[item]

    return load


# Name -> loader. ``cat`` and ``chelsea`` are the same photo (skimage names it both ways).
_LOADERS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _sk("astronaut"),
    "brick": _sk("brick"),
    "camera": _sk("camera"),
    "cat": _sk("cat"),
    "cell": _sk("cell"),
    "checkerboard": _sk("checkerboard"),
    "chelsea": _sk("chelsea"),
    "clock": _sk("clock"),
    "coffee": _sk("coffee"),
    "coins": _sk("coins"),
    "colorwheel": _sk("colorwheel"),
    "grass": _sk("grass"),
    "gravel": _sk("gravel"),
    "horse": _sk("horse"),
    "hubble_deep_field": _sk("hubble_deep_field"),
    "immunohistochemistry": _sk("immunohistochemistry"),
    "logo": _sk("logo"),
    "microaneurysms": _sk("microaneurysms"),
    "moon": _sk("moon"),
    "motorcycle_left": _sk("stereo_motorcycle", 0),
    "motorcycle_right": _sk("stereo_motorcycle", 1),
    "page": _sk("page"),
    "retina": _sk("retina"),
    "rocket": _sk("rocket"),
    "text": _sk("text"),
}
PHOTO_NAMES: tuple[str, ...] = tuple(_LOADERS)


def _to_unit_float(array: np.ndarray) -> np.ndarray:
    """Any skimage image dtype (bool, uint8, uint16, float) -> float32 in [0, 1]."""
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.float32) / np.iinfo(array.dtype).max
    return np.clip(array, 0.0, 1.0).astype(np.float32)


@lru_cache(maxsize=4)
def _load_chw(name: str) -> torch.Tensor:
    """The full-size photo as Tensor[3, H, W] float32 in [0, 1] (cached: decoding a PNG is slow)."""
    array = _to_unit_float(_LOADERS[name]())
    if array.ndim == 2:  # grey level [H, W] -> [H, W, 3]
        array = np.repeat(array[:, :, None], 3, axis=2)
    array = array[:, :, :3]  # drop an alpha channel (RGBA -> RGB)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))  # [H, W, 3] -> [3, H, W]


def load_photo(name: str, size: int | Sequence[int] | None = None) -> torch.Tensor:
    """Load one of the bundled scikit-image photos.

    Args:
        name: one of :data:`PHOTO_NAMES` (e.g. ``"astronaut"``, ``"camera"``, ``"coffee"``).
        size: ``None`` keeps the original size. An ``int`` resizes the *shorter* side to
            ``size`` and keeps the aspect ratio (like ``torchvision.transforms.Resize(int)``);
            a pair ``(H, W)`` resizes to exactly that. Resizing is antialiased bilinear.

    Returns:
        Tensor[3, H, W] float32, RGB, values in [0, 1]. A new tensor on each call.

    Raises:
        ValueError: for an unknown name (the message lists the valid names) or a bad size.

    Examples:
        >>> photo = load_photo("camera", size=64)
        >>> photo.shape, photo.dtype, bool(photo.min() >= 0) and bool(photo.max() <= 1)
        (torch.Size([3, 64, 64]), torch.float32, True)
        >>> load_photo("coffee", size=(32, 48)).shape
        torch.Size([3, 32, 48])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__} ({name!r})")
    if name not in _LOADERS:
        raise ValueError(f"unknown photo {name!r}; valid names are: {', '.join(PHOTO_NAMES)}")
    photo = _load_chw(name)
    if size is None:
        return photo.clone()
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"size must be None, an int or a pair (H, W), got {size!r}")
        target = [check_positive_int(size[0], "size[0]"), check_positive_int(size[1], "size[1]")]
        out_h, out_w = target
    elif isinstance(size, Integral) and not isinstance(size, bool):
        target = [check_positive_int(size, "size")]
        h, w = photo.shape[1:]  # the shorter side becomes size, the other keeps the aspect ratio
        out_h, out_w = (size, size * w // h) if h <= w else (size * h // w, size)
    else:
        raise TypeError(f"size must be None, an int or a pair (H, W), got {type(size).__name__} ({size!r})")
    check_numel(3 * out_h * out_w, "size", (3, out_h, out_w))
    from torchvision.transforms.v2.functional import resize

    # Bilinear (triangle) weights are non-negative: only float rounding can leave [0, 1].
    return resize(photo, target, antialias=True).clamp_(0.0, 1.0)
