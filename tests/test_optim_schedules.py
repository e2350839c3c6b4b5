"""Tests for course_utils.optim.schedules against torch.optim.lr_scheduler."""
import math

import pytest
import torch

from course_utils.optim.schedules import cosine_restarts, cosine_schedule, one_cycle_momentum, one_cycle_schedule


def _torch_lrs(make_scheduler, steps, optimizer="sgd", lr=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = (torch.optim.SGD([p], lr=lr, momentum=0.9) if optimizer == "sgd" else torch.optim.Adam([p], lr=lr))
    sched = make_scheduler(opt)
    lrs, momenta = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        group = opt.param_groups[0]
        momenta.append(group["momentum"] if "momentum" in group else group["betas"][0])
        opt.step()
        sched.step()
    return lrs, momenta


@pytest.mark.parametrize("total, min_lr", [(10, 0.0), (37, 0.001), (1, 0.0)])
def test_cosine_matches_torch(total, min_lr):
    lrs, _ = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=min_lr), total)
    ours = [cosine_schedule(s, total, 0.1, min_lr) for s in range(total)]
    assert ours == pytest.approx(lrs, rel=1e-9, abs=1e-12)
    assert cosine_schedule(total, total, 0.1, min_lr) == pytest.approx(min_lr)


@pytest.mark.parametrize("period", [1, 4, 9])
def test_restarts_match_torch(period):
    lrs, _ = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=period, eta_min=0.002),
                        3 * period + 2)
    assert [cosine_restarts(s, period, 0.1, 0.002) for s in range(3 * period + 2)] == pytest.approx(lrs, rel=1e-9)


@pytest.mark.parametrize("total, pct, div, final", [(100, 0.3, 25.0, 1e4), (17, 0.25, 10.0, 100.0), (50, 0.5, 4.0, 1e3)])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_cycle_matches_torch(total, pct, div, final, optimizer):
    lrs, momenta = _torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.3, total_steps=total, pct_start=pct, div_factor=div, final_div_factor=final), total, optimizer)
    assert [one_cycle_schedule(s, total, 0.3, pct, div, final) for s in range(total)] == pytest.approx(lrs, rel=1e-9)
    assert [one_cycle_momentum(s, total, pct) for s in range(total)] == pytest.approx(momenta, rel=1e-9)


def test_one_cycle_shape():
    rates = [one_cycle_schedule(s, 200, 1.0) for s in range(200)]
    peak = max(range(200), key=rates.__getitem__)
    assert peak == 59 and rates[0] == pytest.approx(1 / 25) and rates[-1] == pytest.approx(1 / 25 / 1e4)
    assert all(a <= b for a, b in zip(rates[:peak], rates[1:peak + 1]))
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1:]))


def test_errors():
    with pytest.raises(ValueError, match="step"):
        cosine_schedule(11, 10, 0.1)
    with pytest.raises(ValueError, match="total_steps"):
        cosine_schedule(0, 0, 0.1)
    with pytest.raises(TypeError, match="step"):
        cosine_restarts(1.5, 3, 0.1)
    with pytest.raises(ValueError, match="pct_start"):
        one_cycle_schedule(0, 10, 0.1, pct_start=1.0)
    with pytest.raises(ValueError, match="each phase"):
        one_cycle_schedule(0, 3, 0.1, pct_start=0.3)
    with pytest.raises(ValueError, match="base_lr"):
        cosine_schedule(0, 10, -0.1)
    assert math.isclose(cosine_restarts(10, 5, 0.1), 0.1)
