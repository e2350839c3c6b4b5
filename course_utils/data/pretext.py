"""Pretext tasks: labels that come from the images themselves.

* Relative patch position (Doersch, Gupta and Efros 2015): a centre patch and one of its
  eight neighbours; the label says which neighbour. :data:`NEIGHBOUR_OFFSETS` lists the
  eight directions in reading order. A *gap* between the patches and a random *jitter* of
  the neighbour stop the network from solving the task by matching the pixels along the
  shared edge; :func:`edge_continuity_guess` is that shortcut written by hand.
* Jigsaw puzzles (Noroozi and Favaro 2016): :func:`jigsaw_permutations` picks a set of
  permutations far apart in Hamming distance, :func:`jigsaw_tiles` shuffles an image's tiles.
* Rotation prediction (Gidaris et al. 2018): :func:`rotate_batch`.

Coordinates are ``(row, col)`` of a patch's top-left pixel, in pixels.
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["NEIGHBOUR_OFFSETS", "NEIGHBOUR_NAMES", "sample_patch_pairs", "crop_patches", "relative_position_batch",
           "edge_continuity_guess", "smooth_noise", "rotate_batch", "jigsaw_permutations", "jigsaw_tiles"]

#: (d_row, d_col) of the 8 neighbours, in reading order: label k is NEIGHBOUR_OFFSETS[k].
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
NEIGHBOUR_NAMES = ("top-left", "top", "top-right", "left", "right", "bottom-left", "bottom", "bottom-right")


def _sample_patch_pairs_twin(image_size, num_pairs, patch_size, gap=0, max_jitter=0, generator=None):
    """Twin of :func:`sample_patch_pairs` with the draws in another order (labels first)."""
    height, width, margin = _check_pairs(image_size, num_pairs, patch_size, gap, max_jitter)
    labels = torch.randint(0, 8, (num_pairs,), generator=generator)
    jitter = torch.randint(-max_jitter, max_jitter + 1, (num_pairs, 2), generator=generator)
    rows = torch.randint(margin, height - patch_size - margin + 1, (num_pairs,), generator=generator)
    cols = torch.randint(margin, width - patch_size - margin + 1, (num_pairs,), generator=generator)
    centre = torch.stack([rows, cols], 1)
    offsets = torch.tensor(NEIGHBOUR_OFFSETS, dtype=torch.int64)
    return centre, centre + offsets[labels] * (patch_size + gap) + jitter, labels


def _check_pairs(image_size, num_pairs, patch_size, gap, max_jitter) -> tuple[int, int, int]:
    height, width = image_size
    check_positive_int(height, "image height")
    check_positive_int(width, "image width")
    check_nonnegative_int(num_pairs, "num_pairs")
    check_positive_int(patch_size, "patch_size")
    check_nonnegative_int(gap, "gap")
    check_nonnegative_int(max_jitter, "max_jitter")
    margin = patch_size + gap + max_jitter
    if min(height, width) < 2 * margin + patch_size:
        raise ValueError(f"a 3 x 3 layout of {patch_size}-pixel patches with gap {gap} and jitter {max_jitter} needs "
                         f"images of at least {2 * margin + patch_size} pixels, got {image_size}")
    return height, width, margin


@reference_of("07_self_supervised/patch_pairs", twin=_sample_patch_pairs_twin)
def sample_patch_pairs(image_size: tuple[int, int], num_pairs: int, patch_size: int, gap: int = 0,
                       max_jitter: int = 0, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Random (centre, neighbour, label) triples for relative position prediction.

    The neighbour's corner is ``centre + NEIGHBOUR_OFFSETS[label] * (patch_size + gap) + jitter``
    with ``jitter`` uniform in ``[-max_jitter, max_jitter]`` on each axis. The centre is uniform
    over the positions that keep every possible neighbour inside the image: each coordinate in
    ``[m, size - patch_size - m]`` with ``m = patch_size + gap + max_jitter``.

    Args:
        image_size: ``(H, W)``.
        num_pairs: ``N``.
        patch_size: side ``P`` of the square patches.
        gap: pixels left out between neighbouring patches.
        max_jitter: largest random shift of the neighbour along each axis.
        generator: the source of randomness.

    Returns:
        ``(centre Tensor[N, 2], neighbour Tensor[N, 2], labels Tensor[N])``, all int64; corners are
        ``(row, col)`` of the top-left pixel, labels in ``0..7``.

    Examples:
        >>> c, nb, lab = sample_patch_pairs((32, 32), 5, 8, gap=2, max_jitter=1, generator=torch.Generator().manual_seed(0))
        >>> c.shape, nb.shape, lab.shape, bool(((nb >= 0) & (nb <= 32 - 8)).all())
        (torch.Size([5, 2]), torch.Size([5, 2]), torch.Size([5]), True)
    """
    height, width, margin = _check_pairs(image_size, num_pairs, patch_size, gap, max_jitter)
    rows = torch.randint(margin, height - patch_size - margin + 1, (num_pairs,), generator=generator)
    cols = torch.randint(margin, width - patch_size - margin + 1, (num_pairs,), generator=generator)
    centre = torch.stack([rows, cols], dim=1)  # [N, 2]
    labels = torch.randint(0, 8, (num_pairs,), generator=generator)  # [N]
    jitter = torch.randint(-max_jitter, max_jitter + 1, (num_pairs, 2), generator=generator)  # [N, 2]
    offsets = torch.tensor(NEIGHBOUR_OFFSETS, dtype=torch.int64)  # [8, 2]
    neighbour = centre + offsets[labels] * (patch_size + gap) + jitter  # [N, 2]
    return centre, neighbour, labels


