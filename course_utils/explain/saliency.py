"""Gradient saliency: which pixels would change the class score most if they changed a little.

* :func:`saliency_map` (Simonyan, Vedaldi and Zisserman, 2014): the gradient of the
  *unnormalized* score of the class with respect to the input pixels, its absolute value,
  and the maximum over colour channels: ``Tensor[N, H, W]``.
* :func:`smoothgrad` (Smilkov et al., 2017): the average saliency map of noisy copies of
  the image, which removes much of the speckle of a single gradient.
* :func:`top_fraction_mask` and :func:`mask_iou`: weak segmentation from a saliency map
  (keep its brightest pixels) and its intersection over union with a true mask.

The model is used as it is given: put it in eval mode first, so that batch norm uses its
running statistics and every image's score depends on that image only (then the
gradient of the *sum* of the scores is every image's own gradient).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["saliency_map", "smoothgrad", "gaussian_blur", "top_fraction_mask", "mask_iou", "centre_box_mask"]


def _check_batch(model, images: Tensor, labels: Tensor) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_tensor(images, "images", ndim=4, floating=True)
    check_tensor(labels, "labels", shape=(images.shape[0],), dtypes=(torch.int64,))


@not_an_answer("10_visualization/saliency_map", why="the twin's torch.func gradient, forbidden so that a copy of the twin is caught")
def _score_gradients(model: nn.Module, images: Tensor, labels: Tensor) -> Tensor:
    """d score_label / d image for each image, with torch.func (no .grad on any tensor): Tensor[N, C, H, W]."""
    def score(image, label):  # one image [C, H, W] -> its class score
        return model(image[None])[0].gather(0, label[None])[0]

    return torch.func.vmap(torch.func.grad(score), randomness="different")(images, labels).detach()


def _saliency_map_twin(model, images, labels):
    _check_batch(model, images, labels)
    return _score_gradients(model, images, labels).abs().amax(dim=1)


@reference_of("10_visualization/saliency_map", twin=_saliency_map_twin)
def saliency_map(model: nn.Module, images: Tensor, labels: Tensor) -> Tensor:
    """Vanilla gradient saliency: ``max_c |d score_label / d image[c, y, x]|``.

    Args:
        model: a classifier returning logits ``Tensor[N, K]``, in eval mode.
        images: Tensor[N, C, H, W] float. Not modified; its ``requires_grad`` is not changed.
        labels: Tensor[N] int64, the class of each image whose score is differentiated.

    Returns:
        Tensor[N, H, W], detached, with the dtype of ``images``.

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
        >>> _ = net[1].weight.data.copy_(torch.tensor([[3.0, -1.0], [0.5, 2.0]]))
        >>> saliency_map(net, torch.zeros(1, 1, 1, 2), torch.tensor([0])).tolist()
        [[[3.0, 1.0]]]
    """
    _check_batch(model, images, labels)
    x = images.detach().clone().requires_grad_(True)  # a leaf of our own: the caller's tensor is untouched
    scores = model(x)  # [N, K] logits, not probabilities
    chosen = scores.gather(1, labels[:, None]).sum()  # each image's own score; images do not interact in eval mode
    (grad,) = torch.autograd.grad(chosen, x)  # [N, C, H, W]
    return grad.abs().amax(dim=1)  # [N, H, W]


def smoothgrad(model: nn.Module, images: Tensor, labels: Tensor, samples: int = 25, sigma: float = 0.15,
               generator: torch.Generator | None = None) -> Tensor:
    """SmoothGrad: the mean :func:`saliency_map` of ``samples`` copies with Gaussian noise.

    Args:
        model, images, labels: as for :func:`saliency_map`.
        samples: noisy copies per image.
        sigma: noise standard deviation as a fraction of each image's value range
            (``max - min``); the paper recommends 10 to 20 %.
        generator: for the noise.

    Returns:
        Tensor[N, H, W].

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
        >>> maps = smoothgrad(net, torch.rand(3, 1, 1, 2), torch.tensor([0, 1, 0]), samples=4)
        >>> torch.allclose(maps, saliency_map(net, torch.rand(3, 1, 1, 2), torch.tensor([0, 1, 0])))  # linear: no change
        True
    """
    _check_batch(model, images, labels)
    check_positive_int(samples, "samples")
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    spread = (images.amax(dim=(1, 2, 3)) - images.amin(dim=(1, 2, 3))).clamp_min(1e-12)  # [N]
    total = images.new_zeros(images.shape[0], *images.shape[2:])
    for _ in range(samples):
        noise = torch.randn(images.shape, generator=generator, dtype=images.dtype, device=images.device)
        total += saliency_map(model, images + sigma * spread[:, None, None, None] * noise, labels)
    return total / samples


def gaussian_blur(maps: Tensor, sigma: float) -> Tensor:
    """Blur maps ``Tensor[N, H, W]`` (or images ``[N, C, H, W]``) with a Gaussian of std ``sigma`` pixels.

    A separable kernel of radius ``ceil(3 sigma)``, borders replicated.

    Examples:
        >>> spike = torch.zeros(1, 7, 7); spike[0, 3, 3] = 1.0
        >>> blurred = gaussian_blur(spike, 1.0)
        >>> bool(blurred[0, 3, 3] == blurred.max()), torch.allclose(blurred, blurred.transpose(1, 2))
        (True, True)
    """
    check_tensor(maps, "maps", floating=True)
    if maps.ndim not in (3, 4):
        raise ValueError(f"maps must be [N, H, W] or [N, C, H, W], got shape {list(maps.shape)}")
    if sigma <= 0:
        return maps.clone()
    radius = max(1, int(torch.tensor(3.0 * sigma).ceil()))
    offsets = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-offsets**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()  # [2r + 1]
    x = maps[:, None] if maps.ndim == 3 else maps  # [N, C, H, W]
    channels = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)  # along rows
    x = F.conv2d(x, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)  # along columns
    return x[:, 0] if maps.ndim == 3 else x


def top_fraction_mask(maps: Tensor, fraction: float) -> Tensor:
    """Keep the brightest ``fraction`` of the pixels of every map: Tensor[N, H, W] bool.

    Exactly ``round(fraction * H * W)`` pixels per map are True (ties broken by position).

    Examples:
        >>> top_fraction_mask(torch.tensor([[[0.1, 0.9], [0.5, 0.2]]]), 0.5).tolist()
        [[[False, True], [True, False]]]
    """
    check_tensor(maps, "maps", ndim=3, floating=True)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    n, h, w = maps.shape
    keep = round(fraction * h * w)
    order = torch.argsort(maps.reshape(n, h * w), dim=1, descending=True, stable=True)[:, :keep]  # [N, keep]
    mask = torch.zeros(n, h * w, dtype=torch.bool, device=maps.device)
    mask.scatter_(1, order, True)
    return mask.reshape(n, h, w)


def centre_box_mask(n: int, height: int, width: int, fraction: float) -> Tensor:
    """The baseline "segmentation" that ignores the image: a centred box covering ``fraction`` of it.

    The box has the image's aspect ratio and side ``round(sqrt(fraction) * side)``.

    Returns:
        Tensor[n, height, width] bool.

    Examples:
        >>> centre_box_mask(1, 4, 4, 0.25)[0].int().tolist()
        [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    box_h, box_w = round(fraction**0.5 * height), round(fraction**0.5 * width)
    top, left = (height - box_h) // 2, (width - box_w) // 2
    mask = torch.zeros(n, height, width, dtype=torch.bool)
    mask[:, top:top + box_h, left:left + box_w] = True
    return mask


def mask_iou(predicted: Tensor, target: Tensor) -> Tensor:
    """Intersection over union of boolean masks, per image: Tensor[N] float32 (1 when both are empty).

    Examples:
        >>> a = torch.tensor([[[True, True], [False, False]]]); b = torch.tensor([[[True, False], [True, False]]])
        >>> mask_iou(a, b).tolist()
        [0.3333333432674408]
    """
    check_tensor(predicted, "predicted", ndim=3, dtypes=(torch.bool,))
    check_tensor(target, "target", shape=tuple(predicted.shape), dtypes=(torch.bool,))
    inter = (predicted & target).sum(dim=(1, 2)).float()
    union = (predicted | target).sum(dim=(1, 2)).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))
