"""Which cue does a classifier follow? Ask it on images where two cues disagree.

A data set can offer a classifier two ways to be right: the *object* (the shape that
defines the class) and a *spurious* cue that happens to go with it in the training data
(the snow behind the wolves). On images where both agree, a model that uses either one
is right, so accuracy cannot tell them apart. On *conflict* images, where the object
says class ``a`` and the cue says class ``b != a``, a model that follows the object
predicts ``a`` and a model that follows the cue predicts ``b``:
:func:`cue_reliance` counts both.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from course_utils.checks import check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["cue_reliance"]

VERDICTS = ("object", "background", "tie")


def _check_cues(model, images: Tensor, labels: Tensor, background_labels: Tensor) -> Tensor:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_tensor(images, "images", floating=True)
    check_tensor(labels, "labels", shape=(images.shape[0],), dtypes=(torch.int64,))
    check_tensor(background_labels, "background_labels", shape=(images.shape[0],), dtypes=(torch.int64,))
    conflict = labels != background_labels
    if not bool(conflict.any()):
        raise ValueError("no conflict image: every background agrees with its label, so the cues cannot be told apart")
    return conflict


@not_an_answer("10_visualization/cue_reliance", why="the twin's counting, forbidden so that a copy of the twin is caught")
def _follow_fractions(predicted: np.ndarray, labels: np.ndarray, background_labels: np.ndarray) -> dict:
    """The fractions of ``predicted`` equal to each cue, and the verdict (see :func:`cue_reliance`)."""
    follows = {"object": float(np.mean(predicted == labels)), "background": float(np.mean(predicted == background_labels))}
    verdict = "tie" if follows["object"] == follows["background"] else max(follows, key=follows.get)
    return {**follows, "verdict": verdict}


def _cue_reliance_twin(model, images, labels, background_labels):
    conflict = _check_cues(model, images, labels, background_labels)
    with torch.no_grad():
        predicted = model(images[conflict]).argmax(dim=1).cpu().numpy()
    return _follow_fractions(predicted, labels[conflict].cpu().numpy(), background_labels[conflict].cpu().numpy())


@reference_of("10_visualization/cue_reliance", twin=_cue_reliance_twin)
def cue_reliance(model: nn.Module, images: Tensor, labels: Tensor, background_labels: Tensor) -> dict:
    """How often the model follows the object, and how often the background, where they disagree.

    Args:
        model: a classifier returning logits ``Tensor[N, K]``, in eval mode.
        images: Tensor[N, C, H, W].
        labels: Tensor[N] int64, the class of each image's object.
        background_labels: Tensor[N] int64, the class each image's background goes with in training.

    Returns:
        ``{"object": float, "background": float, "verdict": str}``: over the conflict images
        (``labels != background_labels``) only, the fraction predicted as ``labels`` and the
        fraction predicted as ``background_labels``; ``verdict`` names the larger
        (``"object"`` or ``"background"``), or is ``"tie"`` when they are equal.

    Raises:
        ValueError: when no image is a conflict image.

    Examples:
        >>> class ReadsCorner(nn.Module):  # predicts the class written in the top-left pixel
        ...     def forward(self, x):
        ...         return nn.functional.one_hot(x[:, 0, 0, 0].long(), 3).float()
        >>> images = torch.tensor([0.0, 1.0, 2.0, 2.0]).view(4, 1, 1, 1)
        >>> cue_reliance(ReadsCorner(), images, torch.tensor([1, 1, 2, 0]), torch.tensor([0, 1, 2, 2]))
        {'object': 0.0, 'background': 1.0, 'verdict': 'background'}
    """
    conflict = _check_cues(model, images, labels, background_labels)
    with torch.no_grad():
        predicted = model(images[conflict]).argmax(dim=1)  # only where the cues disagree
    object_rate = (predicted == labels[conflict]).double().mean().item()
    background_rate = (predicted == background_labels[conflict]).double().mean().item()
    if object_rate > background_rate:
        verdict = "object"
    elif background_rate > object_rate:
        verdict = "background"
    else:
        verdict = "tie"
    return {"object": object_rate, "background": background_rate, "verdict": verdict}
