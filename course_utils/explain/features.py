"""What a network computes inside: activations, feature-space neighbours, receptive fields, top patches.

* :func:`layer_outputs` runs a model once and returns what chosen layers computed
  (forward hooks), e.g. the ``Tensor[N, D]`` features before the classifier.
* :func:`nearest_neighbors` (and its loop twin) finds, for every query row, the ``k``
  gallery rows at the smallest Euclidean distance: the lecture's "nearest neighbours in
  feature space" grid.
* :func:`receptive_field` measures which input pixels a unit of a layer can see, with
  autograd on a copy of the network whose weights are all positive (so nothing cancels
  and every pixel in the theoretical receptive field gets a non-zero gradient).
* :func:`top_activations` and :func:`crop_patches` give the maximally activating patches
  of a channel (Zeiler and Fergus, 2014; the lecture's "activation maps").
"""
from __future__ import annotations

import copy
from typing import NamedTuple, Sequence

import torch
from torch import Tensor, nn

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = [
    "layer_outputs",
    "feature_function",
    "nearest_neighbors",
    "nearest_neighbors_loop",
    "ReceptiveField",
    "receptive_field",
    "top_activations",
    "crop_patches",
]


# --------------------------------------------------------------------------- activations


def layer_outputs(model: nn.Module, layers: nn.Module | Sequence[nn.Module], images: Tensor, *,
                  batch_size: int = 256, flatten: bool = False) -> Tensor | list[Tensor]:
    """What ``layers`` output when ``model`` runs on ``images`` (no gradients, the model's current mode).

    Args:
        model: any network; it is called as ``model(batch)``.
        layers: one submodule of ``model`` or a sequence of them.
        images: ``Tensor[N, ...]``, moved to the model's device in batches.
        batch_size: images per forward pass.
        flatten: return every output flattened to ``Tensor[N, D]``.

    Returns:
        The output of each layer for all N images, detached, on the CPU, concatenated over
        batches: one tensor for one layer, else a list in the order of ``layers``.

    Examples:
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> hidden = layer_outputs(net, net[1], torch.randn(5, 4))
        >>> hidden.shape, bool((hidden >= 0).all())
        (torch.Size([5, 3]), True)
    """
    check_tensor(images, "images")
    check_positive_int(batch_size, "batch_size")
    if len(images) == 0:
        raise ValueError("images must contain at least one image (the output shapes come from a forward pass)")
    single = isinstance(layers, nn.Module)
    chosen = [layers] if single else list(layers)
    owned = {id(m) for m in model.modules()}
    for layer in chosen:
        if not isinstance(layer, nn.Module) or id(layer) not in owned:
            raise ValueError("layers must be submodules of model")
    device = next((p.device for p in model.parameters()), images.device)
    outputs: list[list[Tensor]] = [[] for _ in chosen]
    current: dict[int, Tensor] = {}

    def keep(index):
        def hook(module, inputs, output):
            current[index] = output.detach()
        return hook

    handles = [layer.register_forward_hook(keep(i)) for i, layer in enumerate(chosen)]
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                current.clear()
                model(images[start:start + batch_size].to(device))
                for i in range(len(chosen)):
                    out = current[i].cpu()
                    outputs[i].append(out.flatten(1) if flatten else out)
    finally:
        for handle in handles:
            handle.remove()
    result = [torch.cat(parts) for parts in outputs]
    return result[0] if single else result


class _StopForward(Exception):
    pass


def feature_function(model: nn.Module, layers: nn.Module | Sequence[nn.Module]):
    """A differentiable function ``images -> outputs of layers`` (forward hooks; the pass stops after the last one).

    Use it for optimization in image space (feature inversion, DeepDream, style), where
    gradients must flow from a layer back to the pixels. The model is used in its current
    mode; its weights are not changed.

    Returns:
        ``fn(images) -> Tensor`` for one layer, ``-> list[Tensor]`` (in the order given) for a sequence.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1))
        >>> fn = feature_function(net, net[1])
        >>> fn(torch.rand(1, 1, 4, 4, requires_grad=True)).shape
        torch.Size([1, 2, 2, 2])
    """
    single = isinstance(layers, nn.Module)
    chosen = [layers] if single else list(layers)
    position = {id(m): i for i, m in enumerate(model.modules())}
    if any(id(layer) not in position for layer in chosen):
        raise ValueError("layers must be submodules of model")

    def run(images: Tensor):
        outputs: dict[int, Tensor] = {}

        def keep(index):
            def hook(module, inputs, output):
                outputs[index] = output
                if len(outputs) == len(chosen):
                    raise _StopForward  # nothing after the last chosen layer is needed
            return hook

        handles = [layer.register_forward_hook(keep(i)) for i, layer in enumerate(chosen)]
        try:
            model(images)
        except _StopForward:
            pass
        finally:
            for handle in handles:
                handle.remove()
        result = [outputs[i] for i in range(len(chosen))]
        return result[0] if single else result

    return run


# --------------------------------------------------------------------------- nearest neighbours


