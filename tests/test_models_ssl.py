"""The chapter-07 models: the shared model test (shape, finite, every parameter gets a gradient) and the SimCLR step."""
import copy

import pytest
import torch
from torch import nn

from course_utils.losses.contrastive import nt_xent
from course_utils.models.ssl import (ColorizationNet, ConvEncoder, ProjectionHead, RelativePositionNet, _simclr_step_twin,
                                     simclr_step)

MODELS = [
    (lambda: ConvEncoder(), (torch.rand(4, 1, 8, 8),), (4, 64)),
    (lambda: ConvEncoder(in_channels=3, width=8, pool="flatten", input_size=9, feature_dim=20), (torch.rand(2, 3, 9, 9),), (2, 20)),
    (lambda: ProjectionHead(64, 32, 16), (torch.rand(5, 64),), (5, 16)),
    (lambda: RelativePositionNet(ConvEncoder(width=8, pool="flatten", input_size=8, feature_dim=16)),
     (torch.rand(3, 1, 8, 8), torch.rand(3, 1, 8, 8)), (3, 8)),
    (lambda: ColorizationNet(50, width=8), (torch.rand(2, 1, 16, 16),), (2, 50, 8, 8)),
]


@pytest.mark.parametrize("build,inputs,shape", MODELS)
def test_shared_model_test(build, inputs, shape):
    torch.manual_seed(0)
    model = build()
    out = model(*inputs)
    assert out.shape == shape and torch.isfinite(out).all()
    out.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_projection_head_parameters():
    head = ProjectionHead(64, 64, 32)
    assert sorted(n for n, _ in head.named_parameters()) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    assert sum(p.numel() for p in head.parameters()) == 64 * 64 + 64 + 64 * 32 + 32


@pytest.mark.parametrize("step", [simclr_step, _simclr_step_twin])
def test_simclr_step_matches_a_manual_step(step):
    torch.manual_seed(0)
    encoder, head = ConvEncoder(width=4), ProjectionHead(8, 8, 4)
    enc2, head2 = copy.deepcopy(encoder), copy.deepcopy(head)
    v1, v2 = torch.rand(6, 1, 8, 8), torch.rand(6, 1, 8, 8)
    opt = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1)
    opt2 = torch.optim.SGD(list(enc2.parameters()) + list(head2.parameters()), lr=0.1)
    loss = step(encoder, head, v1, v2, opt, nt_xent, 0.5)
    enc2.train(), head2.train()
    z = head2(enc2(torch.cat([v1, v2])))
    manual = nt_xent(z[:6], z[6:], 0.5)
    opt2.zero_grad()
    manual.backward()
    opt2.step()
    assert isinstance(loss, float) and loss == pytest.approx(manual.item(), rel=1e-6)
    for p, q in zip(encoder.parameters(), enc2.parameters()):
        torch.testing.assert_close(p, q)


def test_encoder_errors():
    with pytest.raises(ValueError):
        ConvEncoder(pool="max")
    with pytest.raises(TypeError):
        ConvEncoder(width=2.5)
