"""Distributed data parallel (DDP) training with ``torchrun``, in a few small helpers.

Data parallelism runs P copies of the same program (``torchrun --nproc_per_node=P``).
Each process holds a full replica of the model, reads a different 1/P of every
global batch, and after ``backward()`` the replicas average their gradients with an
all-reduce, so every replica takes the same optimizer step. With a per-process
batch B the *global* batch is P * B; the linear scaling rule (Goyal et al., 2017,
"Accurate, Large Minibatch SGD") scales the learning rate with it.

``torchrun`` tells each process who it is through environment variables:
``WORLD_SIZE`` (P), ``RANK`` (0..P-1) and ``LOCAL_RANK`` (its index on this machine,
which picks its GPU). :func:`ddp_setup` reads them and joins the process group
(NCCL between GPUs, Gloo on CPUs). Without ``torchrun`` every helper here falls
back to one process, so the same script runs either way.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler

from course_utils.checks import check_positive_int
from course_utils.runtime import get_device

__all__ = [
    "is_distributed",
    "get_rank",
    "get_world_size",
    "is_main_process",
    "ddp_setup",
    "ddp_cleanup",
    "ddp_context",
    "distributed_loader",
    "distribute_loader",
    "all_reduce_sum",
]


def is_distributed() -> bool:
    """True inside an initialized process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """This process's rank in the process group (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def get_world_size() -> int:
    """Number of processes in the group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0, the process that prints, shows progress and saves files."""
    return get_rank() == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None


def ddp_setup(backend: str | None = None) -> torch.device:
    """Join the process group that ``torchrun`` prepared, and pick this process's device.

    Reads ``WORLD_SIZE`` and ``LOCAL_RANK`` (``RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``
    are read by ``init_process_group``). With ``WORLD_SIZE`` > 1 it initializes the
    default process group, with NCCL when CUDA is available and Gloo otherwise, and
    returns ``cuda:LOCAL_RANK`` (or the CPU). Without ``torchrun`` it does nothing and
    returns :func:`course_utils.runtime.get_device`. Calling it twice is harmless.

    Args:
        backend: force ``"gloo"`` or ``"nccl"``.

    Returns:
        The device this process should train on.
    """
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return get_device()
    local_rank = _env_int("LOCAL_RANK", 0)
    cuda = torch.cuda.is_available() and backend != "gloo"
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)  # NCCL needs each process on its own GPU
    if not dist.is_initialized():
        dist.init_process_group(backend=backend or ("nccl" if cuda else "gloo"))
    return device


def ddp_cleanup() -> None:
    """Leave the process group (if any); call at the end of a ``torchrun`` script."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def ddp_context(backend: str | None = None) -> Iterator[torch.device]:
    """``with ddp_context() as device:`` runs :func:`ddp_setup` and always :func:`ddp_cleanup`."""
    device = ddp_setup(backend)
    try:
        yield device
    finally:
        ddp_cleanup()


def distributed_loader(
    dataset: Dataset,
    batch_size_per_process: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = False,
    collate_fn: Callable | None = None,
    num_workers: int = 0,
    **kwargs,
) -> DataLoader:
    """A DataLoader that gives each process its own shard of ``dataset``.

    Under ``torchrun`` it uses a ``DistributedSampler``: rank r takes samples
    ``r, r + P, r + 2P, ...`` of the (shuffled) order, so the P per-process batches of
    one step together form one global batch of ``P * batch_size_per_process``.
    :func:`course_utils.train.fit` calls ``sampler.set_epoch(epoch)`` so the shuffle
    changes every epoch. Without ``torchrun`` it is an ordinary DataLoader (shuffled
    with a generator seeded by ``seed``), so one script serves both cases.

    Note: without ``drop_last`` the sampler pads the dataset with repeated samples
    up to a multiple of P, so every rank gets the same number of batches.

    Args:
        dataset: a map-style dataset.
        batch_size_per_process: samples per batch in each process.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle (the same on every rank).
        drop_last: drop the last incomplete batch (and, under DDP, the tail that does
            not divide by P).
        collate_fn, num_workers, **kwargs: passed to ``DataLoader``.

    Examples:
        >>> loader = distributed_loader(torch.utils.data.TensorDataset(torch.arange(10.0)), 4, shuffle=False)
        >>> [len(b[0]) for b in loader]
        [4, 4, 2]
    """
    check_positive_int(batch_size_per_process, "batch_size_per_process")
    if is_distributed():
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed, drop_last=drop_last)
        return DataLoader(dataset, batch_size=batch_size_per_process, sampler=sampler, drop_last=drop_last,
                          collate_fn=collate_fn, num_workers=num_workers, **kwargs)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size_per_process, shuffle=shuffle, generator=generator,
                      drop_last=drop_last, collate_fn=collate_fn, num_workers=num_workers, **kwargs)


def distribute_loader(loader: DataLoader) -> DataLoader:
    """Rebuild an ordinary DataLoader so that each process reads its own shard.

    Used by :func:`fit` under ``torchrun`` when the train loader does not already use a
    ``DistributedSampler``. The loader's ``batch_size`` becomes the *per-process* batch
    size; a loader with a ``RandomSampler`` (``shuffle=True``) is shuffled by the
    ``DistributedSampler`` instead. Returned unchanged when not distributed or already
    sharded.
    """
    if not is_distributed() or isinstance(loader.sampler, DistributedSampler):
        return loader
    if loader.batch_size is None or isinstance(loader.dataset, torch.utils.data.IterableDataset):
        raise ValueError(
            "under torchrun, fit can only shard a DataLoader built with batch_size over a map-style dataset; "
            "build the loader with course_utils.train.distributed_loader instead"
        )
    seed = int(loader.generator.initial_seed()) if loader.generator is not None else 0
    sampler = DistributedSampler(loader.dataset, shuffle=isinstance(loader.sampler, RandomSampler), seed=seed,
                                 drop_last=loader.drop_last)
    return DataLoader(
        loader.dataset, batch_size=loader.batch_size, sampler=sampler, num_workers=loader.num_workers,
        collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last,
        worker_init_fn=loader.worker_init_fn, persistent_workers=loader.persistent_workers,
    )


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place, and return it (a no-op in one process).

    The tensor must live on this process's device (a CUDA tensor for NCCL).
    """
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor
