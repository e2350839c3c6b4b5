"""Tests for course_utils.hparam: log-uniform statistics, grids, coarse-to-fine, diagnostics."""
import math

import pytest
import torch

from course_utils.hparam import (
    at_boundary,
    grid_configs,
    is_exploding,
    random_configs,
    refine_space,
    sample_log_uniform,
    sample_uniform,
    update_ratio,
)


def test_log_uniform_range_and_statistics():
    x = sample_log_uniform(1e-6, 1e-2, 20_000, torch.Generator().manual_seed(0))
    assert x.dtype == torch.float64 and x.shape == (20_000,)
    assert float(x.min()) >= 1e-6 and float(x.max()) <= 1e-2
    e = torch.log10(x)
    # Uniform on [-6, -2]: mean -4, variance 16/12, each decade a quarter of the samples.
    assert abs(float(e.mean()) + 4) < 0.03
    assert abs(float(e.var()) - 16 / 12) < 0.05
    shares = torch.histc(e, bins=4, min=-6, max=-2) / len(e)
    assert torch.allclose(shares, torch.full((4,), 0.25, dtype=shares.dtype), atol=0.02)
    # Kolmogorov-Smirnov distance to the uniform CDF of the exponent.
    u = ((e + 6) / 4).sort().values
    ks = (u - torch.arange(1, len(u) + 1, dtype=u.dtype) / len(u)).abs().max()
    assert float(ks) < 0.02


def test_sampling_is_reproducible_and_independent_of_global_state():
    a = sample_log_uniform(1e-3, 1.0, 10, seed=3)
    torch.manual_seed(123)
    b = sample_log_uniform(1e-3, 1.0, 10, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert not torch.equal(a, sample_log_uniform(1e-3, 1.0, 10, seed=4))
    assert sample_uniform(0.0, 1.0, 0, seed=0).shape == (0,)


def test_sampling_input_checks():
    with pytest.raises(ValueError, match="low > 0"):
        sample_log_uniform(0.0, 1.0, 3)
    with pytest.raises(ValueError, match="greater"):
        sample_log_uniform(1.0, 0.1, 3)
    with pytest.raises(ValueError, match="either"):
        sample_uniform(0.0, 1.0, 3, torch.Generator(), seed=1)


def test_random_and_grid_configs():
    space = {"lr": (1e-4, 1e-1, "log"), "momentum": (0.5, 0.9, "linear")}
    cfgs = random_configs(space, 50, seed=0)
    assert len(cfgs) == 50 and all(1e-4 <= c["lr"] <= 1e-1 and 0.5 <= c["momentum"] <= 0.9 for c in cfgs)
    assert len({c["lr"] for c in cfgs}) == 50  # every trial tries a new value of every dimension
    grid = grid_configs(space, 3)
    assert len(grid) == 9
    assert sorted({round(c["lr"], 12) for c in grid}) == [1e-4, round(10 ** -2.5, 12), 1e-1]
    assert sorted({c["momentum"] for c in grid}) == pytest.approx([0.5, 0.7, 0.9])
    assert len(grid_configs(space, {"lr": 2, "momentum": 1})) == 2
    with pytest.raises(ValueError, match="scale"):
        random_configs({"lr": (1e-4, 1.0, "exp")}, 2)


def test_refine_space_shrinks_around_the_best():
    space = {"lr": (1e-6, 1.0, "log"), "wd": (0.0, 1.0, "linear")}
    cfgs = [{"lr": 10.0 ** -e, "wd": w} for e, w in [(5, 0.1), (3, 0.2), (2, 0.3), (1, 0.9)]]
    scores = [0.1, 0.8, 0.9, float("nan")]
    new = refine_space(space, cfgs, scores, top=2, margin=0.0)
    assert new["lr"][0] == pytest.approx(1e-3) and new["lr"][1] == pytest.approx(1e-2)
    assert new["wd"][:2] == pytest.approx((0.2, 0.3))
    loss_new = refine_space(space, cfgs, [0.1, 0.8, 0.9, 5.0], top=1, higher_is_better=False, margin=0.0)
    assert 1e-6 <= loss_new["lr"][0] < 1e-5 < loss_new["lr"][1]  # single best: a small range around it
    with pytest.raises(ValueError, match="finite"):
        refine_space(space, cfgs, [float("nan")] * 4)


def test_boundary_explosion_and_update_ratio():
    # The lecture's fine search: lr in [1e-4, 1e-3], best lr 9.47e-4 lies at the top edge.
    space = {"lr": (1e-4, 1e-3, "log"), "reg": (1e-4, 1.0, "log")}
    assert at_boundary(space, {"lr": 9.471549e-04, "reg": 1.433895e-03}) == ["lr"]
    assert is_exploding(7.0, 2.0) and not is_exploding(5.9, 2.0) and is_exploding(math.inf, 2.0)
    w = torch.ones(100, dtype=torch.float64)
    assert update_ratio(w, w + 1e-3) == pytest.approx(1e-3)
    assert update_ratio(torch.zeros(3), torch.zeros(3)) == 0.0
