"""Cutting images into patches (the tokens of a Vision Transformer) and gluing them back.

Conventions:

* Images are ``Tensor[B, C, H, W]``; a patch size ``p`` must divide ``H`` and ``W``.
* Patches are numbered in reading order (row by row, left to right):
  patch ``n = r * (W / p) + c`` covers rows ``r p .. r p + p - 1`` and columns
  ``c p .. c p + p - 1``.
* A patch is flattened channel first, then row, then column (``(c, i, j)``), the order of
  ``F.unfold`` and of a ``Conv2d`` weight ``[D, C, p, p]``. That is why a linear layer on
  flattened patches and a ``Conv2d(C, D, kernel_size=p, stride=p)`` are the same patch
  embedding (:mod:`course_utils.models.vit`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = ["patchify", "patchify_loop", "unpatchify", "num_patches"]


def _image_size(image_size) -> tuple[int, int]:
    """``(H, W)`` from an int or a pair, refusing anything else with a message naming image_size."""
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        return image_size, image_size
    if not isinstance(image_size, (tuple, list, torch.Size)) or len(image_size) != 2:
        raise TypeError(f"image_size must be an int or a pair (H, W), got {type(image_size).__name__} ({image_size!r})")
    return tuple(image_size)


def num_patches(image_size: int | tuple[int, int], patch_size: int) -> int:
    """Number of ``p x p`` patches in an image: ``(H / p) * (W / p)``.

    Examples:
        >>> num_patches(224, 16), num_patches((32, 48), 8)
        (196, 24)
    """
    h, w = _image_size(image_size)
    for name, value in (("height", h), ("width", w)):
        check_positive_int(value, f"image {name}")
    check_positive_int(patch_size, "patch_size")
    if h % patch_size or w % patch_size:
        raise ValueError(f"the image size ({h} x {w}) must be divisible by the patch size ({patch_size})")
    return (h // patch_size) * (w // patch_size)


def _check_images(images: Tensor, patch_size: int) -> None:
    check_tensor(images, "images", ndim=4)
    check_positive_int(patch_size, "patch_size")
    h, w = images.shape[-2:]
    if h % patch_size or w % patch_size:
        raise ValueError(f"the image size ({h} x {w}) must be divisible by the patch size ({patch_size})")


def _patchify_twin(images: Tensor, patch_size: int) -> Tensor:
    """Twin of the patchify references: ``F.unfold`` with stride = kernel = patch size."""
    _check_images(images, patch_size)
    if images.is_floating_point():
        return F.unfold(images, patch_size, stride=patch_size).transpose(1, 2)  # [B, N, C p p]
    return F.unfold(images.double(), patch_size, stride=patch_size).transpose(1, 2).to(images.dtype)


@reference_of("06_transformers/patchify", twin=_patchify_twin)
def patchify_loop(images: Tensor, patch_size: int) -> Tensor:
    """Reference for :func:`patchify`: one patch at a time.

    Examples:
        >>> patchify_loop(torch.arange(16.0).reshape(1, 1, 4, 4), 2)[0]
        tensor([[ 0.,  1.,  4.,  5.],
                [ 2.,  3.,  6.,  7.],
                [ 8.,  9., 12., 13.],
                [10., 11., 14., 15.]])
    """
    _check_images(images, patch_size)
    b, c, h, w = images.shape
    p = patch_size
    rows, cols = h // p, w // p
    out = images.new_zeros(b, rows * cols, c * p * p)
    for r in range(rows):
        for col in range(cols):
            patch = images[:, :, r * p:(r + 1) * p, col * p:(col + 1) * p]  # [B, C, p, p]
            out[:, r * cols + col] = patch.reshape(b, c * p * p)  # flattened (c, i, j)
    return out


@reference_of("06_transformers/patchify", twin=_patchify_twin)
def patchify(images: Tensor, patch_size: int) -> Tensor:
    """Cut images into non-overlapping ``p x p`` patches, each flattened.

    Args:
        images: ``Tensor[B, C, H, W]``, with ``H`` and ``W`` divisible by ``patch_size``.
        patch_size: ``p``.

    Returns:
        ``Tensor[B, N, C * p * p]`` with ``N = (H / p) (W / p)`` patches in reading order,
        each flattened in ``(c, i, j)`` order (see the module docstring).

    Examples:
        >>> patchify(torch.zeros(2, 3, 32, 32), 8).shape
        torch.Size([2, 16, 192])
    """
    _check_images(images, patch_size)
    b, c, h, w = images.shape
    p = patch_size
    x = images.reshape(b, c, h // p, p, w // p, p)  # [B, C, rows, i, cols, j]
    x = x.permute(0, 2, 4, 1, 3, 5)  # [B, rows, cols, C, i, j]
    return x.reshape(b, (h // p) * (w // p), c * p * p)  # [B, N, C p p]


def unpatchify(patches: Tensor, patch_size: int, image_size: int | tuple[int, int]) -> Tensor:
    """Inverse of :func:`patchify`: ``[B, N, C p p] -> [B, C, H, W]``.

    Examples:
        >>> x = torch.randn(2, 3, 8, 12)
        >>> torch.equal(unpatchify(patchify(x, 4), 4, (8, 12)), x)
        True
    """
    check_tensor(patches, "patches", ndim=3)
    h, w = _image_size(image_size)
    n = num_patches((h, w), patch_size)
    p = patch_size
    b, count, features = patches.shape
    if count != n or features % (p * p):
        raise ValueError(f"patches of shape {list(patches.shape)} do not tile a {h} x {w} image with "
                         f"{p} x {p} patches ({n} patches of C * {p * p} values)")
    c = features // (p * p)
    x = patches.reshape(b, h // p, w // p, c, p, p)  # [B, rows, cols, C, i, j]
    return x.permute(0, 3, 1, 4, 2, 5).reshape(b, c, h, w)
