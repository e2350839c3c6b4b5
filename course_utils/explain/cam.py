"""Class activation maps: where in the last feature map the evidence for a class lies.

**CAM** (Zhou et al., 2016) needs a network that ends with global average pooling and
one linear layer: ``score_k = b_k + sum_c w[k, c] * mean_{y,x} A[c, y, x]``. Moving the
sum inside the mean,

    score_k = b_k + mean_{y,x} M_k[y, x],    M_k[y, x] = sum_c w[k, c] * A[c, y, x],

so the map ``M_k`` (one value per position of the last ``h x w`` feature map) splits
the class score over the image: :func:`class_activation_map`.

**Grad-CAM** (Selvaraju et al., 2017) works for any network: it weights the channels of a
chosen layer by the spatial mean of the gradient of the score, ``alpha_c = mean_{y,x}
d score / d A[c, y, x]``, and keeps the positive part, ``ReLU(sum_c alpha_c A[c])``. For a
GAP + linear head, ``alpha_c = w[k, c] / (h w)``, so Grad-CAM is ``ReLU(CAM) / (h w)``:
:func:`grad_cam`.

Maps are ``Tensor[N, h, w]`` at the resolution of the feature map; :func:`upsample_maps`
brings them to the image size for display.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_tensor
from course_utils.explain.features import ReceptiveField
from course_utils.references import not_an_answer, reference_of

__all__ = ["class_activation_map", "class_activation_map_loop", "grad_cam", "upsample_maps"]


def _check_cam(features: Tensor, fc_weight: Tensor, classes: Tensor) -> None:
    check_tensor(features, "features", ndim=4, floating=True)
    check_tensor(fc_weight, "fc_weight", shape=(None, features.shape[1]), floating=True)
    check_tensor(classes, "classes", shape=(features.shape[0],), dtypes=(torch.int64,))
    if classes.numel() and (int(classes.min()) < 0 or int(classes.max()) >= fc_weight.shape[0]):
        raise ValueError(f"classes must lie in 0..{fc_weight.shape[0] - 1}, got values in "
                         f"{int(classes.min())}..{int(classes.max())}")


@not_an_answer("10_visualization/class_activation_map", why="the twin's einsum, forbidden so that a copy of the twin is caught")
def _weighted_channel_sum(weights: Tensor, features: Tensor) -> Tensor:
    """``sum_c weights[n, c] * features[n, c]``: Tensor[N, C] and Tensor[N, C, h, w] -> Tensor[N, h, w]."""
    return torch.einsum("nc,nchw->nhw", weights, features)


def _class_activation_map_twin(features, fc_weight, classes):
    _check_cam(features, fc_weight, classes)
    return _weighted_channel_sum(fc_weight[classes], features)


@reference_of("10_visualization/class_activation_map", twin=_class_activation_map_twin)
def class_activation_map_loop(features: Tensor, fc_weight: Tensor, classes: Tensor) -> Tensor:
    """Loop reference of :func:`class_activation_map`: one image and one channel at a time."""
    _check_cam(features, fc_weight, classes)
    n, c, h, w = features.shape
    maps = features.new_zeros(n, h, w)
    for i in range(n):
        for channel in range(c):
            maps[i] += fc_weight[classes[i], channel] * features[i, channel]
    return maps


@reference_of("10_visualization/class_activation_map", twin=_class_activation_map_twin)
def class_activation_map(features: Tensor, fc_weight: Tensor, classes: Tensor) -> Tensor:
    """CAM: ``M[n, y, x] = sum_c fc_weight[classes[n], c] * features[n, c, y, x]``.

    Args:
        features: Tensor[N, C, h, w], the last feature maps (before global average pooling).
        fc_weight: Tensor[K, C], the weight of the final linear layer.
        classes: Tensor[N] int64, the class explained for each image.

    Returns:
        Tensor[N, h, w], raw (no bias, no ReLU, no normalization): its mean over
        positions plus the layer's bias is the class score.

    Examples:
        >>> features = torch.tensor([[[[1.0, 0.0]], [[0.0, 2.0]]]])  # N=1, C=2, h=1, w=2
        >>> class_activation_map(features, torch.tensor([[1.0, 1.0], [3.0, -1.0]]), torch.tensor([1])).tolist()
        [[[3.0, -2.0]]]
    """
    _check_cam(features, fc_weight, classes)
    weights = fc_weight[classes]  # [N, C]: each image's class row
    return (weights[:, :, None, None] * features).sum(dim=1)  # [N, h, w]


def grad_cam(model: nn.Module, layer: nn.Module, images: Tensor, classes: Tensor) -> Tensor:
    """Grad-CAM of ``layer`` (a submodule of ``model`` with 4-D output) for each image's class.

    Args:
        model: a classifier returning logits ``Tensor[N, K]``, in eval mode.
        layer: the layer whose activations ``A`` (Tensor[N, C, h, w]) are weighted.
        images: Tensor[N, C_in, H, W].
        classes: Tensor[N] int64.

    Returns:
        Tensor[N, h, w], detached: ``ReLU(sum_c alpha_c A[c])`` with ``alpha_c`` the spatial
        mean of ``d score / d A[c]``.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
        >>> grad_cam(net.eval(), net[1], torch.rand(2, 1, 4, 4), torch.tensor([0, 2])).shape
        torch.Size([2, 4, 4])
    """
    if not isinstance(model, nn.Module) or not isinstance(layer, nn.Module):
        raise TypeError("model and layer must be nn.Modules")
    check_tensor(images, "images", ndim=4, floating=True)
    check_tensor(classes, "classes", shape=(images.shape[0],), dtypes=(torch.int64,))
    kept = {}
    handle = layer.register_forward_hook(lambda module, inputs, output: kept.setdefault("A", output))
    try:
        x = images.detach().clone().requires_grad_(True)  # so that A is part of a graph even for a frozen model
        scores = model(x)  # [N, K]
    finally:
        handle.remove()
    activations = kept["A"]  # [N, C, h, w]
    if activations.ndim != 4:
        raise ValueError(f"layer must output feature maps [N, C, h, w], got shape {list(activations.shape)}")
    (grads,) = torch.autograd.grad(scores.gather(1, classes[:, None]).sum(), activations)  # [N, C, h, w]
    alpha = grads.mean(dim=(2, 3))  # [N, C]
    return F.relu((alpha[:, :, None, None] * activations).sum(dim=1)).detach()  # [N, h, w]


def upsample_maps(maps: Tensor, size: tuple[int, int], normalize: bool = True,
                  field: ReceptiveField | None = None) -> Tensor:
    """Bilinear upsampling of maps ``Tensor[N, h, w]`` to ``size``; optionally each scaled to [0, 1].

    Plain resizing (``field=None``, ``F.interpolate`` with ``align_corners=False``) treats
    cell ``i`` of an ``h``-cell map as the centre of the ``i``-th of ``h`` equal blocks of the
    image. That is not where a network's cell looks: a stride-2 convolution with padding 1
    centres output ``i`` on input ``2 i``, not ``2 i + 0.5``, so after a few such layers
    the plainly resized map is shifted by more than a pixel. With the layer's
    :class:`~course_utils.explain.features.ReceptiveField`, cell ``i`` is placed at the
    centre of its receptive field, pixel ``offset + stride * i + (size - 1) / 2``
    (pixel-index coordinates), and pixels beyond the outer cells take the outer values.

    Normalization is min-max per map (a constant map becomes all zeros).

    Examples:
        >>> upsample_maps(torch.tensor([[[0.0, 2.0]]]), (1, 4)).tolist()
        [[[0.0, 0.25, 0.75, 1.0]]]
        >>> peak = torch.zeros(1, 4, 4); peak[0, 1, 1] = 1.0
        >>> up = upsample_maps(peak, (16, 16), field=ReceptiveField(size=9, stride=4, offset=-4))
        >>> divmod(int(up[0].argmax()), 16)  # the centre of cell (1, 1)'s field: -4 + 4 + 4 = 4
        (4, 4)
    """
    check_tensor(maps, "maps", ndim=3, floating=True)
    height, width = int(size[0]), int(size[1])
    if field is None:
        out = F.interpolate(maps[:, None], size=(height, width), mode="bilinear", align_corners=False)[:, 0]
    else:
        h, w = maps.shape[1:]
        centre = field.offset + (field.size - 1) / 2  # pixel under cell 0
        rows = (torch.arange(height, dtype=maps.dtype, device=maps.device) - centre) / field.stride  # cell coordinates
        cols = (torch.arange(width, dtype=maps.dtype, device=maps.device) - centre) / field.stride
        gy = 2 * rows / (h - 1) - 1 if h > 1 else torch.zeros_like(rows)  # grid_sample, align_corners=True:
        gx = 2 * cols / (w - 1) - 1 if w > 1 else torch.zeros_like(cols)  # -1 is cell 0, +1 the last cell
        grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1)  # [H, W, 2] as (x, y)
        grid = grid[None].expand(len(maps), -1, -1, -1)
        out = F.grid_sample(maps[:, None], grid, mode="bilinear", padding_mode="border", align_corners=True)[:, 0]
    if normalize:
        low = out.amin(dim=(1, 2), keepdim=True)
        high = out.amax(dim=(1, 2), keepdim=True)
        out = (out - low) / (high - low).clamp_min(1e-12)
    return out