def crop_patches(images: Tensor, image_index: Tensor, corners: Tensor, patch_size: int) -> Tensor:
    """Cut ``patch_size`` squares out of a batch of images, one per row of ``corners``.

    Args:
        images: ``Tensor[B, C, H, W]``.
        image_index: ``Tensor[N]`` int64, which image each patch comes from.
        corners: ``Tensor[N, 2]`` int64 top-left ``(row, col)``, patches inside the image.

    Returns:
        ``Tensor[N, C, P, P]``.

    Examples:
        >>> img = torch.arange(16.0).view(1, 1, 4, 4)
        >>> crop_patches(img, torch.tensor([0]), torch.tensor([[1, 2]]), 2)[0, 0].tolist()
        [[6.0, 7.0], [10.0, 11.0]]
    """
    check_tensor(images, "images", ndim=4)
    check_tensor(corners, "corners", shape=(image_index.shape[0], 2))
    steps = torch.arange(patch_size, device=images.device)
    rows = corners[:, 0, None] + steps  # [N, P]
    cols = corners[:, 1, None] + steps  # [N, P]
    idx = image_index[:, None, None, None]  # [N, 1, 1, 1]
    channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]  # [1, C, 1, 1]
    return images[idx, channels, rows[:, None, :, None], cols[:, None, None, :]]  # [N, C, P, P]


