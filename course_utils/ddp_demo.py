"""Data-parallel training of LeNet on the digits: the script a chapter launches with torchrun.

Run it on P processes (each one a full copy of the model that sees 1/P of every
global batch) or on one, with the same code::

    OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node=2 -m course_utils.ddp_demo --epochs 5
    python -m course_utils.ddp_demo --epochs 5

``--batch-size`` is per process, so the global batch is ``P * batch_size``. The
learning rate follows the linear scaling rule of Goyal et al. (2017):
``lr = base_lr * global_batch / base_batch``, so doubling the processes doubles
the learning rate and keeps the number of samples per epoch the same with half
the steps. Rank 0 prints one summary line and saves the final weights with
``torch.save`` to ``--out`` (a dict with ``state_dict``, ``lr``, ``world_size``,
``global_batch`` and ``history``).

The model has no batch norm or dropout and the optimizer is plain SGD with
momentum, so with ``--no-shuffle`` a P-process run ends with the same weights as a
one-process run with the same global batch (``tests/test_ddp.py`` checks this).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Subset

from course_utils.data.digits import DigitsDataset
from course_utils.models.lenet import LeNet
from course_utils.train import (
    accuracy,
    ddp_context,
    distributed_loader,
    fit,
    get_world_size,
    is_main_process,
    seed_everything,
)

DEFAULT_OUT = "build/ddp_demo/lenet_digits.pt"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32, help="samples per batch in EACH process")
    p.add_argument("--base-lr", type=float, default=0.05, help="learning rate for a global batch of --base-batch")
    p.add_argument("--base-batch", type=int, default=32, help="reference global batch of --base-lr")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--size", type=int, default=16, help="image side the 8x8 digits are resized to")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-subset", type=int, default=None, help="train on the first N train images only")
    p.add_argument("--no-shuffle", action="store_true", help="read the train set in order (for exact comparisons)")
    p.add_argument("--no-val", action="store_true", help="skip validation")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, default=None, help="torch threads per process (default 1)")
    p.add_argument("--out", type=str, default=DEFAULT_OUT, help="where rank 0 saves the final weights ('' = don't)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    """Train, save the weights from rank 0, and return a summary dict (on every rank)."""
    args = parse_args(argv)
    # LeNet's layers are too small to gain from several threads, and P processes share
    # the machine's cores: on a busy 2-core machine 2 threads ran 15x slower than 1.
    torch.set_num_threads(args.threads or 1)
    with ddp_context() as device:
        world_size = get_world_size()
        seed_everything(args.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
        train_set = DigitsDataset("train", size=args.size, seed=args.seed)
        if args.train_subset is not None:
            train_set = Subset(train_set, range(min(args.train_subset, len(train_set))))
        train_loader = distributed_loader(train_set, args.batch_size, shuffle=not args.no_shuffle, seed=args.seed)
        # The val set is sharded too; evaluate() sums the shards' counts with an all-reduce.
        val_loader = None if args.no_val else distributed_loader(
            DigitsDataset("val", size=args.size, seed=args.seed), 256, shuffle=False
        )
        global_batch = args.batch_size * world_size
        lr = args.base_lr * global_batch / args.base_batch  # linear scaling rule
        model = LeNet(in_channels=1, num_classes=10, image_size=args.size)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=args.momentum)
        start = time.perf_counter()
        history = fit(
            model, F.cross_entropy, train_loader, val_loader, epochs=args.epochs, optimizer=optimizer,
            device=device, metrics={"accuracy": accuracy}, progress=not args.no_progress,
        )
        seconds = time.perf_counter() - start
        summary = {
            "world_size": world_size,
            "global_batch": global_batch,
            "lr": lr,
            "seconds": seconds,
            "train_loss": history.train_loss[-1],
            "val_accuracy": history["val_accuracy"][-1] if "val_accuracy" in history else float("nan"),
        }
        if is_main_process():
            print(
                f"processes={world_size} global_batch={global_batch} lr={lr:.4g} epochs={args.epochs} "
                f"train_loss={summary['train_loss']:.4f} val_accuracy={summary['val_accuracy']:.4f} "
                f"time={seconds:.1f}s",
                flush=True,
            )
            if args.out:
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
                torch.save({"state_dict": state, "history": history.as_dict(), **summary}, args.out)
    return summary


if __name__ == "__main__":
    main()
