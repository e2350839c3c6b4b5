"""Seeding every random number generator a training run touches."""
from __future__ import annotations

import random

import numpy as np
import torch

from course_utils.checks import MAX_SEED, check_bool, check_seed

__all__ = ["seed_everything", "MAX_SEED"]


def seed_everything(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and CUDA).

    This sets global state on purpose: it is the one call at the top of a notebook
    that makes weight initialization, dropout and data shuffling repeatable.
    Library functions never rely on it; they take a ``seed`` or a ``Generator``.

    Args:
        seed: an integer in ``[0, 2**64 - 1]`` (checked before any generator is touched).
        deterministic: also ask cuDNN and PyTorch for deterministic kernels (slower
            on GPU; PyTorch then raises on ops that have no deterministic version).

    Returns:
        A fresh ``torch.Generator`` seeded with ``seed``, to pass to a DataLoader or
        to ``torch.randn(..., generator=g)``.

    Examples:
        >>> g = seed_everything(0)
        >>> a = torch.rand(2); _ = seed_everything(0); torch.equal(a, torch.rand(2))
        True
        >>> torch.rand(1, generator=g).shape
        torch.Size([1])
    """
    seed = check_seed(seed, "seed")
    check_bool(deterministic, "deterministic")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seed must fit in 32 bits
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=False)
    return torch.Generator().manual_seed(seed)
