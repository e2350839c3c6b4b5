"""Training: the loop (:func:`fit`, :func:`evaluate`), classification metrics, seeding,
moving batches to a device, and distributed data parallel under ``torchrun``.

Examples:
    >>> from course_utils.train import fit, evaluate, accuracy, seed_everything
"""
from .accuracy import accuracy, count_correct, topk_accuracy
from .batch import batch_size_of, to_device
from .distributed import (
    all_reduce_sum,
    ddp_cleanup,
    ddp_context,
    ddp_setup,
    distribute_loader,
    distributed_loader,
    get_rank,
    get_world_size,
    is_distributed,
    is_main_process,
)
from .loop import History, evaluate, fit, train_one_epoch
from .seed import seed_everything

__all__ = [
    "History",
    "fit",
    "train_one_epoch",
    "evaluate",
    "accuracy",
    "topk_accuracy",
    "count_correct",
    "seed_everything",
    "to_device",
    "batch_size_of",
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