def _check_neighbors(queries: Tensor, gallery: Tensor, k: int) -> None:
    check_tensor(queries, "queries", ndim=2, floating=True)
    check_tensor(gallery, "gallery", shape=(None, queries.shape[1]), floating=True)
    check_positive_int(k, "k")
    if k > len(gallery):
        raise ValueError(f"k must be at most the number of gallery rows ({len(gallery)}), got {k}")


def _nearest_neighbors_twin(queries: Tensor, gallery: Tensor, k: int) -> Tensor:
    _check_neighbors(queries, gallery, k)
    if len(queries) == 0:
        return torch.zeros(0, k, dtype=torch.int64, device=queries.device)
    distances = torch.cdist(queries.double(), gallery.double(), compute_mode="donot_use_mm_for_euclid_dist")
    return torch.argsort(distances, dim=1, stable=True)[:, :k]


@reference_of("10_visualization/nearest_neighbors", twin=_nearest_neighbors_twin)
def nearest_neighbors_loop(queries: Tensor, gallery: Tensor, k: int) -> Tensor:
    """Loop reference of :func:`nearest_neighbors`: one query at a time, distances in a Python list."""
    _check_neighbors(queries, gallery, k)
    rows = []
    for query in queries:
        distances = [float(((query - item) ** 2).sum()) for item in gallery]
        order = sorted(range(len(gallery)), key=lambda j: (distances[j], j))  # ties: smaller index first
        rows.append(order[:k])
    return torch.tensor(rows, dtype=torch.int64, device=queries.device).reshape(len(queries), k)


@reference_of("10_visualization/nearest_neighbors", twin=_nearest_neighbors_twin)
def nearest_neighbors(queries: Tensor, gallery: Tensor, k: int) -> Tensor:
    """Indices of the ``k`` gallery rows nearest to each query (Euclidean distance), nearest first.

    Args:
        queries: Tensor[M, D] float (e.g. features of test images).
        gallery: Tensor[G, D] float (e.g. features of training images).
        k: 1 <= k <= G.

    Returns:
        Tensor[M, k] int64; row ``i`` lists gallery indices by increasing distance to
        query ``i``; equal distances keep the smaller gallery index first.

    Examples:
        >>> gallery = torch.tensor([[0.0, 0.0], [3.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
        >>> nearest_neighbors(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), gallery, k=3).tolist()
        [[0, 2, 3], [1, 2, 0]]
    """
    _check_neighbors(queries, gallery, k)
    # ||q - g||^2 = ||q||^2 + ||g||^2 - 2 q.g: one matrix product instead of an [M, G, D] tensor of
    # differences (400 x 2,000 images of 3,072 pixels would need 10 GB). In float64 the cancellation
    # costs nothing at these sizes, and the square root would not change the order.
    q, g = queries.double(), gallery.double()
    squared = (q * q).sum(dim=1)[:, None] + (g * g).sum(dim=1)[None, :] - 2 * q @ g.T  # [M, G]
    return torch.argsort(squared, dim=1, stable=True)[:, :k]  # [M, k]


# --------------------------------------------------------------------------- receptive fields


