"""Gradient descent written out: the SGD-with-momentum update, a step-decay schedule, paths.

The update follows ``torch.optim.SGD`` exactly (PyTorch's convention, which differs from
some textbooks). With gradient ``g``, weight decay ``wd``, momentum ``mu`` and dampening
``tau``::

    g = g + wd * p                      # L2 penalty folded into the gradient
    v = g               (first step)    # PyTorch starts the buffer at g, not at 0
    v = mu * v + (1 - tau) * g          (later steps)
    p = p - lr * v                      # (Nesterov: p = p - lr * (g + mu * v))

Another common form keeps ``v' = mu * v' - lr * g`` and adds it, ``p = p + v'``: for a
constant learning rate it is the same path with ``v' = -lr * v``. The lecture's
"weighted average of past gradients" is ``tau = mu`` (an exponential moving average),
which amounts to a learning rate smaller by ``1 - mu``.

:class:`MomentumSGD` wraps the step in a ``torch.optim.Optimizer``, so it can be passed
to :func:`course_utils.train.fit`. :func:`descend` records the path of plain or momentum
gradient descent on a small function, for the figures of chapter 01.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import Tensor

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["sgd_momentum_step", "ParameterwiseOptimizer", "MomentumSGD", "step_decay", "descend"]


def _check_hyper(lr: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool) -> None:
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr}")
    if not 0 <= momentum:
        raise ValueError(f"momentum must be >= 0, got {momentum}")
    if not 0 <= dampening <= 1:
        raise ValueError(f"dampening must be in [0, 1], got {dampening}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"nesterov needs momentum > 0 and dampening 0, got momentum={momentum}, dampening={dampening}")


def _sgd_momentum_step_twin(param, grad, velocity=None, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                            nesterov=False):
    """Twin of :func:`sgd_momentum_step`: ``torch.optim.SGD``'s own update function, applied to copies."""
    from torch.optim.sgd import sgd
    check_tensor(param, "param", floating=True)
    check_tensor(grad, "grad", shape=tuple(param.shape))
    if velocity is not None:
        check_tensor(velocity, "velocity", shape=tuple(param.shape))
    _check_hyper(lr, momentum, dampening, weight_decay, nesterov)
    new_param = param.detach().clone()
    buffers = [None if velocity is None else velocity.detach().clone()]
    sgd([new_param], [grad.detach()], buffers, foreach=False, weight_decay=weight_decay, momentum=momentum, lr=lr,
        dampening=dampening, nesterov=nesterov, maximize=False)
    if momentum == 0:  # SGD keeps no buffer then; the step's direction is the (decayed) gradient
        return new_param, (grad + weight_decay * param if weight_decay else grad.clone())
    return new_param, buffers[0]


