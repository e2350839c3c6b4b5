"""Pretext tasks: patch pairs (reference and twin), cropping, the edge shortcut, rotations, jigsaw."""
import itertools

import pytest
import torch

from course_utils.data.pretext import (NEIGHBOUR_OFFSETS, _sample_patch_pairs_twin, crop_patches,
                                       edge_continuity_guess, jigsaw_permutations, jigsaw_tiles,
                                       relative_position_batch, rotate_batch, sample_patch_pairs, smooth_noise)


@pytest.mark.parametrize("sampler", [sample_patch_pairs, _sample_patch_pairs_twin])
@pytest.mark.parametrize("size,patch,gap,jitter", [((32, 32), 8, 2, 1), ((40, 34), 6, 3, 2), ((24, 30), 8, 0, 0)])
def test_patch_pair_rules(sampler, size, patch, gap, jitter):
    centre, neighbour, labels = sampler(size, 4000, patch, gap, jitter, torch.Generator().manual_seed(0))
    assert centre.dtype == neighbour.dtype == labels.dtype == torch.int64
    offsets = torch.tensor(NEIGHBOUR_OFFSETS)
    shift = neighbour - centre - offsets[labels] * (patch + gap)
    assert sorted(set(shift.flatten().tolist())) == list(range(-jitter, jitter + 1))
    margin = patch + gap + jitter
    for axis in (0, 1):
        assert int(centre[:, axis].min()) == margin and int(centre[:, axis].max()) == size[axis] - patch - margin
        assert int(neighbour[:, axis].min()) >= 0 and int(neighbour[:, axis].max()) <= size[axis] - patch
    assert sorted(set(labels.tolist())) == list(range(8))


def test_patch_pairs_errors_and_empty():
    with pytest.raises(ValueError, match="at least"):
        sample_patch_pairs((20, 20), 3, 8, gap=2)
    c, n, l = sample_patch_pairs((32, 32), 0, 8)
    assert c.shape == (0, 2) and l.shape == (0,)


def test_crop_patches_and_batch():
    images = torch.arange(2 * 3 * 10 * 10, dtype=torch.float32).view(2, 3, 10, 10)
    patches = crop_patches(images, torch.tensor([1, 0]), torch.tensor([[2, 3], [0, 0]]), 4)
    assert torch.equal(patches[0], images[1, :, 2:6, 3:7]) and torch.equal(patches[1], images[0, :, :4, :4])
    a, b, labels = relative_position_batch(torch.rand(5, 1, 32, 32), 7, 8, 2, 1, torch.Generator().manual_seed(0))
    assert a.shape == b.shape == (7, 1, 8, 8) and labels.shape == (7,)


def test_edge_rule_solves_touching_smooth_images():
    images = smooth_noise(400, 32, sigma=3.0, generator=torch.Generator().manual_seed(0))
    a, b, labels = relative_position_batch(images, 2000, 8, 0, 0, torch.Generator().manual_seed(1))
    touching = float((edge_continuity_guess(a, b) == labels).float().mean())
    a, b, labels = relative_position_batch(images, 2000, 8, 3, 1, torch.Generator().manual_seed(1))
    apart = float((edge_continuity_guess(a, b) == labels).float().mean())
    assert touching > 0.4 and apart < touching - 0.1


def test_smooth_noise_range():
    x = smooth_noise(3, 16, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 1, 16, 16) and float(x.min()) >= 0 and float(x.max()) <= 1


def test_rotate_batch():
    x = torch.rand(12, 1, 5, 5)
    out, k = rotate_batch(x, torch.Generator().manual_seed(0))
    for img, rot, angle in zip(x, out, k):
        assert torch.equal(rot, torch.rot90(img, int(angle), dims=(-2, -1)))
    with pytest.raises(ValueError):
        rotate_batch(torch.rand(2, 1, 4, 5))


def test_jigsaw_permutations_are_far_apart():
    perms = jigsaw_permutations(24, num_tiles=4)  # all 4! permutations
    assert sorted(map(tuple, perms.tolist())) == sorted(itertools.permutations(range(4)))
    perms = jigsaw_permutations(30, num_tiles=9, seed=1)
    distance = (perms[:, None] != perms[None]).sum(-1) + 100 * torch.eye(30, dtype=torch.int64)
    assert int(distance.min()) >= 6
    assert all(sorted(row) == list(range(9)) for row in perms.tolist())


def test_jigsaw_tiles():
    image = torch.arange(3 * 6 * 6, dtype=torch.float32).view(3, 6, 6)
    tiles = jigsaw_tiles(image, torch.tensor([8, 0, 1, 2, 3, 4, 5, 6, 7]), grid=3)
    assert tiles.shape == (9, 3, 2, 2)
    assert torch.equal(tiles[0], image[:, 4:6, 4:6]) and torch.equal(tiles[1], image[:, 0:2, 0:2])
