"""Keypoint heatmap ops (course_utils.ops.keypoints): loops vs vectorized vs twins, decoding accuracy, flips."""
from __future__ import annotations

import math

import pytest
import torch

from course_utils.data.figures import FLIP_PAIRS, KEYPOINT_NAMES, heatmaps_to_keypoints, render_heatmaps
from course_utils.data.figures import hflip_keypoints as figures_hflip_keypoints
from course_utils.ops import keypoints as ko

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: 1e-5, torch.float64: 1e-12}


def _points(k, h, w, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(k, 2, generator=g, dtype=dtype) * torch.tensor([w - 1, h - 1], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_heatmaps_loop_vectorized_twin(dtype):
    kp = _points(4, 7, 9, seed=0, dtype=dtype)
    fast = ko.gaussian_heatmaps(kp, 7, 9, sigma=1.5)
    assert fast.shape == (4, 7, 9) and fast.dtype == dtype
    torch.testing.assert_close(fast, ko.gaussian_heatmaps_loop(kp, 7, 9, 1.5), atol=TOL[dtype], rtol=TOL[dtype])
    torch.testing.assert_close(fast, ko._gaussian_heatmaps_twin(kp, 7, 9, 1.5), atol=TOL[dtype], rtol=TOL[dtype])


def test_gaussian_heatmaps_peak_and_empty():
    maps = ko.gaussian_heatmaps(torch.tensor([[3.0, 2.0], [0.0, 0.0]]), 5, 6, sigma=2.0)
    assert maps[0, 2, 3] == 1.0 and maps[1, 0, 0] == 1.0
    assert maps[0, 2, 4] == pytest.approx(torch.exp(torch.tensor(-1 / 8)).item())
    assert ko.gaussian_heatmaps(torch.zeros(0, 2), 4, 5, 1.0).shape == (0, 4, 5)
    with pytest.raises(ValueError):
        ko.gaussian_heatmaps(torch.zeros(2, 2), 4, 5, 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_keypoints_variants_agree(dtype):
    g = torch.Generator().manual_seed(1)
    maps = torch.rand(2, 3, 6, 7, generator=g, dtype=dtype)
    maps[0, 1] = 0.5  # all tied: the first cell
    maps[1, 2, 4, 5] = maps[1, 2, 0, 6] = 9.0  # tie between (row 0, col 6) and (row 4, col 5)
    fast = ko.argmax_keypoints(maps)
    assert fast.shape == (2, 3, 2) and fast.dtype == dtype
    assert fast[0, 1].tolist() == [0.0, 0.0] and fast[1, 2].tolist() == [6.0, 0.0]
    assert torch.equal(fast, ko.argmax_keypoints_loop(maps))
    assert torch.equal(fast, ko._argmax_keypoints_twin(maps))
    assert torch.equal(fast, heatmaps_to_keypoints(maps, refine=False)[..., :2])
    assert ko.argmax_keypoints(torch.zeros(0, 4, 4)).shape == (0, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta", [0.5, 1.0, 50.0])
def test_soft_argmax_variants_agree(dtype, beta):
    g = torch.Generator().manual_seed(2)
    maps = torch.randn(2, 3, 5, 6, generator=g, dtype=dtype) * 3
    fast = ko.soft_argmax(maps, beta)
    assert fast.shape == (2, 3, 2) and fast.dtype == dtype
    torch.testing.assert_close(fast, ko.soft_argmax_loop(maps, beta), atol=TOL[dtype] * 10, rtol=TOL[dtype])
    torch.testing.assert_close(fast, ko._soft_argmax_twin(maps, beta), atol=TOL[dtype] * 10, rtol=TOL[dtype])


def test_soft_argmax_is_stable_and_limits():
    maps = torch.zeros(1, 4, 5)
    maps[0, 2, 3] = 1000.0  # exp(1000) would overflow without subtracting the maximum
    assert ko.soft_argmax(maps).tolist() == [[3.0, 2.0]]
    flat = torch.zeros(1, 3, 5)
    assert ko.soft_argmax(flat).tolist() == [[2.0, 1.0]]  # uniform: the centre of the map
    centred = ko.gaussian_heatmaps(torch.tensor([[4.4, 5.6]], dtype=torch.float64), 10, 10, 1.0).log()
    assert torch.allclose(ko.soft_argmax(centred), torch.tensor([[4.4, 5.6]], dtype=torch.float64), atol=1e-3)
    near_edge = ko.gaussian_heatmaps(torch.tensor([[1.3, 2.7]], dtype=torch.float64), 6, 6, 1.0).log()
    assert ko.soft_argmax(near_edge)[0, 0] > 1.33  # a truncated Gaussian pulls soft-argmax inwards


def test_soft_argmax_has_gradients():
    maps = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda m: ko.soft_argmax(m, 2.0), (maps,))


def test_refinements_on_exact_gaussians():
    g = torch.Generator().manual_seed(3)
    kp = torch.rand(50, 2, generator=g, dtype=torch.float64) * 10 + 2  # away from the border
    maps = ko.gaussian_heatmaps(kp, 16, 16, 1.0)
    coarse = ko.argmax_keypoints(maps)
    parabola = ko.parabola_offset(maps.log(), coarse)
    torch.testing.assert_close(parabola, kp, atol=1e-9, rtol=0)  # the log of a Gaussian is a parabola
    quarter = ko.quarter_offset(maps, coarse)
    err = lambda p: (p - kp).norm(dim=-1).mean()  # noqa: E731
    assert err(parabola) < err(quarter) < err(coarse)
    data_decoder = heatmaps_to_keypoints(maps.float(), refine=True)[:, :2].double()
    torch.testing.assert_close(parabola, data_decoder, atol=1e-4, rtol=0)


def test_quarter_offset_rules():
    h = torch.tensor([[[0.0, 0.3, 1.0, 0.3, 0.0]]])
    assert ko.quarter_offset(h, ko.argmax_keypoints(h)).tolist() == [[2.0, 0.0]]  # equal neighbours: no move
    edge = torch.tensor([[[1.0, 0.5, 0.0]]])
    assert ko.quarter_offset(edge, ko.argmax_keypoints(edge)).tolist() == [[0.0, 0.0]]


def test_cells_to_pixels_matches_the_dataset():
    kp = torch.tensor([[10.0, 21.0, 1.0], [33.0, 5.0, 1.0]])
    maps = render_heatmaps(kp, (48, 48), sigma=1.0, stride=4, include_occluded=True)
    coarse = ko.argmax_keypoints(maps)
    assert torch.equal(ko.cells_to_pixels(coarse, 4), heatmaps_to_keypoints(maps, stride=4, refine=False)[:, :2])


def test_flips_swap_and_agree_with_the_dataset():
    g = torch.Generator().manual_seed(4)
    kp = torch.rand(15, 3, generator=g) * 63
    kp[:, 2] = (torch.rand(15, generator=g) > 0.3).float()
    ours = ko.hflip_keypoints(kp, 64, FLIP_PAIRS)
    assert torch.equal(ours, figures_hflip_keypoints(kp, 64))
    torch.testing.assert_close(ko.hflip_keypoints(ours, 64, FLIP_PAIRS), kp)  # an involution
    image = torch.rand(3, 64, 64, generator=g)
    for fn in (ko.hflip_image_and_keypoints, ko._hflip_image_and_keypoints_twin):
        flipped_image, flipped_kp = fn(image, kp, FLIP_PAIRS)
        assert torch.equal(flipped_image, image.flip(-1))
        assert torch.equal(flipped_kp, ours)
    left, right = KEYPOINT_NAMES.index("left_wrist"), KEYPOINT_NAMES.index("right_wrist")
    assert ours[left, 0] == 63 - kp[right, 0]


def test_flip_heatmaps_align_at_every_stride():
    """Rendering the flipped keypoints equals flipping the rendered maps: no half-cell shift."""
    g = torch.Generator().manual_seed(5)
    kp = torch.rand(15, 3, generator=g) * 60 + 2
    kp[:, 2] = 1
    for stride in (1, 2, 4):
        maps = render_heatmaps(kp, (64, 64), sigma=1.0, stride=stride, include_occluded=True)
        of_flipped = render_heatmaps(ko.hflip_keypoints(kp, 64, FLIP_PAIRS), (64, 64), sigma=1.0, stride=stride,
                                     include_occluded=True)
        torch.testing.assert_close(ko.flip_heatmaps(of_flipped, FLIP_PAIRS), maps)
        torch.testing.assert_close(ko.flip_heatmaps(ko.flip_heatmaps(maps, FLIP_PAIRS), FLIP_PAIRS), maps)


def test_flip_test_averages_an_equivariant_predictor():
    kp = torch.rand(2, 15, 3) * 60 + 2
    kp[..., 2] = 1

    def perfect(images):  # an oracle that "sees" the keypoints drawn into channel 0
        flipped = images[:, 1, 0, 0] > 0  # flag set by images.flip(-1) below
        points = torch.where(flipped[:, None, None], ko.hflip_keypoints(kp, 64, FLIP_PAIRS), kp)
        return render_heatmaps(points, (64, 64), sigma=1.0, stride=4, include_occluded=True)

    images = torch.zeros(2, 3, 64, 64)
    images[:, 1, 0, -1] = 1.0  # becomes pixel (0, 0) after a flip
    expected = render_heatmaps(kp, (64, 64), sigma=1.0, stride=4, include_occluded=True)
    torch.testing.assert_close(ko.flip_test(perfect, images, FLIP_PAIRS), expected)
    broken = ko.flip_test(perfect, images, FLIP_PAIRS, swap=False)
    assert (broken - expected).abs().max() > 0.3  # forgetting the swap mixes left and right


def test_flip_pairs_are_checked():
    with pytest.raises(ValueError):
        ko.flip_index(4, [(0, 1), (1, 2)])
    with pytest.raises(ValueError):
        ko.flip_index(4, [(0, 7)])


def test_cases_found_by_the_property_tests():
    # maps without cells: (0, 0), as argmax_keypoints already did; the loops used to fail in reshape(-1, 0, W)
    empty = torch.zeros(2, 3, 0, 5)
    for fn in (ko.argmax_keypoints, ko.argmax_keypoints_loop, ko.soft_argmax, ko.soft_argmax_loop):
        assert torch.equal(fn(empty), torch.zeros(2, 3, 2))
    # beta must be a finite number > 0 (documented; was unchecked)
    for fn in (ko.soft_argmax, ko.soft_argmax_loop):
        for bad in (-1.0, 0.0, math.nan):
            with pytest.raises(ValueError, match="beta"):
                fn(torch.zeros(1, 2, 2), bad)
        with pytest.raises(TypeError, match="beta"):
            fn(torch.zeros(1, 2, 2), "1")
    # the renderers refuse what their twin refuses: NaN keypoints, infinite sigma, sizes beyond memory
    for fn in (ko.gaussian_heatmaps, ko.gaussian_heatmaps_loop):
        with pytest.raises(ValueError, match="keypoints must be finite"):
            fn(torch.tensor([[math.nan, 1.0]]), 3, 4, 1.0)
        with pytest.raises(ValueError, match="sigma"):
            fn(torch.zeros(1, 2), 3, 4, math.inf)
        with pytest.raises(ValueError, match="height"):
            fn(torch.zeros(1, 2), 10**6, 10**6, 1.0)


def test_flips_and_refinements_found_by_the_property_tests():
    # no keypoints: empty results (flip_index(0, []) used to refuse num_keypoints, which hflip_keypoints does not take)
    assert ko.flip_index(0, []) == []
    assert ko.hflip_keypoints(torch.zeros(0, 3), 10, []).shape == (0, 3)
    assert ko.flip_heatmaps(torch.zeros(0, 3, 4), []).shape == (0, 3, 4)
    kp, image = torch.tensor([[1.0, 5.0, 1.0], [2.0, 6.0, 0.0]]), torch.zeros(1, 4, 10)
    # malformed pairs: named (were unpacking errors, or an IndexError in hflip_image_and_keypoints)
    with pytest.raises(TypeError, match="flip_pairs"):
        ko.hflip_keypoints(kp, 10, [(0,)])
    for bad in ([(0, 5)], [(0, 1), (1, 0)]):
        with pytest.raises(ValueError, match="flip_pairs"):
            ko.hflip_image_and_keypoints(image, kp, bad)
    with pytest.raises(ValueError, match="keypoints"):
        ko.hflip_image_and_keypoints(image, kp[:, :1], [])
    # coords of the refinements are checked (were gather errors); maps without cells are returned unrefined
    for fn in (ko.quarter_offset, ko.parabola_offset):
        with pytest.raises(ValueError, match="coords must have shape"):
            fn(torch.zeros(2, 3, 4), torch.zeros(3, 2))
        with pytest.raises(TypeError, match="coords"):
            fn(torch.zeros(2, 3, 4), [[0, 0], [0, 0]])
        assert torch.equal(fn(torch.zeros(2, 0, 4), torch.ones(2, 2)), torch.ones(2, 2))
