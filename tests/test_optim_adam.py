"""Tests for course_utils.optim.adam against torch.optim.Adam and torch.optim.AdamW."""
import pytest
import torch

from course_utils.optim.adam import Adam, adam_step

SETTINGS = [
    dict(),
    dict(lr=0.01, betas=(0.8, 0.99)),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.1, decoupled=True),
    dict(lr=0.02, betas=(0.0, 0.9), eps=1e-3, weight_decay=0.01, decoupled=True),
]


def _torch_optimizer(params, decoupled=False, **kw):
    return (torch.optim.AdamW if decoupled else torch.optim.Adam)(params, foreach=False, **kw)


@pytest.mark.parametrize("kw", SETTINGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_step_matches_torch(kw, dtype):
    g = torch.Generator().manual_seed(0)
    start = torch.randn(4, 3, generator=g, dtype=dtype)
    grads = [torch.randn(4, 3, generator=g, dtype=dtype) * 10 ** i for i in (-2, 0, 1, -1, 0)]
    p_torch = torch.nn.Parameter(start.clone())
    opt = _torch_optimizer([p_torch], weight_decay=kw.get("weight_decay", 0.0) if kw.get("decoupled") else
                           kw.get("weight_decay", 0.0), decoupled=kw.get("decoupled", False),
                           **{k: v for k, v in kw.items() if k not in ("weight_decay", "decoupled")})
    p, state = start.clone(), None
    for grad in grads:
        p_torch.grad = grad.clone()
        opt.step()
        before, grad_before = p.clone(), grad.clone()
        p, state = adam_step(p, grad, state, **kw)
        torch.testing.assert_close(p, p_torch.detach())
        torch.testing.assert_close(state["exp_avg"], opt.state[p_torch]["exp_avg"])
        torch.testing.assert_close(state["exp_avg_sq"], opt.state[p_torch]["exp_avg_sq"])
        assert p.dtype == dtype
    torch.testing.assert_close(grad, grad_before)  # inputs untouched
    adam_step(before, grad, state, **kw)
    assert state["step"] == len(grads)


@pytest.mark.parametrize("kw", SETTINGS)
def test_optimizer_matches_torch_on_a_model(kw):
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    b = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    b.load_state_dict(a.state_dict())
    rest = {k: v for k, v in kw.items() if k != "decoupled"}
    opt_a = _torch_optimizer(a.parameters(), decoupled=kw.get("decoupled", False), **rest)
    opt_b = Adam(b.parameters(), **kw)
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    for _ in range(6):
        for net, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)


def test_first_step_has_size_lr_in_every_coordinate():
    p, _ = adam_step(torch.zeros(3, dtype=torch.float64), torch.tensor([1e4, 1.0, -1e-4], dtype=torch.float64), lr=0.1)
    torch.testing.assert_close(p, torch.tensor([-0.1, -0.1, 0.1], dtype=torch.float64), rtol=1e-3, atol=0)


def test_decoupled_decay_is_independent_of_the_gradient_scale():
    # Zero mean gradient: AdamW shrinks by (1 - lr wd) per step whatever |g|; Adam's L2 term is divided by sqrt(v).
    shrink = {}
    for decoupled in (False, True):
        out = []
        for scale in (1.0, 100.0):
            p, state = torch.tensor([1.0], dtype=torch.float64), None
            for t in range(50):
                p, state = adam_step(p, torch.tensor([scale * (-1) ** t], dtype=torch.float64), state, lr=0.01,
                                     weight_decay=0.1, decoupled=decoupled)
            out.append(float(p))
        shrink[decoupled] = out
    assert abs(shrink[True][0] - shrink[True][1]) < 0.02
    assert abs(shrink[False][0] - shrink[False][1]) > 0.02


def test_empty_and_errors():
    p, state = adam_step(torch.zeros(0), torch.zeros(0))
    assert p.shape == (0,) and state["step"] == 1
    with pytest.raises(ValueError, match="lr"):
        adam_step(torch.zeros(2), torch.zeros(2), lr=-1.0)
    with pytest.raises(ValueError, match="betas"):
        adam_step(torch.zeros(2), torch.zeros(2), betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="betas"):
        adam_step(torch.zeros(2), torch.zeros(2), betas=0.9)
    with pytest.raises(ValueError, match="grad"):
        adam_step(torch.zeros(2), torch.zeros(3))
    with pytest.raises(TypeError, match="param"):
        adam_step(torch.zeros(2, dtype=torch.long), torch.zeros(2))
    with pytest.raises(TypeError, match="state"):
        adam_step(torch.zeros(2), torch.zeros(2), {"m": torch.zeros(2)})
    with pytest.raises(TypeError, match="decoupled"):
        adam_step(torch.zeros(2), torch.zeros(2), decoupled=1)
    with pytest.raises(ValueError, match="weight_decay"):
        Adam([torch.nn.Parameter(torch.zeros(1))], weight_decay=-0.1)
