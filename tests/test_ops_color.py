"""Lab conversion against scikit-image, ab bins against bucketize, rebalancing and annealed mean."""
import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from course_utils.ops.color import (_ab_to_bin_twin, _rgb_to_lab_twin, ab_to_bin, annealed_mean, bin_centers,
                                    lab_to_rgb, num_bins_per_axis, rebalancing_weights, rgb_to_lab, rgb_to_lab_pixel)


def skimage_lab(rgb):
    return torch.from_numpy(rgb2lab(rgb.double().movedim(-3, -1).numpy())).movedim(-1, -3)


@pytest.mark.parametrize("shape", [(3, 1, 1), (2, 3, 5, 7), (1, 2, 3, 4, 4)])
def test_rgb_to_lab_matches_skimage(shape):
    g = torch.Generator().manual_seed(len(shape))
    rgb = torch.rand(shape, generator=g, dtype=torch.float64) ** 2  # many dark values: both branches
    torch.testing.assert_close(rgb_to_lab(rgb), skimage_lab(rgb), atol=1e-9, rtol=0)
    torch.testing.assert_close(rgb_to_lab(rgb.float()).double(), skimage_lab(rgb), atol=2e-3, rtol=0)
    torch.testing.assert_close(_rgb_to_lab_twin(rgb), skimage_lab(rgb))
    assert rgb_to_lab(rgb.float()).dtype == torch.float32


def test_pixel_loop_matches_vectorized():
    g = torch.Generator().manual_seed(0)
    for rgb in torch.rand(20, 3, generator=g, dtype=torch.float64).tolist() + [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.01, 0.02, 0.0]]:
        expected = rgb_to_lab(torch.tensor(rgb, dtype=torch.float64).view(3, 1, 1)).flatten().tolist()
        assert rgb_to_lab_pixel(*rgb) == pytest.approx(expected, abs=1e-9)


def test_known_colours():
    white = rgb_to_lab(torch.ones(3, 1, 1, dtype=torch.float64)).flatten()
    assert white.tolist() == pytest.approx([100.0, 0.0, 0.0], abs=1e-2)  # the matrix rows sum to the white point to 4 digits
    assert rgb_to_lab(torch.zeros(3, 1, 1)).flatten().tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)


def test_lab_to_rgb_inverts_and_matches_skimage():
    rgb = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(lab_to_rgb(rgb_to_lab(rgb)), rgb)
    lab = torch.stack([torch.full((4, 4), 50.0), torch.linspace(-100, 100, 16).view(4, 4), torch.zeros(4, 4)]).double()
    expected = torch.from_numpy(lab2rgb(lab.movedim(0, -1).numpy())).movedim(-1, 0)
    torch.testing.assert_close(lab_to_rgb(lab), expected, atol=1e-6, rtol=0)


def test_ab_to_bin_rules_and_twin():
    def one(a, b, **kw):
        return int(ab_to_bin(torch.tensor([a, b]).view(2, 1, 1), **kw))
    assert one(0.0, 0.0) == 11 * 22 + 11
    assert one(-0.5, 0.0) == 10 * 22 + 11
    assert one(-1000.0, 1000.0) == 21
    assert one(110.0, 109.99) == 22 * 22 - 1
    assert one(-0.5, 45.0, grid_size=20.0, ab_max=100.0) == 47
    ab = torch.randn(3, 2, 7, 5, generator=torch.Generator().manual_seed(0)) * 70
    assert torch.equal(ab_to_bin(ab), _ab_to_bin_twin(ab))
    assert torch.equal(ab_to_bin(ab, 20.0, 120.0), _ab_to_bin_twin(ab, 20.0, 120.0))
    assert ab_to_bin(torch.zeros(0, 2, 3, 3)).shape == (0, 3, 3)
    assert ab_to_bin(ab).dtype == torch.int64


def test_bin_centers_are_in_their_bins():
    centers = bin_centers()
    assert centers.shape == (num_bins_per_axis() ** 2, 2)
    assert torch.equal(ab_to_bin(centers.T.reshape(2, -1, 1)).flatten(), torch.arange(len(centers)))
    with pytest.raises(ValueError, match="whole number"):
        num_bins_per_axis(7.0, 110.0)


def test_rebalancing_weights():
    centers = bin_centers()[:5]
    counts = torch.tensor([1000.0, 10.0, 0.0, 1.0, 100.0])
    w = rebalancing_weights(counts, centers, sigma=0.0)
    p = counts / counts.sum()
    assert float((p * w).sum()) == pytest.approx(1.0)
    assert w.argmax() == 2 and w.argmin() == 0  # rarest bin weighs most
    uniform = rebalancing_weights(counts, centers, mix=1.0)
    assert torch.allclose(uniform, torch.ones(5))  # mix 1: every weight 1 (normalized)
    smoothed = rebalancing_weights(counts, centers, sigma=5.0)
    assert torch.isfinite(smoothed).all() and (smoothed > 0).all()


def test_annealed_mean():
    centers = torch.tensor([[50.0, 0.0], [-50.0, 0.0], [0.0, 30.0]])
    probs = torch.tensor([0.5, 0.3, 0.2]).view(1, 3, 1, 1)
    mean = annealed_mean(probs, centers, 1.0).flatten()
    assert mean.tolist() == pytest.approx([10.0, 6.0], abs=1e-4)
    mode = annealed_mean(probs, centers, 0.01).flatten()
    assert mode.tolist() == pytest.approx([50.0, 0.0], abs=1e-3)
    sharper = annealed_mean(probs, centers, 0.38).flatten()
    assert mean[0] < sharper[0] < mode[0]
