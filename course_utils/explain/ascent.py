"""Images made by optimization: the network fixed, the pixels trained.

Every function here starts from an image, computes something the network says about
it, and changes the *pixels* by gradient steps (Adam), keeping them in ``[0, 1]``:

* :func:`class_visualization` (Simonyan et al., 2014; Yosinski et al., 2015): maximize a
  class score, ``S_c(I) - l2 * ||I - 0.5||^2``, with optional Gaussian *blur* every few
  steps and random *jitter* (the image is shifted by a few pixels before every step), the
  regularizers that make the result look like an image rather than noise.
* :func:`invert_features` (Mahendran and Vedaldi, 2015): find an image whose features at
  some layer match those of a given image, with a total-variation prior.
* :func:`deep_dream` (Mordvintsev, Olah and Tyka, 2015): amplify whatever a layer already
  sees in an image, over several *octaves* (scales), small to large.
* :func:`gram_matrix` and :func:`style_transfer` (Gatys, Ecker and Bethge, 2016): match
  the Gram matrices (channel correlations) of a style image and the features of a content image.

Feature functions come from :func:`course_utils.explain.features.feature_function`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.explain.saliency import gaussian_blur

__all__ = ["total_variation", "jitter", "class_visualization", "invert_features", "deep_dream", "gram_matrix",
           "style_loss", "style_transfer"]

GREY = 0.5  # the image the L2 prior pulls towards


def total_variation(images: Tensor) -> Tensor:
    """Mean squared difference between neighbouring pixels, per image: Tensor[N].

    Examples:
        >>> total_variation(torch.zeros(2, 3, 4, 4)).tolist()
        [0.0, 0.0]
        >>> float(total_variation(torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])))  # two vertical edges, two flat pairs
        0.5
    """
    check_tensor(images, "images", ndim=4, floating=True)
    down = (images[:, :, 1:, :] - images[:, :, :-1, :]) ** 2  # [N, C, H-1, W]
    right = (images[:, :, :, 1:] - images[:, :, :, :-1]) ** 2  # [N, C, H, W-1]
    return (down.sum(dim=(1, 2, 3)) + right.sum(dim=(1, 2, 3))) / (down[0].numel() + right[0].numel())


def jitter(images: Tensor, max_shift: int, generator: torch.Generator | None = None) -> tuple[Tensor, tuple[int, int]]:
    """Roll the images by a random ``(dy, dx)`` in ``[-max_shift, max_shift]``; return them and the shift.

    Examples:
        >>> shifted, (dy, dx) = jitter(torch.arange(9.0).view(1, 1, 3, 3), 0)
        >>> (dy, dx), bool(torch.equal(shifted, torch.arange(9.0).view(1, 1, 3, 3)))
        ((0, 0), True)
    """
    check_nonnegative_int(max_shift, "max_shift")
    if max_shift == 0:
        return images, (0, 0)
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3)), (dy, dx)


def _start(shape: Sequence[int], n: int, generator: torch.Generator | None, init: Tensor | None,
           noise: float = 0.02) -> Tensor:
    if init is not None:
        check_tensor(init, "init", ndim=4, floating=True)
        return init.detach().clone()
    return (GREY + noise * torch.randn(n, *shape, generator=generator)).clamp(0, 1)


def class_visualization(model: nn.Module, classes: Tensor, image_shape: Sequence[int], *, steps: int = 200,
                        lr: float = 0.05, l2: float = 0.0, blur_every: int = 0, blur_sigma: float = 0.5,
                        jitter_pixels: int = 0, generator: torch.Generator | None = None,
                        init: Tensor | None = None) -> Tensor:
    """Images that maximize each class's score: ``S_c(I) - l2 * ||I - 0.5||^2`` by Adam on the pixels.

    Args:
        model: a classifier in eval mode (its weights are not changed).
        classes: Tensor[N] int64: image ``n`` is optimized for class ``classes[n]``.
        image_shape: ``(C, H, W)``.
        steps, lr: Adam steps and learning rate.
        l2: weight of the L2 prior (pixels pulled towards mid-grey), summed over pixels.
        blur_every, blur_sigma: every ``blur_every`` steps blur the image (0: never).
        jitter_pixels: before each step, roll the image by up to this many pixels (0: never).
        generator: for the start (mid-grey plus faint noise) and the jitter.
        init: Tensor[N, C, H, W], an image to start from instead.

    Returns:
        Tensor[N, C, H, W] in [0, 1], detached.

    Examples:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        >>> images = class_visualization(net, torch.tensor([0, 1]), (1, 2, 2), steps=5)
        >>> images.shape, bool(images.min() >= 0) and bool(images.max() <= 1)
        (torch.Size([2, 1, 2, 2]), True)
    """
    check_tensor(classes, "classes", ndim=1, dtypes=(torch.int64,))
    check_nonnegative_int(steps, "steps")
    check_nonnegative_int(blur_every, "blur_every")
    device = next((p.device for p in model.parameters()), classes.device)
    x = _start(image_shape, len(classes), generator, init).to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    for step in range(1, steps + 1):
        shifted, _ = jitter(x, jitter_pixels, generator)
        scores = model(shifted).gather(1, classes.to(device)[:, None]).sum()  # each image's own class score
        objective = scores - l2 * ((x - GREY) ** 2).sum()
        optimizer.zero_grad()
        (x.grad,) = torch.autograd.grad(-objective, x)  # ascent = descent on the negative; weights get no .grad
        optimizer.step()
        with torch.no_grad():
            if blur_every and step % blur_every == 0:
                x.copy_(gaussian_blur(x, blur_sigma))
            x.clamp_(0, 1)
    return x.detach()


def invert_features(feature_fn: Callable[[Tensor], Tensor], target: Tensor, image_shape: Sequence[int], *,
                    steps: int = 300, lr: float = 0.05, tv_weight: float = 0.0,
                    generator: torch.Generator | None = None, init: Tensor | None = None) -> Tensor:
    """Images whose features match ``target``: minimize ``||f(x) - target||^2 / ||target||^2 + tv * TV(x)``.

    Args:
        feature_fn: differentiable ``images -> features`` (one tensor).
        target: the features to match, ``Tensor[N, ...]`` (e.g. ``feature_fn(originals).detach()``).
        image_shape: ``(C, H, W)``.
        steps, lr: Adam steps and learning rate.
        tv_weight: weight of the total-variation prior (:func:`total_variation`).
        generator: for the start (mid-grey plus faint noise).
        init: an image to start from instead.

    Returns:
        Tensor[N, C, H, W] in [0, 1], detached.

    Examples:
        >>> identity = lambda x: x
        >>> target = torch.rand(1, 1, 3, 3)
        >>> bool((invert_features(identity, target, (1, 3, 3), steps=300, lr=0.05) - target).abs().max() < 0.05)
        True
    """
    check_tensor(target, "target", floating=True)
    check_nonnegative_int(steps, "steps")
    target = target.detach()
    x = _start(image_shape, len(target), generator, init).to(target.device).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    scale = target.flatten(1).pow(2).sum(dim=1).clamp_min(1e-12)  # [N]: each image's own feature energy
    for _ in range(steps):
        features = feature_fn(x)
        mismatch = (features - target).flatten(1).pow(2).sum(dim=1) / scale  # [N]
        loss = (mismatch + tv_weight * total_variation(x)).sum()
        optimizer.zero_grad()
        (x.grad,) = torch.autograd.grad(loss, x)  # only the pixels: the weights get no .grad
        optimizer.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    return x.detach()


def deep_dream(feature_fn: Callable[[Tensor], Tensor], image: Tensor, *, steps: int = 20, lr: float = 0.02,
               octaves: int = 3, octave_scale: float = 1.4, jitter_pixels: int = 2,
               generator: torch.Generator | None = None) -> Tensor:
    """DeepDream: raise the mean squared activation of a layer, scale by scale.

    The image is first shrunk ``octaves - 1`` times by ``octave_scale``; at each scale,
    from the smallest, ``steps`` normalized gradient steps (``x += lr * g / mean|g|``, with
    jitter) are taken, and the detail they added is carried up to the next scale.

    Args:
        feature_fn: differentiable ``images -> activations``.
        image: Tensor[N, C, H, W] in [0, 1].

    Returns:
        Tensor[N, C, H, W] in [0, 1], detached.

    Examples:
        >>> conv = nn.Conv2d(3, 4, 3)
        >>> deep_dream(conv, torch.rand(1, 3, 16, 16), steps=2, octaves=2).shape
        torch.Size([1, 3, 16, 16])
    """
    check_tensor(image, "image", ndim=4, floating=True)
    check_positive_int(octaves, "octaves")
    check_nonnegative_int(steps, "steps")
    height, width = image.shape[2:]
    sizes = [(max(1, round(height / octave_scale**k)), max(1, round(width / octave_scale**k)))
             for k in reversed(range(octaves))]  # smallest first
    detail = torch.zeros_like(image[:, :, :sizes[0][0], :sizes[0][1]])
    x = image
    for size in sizes:
        base = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
        detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        x = (base + detail).clamp(0, 1).detach()
        for _ in range(steps):
            x.requires_grad_(True)
            shifted, (dy, dx) = jitter(x, jitter_pixels, generator)
            energy = feature_fn(shifted).pow(2).mean()
            (grad,) = torch.autograd.grad(energy, x)
            with torch.no_grad():
                x = (x + lr * grad / grad.abs().mean().clamp_min(1e-12)).clamp(0, 1)
        detail = (x - base).detach()
    return x.detach()


def gram_matrix(features: Tensor) -> Tensor:
    """Channel correlations of feature maps: ``G[n] = F F^T / (C H W)`` with ``F`` the [C, H*W] features.

    Examples:
        >>> gram_matrix(torch.ones(1, 2, 2, 2)).tolist()
        [[[0.5, 0.5], [0.5, 0.5]]]
    """
    check_tensor(features, "features", ndim=4, floating=True)
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)  # [N, C, HW]
    return flat @ flat.transpose(1, 2) / (c * h * w)  # [N, C, C]


def style_loss(features: Sequence[Tensor], style_grams: Sequence[Tensor]) -> Tensor:
    """Sum over layers of the squared Frobenius distance between Gram matrices (mean over the batch)."""
    return sum(((gram_matrix(f) - g) ** 2).sum(dim=(1, 2)).mean() for f, g in zip(features, style_grams))


def style_transfer(feature_fn: Callable[[Tensor], list[Tensor]], content: Tensor, style: Tensor, *,
                   content_layer: int = -1, steps: int = 200, lr: float = 0.03, style_weight: float = 1e3,
                   tv_weight: float = 0.0) -> Tensor:
    """Gatys-style transfer: keep ``content``'s features at one layer, ``style``'s Gram matrices at every layer.

    Args:
        feature_fn: differentiable ``images -> list of feature maps`` (several layers).
        content: Tensor[1, C, H, W] in [0, 1]; also the starting image.
        style: Tensor[1, C, H', W'] in [0, 1] (any size: Gram matrices do not depend on it).
        content_layer: which entry of the feature list carries the content.
        steps, lr, style_weight, tv_weight: the optimization (Adam on the pixels).

    Returns:
        Tensor[1, C, H, W] in [0, 1], detached.

    Examples:
        >>> conv = nn.Conv2d(3, 4, 3)
        >>> style_transfer(lambda x: [conv(x)], torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), steps=2).shape
        torch.Size([1, 3, 8, 8])
    """
    check_tensor(content, "content", ndim=4, floating=True)
    check_tensor(style, "style", ndim=4, floating=True)
    with torch.no_grad():
        style_grams = [gram_matrix(f) for f in feature_fn(style)]
        content_target = feature_fn(content)[content_layer]
    x = content.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        features = feature_fn(x)
        content_term = ((features[content_layer] - content_target) ** 2).mean()
        loss = content_term + style_weight * style_loss(features, style_grams) + tv_weight * total_variation(x).sum()
        optimizer.zero_grad()
        (x.grad,) = torch.autograd.grad(loss, x)  # only the pixels: the weights get no .grad
        optimizer.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    return x.detach()
