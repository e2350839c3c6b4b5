"""course_utils.explain.adversarial and .bias: attacks by hand, the twins, the bounds; cue reliance counted."""
import pytest
import torch
from torch import nn

from course_utils.explain import adversarial as adv
from course_utils.explain import bias
from course_utils.references import REFERENCES, resolve_twin

FGSMS = [adv.fgsm, resolve_twin(REFERENCES["course_utils.explain.adversarial.fgsm"])]
PGDS = [adv.pgd_attack, resolve_twin(REFERENCES["course_utils.explain.adversarial.pgd_attack"])]


def _linear():
    net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
    return net.eval()


def _net(seed, dtype=torch.float32):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 3)).to(dtype).eval()


@pytest.mark.parametrize("fgsm", FGSMS)
def test_fgsm_by_hand_and_clipping(fgsm):
    # label 1: the loss falls when pixel 2 grows, so the attack lowers it and raises pixel 1; 0.95 + 0.1 clips to 1
    x = torch.tensor([[[[0.5, 0.95]]]])
    assert torch.allclose(fgsm(_linear(), x, torch.tensor([1]), 0.1), torch.tensor([[[[0.6, 0.85]]]]))
    assert torch.allclose(fgsm(_linear(), x, torch.tensor([0]), 0.1), torch.tensor([[[[0.4, 1.0]]]]))
    assert torch.equal(fgsm(_linear(), x, torch.tensor([0]), 0.0), x)
    with pytest.raises(ValueError):
        fgsm(_linear(), x, torch.tensor([0]), -0.1)


@pytest.mark.parametrize("fgsm", FGSMS)
def test_fgsm_against_autograd_leaves_model_and_input_alone(fgsm):
    net = _net(0, torch.float64)
    x = torch.rand(4, 3, 5, 5, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0])
    xg = x.clone().requires_grad_(True)
    nn.functional.cross_entropy(net(xg), y).backward()
    net.zero_grad(set_to_none=True)
    expected = (x + 0.05 * xg.grad.sign()).clamp(0, 1)
    before = x.clone()
    got = fgsm(net, x, y, 0.05)
    assert got.dtype == torch.float64 and not got.requires_grad
    assert torch.allclose(got, expected) and torch.equal(x, before)
    assert all(p.grad is None for p in net.parameters()) and not net.training


@pytest.mark.parametrize("pgd", PGDS)
def test_pgd_stays_in_the_ball_and_the_range(pgd):
    net = _net(1)
    x = torch.rand(6, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    out = pgd(net, x, y, 0.1, 0.04, 5, random_start=True, generator=torch.Generator().manual_seed(0))
    assert (out - x).abs().max() <= 0.1 + 1e-6 and out.min() >= 0 and out.max() <= 1
    assert torch.equal(pgd(net, x, y, 0.1, 0.04, 0), x)  # no steps, no random start
    one = pgd(net, x, y, 0.07, 0.07, 1)
    assert torch.allclose(one, adv.fgsm(net, x, y, 0.07))  # one step of size epsilon is FGSM
    again = pgd(net, x, y, 0.1, 0.04, 5, random_start=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_pgd_twin_agrees_and_beats_fgsm_on_a_linear_model():
    x = torch.tensor([[[[0.5, 0.95]]]])
    for pgd in PGDS:
        assert torch.allclose(pgd(_linear(), x, torch.tensor([1]), 0.1, 0.04, 4), torch.tensor([[[[0.6, 0.85]]]]))
    with pytest.raises(TypeError):
        adv.pgd_attack(_linear(), x, torch.tensor([1]), 0.1, 0.04, 2, random_start=1)


def test_accuracy_under_attack_and_success_rate():
    net = nn.Sequential(nn.Flatten(), nn.Linear(1, 2, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0], [-1.0]]))  # class 0 when the pixel is positive
    x = torch.tensor([0.5, 0.2, -0.3]).view(3, 1, 1, 1)
    y = torch.tensor([0, 0, 0])
    assert adv.accuracy_under_attack(net, None, x, y, batch_size=2) == pytest.approx(2 / 3)
    assert adv.accuracy_under_attack(net, lambda m, a, b: a - 0.4, x, y) == pytest.approx(1 / 3)
    assert adv.success_rate(net, x, x - 0.4, y) == pytest.approx(0.5)  # of the 2 right, 1 flips
    with pytest.raises(ValueError):
        adv.success_rate(net, -x.abs(), x, y)


class _Lookup(nn.Module):
    """Predicts the class written in pixel (0, 0, 0) of each image."""

    def forward(self, images):
        return nn.functional.one_hot(images[:, 0, 0, 0].long(), 3).float()


@pytest.mark.parametrize("fn", [bias.cue_reliance, resolve_twin(REFERENCES["course_utils.explain.bias.cue_reliance"])])
def test_cue_reliance_counts_conflict_images_only(fn):
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    backgrounds = torch.tensor([0, 2, 0, 1, 0, 1])  # image 0 agrees: left out
    predicted = torch.tensor([1, 2, 0, 1, 1, 0])  # conflict images: background, background, background, object, neither
    images = predicted.float().view(6, 1, 1, 1).expand(6, 1, 2, 2).clone()
    assert fn(_Lookup(), images, labels, backgrounds) == {"object": 0.2, "background": 0.6, "verdict": "background"}
    tie = fn(_Lookup(), images[[1, 4]], labels[[1, 4]], backgrounds[[1, 4]])
    assert tie == {"object": 0.5, "background": 0.5, "verdict": "tie"}
    with pytest.raises(ValueError, match="conflict"):
        fn(_Lookup(), images[:1], labels[:1], backgrounds[:1])
