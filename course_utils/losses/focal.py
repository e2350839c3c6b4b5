"""The focal loss of RetinaNet (Lin et al., 2017): cross-entropy that ignores what is already easy.

A dense detector scores tens of thousands of candidate boxes per image, and almost all of
them are background that the network classifies correctly after a few iterations. Summed
over so many candidates, the small cross-entropy of these *easy negatives* still
outweighs the few objects. The focal loss multiplies the binary cross-entropy of each
candidate by ``(1 - p_t) ** gamma``, where ``p_t`` is the probability the model gives to
the *true* answer (``p`` for a positive, ``1 - p`` for a negative): a candidate already
classified with ``p_t = 0.9`` keeps ``0.1 ** 2 = 1 %`` of its loss at ``gamma = 2``, one
with ``p_t = 0.1`` keeps 81 %. ``alpha`` additionally weights positives by ``alpha`` and
negatives by ``1 - alpha`` (0.25 in the paper: once the easy negatives are silenced the
positives need *less* weight, not more)::

    FL = -alpha_t (1 - p_t) ** gamma log(p_t)

With ``gamma = 0`` and ``alpha < 0`` (no weighting, torchvision's convention) it is the
binary cross-entropy. ``log(p_t)`` is computed from the logits with
``binary_cross_entropy_with_logits``, so it stays finite for any finite logit, where
``log(sigmoid(x))`` would give ``-inf`` beyond about ``|x| = 17`` (float32) or 37 (float64).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_in, check_number, check_tensor
from course_utils.references import reference_of

__all__ = ["sigmoid_focal_loss", "REDUCTIONS"]

REDUCTIONS = ("none", "mean", "sum")


def _check_focal(logits, targets, alpha, gamma, reduction) -> None:
    check_tensor(logits, "logits", floating=True)
    check_tensor(targets, "targets", shape=tuple(logits.shape))
    if targets.is_complex():
        raise TypeError(f"targets must be real, got {str(targets.dtype).replace('torch.', '')}")
    if targets.device != logits.device:
        raise ValueError(f"targets must be on the device of logits ({logits.device}), got {targets.device}")
    outside = ~((targets >= 0) & (targets <= 1))  # NaN lies outside too
    if targets.numel() and bool(outside.any()):
        raise ValueError(f"targets must lie in [0, 1], got {float(targets[outside][0])}")
    check_number(alpha, "alpha", high=1)
    check_number(gamma, "gamma", low=0)
    check_in(reduction, "reduction", REDUCTIONS)


def _sigmoid_focal_loss_twin(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """Twin of :func:`sigmoid_focal_loss`: ``torchvision.ops.sigmoid_focal_loss``."""
    from torchvision.ops import sigmoid_focal_loss as tv_focal
    _check_focal(logits, targets, alpha, gamma, reduction)
    return tv_focal(logits, targets.to(logits.dtype), alpha=float(alpha), gamma=float(gamma), reduction=reduction)


@reference_of("05_detection/focal_loss", twin=_sigmoid_focal_loss_twin)
def sigmoid_focal_loss(logits: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> Tensor:
    """Focal loss of independent binary (sigmoid) classifiers, elementwise or reduced.

    Args:
        logits: Tensor[*] float, one logit per candidate (and class).
        targets: Tensor[*] of the same shape, 1 for a positive, 0 for a negative (any
            dtype; soft targets in [0, 1] are accepted as in torchvision).
        alpha: weight of the positives, ``1 - alpha`` of the negatives; a negative value
            turns the weighting off. At most 1.
        gamma: focusing exponent, ``>= 0``; 0 gives the (alpha-weighted) cross-entropy.
        reduction: ``"none"`` (Tensor[*]), ``"mean"`` or ``"sum"`` (0-d tensors; the mean
            of an empty input is NaN, as in PyTorch).

    Returns:
        The loss, in the dtype and on the device of ``logits``. Same as
        ``torchvision.ops.sigmoid_focal_loss``.

    Examples:
        >>> x, t = torch.tensor([2.0, -1.0, 3.0]), torch.tensor([1.0, 0.0, 0.0])
        >>> [round(v, 4) for v in sigmoid_focal_loss(x, t).tolist()]
        [0.0005, 0.017, 2.0747]
        >>> torch.allclose(sigmoid_focal_loss(x, t, alpha=-1, gamma=0),
        ...                F.binary_cross_entropy_with_logits(x, t, reduction="none"))
        True
    """
    _check_focal(logits, targets, alpha, gamma, reduction)
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # -log(p_t), finite
    p_t = p * targets + (1 - p) * (1 - targets)  # probability of the true answer
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))  # alpha_t
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
