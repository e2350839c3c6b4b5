"""Classification metrics for the training loop: accuracy, top-k accuracy, correct counts.

Every metric has the signature ``metric(outputs, targets)`` that :func:`fit` and
:func:`evaluate` expect, and returns the *mean over the batch*; the loop weights
batch means by batch size, so epoch values are exact means over all samples.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from course_utils.checks import check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = ["count_correct", "accuracy", "topk_accuracy"]


def _labels(outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Predicted and true labels, both ``Tensor[N, *]`` int64.

    ``outputs`` are scores ``[N, C, *]`` (logits or probabilities; argmax over C) or
    labels ``[N, *]`` of an integer dtype. ``targets`` are labels ``[N, *]`` or
    one-hot / soft labels ``[N, C, *]`` (argmax over C, e.g. after mixup).
    """
    check_tensor(outputs, "outputs")
    check_tensor(targets, "targets")
    if targets.is_floating_point():
        if targets.shape != outputs.shape:
            raise ValueError(
                f"float targets are read as one-hot/soft labels and must have the shape of outputs "
                f"{list(outputs.shape)}, got {list(targets.shape)}"
            )
        targets = targets.argmax(dim=1)  # [N, C, *] -> [N, *]
    if outputs.is_floating_point():
        if outputs.ndim != targets.ndim + 1:
            hint = " (for a single binary logit per sample, pass (outputs > 0).long())" if outputs.shape == targets.shape else ""
            raise ValueError(
                f"outputs must be scores [N, C, *] with one more dimension than targets {list(targets.shape)}, "
                f"got {list(outputs.shape)}{hint}"
            )
        pred = outputs.argmax(dim=1)  # [N, C, *] -> [N, *]
    else:
        pred = outputs
    if pred.shape != targets.shape:
        raise ValueError(f"outputs (predicted labels {list(pred.shape)}) and targets {list(targets.shape)} "
                         f"must have the same shape")
    return pred.long(), targets.long()


def count_correct(outputs: Tensor, targets: Tensor) -> int:
    """Number of samples (or pixels) whose predicted class equals the target.

    Args:
        outputs: scores ``Tensor[N, C, *]`` or predicted labels ``Tensor[N, *]`` (integer).
        targets: labels ``Tensor[N, *]`` int64, or one-hot / soft ``Tensor[N, C, *]``.

    Examples:
        >>> count_correct(torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), torch.tensor([0, 1, 1]))
        2
        >>> count_correct(torch.zeros(0, 10), torch.zeros(0, dtype=torch.long))
        0
    """
    pred, target = _labels(outputs, targets)
    return int((pred == target).sum())


def accuracy(outputs: Tensor, targets: Tensor) -> float:
    """Fraction of correct predictions, in [0, 1] (``nan`` for an empty batch).

    For segmentation outputs ``[N, C, H, W]`` with targets ``[N, H, W]`` this is the
    pixel accuracy.

    Args:
        outputs: scores ``Tensor[N, C, *]`` or predicted labels ``Tensor[N, *]`` (integer).
        targets: labels ``Tensor[N, *]`` int64, or one-hot / soft ``Tensor[N, C, *]``.

    Examples:
        >>> accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1, 1, 1]))
        0.75
    """
    pred, target = _labels(outputs, targets)
    if target.numel() == 0:
        return float("nan")
    return float((pred == target).float().mean())


def _topk_accuracy_twin(outputs, targets, k=5):
    """Twin of :func:`topk_accuracy`: scikit-learn's ``top_k_accuracy_score``.

    Tied scores at the k-th place may be broken differently (neither library specifies an order).
    """
    from sklearn.metrics import top_k_accuracy_score
    check_tensor(outputs, "outputs", ndim=2, floating=True)
    check_tensor(targets, "targets", ndim=1)
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold class labels (an integer tensor), got dtype {targets.dtype}")
    if targets.shape[0] != outputs.shape[0]:
        raise ValueError(f"targets must hold one label per row of outputs ({outputs.shape[0]}), got {targets.shape[0]}")
    check_positive_int(k, "k")
    if k > outputs.shape[1]:
        raise ValueError(f"k must be at most the number of classes ({outputs.shape[1]}), got {k}")
    if targets.numel() == 0:
        return float("nan")
    scores = outputs.detach().cpu().double().numpy()
    # Two never-chosen columns keep sklearn in its multiclass mode even for C <= 2.
    low = np.full((scores.shape[0], 2), scores.min() - 1.0)
    hits = top_k_accuracy_score(targets.cpu().numpy(), np.hstack([scores, low]), k=k,
                                labels=np.arange(scores.shape[1] + 2))
    return float(np.float32(hits))  # the float32 rounding of the reference's mean


@reference_of("03_architectures/topk_accuracy", twin=_topk_accuracy_twin)
def topk_accuracy(outputs: Tensor, targets: Tensor, k: int = 5) -> float:
    """Fraction of samples whose target is among the ``k`` highest scores (ImageNet "top-5").

    Args:
        outputs: scores ``Tensor[N, C]``.
        targets: labels ``Tensor[N]`` int64.
        k: how many top classes count as a hit, ``1 <= k <= C``.

    Returns:
        A float in [0, 1] (``nan`` for an empty batch). ``k = 1`` equals :func:`accuracy`.

    Examples:
        >>> scores = torch.tensor([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]])
        >>> topk_accuracy(scores, torch.tensor([2, 2]), k=2)
        0.5
    """
    check_tensor(outputs, "outputs", ndim=2, floating=True)
    check_tensor(targets, "targets", ndim=1)
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold class labels (an integer tensor), got dtype {targets.dtype}")
    if targets.shape[0] != outputs.shape[0]:
        raise ValueError(f"targets must hold one label per row of outputs ({outputs.shape[0]}), got {targets.shape[0]}")
    check_positive_int(k, "k")
    if k > outputs.shape[1]:
        raise ValueError(f"k must be at most the number of classes ({outputs.shape[1]}), got {k}")
    if targets.numel() == 0:
        return float("nan")
    top = outputs.topk(k, dim=1).indices  # [N, k]
    hits = (top == targets.long()[:, None]).any(dim=1)  # [N, k] vs [N, 1] -> [N]
    return float(hits.float().mean())
