"""Learning-rate schedules as plain functions of the step: step decay, cosine, warm restarts, one-cycle.

Each function returns the learning rate for optimizer step ``step`` (counting from 0) and
matches a scheduler of ``torch.optim.lr_scheduler`` stepped once per optimizer step
(tested):

* :func:`step_decay` (in :mod:`course_utils.optim`): ``StepLR``, multiply by ``factor``
  every ``every`` steps;
* :func:`cosine_schedule`: ``CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)``, half a
  cosine from ``base_lr`` down to ``min_lr``;
* :func:`cosine_restarts`: ``CosineAnnealingWarmRestarts(T_0=period)``, the same half cosine
  repeated every ``period`` steps (the schedule of snapshot ensembles);
* :func:`one_cycle_schedule`: ``OneCycleLR`` (cosine annealing, two phases), a warm-up from
  ``max_lr / div_factor`` to ``max_lr`` during the first ``pct_start`` of the steps, then a
  cosine down to ``max_lr / (div_factor * final_div_factor)``. ``one_cycle_momentum`` gives
  the momentum (Adam's ``beta1``) that ``OneCycleLR`` cycles the other way: low while the
  learning rate is high.
"""
from __future__ import annotations

import math

from course_utils.checks import check_nonnegative_int, check_number, check_positive_int

__all__ = ["cosine_schedule", "cosine_restarts", "one_cycle_schedule", "one_cycle_momentum"]


def _cos_between(start: float, end: float, fraction: float) -> float:
    """``start`` at fraction 0, ``end`` at fraction 1, along half a cosine (flat at both ends)."""
    return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))


def cosine_schedule(step: int, total_steps: int, base_lr: float, min_lr: float = 0.0) -> float:
    """Cosine annealing from ``base_lr`` (step 0) to ``min_lr`` (step ``total_steps``).

    Examples:
        >>> [round(cosine_schedule(s, 4, 1.0), 4) for s in range(5)]
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    step = check_nonnegative_int(step, "step")
    total_steps = check_positive_int(total_steps, "total_steps")
    check_number(base_lr, "base_lr", low=0.0)
    check_number(min_lr, "min_lr", low=0.0)
    if step > total_steps:
        raise ValueError(f"step must be at most total_steps ({total_steps}), got {step}")
    return _cos_between(base_lr, min_lr, step / total_steps)


def cosine_restarts(step: int, period: int, base_lr: float, min_lr: float = 0.0) -> float:
    """Cosine annealing restarted every ``period`` steps (SGDR, Loshchilov and Hutter, 2017).

    The rate falls from ``base_lr`` towards ``min_lr`` during each cycle and jumps back at the
    start of the next: the models at the end of each cycle are the snapshots of a snapshot
    ensemble (Huang et al., 2017).

    Examples:
        >>> [round(cosine_restarts(s, 3, 1.0), 3) for s in range(7)]
        [1.0, 0.75, 0.25, 1.0, 0.75, 0.25, 1.0]
    """
    step = check_nonnegative_int(step, "step")
    period = check_positive_int(period, "period")
    check_number(base_lr, "base_lr", low=0.0)
    check_number(min_lr, "min_lr", low=0.0)
    return _cos_between(base_lr, min_lr, (step % period) / period)


def _one_cycle_phase(step, total_steps, pct_start) -> tuple[int, float]:
    """(phase 0 or 1, fraction of the phase done) at ``step``, as ``OneCycleLR`` counts them."""
    step = check_nonnegative_int(step, "step")
    total_steps = check_positive_int(total_steps, "total_steps")
    check_number(pct_start, "pct_start", low=0.0, high=1.0, low_open=True, high_open=True)
    if step > total_steps:
        raise ValueError(f"step must be at most total_steps ({total_steps}), got {step}")
    warm_end = pct_start * total_steps - 1  # the step at which the rate peaks (OneCycleLR's float)
    if warm_end <= 0 or warm_end >= total_steps - 1:
        raise ValueError(f"pct_start * total_steps must leave at least one step in each phase, got "
                         f"pct_start={pct_start}, total_steps={total_steps}")
    if step <= warm_end:
        return 0, step / warm_end
    return 1, (step - warm_end) / (total_steps - 1 - warm_end)


def one_cycle_schedule(step: int, total_steps: int, max_lr: float, pct_start: float = 0.3,
                       div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    """The learning rate of ``torch.optim.lr_scheduler.OneCycleLR`` (cosine, two phases) at ``step``.

    Starts at ``max_lr / div_factor``, rises to ``max_lr`` at step ``pct_start * total_steps - 1``,
    then falls to ``max_lr / (div_factor * final_div_factor)`` at step ``total_steps - 1``.

    Examples:
        >>> [round(one_cycle_schedule(s, 10, 1.0), 4) for s in (0, 2, 5, 9)]
        [0.04, 1.0, 0.6113, 0.0]
    """
    check_number(max_lr, "max_lr", low=0.0)
    check_number(div_factor, "div_factor", low=0.0, low_open=True)
    check_number(final_div_factor, "final_div_factor", low=0.0, low_open=True)
    phase, fraction = _one_cycle_phase(step, total_steps, pct_start)
    initial = max_lr / div_factor
    if phase == 0:
        return _cos_between(initial, max_lr, fraction)
    return _cos_between(max_lr, initial / final_div_factor, fraction)


def one_cycle_momentum(step: int, total_steps: int, pct_start: float = 0.3, base_momentum: float = 0.85,
                       max_momentum: float = 0.95) -> float:
    """The momentum (Adam's ``beta1``) that ``OneCycleLR`` sets at ``step``: the mirror image of the rate.

    Examples:
        >>> [round(one_cycle_momentum(s, 10), 3) for s in (0, 2, 9)]
        [0.95, 0.85, 0.95]
    """
    check_number(base_momentum, "base_momentum", low=0.0, high=1.0)
    check_number(max_momentum, "max_momentum", low=0.0, high=1.0)
    phase, fraction = _one_cycle_phase(step, total_steps, pct_start)
    if phase == 0:
        return _cos_between(max_momentum, base_momentum, fraction)
    return _cos_between(base_momentum, max_momentum, fraction)
