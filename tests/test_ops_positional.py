"""Tests of course_utils.ops.positional: the sinusoidal encoding and Fourier features."""
import math

import pytest
import torch

from course_utils.ops import positional as P


@pytest.mark.parametrize("num, dim", [(1, 2), (7, 4), (50, 16), (128, 64), (0, 8)])
def test_sinusoidal_versions_agree(num, dim):
    loop = P.sinusoidal_encoding_loop(num, dim, dtype=torch.float64)
    fast = P.sinusoidal_encoding(num, dim, dtype=torch.float64)
    twin = P._sinusoidal_twin(num, dim, dtype=torch.float64)
    assert fast.shape == (num, dim) and fast.dtype == torch.float64
    torch.testing.assert_close(fast, loop, atol=1e-12, rtol=0)
    torch.testing.assert_close(twin, loop, atol=1e-12, rtol=0)


def test_sinusoidal_formula_by_hand():
    pe = P.sinusoidal_encoding(11, 6, dtype=torch.float64)
    for p in (0, 3, 10):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert pe[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-12)
            assert pe[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-12)
    assert torch.equal(pe[0], torch.tensor([0.0, 1.0] * 3, dtype=torch.float64))


def test_sinusoidal_relative_positions():
    """The dot product of two encodings depends only on their distance (sum of cos(w (p - p')))."""
    pe = P.sinusoidal_encoding(100, 32, dtype=torch.float64)
    assert (pe[10] @ pe[15]).item() == pytest.approx((pe[40] @ pe[45]).item(), abs=1e-10)
    torch.testing.assert_close((pe * pe).sum(1), torch.full((100,), 16.0, dtype=torch.float64))


def test_sinusoidal_float32_large_positions():
    pe32 = P.sinusoidal_encoding(5000, 16)
    pe64 = P.sinusoidal_encoding(5000, 16, dtype=torch.float64)
    assert pe32.dtype == torch.float32
    torch.testing.assert_close(pe32.double(), pe64, atol=1e-6, rtol=0)


def test_sinusoidal_checks():
    with pytest.raises(ValueError, match="even"):
        P.sinusoidal_encoding(4, 5)
    with pytest.raises(ValueError):
        P.sinusoidal_encoding_loop(4, 0)
    with pytest.raises(ValueError, match="base"):
        P.sinusoidal_encoding(4, 4, base=1.0)


def test_fourier_features():
    coords = torch.rand(10, 2, generator=torch.Generator().manual_seed(0))
    b = P.fourier_matrix(2, 6, 3.0, seed=1)
    assert torch.equal(b, P.fourier_matrix(2, 6, 3.0, seed=1)) and b.shape == (2, 6)
    feats = P.fourier_features(coords, b)
    assert feats.shape == (10, 12)
    torch.testing.assert_close(feats[:, :6] ** 2 + feats[:, 6:] ** 2, torch.ones(10, 6))
    torch.testing.assert_close(feats[:, :6], torch.sin(2 * math.pi * coords @ b))
    with pytest.raises(ValueError):
        P.fourier_features(coords, torch.zeros(3, 4))
    with pytest.raises(ValueError):
        P.fourier_matrix(2, 3, 0.0)


def test_malformed_arguments_found_by_the_property_tests():
    """Each used to crash inside PyTorch (allocation, manual_seed, device string) or pass silently."""
    for fn in (P.sinusoidal_encoding, P.sinusoidal_encoding_loop):
        with pytest.raises(TypeError, match="dtype"):
            fn(3, 4, dtype="float32")
        with pytest.raises(ValueError, match="num_positions"):
            fn(10**12, 4)
    with pytest.raises(ValueError, match="num_features"):
        P.fourier_matrix(10**6, 10**6, 1.0)
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError, match="scale"):
            P.fourier_matrix(2, 3, bad)
    with pytest.raises(TypeError, match="scale"):
        P.fourier_matrix(2, 3, "1")
    for bad in ("1", 1.5):
        with pytest.raises(TypeError, match="seed"):
            P.fourier_matrix(2, 3, 1.0, bad)
    with pytest.raises(ValueError, match="coords must be finite"):
        P.fourier_features(torch.tensor([[math.nan, 0.0]]), torch.ones(2, 3))
