"""Augmentations and the two-view wrapper: shapes, ranges, randomness per image, reproducibility."""
import pytest
import torch

from course_utils.data.views import (Augment, TwoViews, color_jitter, gaussian_blur, intensity_jitter, random_hflip,
                                     random_resized_crop, two_views)

AUGMENTATIONS = [
    lambda x, g: random_resized_crop(x, generator=g),
    lambda x, g: random_resized_crop(x, max_rotation=0.5, generator=g),
    lambda x, g: random_hflip(x, generator=g),
    lambda x, g: intensity_jitter(x, generator=g),
    lambda x, g: color_jitter(x, generator=g),
    lambda x, g: gaussian_blur(x, p=1.0, generator=g),
    lambda x, g: Augment()(x, g),
    lambda x, g: Augment(color=True, max_rotation=0.2)(x, g),
]


@pytest.mark.parametrize("augment", AUGMENTATIONS)
def test_shape_range_dtype_and_seed(augment):
    x = torch.rand(6, 3, 10, 10, generator=torch.Generator().manual_seed(0))
    a = augment(x, torch.Generator().manual_seed(1))
    b = augment(x, torch.Generator().manual_seed(1))
    c = augment(x, torch.Generator().manual_seed(2))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b), "the same seed must give the same views"
    assert not torch.equal(a, c), "another seed must give other views"
    single = augment(x[0], torch.Generator().manual_seed(1))
    assert single.shape == x[0].shape


def test_each_image_gets_its_own_draw():
    x = torch.rand(1, 1, 8, 8).expand(16, -1, -1, -1).contiguous()
    out = random_resized_crop(x, generator=torch.Generator().manual_seed(0))
    assert len({tuple(o.flatten().tolist()) for o in out}) > 1


def test_full_crop_is_identity_and_flip_flips():
    x = torch.rand(3, 1, 6, 6)
    same = random_resized_crop(x, scale=(1.0, 1.0), ratio=(1.0, 1.0), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    assert torch.equal(random_hflip(x, p=1.0), x.flip(-1)) and torch.equal(random_hflip(x, p=0.0), x)


def test_blur_keeps_constants_and_mass():
    flat = torch.full((2, 1, 5, 5), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, p=1.0), flat)
    x = torch.zeros(1, 1, 7, 7)
    x[0, 0, 3, 3] = 1.0
    y = gaussian_blur(x, sigma=(0.8, 0.8), p=1.0)
    assert float(y.sum()) == pytest.approx(1.0, abs=1e-6) and float(y[0, 0, 3, 3]) < 1.0
    with pytest.raises(ValueError):
        gaussian_blur(x, kernel_size=4)


def test_jitter_and_color_rules():
    x = torch.rand(4, 3, 5, 5)
    assert torch.equal(intensity_jitter(x, brightness=0.0, contrast=0.0), x.clamp(0, 1))
    grey = torch.full((2, 3, 4, 4), 0.4)
    torch.testing.assert_close(color_jitter(grey, brightness=0.0, contrast=0.0, saturation=0.9), grey)
    with pytest.raises(ValueError):
        color_jitter(torch.rand(2, 1, 4, 4))


def test_empty_batches_and_errors():
    empty = torch.zeros(0, 1, 8, 8)
    assert random_resized_crop(empty).shape == empty.shape
    assert gaussian_blur(empty).shape == empty.shape
    with pytest.raises(ValueError):
        random_resized_crop(torch.rand(2, 8))
    with pytest.raises(ValueError):
        random_resized_crop(torch.rand(2, 1, 8, 8), scale=(0.9, 0.2))


def test_two_views_and_wrapper():
    x = torch.rand(5, 1, 8, 8)
    v1, v2 = two_views(x, Augment(), torch.Generator().manual_seed(0))
    assert v1.shape == v2.shape == x.shape and not torch.equal(v1, v2)
    pairs = TwoViews([(img, i) for i, img in enumerate(x)], Augment(), seed=3)
    (a1, a2), label = pairs[2]
    (b1, b2), _ = pairs[2]
    assert label == 2 and a1.shape == (1, 8, 8) and not torch.equal(a1, b1)  # fresh views on every access
    again = TwoViews([(img, i) for i, img in enumerate(x)], Augment(), seed=3)
    assert torch.equal(again[2][0][0], a1)  # reproducible for a seed
    (c1, _), unlabelled = TwoViews(list(x), Augment())[0]
    assert unlabelled == -1 and c1.shape == (1, 8, 8)