class ReceptiveField(NamedTuple):
    """Where a unit of a layer looks: the unit at output position ``(i, j)`` sees the input
    square with top-left corner ``(offset + i * stride, offset + j * stride)`` and side ``size``
    (parts of it may lie in the zero padding outside the image)."""

    size: int
    stride: int
    offset: int

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` in input pixels, bottom and right exclusive (may exceed the image)."""
        top, left = self.offset + row * self.stride, self.offset + col * self.stride
        return top, left, top + self.size, left + self.size


def _positive_copy(model: nn.Module) -> nn.Module:
    """A copy whose every unit is a positive combination of its inputs: max pools become average
    pools, weights 1 / fan-in, biases 0, batch norms the identity. On a positive input every ReLU
    then passes everything, and a unit's gradient is non-zero exactly on its receptive field."""
    probe = copy.deepcopy(model).double().eval()
    for name, module in list(probe.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                          ceil_mode=child.ceil_mode))
    with torch.no_grad():
        for module in probe.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_parameters()  # running mean 0, variance 1, weight 1, bias 0
    return probe


def _support(model: nn.Module, layer_name: str, shape: tuple[int, int, int], row: int, col: int):
    probe = _positive_copy(model)
    layer = dict(probe.named_modules())[layer_name]
    seen = {}

    def stop(module, inputs, output):
        seen["out"] = output
        raise _StopForward  # the layers after this one may not accept this input size (a flatten + linear)

    handle = layer.register_forward_hook(stop)
    x = torch.ones(1, *shape, dtype=torch.float64, requires_grad=True)
    try:
        probe(x)
    except _StopForward:
        pass
    finally:
        handle.remove()
    out = seen["out"]
    if out.ndim != 4:
        raise ValueError(f"the layer must output feature maps [N, C, h, w], got shape {list(out.shape)}")
    if not (0 <= row < out.shape[2] and 0 <= col < out.shape[3]):
        raise ValueError(f"position ({row}, {col}) is outside the layer's {out.shape[2]} x {out.shape[3]} output")
    (grad,) = torch.autograd.grad(out[0, :, row, col].sum(), x)
    rows = torch.nonzero(grad[0].abs().sum(0).sum(1) > 0).flatten()
    cols = torch.nonzero(grad[0].abs().sum(0).sum(0) > 0).flatten()
    return (int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1), tuple(out.shape[2:])


def receptive_field(model: nn.Module, layer: nn.Module, input_shape: Sequence[int]) -> ReceptiveField:
    """The receptive field of the units of ``layer`` (a submodule of ``model`` with 4-D outputs).

    Measured, not derived from a table: on a positive copy of the network (see
    :func:`_positive_copy`), the gradient of the unit at the centre of the layer's output
    with respect to an all-ones input is non-zero exactly on the pixels it can see.
    ``input_shape`` ``(C, H, W)`` must be large enough for that centre unit's field to
    fit inside the image (the result checks it).

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3, padding=1))
        >>> receptive_field(net, net[3], (1, 32, 32))
        ReceptiveField(size=8, stride=2, offset=-3)
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {tuple(input_shape)}")
    names = {id(m): n for n, m in model.named_modules()}
    if id(layer) not in names:
        raise ValueError("layer must be a submodule of model")
    name = names[id(layer)]
    shape = tuple(int(s) for s in input_shape)
    _, (h, w) = _support(model, name, shape, 0, 0)
    if h < 2 or w < 2:
        raise ValueError(f"the layer's output is only {h} x {w} on a {shape[1]} x {shape[2]} input: pass a larger "
                         "input_shape")
    row, col = (h - 1) // 2, (w - 1) // 2
    (top, bottom, left, right), _ = _support(model, name, shape, row, col)
    (below, _, _, _), _ = _support(model, name, shape, row + 1, col)
    size, stride = bottom - top, below - top
    if right - left != size or top == 0 or left == 0 or bottom == shape[1] or right == shape[2]:
        raise ValueError(f"the receptive field of the centre unit touches the border of a {shape[1]} x {shape[2]} "
                         "input: pass a larger input_shape")
    return ReceptiveField(size=size, stride=stride, offset=top - row * stride)


# --------------------------------------------------------------------------- top patches


def top_activations(activations: Tensor, channel: int, k: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The ``k`` images where ``channel`` fires most, and where: one (the strongest) position per image.

    Args:
        activations: Tensor[N, C, h, w], e.g. from :func:`layer_outputs`.
        channel: which channel.
        k: how many images (at most N).

    Returns:
        ``(values, images, rows, cols)``, each Tensor[k]: the activation, the image index and
        the position of the maximum, strongest first (ties: smaller image index first).

    Examples:
        >>> acts = torch.zeros(3, 2, 4, 4); acts[1, 0, 2, 3] = 5.0; acts[2, 0, 0, 1] = 2.0
        >>> [t.tolist() for t in top_activations(acts, channel=0, k=2)]
        [[5.0, 2.0], [1, 2], [2, 0], [3, 1]]
    """
    check_tensor(activations, "activations", ndim=4)
    check_nonnegative_int(channel, "channel")
    check_positive_int(k, "k")
    n, c, h, w = activations.shape
    if channel >= c:
        raise ValueError(f"channel must be in [0, {c - 1}], got {channel}")
    if k > n:
        raise ValueError(f"k must be at most the number of images ({n}), got {k}")
    flat = activations[:, channel].reshape(n, h * w)  # [N, h*w]
    best, where = flat.max(dim=1)  # [N] each: the strongest position of every image
    order = torch.argsort(-best, stable=True)[:k]  # [k]
    return best[order], order, where[order] // w, where[order] % w


def crop_patches(images: Tensor, image_index: Tensor, rows: Tensor, cols: Tensor, field: ReceptiveField,
                 fill: float = 0.0) -> Tensor:
    """The input squares seen by the units at ``(rows, cols)`` of images ``image_index``.

    Args:
        images: Tensor[N, C, H, W].
        image_index, rows, cols: Tensor[k] int64 (e.g. from :func:`top_activations`).
        field: the layer's :class:`ReceptiveField`.
        fill: value of the parts of a square that lie outside the image.

    Returns:
        Tensor[k, C, size, size].

    Examples:
        >>> crops = crop_patches(torch.ones(2, 1, 8, 8), torch.tensor([1]), torch.tensor([0]), torch.tensor([0]),
        ...                      ReceptiveField(size=4, stride=2, offset=-1))
        >>> crops.shape, crops[0, 0, 0].tolist()
        (torch.Size([1, 1, 4, 4]), [0.0, 0.0, 0.0, 0.0])
    """
    check_tensor(images, "images", ndim=4)
    size, pad = field.size, max(field.size, -field.offset, 0)
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad), value=fill)  # [N, C, H + 2p, W + 2p]
    out = []
    for n, r, c in zip(image_index.tolist(), rows.tolist(), cols.tolist()):
        top, left, _, _ = field.box(r, c)
        out.append(padded[n, :, top + pad:top + pad + size, left + pad:left + pad + size])
    if not out:
        return images.new_zeros(0, images.shape[1], size, size)
    return torch.stack(out)
