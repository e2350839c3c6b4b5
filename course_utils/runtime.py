"""Where code runs and for how long: the device helper and the quick-mode budget.

Quick mode is how autograding stays fast: when the environment variable
``DLCV_QUICK`` is set to ``1`` (the grading scripts and ``make test`` set it),
every chapter shrinks its training budgets through :func:`budget`. Nothing graded
may depend on how long training runs.
"""
from __future__ import annotations

import os
from typing import TypeVar

import torch

from course_utils.checks import check_bool, check_device, check_number

__all__ = ["QUICK_ENV", "is_quick", "budget", "get_device", "report"]

QUICK_ENV = "DLCV_QUICK"
T = TypeVar("T")


def is_quick() -> bool:
    """True when quick mode is on (``DLCV_QUICK`` set to 1/true/yes)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def budget(full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Examples:
        >>> budget(full=20, quick=1) in (1, 20)
        True
    """
    return quick if is_quick() else full


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the best available device: CUDA, then Apple MPS, then the CPU.

    ``prefer`` (or the ``DLCV_DEVICE`` environment variable) forces one, e.g. ``"cpu"``; it
    must name a device of this machine.

    Examples:
        >>> get_device("cpu")
        device(type='cpu')
    """
    if prefer is not None:
        return check_device(prefer, "prefer")
    choice = os.environ.get("DLCV_DEVICE", "").strip()
    if choice:
        return check_device(choice, "the environment variable DLCV_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


REPORT_ENV = "DLCV_REPORT"


def report(name: str, value: float, *, target: float | None = None, higher_is_better: bool = True) -> None:
    """Print a chapter's quality figure (e.g. test accuracy) and record it for `make timings`.

    When the environment variable ``DLCV_REPORT`` names a file, one JSON line is
    appended to it, so the timing table can show each chapter's figure.
    """
    import json

    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    value = check_number(value, "value", allow_inf=True)  # NaN is a bug, not a quality figure
    if target is not None:
        target = check_number(target, "target", allow_inf=True)
    check_bool(higher_is_better, "higher_is_better")
    line = f"{name}: {value:.4f}"
    if target is not None:
        met = value >= target if higher_is_better else value <= target
        line += f" (target {'>=' if higher_is_better else '<='} {target}: {'met' if met else 'NOT met'})"
    print(line)
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"name": name, "value": float(value), "target": target}) + "\n")
