"""course_utils.explain.ascent (hand-computed priors, Gram matrices, optimizations that improve their objective)
and course_utils.data.biased (the shortcut is there at the stated rate, seeded, with true masks)."""
import math

import pytest
import torch
from torch import nn

from course_utils.data.biased import BACKGROUND_NAMES, BIASED_CLASSES, UNBIASED, BiasedShapes
from course_utils.explain import ascent


def test_total_variation_and_gram_by_hand():
    x = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])
    assert float(ascent.total_variation(x)) == 0.5  # 2 squared edges of 1 among 4 neighbour pairs
    f = torch.tensor([[[[1.0, 2.0]], [[0.0, 3.0]]]])  # C=2, H=1, W=2
    assert ascent.gram_matrix(f).tolist() == [[[5 / 4, 6 / 4], [6 / 4, 9 / 4]]]
    with pytest.raises(ValueError):
        ascent.gram_matrix(torch.ones(2, 3))


def test_jitter_rolls_by_the_returned_shift():
    x = torch.arange(25.0).view(1, 1, 5, 5)
    shifted, (dy, dx) = ascent.jitter(x, 2, torch.Generator().manual_seed(3))
    assert -2 <= dy <= 2 and -2 <= dx <= 2
    assert torch.equal(shifted, torch.roll(x, (dy, dx), (2, 3)))
    with pytest.raises(ValueError):
        ascent.jitter(x, -1)


def test_class_visualization_raises_the_class_score_within_range():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    classes = torch.tensor([0, 2])
    start = ascent.class_visualization(net, classes, (3, 2, 2), steps=0, generator=torch.Generator().manual_seed(0))
    images = ascent.class_visualization(net, classes, (3, 2, 2), steps=30, l2=0.01, blur_every=5, jitter_pixels=1,
                                        generator=torch.Generator().manual_seed(0))
    assert images.shape == (2, 3, 2, 2) and images.min() >= 0 and images.max() <= 1
    with torch.no_grad():
        assert (net(images).gather(1, classes[:, None]) > net(start).gather(1, classes[:, None])).all()
    assert all(p.grad is None for p in net.parameters())  # the weights are not touched


def test_inversion_dream_and_style_improve_their_objectives():
    target = torch.rand(1, 1, 3, 3, generator=torch.Generator().manual_seed(1))
    inverted = ascent.invert_features(lambda x: x, target, (1, 3, 3), steps=300, lr=0.05)
    assert (inverted - target).abs().max() < 0.05
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3)
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    dream = ascent.deep_dream(conv, image, steps=5, octaves=2)
    assert dream.shape == image.shape and dream.min() >= 0 and dream.max() <= 1
    assert not torch.equal(dream, image)
    content, style = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    grams = [ascent.gram_matrix(conv(style)).detach()]
    out = ascent.style_transfer(lambda x: [conv(x)], content, style, steps=20)
    assert out.shape == content.shape
    with torch.no_grad():
        assert ascent.style_loss([conv(out)], grams) < ascent.style_loss([conv(content)], grams)


def test_biased_shapes_shortcut_rate_seed_and_masks():
    train = BiasedShapes(400, bias=0.95, seed=0)
    agree = float((train.labels == train.backgrounds).float().mean())
    assert abs(agree - 0.95) < 3 * math.sqrt(0.95 * 0.05 / 400) + 0.01
    fair = BiasedShapes(600, bias=UNBIASED, seed=1)
    assert abs(float((fair.labels == fair.backgrounds).float().mean()) - UNBIASED) < 0.06
    assert train.images.shape == (400, 3, 32, 32) and train.images.dtype == torch.float32
    assert 0 <= float(train.images.min()) and float(train.images.max()) <= 1
    assert train.masks.dtype == torch.bool and bool(train.masks.any(dim=(1, 2)).all())
    assert set(train.labels.tolist()) <= set(range(len(BIASED_CLASSES)))
    assert set(train.backgrounds.tolist()) <= set(range(len(BACKGROUND_NAMES)))
    again = BiasedShapes(5, bias=0.95, seed=0)
    assert torch.equal(again.images, train.images[:5]) and torch.equal(again.labels, train.labels[:5])
    image, label = train[3]
    assert torch.equal(image, train.images[3]) and label == int(train.labels[3])
    assert len(BiasedShapes(0)) == 0 and BiasedShapes(0).images.shape == (0, 3, 32, 32)
    with pytest.raises(ValueError):
        BiasedShapes(3, bias=1.5)
    with pytest.raises(ValueError):
        BiasedShapes(3, image_size=8)


def test_inversion_and_style_leave_no_gradient_on_the_weights():
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 2, 3)
    target = conv(torch.rand(1, 3, 6, 6)).detach()
    ascent.invert_features(conv, target, (3, 6, 6), steps=3)
    ascent.style_transfer(lambda x: [conv(x)], torch.rand(1, 3, 6, 6), torch.rand(1, 3, 6, 6), steps=3)
    assert all(p.grad is None for p in conv.parameters())
