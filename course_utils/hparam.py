"""Hyper-parameter search and the training diagnostics that guide it.

* **Search spaces** are dicts ``name -> (low, high, scale)`` with ``scale`` ``"log"`` or
  ``"linear"``, e.g. ``{"lr": (1e-4, 1.0, "log"), "hidden": (16, 256, "linear")}``.
  Learning rates and regularization strengths act multiplicatively, so they are searched
  in log space: ``10 ** uniform(log10(low), log10(high))`` puts as many samples between
  1e-4 and 1e-3 as between 0.1 and 1.
* :func:`random_configs` samples a space, :func:`grid_configs` lays a grid over it, and
  :func:`refine_space` shrinks it around the best results (coarse-to-fine search).
  :func:`at_boundary` flags a best value at the edge of its range, where the true optimum
  may lie outside the searched range.
* :func:`is_exploding` is the early-stop test "loss above 3x the first loss", and
  :func:`update_ratio` the size of one update relative to the weights (aim for ~1e-3).

Random functions take a ``torch.Generator`` or a ``seed``; nothing uses global state.
"""
from __future__ import annotations

import math
from itertools import product
from typing import Mapping, Sequence

import torch
from torch import Tensor

from course_utils.checks import check_in, check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = [
    "SCALES",
    "sample_log_uniform",
    "sample_uniform",
    "random_configs",
    "grid_configs",
    "refine_space",
    "at_boundary",
    "is_exploding",
    "update_ratio",
]

SCALES = ("log", "linear")
EXPLOSION_FACTOR = 3.0  # the lecture's rule: stop when the loss exceeds 3x its first value

Space = Mapping[str, tuple[float, float, str]]