@reference_of("01_linear_models/sgd_momentum_step", twin=_sgd_momentum_step_twin)
def sgd_momentum_step(
    param: Tensor,
    grad: Tensor,
    velocity: Tensor | None = None,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> tuple[Tensor, Tensor]:
    """One SGD(-momentum) update with ``torch.optim.SGD``'s convention; inputs are not modified.

    Args:
        param: ``Tensor[*]`` current parameter values.
        grad: ``Tensor[*]`` gradient of the loss at ``param`` (same shape).
        velocity: the momentum buffer from the previous step, or ``None`` on the first step
            (then the buffer starts as the gradient, as in PyTorch).
        lr: learning rate.
        momentum: ``mu``, e.g. 0.9 (0 gives plain SGD).
        dampening: ``tau``; the new gradient enters the buffer with weight ``1 - tau``.
        weight_decay: L2 coefficient added to the gradient as ``wd * param``.
        nesterov: use Nesterov's look-ahead form.

    Returns:
        ``(new_param, new_velocity)``, new tensors of the shape of ``param``.

    Examples:
        >>> p, v = sgd_momentum_step(torch.tensor([1.0]), torch.tensor([2.0]), lr=0.1, momentum=0.9)
        >>> p, v
        (tensor([0.8000]), tensor([2.]))
        >>> sgd_momentum_step(p, torch.tensor([2.0]), v, lr=0.1, momentum=0.9)  # v = 0.9 * 2 + 2
        (tensor([0.4200]), tensor([3.8000]))
    """
    check_tensor(param, "param", floating=True)
    check_tensor(grad, "grad", shape=tuple(param.shape))
    if velocity is not None:
        check_tensor(velocity, "velocity", shape=tuple(param.shape))
    _check_hyper(lr, momentum, dampening, weight_decay, nesterov)
    g = grad + weight_decay * param if weight_decay else grad.clone()
    if momentum == 0:
        return param - lr * g, g
    v = g.clone() if velocity is None else momentum * velocity + (1.0 - dampening) * g
    direction = g + momentum * v if nesterov else v
    return param - lr * direction, v


class ParameterwiseOptimizer(torch.optim.Optimizer):
    """An optimizer whose step updates each parameter that has a gradient on its own:
    ``p <- self.update(p, group, self.state[p])``. The teaching optimizers of the course
    (:class:`MomentumSGD`, :class:`course_utils.optim.adam.Adam`) only write ``update``."""

    def update(self, p: Tensor, group: dict, state: dict) -> Tensor:
        """The new value of parameter ``p`` (its gradient is ``p.grad``); may update ``state``."""
        raise NotImplementedError

    @not_an_answer("01_linear_models/sgd_momentum_step", why="loops over the parameters and calls sgd_momentum_step")
    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.copy_(self.update(p, group, self.state[p]))
        return loss


class MomentumSGD(ParameterwiseOptimizer):
    """A teaching optimizer: :func:`sgd_momentum_step` applied to every parameter.

    Gives the same updates as ``torch.optim.SGD`` with the same arguments (tested), so it can
    be used anywhere an optimizer is expected, e.g. in :func:`course_utils.train.fit`.

    Examples:
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> opt = MomentumSGD([w], lr=0.1, momentum=0.9)
        >>> (w ** 2).sum().backward(); opt.step(); w.data
        tensor([0.8000])
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        _check_hyper(lr, momentum, dampening, weight_decay, nesterov)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    @not_an_answer("01_linear_models/sgd_momentum_step", why="calls sgd_momentum_step")
    def update(self, p: Tensor, group: dict, state: dict) -> Tensor:
        new_p, state["velocity"] = sgd_momentum_step(
            p, p.grad, state.get("velocity"), lr=group["lr"], momentum=group["momentum"],
            dampening=group["dampening"], weight_decay=group["weight_decay"], nesterov=group["nesterov"])
        return new_p


def step_decay(step: int, base_lr: float, factor: float = 0.1, every: int = 10) -> float:
    """Learning rate after ``step`` steps when it is multiplied by ``factor`` every ``every`` steps.

    ``base_lr * factor ** (step // every)``, the rule of ``torch.optim.lr_scheduler.StepLR``
    (``step_size=every, gamma=factor``).

    Examples:
        >>> [step_decay(s, 0.1, factor=0.5, every=2) for s in range(5)]
        [0.1, 0.1, 0.05, 0.05, 0.025]
    """
    check_nonnegative_int(step, "step")
    check_positive_int(every, "every")
    if not base_lr >= 0:
        raise ValueError(f"base_lr must be >= 0, got {base_lr}")
    return base_lr * factor ** (step // every)


def descend(
    grad_fn: Callable[[Tensor], Tensor],
    start: Tensor,
    *,
    lr: float | Callable[[int], float],
    steps: int,
    momentum: float = 0.0,
    dampening: float = 0.0,
) -> Tensor:
    """Run gradient descent from ``start`` and return every point visited.

    Args:
        grad_fn: ``grad_fn(x Tensor[D]) -> Tensor[D]``, the gradient of the function.
        start: ``Tensor[D]`` the first point.
        lr: a constant learning rate or ``lr(step) -> float`` (e.g. a step decay).
        steps: number of updates.
        momentum, dampening: as in :func:`sgd_momentum_step`.

    Returns:
        ``Tensor[steps + 1, D]``: ``start`` and the point after each step (non-finite values
        are kept, so a diverging run shows as inf/nan at its end).

    Examples:
        >>> descend(lambda x: 2 * x, torch.tensor([1.0]), lr=0.25, steps=3)[:, 0].tolist()
        [1.0, 0.5, 0.25, 0.125]
    """
    check_tensor(start, "start", ndim=1, floating=True)
    check_nonnegative_int(steps, "steps")
    schedule = lr if callable(lr) else (lambda _step: lr)
    path = [start.clone()]
    x, v = start.clone(), None
    for t in range(steps):
        x, v = sgd_momentum_step(x, grad_fn(x), v, lr=schedule(t), momentum=momentum, dampening=dampening)
        path.append(x)
    return torch.stack(path)  # [steps + 1, D]
