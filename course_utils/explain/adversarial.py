"""Adversarial examples: small, deliberate changes of the pixels that change the prediction.

Both attacks here are *untargeted* and bounded in the L-infinity norm: every pixel may
move by at most ``epsilon``, and the result is clipped to the valid image range
``[0, 1]``. They climb the cross-entropy loss of the true label.

* :func:`fgsm`, the fast gradient sign method (Goodfellow, Shlens and Szegedy, 2015):
  one step of size ``epsilon`` along the sign of the gradient,
  ``clip_[0,1](x + epsilon * sign(grad_x loss))``.
* :func:`pgd_attack`, projected gradient descent (Madry et al., 2018): ``steps`` signed
  steps of size ``step_size``, each followed by a projection back into the box
  ``[x - epsilon, x + epsilon]`` and a clip to ``[0, 1]``, optionally from a random start
  drawn uniformly in the box.
* :func:`accuracy_under_attack` and :func:`success_rate` measure them.

The model is used as it is given (eval mode: the attack must not change batch-norm
statistics); its parameters receive no gradient.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["fgsm", "pgd_attack", "accuracy_under_attack", "success_rate", "Attack"]

Attack = Callable[[nn.Module, Tensor, Tensor], Tensor]


def _check_attack(model, images: Tensor, labels: Tensor, epsilon: float) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_tensor(images, "images", floating=True)
    check_tensor(labels, "labels", shape=(images.shape[0],), dtypes=(torch.int64,))
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
        raise ValueError(f"epsilon must be a number >= 0, got {epsilon!r}")


@not_an_answer("10_visualization/fgsm", "10_visualization/pgd_attack",
               why="the twins' torch.func gradient, forbidden so that a copy of a twin is caught")
def _input_gradient(model: nn.Module, images: Tensor, labels: Tensor) -> Tensor:
    """d cross_entropy(model(x), labels) / dx at x = images, with torch.func (no .grad on any tensor)."""
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = dict(model.named_buffers())

    def loss(x):
        return F.cross_entropy(torch.func.functional_call(model, (params, buffers), (x,)), labels)

    return torch.func.grad(loss)(images.detach())


def _fgsm_twin(model, images, labels, epsilon):
    _check_attack(model, images, labels, epsilon)
    return torch.clamp(images.detach() + epsilon * torch.sign(_input_gradient(model, images, labels)), 0, 1)


@reference_of("10_visualization/fgsm", twin=_fgsm_twin)
def fgsm(model: nn.Module, images: Tensor, labels: Tensor, epsilon: float) -> Tensor:
    """One signed gradient step of size ``epsilon`` up the loss, clipped to [0, 1].

    Args:
        model: a classifier returning logits, in eval mode.
        images: Tensor[N, C, H, W] float in [0, 1]; not modified.
        labels: Tensor[N] int64, the true classes.
        epsilon: the L-infinity budget, >= 0.

    Returns:
        Tensor[N, C, H, W], detached: ``clip(images + epsilon * sign(g), 0, 1)`` with ``g`` the
        gradient of the mean cross-entropy with respect to the images.

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
        >>> _ = net[1].weight.data.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
        >>> (100 * fgsm(net, torch.tensor([[[[0.5, 0.95]]]]), torch.tensor([1]), 0.1)).round().tolist()  # class 1 likes pixel 2
        [[[[60.0, 85.0]]]]
    """
    _check_attack(model, images, labels, epsilon)
    x = images.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), labels)
    (grad,) = torch.autograd.grad(loss, x)  # the parameters get no .grad
    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)


def _check_pgd(step_size, steps, random_start, generator) -> None:
    if isinstance(step_size, bool) or not isinstance(step_size, (int, float)) or step_size < 0:
        raise ValueError(f"step_size must be a number >= 0, got {step_size!r}")
    check_nonnegative_int(steps, "steps")
    if not isinstance(random_start, bool):
        raise TypeError(f"random_start must be a bool, got {type(random_start).__name__}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


def _pgd_twin(model, images, labels, epsilon, step_size, steps, random_start=False, generator=None):
    _check_attack(model, images, labels, epsilon)
    _check_pgd(step_size, steps, random_start, generator)
    original = images.detach()
    low, high = torch.clamp(original - epsilon, min=0), torch.clamp(original + epsilon, max=1)
    adversarial = original.clone()
    if random_start:
        noise = torch.rand(original.shape, generator=generator, dtype=original.dtype, device=original.device)
        adversarial = torch.clamp(original + (noise * 2 - 1) * epsilon, 0, 1)
    for _ in range(steps):
        step = step_size * torch.sign(_input_gradient(model, adversarial, labels))
        adversarial = torch.minimum(torch.maximum(adversarial + step, low), high)  # ball and range in one clamp
    return adversarial


@reference_of("10_visualization/pgd_attack", twin=_pgd_twin)
def pgd_attack(model: nn.Module, images: Tensor, labels: Tensor, epsilon: float, step_size: float, steps: int,
               random_start: bool = False, generator: torch.Generator | None = None) -> Tensor:
    """Projected gradient descent in the L-infinity ball of radius ``epsilon`` (untargeted).

    Args:
        model: a classifier returning logits, in eval mode.
        images: Tensor[N, C, H, W] float in [0, 1]; not modified.
        labels: Tensor[N] int64, the true classes.
        epsilon: radius of the ball, >= 0.
        step_size: size of each signed step, >= 0.
        steps: number of steps, >= 0.
        random_start: start from ``clip(images + (2 u - 1) * epsilon, 0, 1)`` with
            ``u = torch.rand(images.shape, generator=generator, dtype=images.dtype)``
            instead of from the images.
        generator: for the random start.

    Returns:
        Tensor[N, C, H, W], detached, with ``|result - images| <= epsilon`` and values in [0, 1].
        Each step: ``x <- x + step_size * sign(grad_x mean cross-entropy)``, then ``x`` is
        clipped to ``[images - epsilon, images + epsilon]``, then to ``[0, 1]``.

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
        >>> _ = net[1].weight.data.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
        >>> x = torch.tensor([[[[0.5, 0.95]]]])
        >>> (100 * pgd_attack(net, x, torch.tensor([1]), epsilon=0.1, step_size=0.04, steps=4)).round().tolist()
        [[[[60.0, 85.0]]]]
    """
    _check_attack(model, images, labels, epsilon)
    _check_pgd(step_size, steps, random_start, generator)
    original = images.detach()
    adversarial = original.clone()
    if random_start:
        noise = torch.rand(original.shape, generator=generator, dtype=original.dtype, device=original.device)
        adversarial = (original + (2 * noise - 1) * epsilon).clamp(0.0, 1.0)
    for _ in range(steps):
        adversarial.requires_grad_(True)
        loss = F.cross_entropy(model(adversarial), labels)
        (grad,) = torch.autograd.grad(loss, adversarial)
        adversarial = adversarial.detach() + step_size * grad.sign()  # climb the loss
        adversarial = torch.min(torch.max(adversarial, original - epsilon), original + epsilon)  # back into the ball
        adversarial = adversarial.clamp(0.0, 1.0)  # back into the valid range
    return adversarial.detach()


def accuracy_under_attack(model: nn.Module, attack: Attack | None, images: Tensor, labels: Tensor, *,
                          batch_size: int = 512) -> float:
    """Accuracy of ``model`` on ``attack(model, x, y)`` (or on the clean images when ``attack`` is None).

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2))
        >>> accuracy_under_attack(net, lambda m, x, y: x, torch.rand(4, 1, 1, 2), torch.zeros(4, dtype=torch.long)) <= 1
        True
    """
    check_positive_int(batch_size, "batch_size")
    check_tensor(labels, "labels", shape=(images.shape[0],), dtypes=(torch.int64,))
    correct = 0
    for start in range(0, len(images), batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        if attack is not None:
            x = attack(model, x, y)
        with torch.no_grad():
            correct += int((model(x).argmax(dim=1) == y).sum())
    return correct / max(len(images), 1)


def success_rate(model: nn.Module, clean: Tensor, adversarial: Tensor, labels: Tensor) -> float:
    """Among the images the model classifies correctly, the fraction whose adversarial version it gets wrong.

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(1, 2, bias=False))
        >>> _ = net[1].weight.data.copy_(torch.tensor([[1.0], [-1.0]]))  # class 0 if the pixel > 0
        >>> success_rate(net, torch.tensor([[[[0.5]]], [[[0.5]]]]), torch.tensor([[[[-0.5]]], [[[0.2]]]]), torch.tensor([0, 0]))
        0.5
    """
    with torch.no_grad():
        right = model(clean).argmax(dim=1) == labels
        fooled = model(adversarial).argmax(dim=1) != labels
    if not bool(right.any()):
        raise ValueError("the model classifies none of the clean images correctly: no success rate")
    return float((fooled & right).sum()) / float(right.sum())
