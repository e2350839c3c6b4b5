"""Tests for course_utils.optim against torch.optim.SGD and torch.optim.lr_scheduler.StepLR."""
import pytest
import torch

from course_utils.optim import MomentumSGD, descend, sgd_momentum_step, step_decay

SETTINGS = [
    dict(momentum=0.0),
    dict(momentum=0.9),
    dict(momentum=0.5, dampening=0.5),
    dict(momentum=0.9, weight_decay=0.01),
    dict(momentum=0.9, nesterov=True),
]


def grads(steps, shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=g, dtype=torch.float64) for _ in range(steps)]


@pytest.mark.parametrize("kw", SETTINGS)
def test_step_matches_torch_sgd(kw):
    start = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    p_torch = torch.nn.Parameter(start.clone())
    opt = torch.optim.SGD([p_torch], lr=0.05, **kw)
    p, v = start.clone(), None
    for g in grads(5, (3, 2)):
        p_torch.grad = g.clone()
        opt.step()
        before = p.clone()
        p, v = sgd_momentum_step(p, g, v, lr=0.05, **kw)
        torch.testing.assert_close(p, p_torch.detach())
        if kw["momentum"]:
            torch.testing.assert_close(v, opt.state[p_torch]["momentum_buffer"])
    # Inputs are not modified.
    p2, _ = sgd_momentum_step(before, g, v, lr=0.05, **kw)
    assert p2 is not before


@pytest.mark.parametrize("kw", SETTINGS)
def test_momentum_sgd_optimizer_matches_torch_on_a_model(kw):
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    b = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = torch.optim.SGD(a.parameters(), lr=0.1, **kw), MomentumSGD(b.parameters(), lr=0.1, **kw)
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    for _ in range(4):
        for net, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)


def test_step_decay_matches_steplr():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for step in range(10):
        assert step_decay(step, 0.1, factor=0.5, every=3) == pytest.approx(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()


def test_descend_on_a_quadratic():
    # f(x) = 0.5 * a * x^2: plain GD multiplies x by (1 - lr * a) every step.
    path = descend(lambda x: 3.0 * x, torch.tensor([1.0], dtype=torch.float64), lr=0.1, steps=5)
    assert path.shape == (6, 1)
    torch.testing.assert_close(path[:, 0], 0.7 ** torch.arange(6, dtype=torch.float64))
    # lr above 2/a diverges.
    assert path.abs()[-1] < 1 < descend(lambda x: 3.0 * x, torch.tensor([1.0]), lr=0.7, steps=5).abs()[-1]
    sched = descend(lambda x: 3.0 * x, torch.tensor([1.0]), lr=lambda t: step_decay(t, 0.1, 0.5, 2), steps=3)
    assert sched.shape == (4, 1)


def test_input_checks():
    with pytest.raises(ValueError, match="shape"):
        sgd_momentum_step(torch.zeros(2), torch.zeros(3), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        sgd_momentum_step(torch.zeros(2), torch.zeros(2), lr=-1.0)
    with pytest.raises(ValueError, match="nesterov"):
        MomentumSGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match=r"step must be an int, got float \(1.5\)"):
        step_decay(1.5, 0.1)
