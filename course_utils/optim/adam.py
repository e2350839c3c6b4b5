"""Adam and AdamW written out: one update step, and an optimizer built on it.

Adam (Kingma and Ba, 2015) keeps two running averages per parameter: ``m``, of the
gradient (momentum), and ``v``, of the squared gradient. It steps along ``m`` divided by
``sqrt(v)``, so every coordinate gets its own step size: a coordinate whose gradient is
always large takes the same size of step as one whose gradient is always small. With
gradient ``g`` at step ``t`` (counting from 1)::

    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)          # bias correction: m and v start at 0
    v_hat = v / (1 - beta2**t)
    p = p - lr * m_hat / (sqrt(v_hat) + eps)

Weight decay comes in two flavours. **Adam** (``torch.optim.Adam(weight_decay=wd)``) adds
``wd * p`` to the gradient, the L2 penalty of plain SGD; the decay then goes through the
division by ``sqrt(v_hat)`` and is weaker for parameters whose gradients are large.
**AdamW** (Loshchilov and Hutter, 2019; ``torch.optim.AdamW``) *decouples* it: it shrinks
every parameter by ``lr * wd * p`` before the Adam step, whatever its gradients. The two
are tested against ``torch.optim.Adam`` and ``torch.optim.AdamW``.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor

from course_utils.checks import check_bool, check_number, check_tensor
from course_utils.optim import ParameterwiseOptimizer

__all__ = ["AdamState", "adam_step", "Adam"]


class AdamState(dict):
    """The running averages of one parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v)."""


def _check_hyper(lr, betas, eps, weight_decay) -> tuple[float, float]:
    check_number(lr, "lr", low=0.0)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1 = check_number(betas[0], "betas[0]", low=0.0, high=1.0, high_open=True)
    beta2 = check_number(betas[1], "betas[1]", low=0.0, high=1.0, high_open=True)
    check_number(eps, "eps", low=0.0)
    check_number(weight_decay, "weight_decay", low=0.0)
    return beta1, beta2


def adam_step(
    param: Tensor,
    grad: Tensor,
    state: dict | None = None,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> tuple[Tensor, AdamState]:
    """One Adam (``decoupled=False``) or AdamW (``decoupled=True``) update; inputs are not modified.

    Args:
        param: ``Tensor[*]`` floating, the current values.
        grad: ``Tensor[*]`` the gradient of the loss at ``param`` (same shape).
        state: the :class:`AdamState` returned by the previous step, or ``None`` before the first.
        lr: learning rate.
        betas: ``(beta1, beta2)``, the decay rates of the two running averages, in ``[0, 1)``.
        eps: added to ``sqrt(v_hat)`` so a zero gradient does not divide by zero.
        weight_decay: ``wd``; Adam adds ``wd * param`` to the gradient, AdamW multiplies
            ``param`` by ``1 - lr * wd`` before the step.
        decoupled: AdamW's decoupled weight decay instead of Adam's L2 term.

    Returns:
        ``(new_param, new_state)``: a new tensor and a new :class:`AdamState`.

    Examples:
        >>> p, s = adam_step(torch.tensor([1.0, 1.0]), torch.tensor([100.0, 0.01]), lr=0.1)
        >>> p  # the first step has size lr in every coordinate, whatever the gradient's scale
        tensor([0.9000, 0.9000])
        >>> s["step"], s["exp_avg"]
        (1, tensor([1.0000e+01, 1.0000e-03]))
    """
    check_tensor(param, "param", floating=True)
    check_tensor(grad, "grad", shape=tuple(param.shape))
    beta1, beta2 = _check_hyper(lr, betas, eps, weight_decay)
    check_bool(decoupled, "decoupled")
    if state is None:
        state = AdamState(step=0, exp_avg=torch.zeros_like(param), exp_avg_sq=torch.zeros_like(param))
    elif not isinstance(state, dict) or set(state) != {"step", "exp_avg", "exp_avg_sq"}:
        raise TypeError(f"state must be the AdamState of the previous step (or None), got {state!r:.80}")
    if decoupled:
        param = param * (1 - lr * weight_decay)  # AdamW: shrink first, independently of the gradients
    elif weight_decay:
        grad = grad + weight_decay * param  # Adam: the L2 penalty's gradient, scaled like any gradient below
    step = state["step"] + 1
    m = beta1 * state["exp_avg"] + (1 - beta1) * grad
    v = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** step)  # without this the first steps would be too small by 1 - beta1
    v_hat = v / (1 - beta2 ** step)
    new_param = param - lr * m_hat / (v_hat.sqrt() + eps)
    return new_param, AdamState(step=step, exp_avg=m, exp_avg_sq=v)


class Adam(ParameterwiseOptimizer):
    """A teaching optimizer: :func:`adam_step` on every parameter (``decoupled=True``: AdamW).

    Gives the updates of ``torch.optim.Adam`` (or ``torch.optim.AdamW``) with the same
    arguments, so it can be passed to :func:`course_utils.train.fit`.

    Examples:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> (w ** 2).sum().backward(); opt.step(); w.data
        tensor([ 0.9000, -1.9000])
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False) -> None:
        _check_hyper(lr, betas, eps, weight_decay)
        check_bool(decoupled, "decoupled")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))

    def update(self, p: Tensor, group: dict, state: dict) -> Tensor:
        new_p, state["adam"] = adam_step(p, p.grad, state.get("adam"), lr=group["lr"], betas=group["betas"],
                                         eps=group["eps"], weight_decay=group["weight_decay"],
                                         decoupled=group["decoupled"])
        return new_p
