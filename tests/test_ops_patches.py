"""Tests of course_utils.ops.patches against F.unfold and a strided convolution."""
import pytest
import torch
import torch.nn.functional as F

from course_utils.ops import patches as P


@pytest.mark.parametrize("shape, p", [((2, 3, 8, 8), 4), ((1, 1, 6, 9), 3), ((3, 2, 4, 4), 1), ((1, 3, 5, 5), 5)])
def test_patchify_matches_unfold(shape, p):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    expected = F.unfold(x, p, stride=p).transpose(1, 2)
    for fn in (P.patchify, P.patchify_loop, P._patchify_twin):
        torch.testing.assert_close(fn(x, p), expected, atol=0, rtol=0)
    assert torch.equal(P.unpatchify(P.patchify(x, p), p, shape[-2:]), x)


def test_patch_embedding_is_a_strided_convolution():
    x = torch.randn(2, 3, 12, 12)
    conv = torch.nn.Conv2d(3, 7, kernel_size=4, stride=4)
    expected = conv(x).flatten(2).transpose(1, 2)  # [B, N, D]
    linear = P.patchify(x, 4) @ conv.weight.reshape(7, -1).T + conv.bias
    torch.testing.assert_close(linear, expected, atol=1e-5, rtol=1e-5)


def test_patch_order_is_reading_order():
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    patches = P.patchify(x, 3)
    assert patches[0, :, 0].tolist() == [0.0, 3.0, 18.0, 21.0]  # top-left pixel of each patch


def test_integer_images_and_empty_batch():
    x = torch.arange(32).reshape(2, 1, 4, 4)
    assert torch.equal(P.patchify(x, 2), P._patchify_twin(x, 2))
    assert P.patchify(torch.zeros(0, 3, 4, 4), 2).shape == (0, 4, 12)


def test_checks_and_counts():
    with pytest.raises(ValueError, match="divisible"):
        P.patchify(torch.zeros(1, 1, 6, 5), 2)
    with pytest.raises(ValueError):
        P.patchify_loop(torch.zeros(1, 6, 6), 2)
    with pytest.raises(ValueError):
        P.unpatchify(torch.zeros(1, 3, 4), 2, 4)
    assert P.num_patches(224, 16) == 196 and P.num_patches((384, 384), 16) == 576
    with pytest.raises(ValueError):
        P.num_patches(30, 16)


def test_image_size_is_checked():
    """A malformed image_size used to fail in tuple unpacking, with a message that did not name it."""
    for bad in ("4", (4,), (4, 4, 4), None):
        with pytest.raises(TypeError, match="image_size"):
            P.num_patches(bad, 2)
        with pytest.raises(TypeError, match="image_size"):
            P.unpatchify(torch.zeros(1, 4, 4), 2, bad)
