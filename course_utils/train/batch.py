"""Moving nested batches to a device and measuring their size."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from course_utils.checks import check_bool, check_device

__all__ = ["to_device", "batch_size_of"]


def to_device(batch: Any, device: torch.device | str, non_blocking: bool = True) -> Any:
    """Move every tensor inside a nested batch to ``device``, keeping the structure.

    Tensors are moved; dicts, lists, tuples and named tuples are rebuilt with their
    items moved (so a detection batch ``(images, [{"boxes": ..., "labels": ...}, ...])``
    works); anything else (strings, ints, None) is returned unchanged.

    Args:
        batch: a tensor or any nesting of dict / list / tuple around tensors.
        device: the target device.
        non_blocking: passed to ``Tensor.to`` (overlaps copies from pinned memory on CUDA).

    Returns:
        The same structure with tensors on ``device``.

    Examples:
        >>> out = to_device({"x": torch.zeros(2), "meta": ["a", (torch.ones(1), 3)]}, "cpu")
        >>> out["x"].device, out["meta"][0], out["meta"][1][1]
        (device(type='cpu'), 'a', 3)
    """
    device = check_device(device, "device")
    check_bool(non_blocking, "non_blocking")
    return _to_device(batch, device, non_blocking)


def _to_device(batch: Any, device: torch.device, non_blocking: bool) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, Mapping):
        moved = {k: _to_device(v, device, non_blocking) for k, v in batch.items()}
        try:
            return type(batch)(moved)  # keep OrderedDict and other dict subclasses
        except TypeError:  # e.g. defaultdict, whose first argument is a factory
            return moved
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # named tuple: rebuild field by field
        return type(batch)(*(_to_device(v, device, non_blocking) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device, non_blocking) for v in batch)
    return batch


def batch_size_of(targets: Any, inputs: Any = None) -> int:
    """Number of samples in a batch: the first dimension of ``targets`` (or ``inputs``).

    ``targets`` may be a tensor ``[B, ...]``, a list of per-sample targets (detection),
    or a dict of tensors ``[B, ...]``. Used to weight batch means into epoch means.

    Examples:
        >>> batch_size_of(torch.zeros(5)), batch_size_of([{"boxes": torch.zeros(2, 4)}] * 3)
        (5, 3)
    """
    for x in (targets, inputs):
        if isinstance(x, torch.Tensor) and x.ndim > 0:
            return int(x.shape[0])
        if isinstance(x, (list, tuple)):
            return len(x)
        if isinstance(x, Mapping):
            for v in x.values():
                if isinstance(v, torch.Tensor) and v.ndim > 0:
                    return int(v.shape[0])
    raise TypeError(
        f"cannot tell the batch size from targets of type {type(targets).__name__} "
        f"and inputs of type {type(inputs).__name__}: expected a tensor [B, ...], a list of B items, "
        "or a dict of tensors [B, ...]"
    )