def _generator(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    if generator is not None and seed is not None:
        raise ValueError("pass either generator or seed, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    return torch.Generator().manual_seed(0 if seed is None else check_nonnegative_int(seed, "seed"))


def _check_range(low: float, high: float, positive: bool) -> None:
    if positive and not low > 0:
        raise ValueError(f"log-space sampling needs low > 0, got low={low}")
    if not high > low:
        raise ValueError(f"high must be greater than low, got low={low}, high={high}")


def sample_uniform(low: float, high: float, n: int, generator: torch.Generator | None = None, *,
                   seed: int | None = None) -> Tensor:
    """``n`` values uniform in ``[low, high)``, float64.

    Examples:
        >>> x = sample_uniform(2.0, 3.0, 1000, seed=0)
        >>> x.dtype, bool(((x >= 2) & (x < 3)).all())
        (torch.float64, True)
    """
    _check_range(low, high, positive=False)
    check_nonnegative_int(n, "n")
    g = _generator(generator, seed)
    return low + (high - low) * torch.rand(n, generator=g, dtype=torch.float64)


def _sample_log_uniform_twin(low, high, n, generator=None, *, seed=None):
    """Twin of :func:`sample_log_uniform`: ``Tensor.uniform_`` on the exponents, then ``torch.pow``."""
    _check_range(low, high, positive=True)
    _check_range(math.log10(low), math.log10(high), positive=False)
    check_nonnegative_int(n, "n")
    g = _generator(generator, seed)
    exponents = torch.empty(n, dtype=torch.float64).uniform_(math.log10(low), math.log10(high), generator=g)
    return torch.pow(10.0, exponents).clamp(min=low, max=high)


@reference_of("01_linear_models/sample_log_uniform", twin=_sample_log_uniform_twin)
def sample_log_uniform(low: float, high: float, n: int, generator: torch.Generator | None = None, *,
                       seed: int | None = None) -> Tensor:
    """``n`` values log-uniform in ``[low, high)``: ``log10`` of them is uniform. float64.

    Every decade between ``low`` and ``high`` receives the same share of samples.

    Args:
        low, high: the range, ``0 < low < high``.
        n: number of samples.
        generator: a ``torch.Generator`` (or give ``seed``; default seed 0).

    Returns:
        ``Tensor[n]`` float64.

    Examples:
        >>> x = sample_log_uniform(1e-4, 1.0, 10_000, seed=0)
        >>> bool(((x >= 1e-4) & (x < 1.0)).all()), round(float((x < 1e-2).double().mean()), 1)
        (True, 0.5)
    """
    _check_range(low, high, positive=True)
    exponents = sample_uniform(math.log10(low), math.log10(high), n, generator, seed=seed)
    return (10.0 ** exponents).clamp(min=low, max=high)  # clamp: 10**log10(x) may round past x


def _check_space(space: Space) -> None:
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"space must be a non-empty dict name -> (low, high, scale), got {space!r}")
    for name, spec in space.items():
        if not isinstance(spec, (tuple, list)) or len(spec) != 3:
            raise ValueError(f"space[{name!r}] must be (low, high, scale), got {spec!r}")
        low, high, scale = spec
        check_in(scale, f"scale of {name!r}", SCALES)
        _check_range(low, high, positive=scale == "log")


@not_an_answer("01_linear_models/sample_log_uniform", why="samples a whole space by calling sample_log_uniform")
def random_configs(space: Space, n: int, generator: torch.Generator | None = None, *,
                   seed: int | None = None) -> list[dict[str, float]]:
    """``n`` random configurations, each value drawn independently in its own scale.

    Examples:
        >>> cfgs = random_configs({"lr": (1e-4, 1e-1, "log"), "momentum": (0.5, 0.99, "linear")}, 3, seed=0)
        >>> len(cfgs), sorted(cfgs[0])
        (3, ['lr', 'momentum'])
    """
    _check_space(space)
    check_nonnegative_int(n, "n")
    g = _generator(generator, seed)
    columns = {name: (sample_log_uniform if scale == "log" else sample_uniform)(low, high, n, g)
               for name, (low, high, scale) in space.items()}
    return [{name: float(col[i]) for name, col in columns.items()} for i in range(n)]


def grid_configs(space: Space, points: int | Mapping[str, int]) -> list[dict[str, float]]:
    """All combinations of ``points`` evenly spaced values per dimension (log-spaced for "log").

    The grid includes both ends of every range. With ``points`` an int the grid has
    ``points ** len(space)`` configurations.

    Examples:
        >>> [c["lr"] for c in grid_configs({"lr": (1e-3, 1e-1, "log")}, 3)]
        [0.001, 0.01, 0.1]
    """
    _check_space(space)
    axes = []
    for name, (low, high, scale) in space.items():
        k = points[name] if isinstance(points, Mapping) else points
        check_positive_int(k, f"points for {name!r}")
        if scale == "log":
            values = torch.logspace(math.log10(low), math.log10(high), k, dtype=torch.float64)
        else:
            values = torch.linspace(low, high, k, dtype=torch.float64)
        if k == 1:  # a single point: the middle of the range (in its scale)
            mid = math.sqrt(low * high) if scale == "log" else (low + high) / 2
            values = torch.tensor([mid], dtype=torch.float64)
        axes.append([float(v) for v in values])
    names = list(space)
    return [dict(zip(names, combo)) for combo in product(*axes)]


def refine_space(space: Space, configs: Sequence[Mapping[str, float]], scores: Sequence[float], *,
                 top: int = 5, higher_is_better: bool = True, margin: float = 0.1) -> dict[str, tuple[float, float, str]]:
    """Coarse-to-fine: the new range of every dimension spans the ``top`` best configurations.

    The span is widened by ``margin`` times its width on each side (in the dimension's own
    scale, so in decades for "log") and never extends beyond the old range. Non-finite
    scores (diverged runs) are ignored.

    Args:
        space: the current space.
        configs: the evaluated configurations.
        scores: one score per configuration.
        top: how many of the best configurations define the new range.
        higher_is_better: True for accuracy, False for a loss.
        margin: relative widening of the new range.

    Returns:
        A new space with the same names and scales.

    Examples:
        >>> space = {"lr": (1e-5, 1.0, "log")}
        >>> cfgs = [{"lr": 1e-4}, {"lr": 1e-2}, {"lr": 1e-1}, {"lr": 0.5}]
        >>> new = refine_space(space, cfgs, [0.1, 0.8, 0.9, 0.2], top=2, margin=0.0)
        >>> [round(v, 6) for v in new["lr"][:2]], new["lr"][2]
        ([0.01, 0.1], 'log')
    """
    _check_space(space)
    check_positive_int(top, "top")
    if len(configs) != len(scores):
        raise ValueError(f"configs and scores must have the same length, got {len(configs)} and {len(scores)}")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    finite = [(float(s), c) for s, c in zip(scores, configs) if math.isfinite(float(s))]
    if not finite:
        raise ValueError("no finite score to refine around")
    finite.sort(key=lambda sc: sc[0], reverse=higher_is_better)
    best = [c for _, c in finite[:top]]
    new = {}
    for name, (low, high, scale) in space.items():
        to = math.log10 if scale == "log" else (lambda v: v)
        back = (lambda v: 10.0 ** v) if scale == "log" else (lambda v: v)
        vals = [to(float(c[name])) for c in best]
        lo, hi = min(vals), max(vals)
        width = hi - lo
        lo, hi = max(lo - margin * width, to(low)), min(hi + margin * width, to(high))
        if hi <= lo:  # a single best value: keep a small range around it
            pad = 0.05 * (to(high) - to(low))
            lo, hi = max(lo - pad, to(low)), min(hi + pad, to(high))
        new[name] = (back(lo), back(hi), scale)
    return new


def at_boundary(space: Space, config: Mapping[str, float], fraction: float = 0.1) -> list[str]:
    """Names whose value lies within ``fraction`` of the range width of an edge of its range.

    A best configuration at the edge of the searched range is suspicious: the optimum may
    lie outside it, so widen that range and search again.

    Examples:
        >>> at_boundary({"lr": (1e-4, 1e-3, "log"), "reg": (1e-4, 1.0, "log")}, {"lr": 9.5e-4, "reg": 1e-2})
        ['lr']
    """
    _check_space(space)
    out = []
    for name, (low, high, scale) in space.items():
        to = math.log10 if scale == "log" else (lambda v: v)
        pos = (to(float(config[name])) - to(low)) / (to(high) - to(low))  # 0 at low, 1 at high
        if pos <= fraction or pos >= 1 - fraction:
            out.append(name)
    return out


def is_exploding(loss: float, initial_loss: float, factor: float = EXPLOSION_FACTOR) -> bool:
    """True when ``loss`` is not finite or above ``factor`` times the first loss.

    Examples:
        >>> is_exploding(2.4, 2.3), is_exploding(7.5, 2.3), is_exploding(float("nan"), 2.3)
        (False, True, True)
    """
    loss, initial_loss = float(loss), float(initial_loss)
    return not math.isfinite(loss) or loss > factor * initial_loss


def update_ratio(before: Tensor, after: Tensor) -> float:
    """``||after - before|| / ||before||``: how big one update is next to the weights.

    A rule of thumb for SGD: around 1e-3. Much smaller and learning crawls (raise the
    learning rate); much larger (1e-1) and the weights are thrown around.

    Examples:
        >>> round(update_ratio(torch.tensor([3.0, 4.0]), torch.tensor([3.0, 4.005])), 6)
        0.001
    """
    check_tensor(before, "before", floating=True)
    check_tensor(after, "after", shape=tuple(before.shape))
    norm = float(before.detach().double().norm())
    delta = float((after.detach().double() - before.detach().double()).norm())
    if norm == 0:
        return 0.0 if delta == 0 else math.inf
    return delta / norm
