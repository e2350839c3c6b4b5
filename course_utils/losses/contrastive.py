"""Contrastive losses: NT-Xent (SimCLR) and the general InfoNCE.

A batch of ``N`` images gives ``2N`` views: ``z1[i]`` and ``z2[i]`` are the embeddings of
two augmentations of image ``i``. Stack them as ``z = cat([z1, z2])`` (``Tensor[2N, D]``),
so view ``a`` and view ``a + N`` (mod ``2N``) form the positive pair. With cosine
similarity ``s(u, v) = u.v / (|u| |v|)`` and temperature ``tau``, the loss of anchor ``a``
with positive ``p`` is (Chen et al. 2020, eq. 1)::

    l(a, p) = -log( exp(s(z_a, z_p) / tau) / sum_{k != a} exp(s(z_a, z_k) / tau) )

The denominator runs over the other ``2N - 1`` views: the positive and the ``2N - 2``
negatives. NT-Xent is the mean of ``l`` over all ``2N`` anchors. It is a cross-entropy
over ``2N - 1`` "classes" whose correct class is the positive, which is how
:func:`nt_xent` computes it; :func:`nt_xent_loop` spells out the formula one anchor at a
time. :func:`info_nce` is the general form with explicitly given negatives (MoCo, CPC).

An empty batch has nothing to contrast: ``reduction="none"`` returns ``Tensor[0]`` and
``"mean"`` returns 0.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_in, check_nonnegative_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["nt_xent", "nt_xent_loop", "nt_xent_targets", "info_nce"]

REDUCTIONS = ("mean", "sum", "none")
# Cosine similarity divides by the norms; a zero embedding gets norm eps instead of 0
# (the convention of F.normalize), so its similarities are 0 rather than NaN.
NORM_EPS = 1e-12


def _check_pair(z1: Tensor, z2: Tensor, temperature: float, reduction: str) -> None:
    check_tensor(z1, "z1", ndim=2, floating=True)
    check_tensor(z2, "z2", ndim=2, floating=True)
    if z1.shape != z2.shape:
        raise ValueError(f"z1 and z2 must have the same shape [N, D], got {list(z1.shape)} and {list(z2.shape)}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    check_in(reduction, "reduction", REDUCTIONS)


def _reduce(per_anchor: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return per_anchor
    if reduction == "sum":
        return per_anchor.sum()
    return per_anchor.sum() / max(per_anchor.numel(), 1)  # an empty batch: 0, not NaN


def nt_xent_targets(n: int, device: torch.device | str | None = None) -> Tensor:
    """Index of each view's positive in ``cat([z1, z2])``: ``[n, ..., 2n-1, 0, ..., n-1]``.

    Examples:
        >>> nt_xent_targets(3)
        tensor([3, 4, 5, 0, 1, 2])
    """
    check_nonnegative_int(n, "n")
    return (torch.arange(2 * n, device=device) + n) % (2 * n)  # [2n]


def _nt_xent_twin(z1: Tensor, z2: Tensor, temperature: float = 0.5, reduction: str = "mean") -> Tensor:
    """Twin of the NT-Xent references: log-softmax over a masked similarity matrix (no cross_entropy)."""
    _check_pair(z1, z2, temperature, reduction)
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1, eps=NORM_EPS)  # [2N, D]
    logits = (z @ z.T) / temperature  # [2N, 2N]
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    log_prob = torch.log_softmax(logits, dim=1)  # [2N, 2N]; the diagonal is -inf
    per_anchor = -log_prob.gather(1, nt_xent_targets(n, z.device)[:, None]).squeeze(1)  # [2N]
    return _reduce(per_anchor, reduction)


@reference_of("07_self_supervised/nt_xent_loss", twin=_nt_xent_twin)
def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5, reduction: str = "mean") -> Tensor:
    """NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (vectorized).

    Args:
        z1: ``Tensor[N, D]`` float, embeddings of the first view of each image.
        z2: ``Tensor[N, D]`` float, embeddings of the second view (``z2[i]`` is the positive of ``z1[i]``).
        temperature: ``tau > 0``; similarities are divided by it.
        reduction: ``"mean"`` (over the ``2N`` anchors), ``"sum"`` or ``"none"``.

    Returns:
        A 0-d tensor, or with ``reduction="none"`` ``Tensor[2N]``: the loss of each anchor,
        the ``N`` anchors of ``z1`` first, then those of ``z2``. Dtype and device of ``z1``.

    Examples:
        >>> z = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(nt_xent(z, z, temperature=1.0)), 4)  # log(1 + e^0 + e^0) - 1 for each anchor
        0.5514
        >>> nt_xent(torch.zeros(0, 4), torch.zeros(0, 4))
        tensor(0.)
    """
    _check_pair(z1, z2, temperature, reduction)
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1, eps=NORM_EPS)  # [2N, D], unit rows
    logits = (z @ z.T) / temperature  # [2N, 2N] cosine similarities / tau
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))  # an anchor is not its own negative
    per_anchor = F.cross_entropy(logits, nt_xent_targets(n, z.device), reduction="none")  # [2N]
    return _reduce(per_anchor, reduction)


@reference_of("07_self_supervised/nt_xent_loss", twin=_nt_xent_twin)
def nt_xent_loop(z1: Tensor, z2: Tensor, temperature: float = 0.5, reduction: str = "mean") -> Tensor:
    """NT-Xent one anchor at a time, exactly as the SimCLR paper writes it (slow, for reading).

    Same arguments and result as :func:`nt_xent`.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> z1, z2 = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
        >>> bool(torch.isclose(nt_xent_loop(z1, z2, 0.2), nt_xent(z1, z2, 0.2)))
        True
    """
    _check_pair(z1, z2, temperature, reduction)
    n = z1.shape[0]
    dtype = torch.promote_types(z1.dtype, z2.dtype)  # as torch.cat in nt_xent
    views = [v for v in z1.to(dtype)] + [v for v in z2.to(dtype)]  # 2N vectors [D]
    losses = []
    for a in range(2 * n):
        positive = (a + n) % (2 * n)
        za = views[a] / views[a].norm().clamp(min=NORM_EPS)
        sims = {}
        for k in range(2 * n):
            if k != a:
                zk = views[k] / views[k].norm().clamp(min=NORM_EPS)
                sims[k] = torch.dot(za, zk) / temperature
        # log-sum-exp with the maximum taken out, so a small tau does not overflow exp()
        top = max(sims.values())
        log_denominator = top + torch.log(sum(torch.exp(s - top) for s in sims.values()))
        losses.append(log_denominator - sims[positive])
    per_anchor = torch.stack(losses) if losses else z1.new_zeros(0)
    return _reduce(per_anchor, reduction)


@not_an_answer("07_self_supervised/nt_xent_loss", why="InfoNCE with explicit negatives: the exercise's loss "
               "can be built from it, so the exercise forbids it, but its code is another loss")
def info_nce(query: Tensor, positive: Tensor, negatives: Tensor, temperature: float = 0.1,
             reduction: str = "mean") -> Tensor:
    """InfoNCE with explicit negatives: the positive must win a softmax against the negatives.

    Args:
        query: ``Tensor[N, D]``.
        positive: ``Tensor[N, D]``, the positive key of each query.
        negatives: ``Tensor[K, D]`` shared by all queries (a memory bank, MoCo's queue) or
            ``Tensor[N, K, D]``, one set per query.
        temperature: ``tau > 0``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``Tensor[N]``).

    Similarities are cosine similarities. The loss of query ``i`` is
    ``-log(exp(s_pos / tau) / (exp(s_pos / tau) + sum_k exp(s_k / tau)))``; with no negatives
    it is 0, and with ``K`` negatives all as similar as the positive it is ``log(K + 1)``.

    Examples:
        >>> q = torch.tensor([[1.0, 0.0]])
        >>> round(float(info_nce(q, q, torch.tensor([[1.0, 0.0], [1.0, 0.0]]), temperature=1.0)), 6) == round(math.log(3), 6)
        True
    """
    check_tensor(query, "query", ndim=2, floating=True)
    check_tensor(positive, "positive", shape=tuple(query.shape), floating=True)
    check_tensor(negatives, "negatives", floating=True)
    if negatives.ndim == 2:
        negatives = negatives.unsqueeze(0).expand(query.shape[0], -1, -1)  # [N, K, D]
    if negatives.ndim != 3 or negatives.shape[0] != query.shape[0] or negatives.shape[2] != query.shape[1]:
        raise ValueError(f"negatives must have shape [K, {query.shape[1]}] or [{query.shape[0]}, K, {query.shape[1]}], "
                         f"got {list(negatives.shape)}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    check_in(reduction, "reduction", REDUCTIONS)
    q = F.normalize(query, dim=1, eps=NORM_EPS)  # [N, D]
    pos = (q * F.normalize(positive, dim=1, eps=NORM_EPS)).sum(1, keepdim=True)  # [N, 1]
    neg = torch.einsum("nd,nkd->nk", q, F.normalize(negatives, dim=2, eps=NORM_EPS))  # [N, K]
    logits = torch.cat([pos, neg], dim=1) / temperature  # [N, 1 + K]; class 0 is the positive
    per_query = -torch.log_softmax(logits, dim=1)[:, 0]  # [N]
    return _reduce(per_query, reduction)