@not_an_answer("07_self_supervised/patch_pairs", why="a convenience that calls the reference sampler and crops")
def relative_position_batch(images: Tensor, num_pairs: int, patch_size: int, gap: int = 0, max_jitter: int = 0,
                            generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """``num_pairs`` (centre patch, neighbour patch, label) triples from random images of the batch.

    Returns:
        ``(Tensor[N, C, P, P], Tensor[N, C, P, P], Tensor[N] int64)``.
    """
    check_tensor(images, "images", ndim=4)
    which = torch.randint(0, images.shape[0], (num_pairs,), generator=generator)
    centre, neighbour, labels = sample_patch_pairs(tuple(images.shape[-2:]), num_pairs, patch_size, gap, max_jitter,
                                                   generator)
    return (crop_patches(images, which, centre.to(images.device), patch_size),
            crop_patches(images, which, neighbour.to(images.device), patch_size), labels.to(images.device))


def edge_continuity_guess(centre: Tensor, neighbour: Tensor) -> Tensor:
    """The shortcut, by hand: guess the direction whose facing patch borders match best.

    For each of the 8 directions, the mean absolute difference between the border rows or
    columns that would touch if the patches were adjacent (two borders for a diagonal
    neighbour: its corner pixels' row and column); the guess is the direction with the
    smallest difference. Meaningful only without a gap.

    Args:
        centre, neighbour: ``Tensor[N, C, P, P]``.

    Returns:
        ``Tensor[N]`` int64 labels.
    """
    check_tensor(centre, "centre", ndim=4)
    check_tensor(neighbour, "neighbour", shape=tuple(centre.shape))
    scores = []
    for d_row, d_col in NEIGHBOUR_OFFSETS:
        diffs = []
        if d_row == -1:
            diffs.append((centre[:, :, 0, :] - neighbour[:, :, -1, :]).abs().mean((1, 2)))
        if d_row == 1:
            diffs.append((centre[:, :, -1, :] - neighbour[:, :, 0, :]).abs().mean((1, 2)))
        if d_col == -1:
            diffs.append((centre[:, :, :, 0] - neighbour[:, :, :, -1]).abs().mean((1, 2)))
        if d_col == 1:
            diffs.append((centre[:, :, :, -1] - neighbour[:, :, :, 0]).abs().mean((1, 2)))
        scores.append(sum(diffs) / len(diffs))
    return torch.stack(scores, dim=1).argmin(dim=1)  # [N]


def smooth_noise(n: int, size: int, sigma: float = 2.0, generator: torch.Generator | None = None) -> Tensor:
    """Images with nothing in them: Gaussian-smoothed white noise, ``Tensor[n, 1, size, size]`` in [0, 1].

    Stationary noise has no "up" or "left": any relative-position accuracy above chance on
    it comes from low-level continuity across the patches, not from content.
    """
    check_nonnegative_int(n, "n")
    check_positive_int(size, "size")
    radius = max(1, int(3 * sigma))
    x = torch.randn(n, 1, size + 2 * radius, size + 2 * radius, generator=generator)
    r = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-r ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.conv2d(F.conv2d(x, k.view(1, 1, 1, -1)), k.view(1, 1, -1, 1))  # separable blur, valid: [n, 1, size, size]
    x = x / x.flatten(1).std(dim=1).clamp(min=1e-6).view(-1, 1, 1, 1)
    return (0.5 + 0.2 * x).clamp(0.0, 1.0)


def rotate_batch(images: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Rotate each image by a random multiple of 90 degrees; the label is the multiple (0..3).

    Examples:
        >>> x, k = rotate_batch(torch.rand(6, 1, 5, 5), torch.Generator().manual_seed(0))
        >>> x.shape, bool(((k >= 0) & (k < 4)).all())
        (torch.Size([6, 1, 5, 5]), True)
    """
    check_tensor(images, "images", ndim=4)
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"rotate_batch needs square images, got {list(images.shape[-2:])}")
    labels = torch.randint(0, 4, (images.shape[0],), generator=generator)
    out = torch.stack([torch.rot90(img, int(k), dims=(-2, -1)) for img, k in zip(images, labels)]) \
        if images.shape[0] else images.clone()
    return out, labels.to(images.device)


def jigsaw_permutations(num_permutations: int, num_tiles: int = 9, seed: int = 0) -> Tensor:
    """A set of tile permutations far apart from each other (Noroozi and Favaro's greedy choice).

    Starting from a random permutation, repeatedly add the candidate whose smallest Hamming
    distance to the chosen ones is largest; candidates are all ``num_tiles!`` permutations for
    up to 8 tiles and 20,000 random ones beyond.

    Returns:
        ``Tensor[num_permutations, num_tiles]`` int64, each row a permutation of ``0..num_tiles-1``.

    Examples:
        >>> p = jigsaw_permutations(4, num_tiles=4)
        >>> p.shape, [sorted(row) for row in p.tolist()][0]
        (torch.Size([4, 4]), [0, 1, 2, 3])
    """
    check_positive_int(num_permutations, "num_permutations")
    check_positive_int(num_tiles, "num_tiles")
    g = torch.Generator().manual_seed(seed)
    if num_tiles <= 8:
        candidates = torch.tensor(list(itertools.permutations(range(num_tiles))), dtype=torch.int64)
    else:
        candidates = torch.stack([torch.randperm(num_tiles, generator=g) for _ in range(20_000)])
    if num_permutations > len(candidates):
        raise ValueError(f"only {len(candidates)} candidate permutations, asked for {num_permutations}")
    chosen = [int(torch.randint(len(candidates), (1,), generator=g))]
    min_dist = (candidates != candidates[chosen[0]]).sum(1)  # [M] Hamming distance to the chosen set
    for _ in range(num_permutations - 1):
        best = int(torch.argmax(min_dist))
        chosen.append(best)
        min_dist = torch.minimum(min_dist, (candidates != candidates[best]).sum(1))
    return candidates[chosen]


def jigsaw_tiles(image: Tensor, permutation: Tensor, grid: int = 3) -> Tensor:
    """Cut ``image`` (``Tensor[C, H, W]``) into ``grid x grid`` tiles and return them shuffled.

    Tile ``t`` of the output is tile ``permutation[t]`` of the image (tiles in reading order).

    Returns:
        ``Tensor[grid * grid, C, H // grid, W // grid]``.
    """
    check_tensor(image, "image", ndim=3)
    c, h, w = image.shape
    th, tw = h // grid, w // grid
    tiles = image[:, :th * grid, :tw * grid].reshape(c, grid, th, grid, tw).permute(1, 3, 0, 2, 4)  # [g, g, C, th, tw]
    return tiles.reshape(grid * grid, c, th, tw)[permutation]
