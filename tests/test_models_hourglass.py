"""Stacked hourglass, regressor, loss and size arithmetic (course_utils.models.hourglass)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_utils.data.figures import render_heatmaps
from course_utils.models import hourglass as hg


def _every_parameter_gets_a_gradient(model, x):
    out = model(x)
    assert torch.isfinite(out).all()
    out.float().square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"parameters without a gradient: {missing}"
    return out


@pytest.mark.parametrize("stem", hg.STEMS)
@pytest.mark.parametrize("stacks", [1, 2])
def test_stacked_hourglass_shapes_and_gradients(stem, stacks):
    torch.manual_seed(0)
    model = hg.StackedHourglass(num_keypoints=5, channels=8, num_stacks=stacks, depth=2, stem=stem)
    out = _every_parameter_gets_a_gradient(model, torch.randn(2, 3, 32, 48))
    assert out.shape == (2, stacks, 5, 8, 12)


def test_regressor_shapes_gradients_and_start():
    torch.manual_seed(0)
    model = hg.KeypointRegressor(num_keypoints=4, channels=8, num_stacks=2, depth=2)
    out = model(torch.randn(3, 3, 32, 32))
    assert out.shape == (3, 4, 2) and torch.allclose(out, torch.full_like(out, 0.5))  # starts at the centre
    nn.init.normal_(model.head[-1].weight, std=0.01)
    _every_parameter_gets_a_gradient(model, torch.randn(3, 3, 32, 32))


def test_sizes_must_be_multiples():
    model = hg.StackedHourglass(num_keypoints=2, channels=8, num_stacks=1, depth=3)
    with pytest.raises(ValueError, match="multiples of 4"):
        model(torch.zeros(1, 3, 48, 40))  # 40 is not a multiple of 32


def test_hourglass_twin_and_recursion():
    torch.manual_seed(1)
    for depth in (1, 2, 4):
        block = hg.Hourglass(depth, 8).eval()
        x = torch.randn(2, 8, 16, 16)
        torch.testing.assert_close(block(x), hg._hourglass_forward_twin(block, x))
        n = sum(p.numel() for p in block.parameters())
        assert n == (3 * depth + 1) * sum(p.numel() for p in hg.Residual(8, 8).parameters())


def test_hourglass_skip_branch_keeps_detail():
    """At init the output depends on every input pixel through the full-resolution skip branch."""
    torch.manual_seed(2)
    block = hg.Hourglass(2, 4).eval()
    x = torch.randn(1, 4, 8, 8, requires_grad=True)
    block(x)[0, :, 3, 5].sum().backward()
    assert x.grad[0, :, 3, 5].abs().sum() > 0


def test_published_configuration_parameter_count():
    """Newell et al.'s 8-stack, 256-channel, depth-4 network: about 25 M parameters (HRNet's table: 25.1 M)."""
    with torch.device("meta"):
        model = hg.StackedHourglass(num_keypoints=16, channels=256, num_stacks=8, depth=4, stem="newell")
    count = sum(p.numel() for p in model.parameters())
    assert 24.5e6 < count < 26.0e6


def test_hourglass_sizes_and_twin():
    assert hg.hourglass_sizes(256, 4) == [64, 32, 16, 8, 4]
    assert hg.hourglass_sizes(64, 2) == [16, 8, 4]
    for size in range(8, 300, 7):
        for depth in (1, 2, 3, 4):
            try:
                expected = hg._hourglass_sizes_twin(size, depth)
            except ValueError:
                with pytest.raises(ValueError):
                    hg.hourglass_sizes(size, depth)
            else:
                assert hg.hourglass_sizes(size, depth) == expected
    with pytest.raises(ValueError):
        hg.hourglass_sizes(100, 1)  # 100 -> 50 -> 25: odd before the pool
    with pytest.raises(ValueError):
        hg.hourglass_sizes(64, 0)


def test_hourglass_sizes_match_the_newell_network():
    for size, depth in ((64, 2), (128, 3), (256, 4)):
        sizes = hg.hourglass_sizes(size, depth)
        with torch.device("meta"):
            model = hg.StackedHourglass(num_keypoints=3, channels=16, num_stacks=1, depth=depth, stem="newell")
        assert model.stem(torch.empty(1, 3, size, size, device="meta")).shape[-1] == sizes[0]
        assert sizes[-1] == sizes[0] // 2**depth


def test_heatmap_loss_kinds():
    kp = torch.tensor([[[5.0, 6.0, 1.0], [20.0, 9.0, 0.0]]])
    target = render_heatmaps(kp, (32, 32), sigma=1.0, stride=4, include_occluded=True)  # [1, 2, 8, 8]
    logits = torch.zeros(1, 2, 2, 8, 8)
    assert hg.heatmap_loss(logits, target).item() == pytest.approx(math.log(64), rel=1e-6)
    assert hg.heatmap_loss(logits, target, kind="mse").item() == pytest.approx(target.pow(2).mean().item())
    perfect = torch.log(target / target.sum(dim=(-1, -2), keepdim=True) + 1e-30)
    entropy = hg.heatmap_loss(perfect, target).item()
    assert hg.heatmap_loss(perfect + 0.3 * torch.randn_like(perfect), target).item() > entropy
    weights = torch.tensor([[1.0, 0.0]])
    assert hg.heatmap_loss(logits[:, :1], target, weights=weights).item() == pytest.approx(math.log(64), rel=1e-6)
    empty = target.clone()
    empty[0, 1] = 0  # an all-zero target map is skipped by the softmax loss
    assert torch.isfinite(hg.heatmap_loss(torch.randn(1, 2, 8, 8), empty))


def test_regression_targets_round_trip():
    kp = torch.rand(4, 15, 3) * 63
    uv = hg.regression_targets(kp, (64, 64))
    assert ((uv > 0) & (uv < 1)).all()
    torch.testing.assert_close(hg.regression_to_keypoints(uv, (64, 64)), kp[..., :2])
