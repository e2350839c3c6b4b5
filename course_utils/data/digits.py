"""The 8x8 handwritten digits of scikit-learn as a PyTorch dataset.

scikit-learn ships 1,797 grey-level digits (UCI "optdigits", pixel values 0..16)
inside its wheel, so this dataset works offline and loads in milliseconds. It is
the course's MNIST: small enough to train a CNN on a laptop CPU in seconds.

The 1,797 images are split once, per class, into train / val / test in the ratio
60 / 20 / 20 (stratified: every split has nearly the same share of each digit).
The split depends only on ``seed``, so ``DigitsDataset("train", seed=0)`` is the
same set of images on every machine and never overlaps ``DigitsDataset("test", seed=0)``.

Pixels are scaled from 0..16 to [0, 1]. With ``size=S`` the 8x8 images are resized
to SxS with antialiased bilinear interpolation (e.g. 28 or 32 for LeNet-style
networks). With ``normalize=True`` they are then standardized with the mean and
standard deviation of the *train* split (at that size), the statistics every split
must share so that the val and test sets see exactly the train preprocessing.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from course_utils.checks import (
    check_bool,
    check_in,
    check_index,
    check_nonnegative_int,
    check_numel,
    check_positive_int,
    check_seed,
)

__all__ = ["DigitsDataset", "digits_loaders", "DIGIT_CLASSES"]

DIGIT_CLASSES = tuple(str(d) for d in range(10))
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)
# scikit-learn stores the digits as integers 0..16 (counts of set pixels in 4x4 blocks).
MAX_PIXEL_VALUE = 16.0
RAW_SIZE = 8
NUM_DIGITS = 1797  # scikit-learn's load_digits


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits: (images Tensor[1797, 1, 8, 8] float32 in [0, 1], labels Tensor[1797] int64).

    Loaded lazily (never on import) and cached, so building several datasets costs one load.
    """
    from sklearn.datasets import load_digits  # sklearn import is slow: only when needed

    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / MAX_PIXEL_VALUE)  # [N, 8, 8]
    labels = torch.from_numpy(bunch.target.astype(np.int64))  # [N]
    return images.unsqueeze(1), labels  # [N, 1, 8, 8], [N]


@lru_cache(maxsize=8)
def _split_indices(seed: int) -> dict[str, torch.Tensor]:
    """Stratified 60/20/20 split: ``{"train": Tensor[n_train] int64, "val": ..., "test": ...}``.

    Each class is shuffled with a generator seeded by ``seed`` and cut at the rounded
    fractions, so every split holds 60 / 20 / 20 % of every digit (up to rounding).
    """
    _, labels = _raw_digits()
    generator = torch.Generator().manual_seed(seed)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in SPLITS}
    for c in range(len(DIGIT_CLASSES)):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_train = round(SPLIT_FRACTIONS[0] * len(idx))
        n_val = round(SPLIT_FRACTIONS[1] * len(idx))
        parts["train"].append(idx[:n_train])
        parts["val"].append(idx[n_train : n_train + n_val])
        parts["test"].append(idx[n_train + n_val :])
    # Sorted indices: the order of a split does not depend on the class loop (loaders shuffle).
    return {name: torch.cat(p).sort().values for name, p in parts.items()}


def _resize(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """Tensor[N, 1, 8, 8] -> Tensor[N, 1, size, size] (antialiased bilinear), values kept in [0, 1]."""
    if size is None or size == RAW_SIZE:
        return images.clone()
    out = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    # Bilinear weights are convex, but the antialias filter can overshoot by float rounding.
    return out.clamp_(0.0, 1.0)


@lru_cache(maxsize=8)
def _train_stats(size: int | None, seed: int) -> tuple[float, float]:
    """Mean and (population) std of all train-split pixels at this size, as Python floats."""
    images, _ = _raw_digits()
    train = _resize(images[_split_indices(seed)["train"]], size)
    return float(train.mean()), float(train.std(unbiased=False))


class DigitsDataset(Dataset):
    """scikit-learn's 8x8 digits, one deterministic stratified split, as tensors.

    Args:
        split: ``"train"`` (60 %), ``"val"`` (20 %) or ``"test"`` (20 %) of the 1,797 digits.
        size: side ``S`` of the returned images; ``None`` keeps the original 8x8.
            Other sizes use antialiased bilinear interpolation.
        normalize: if True, standardize with the train split's :attr:`mean` and :attr:`std`
            (the same numbers for all three splits); if False, pixels are in [0, 1].
        seed: seed of the split. The same seed gives the same split on every machine.

    Attributes:
        images (Tensor[N, 1, S, S] float32): all images of the split, precomputed once,
            for fast full-batch work (``model(ds.images)``).
        labels (Tensor[N] int64): digit of each image, 0..9.
        indices (Tensor[N] int64): position of each image in ``sklearn.datasets.load_digits()``.
        mean (float), std (float): statistics of the train split's pixels in [0, 1] at size S,
            used for ``normalize`` (set even when ``normalize=False``).
        classes (tuple[str, ...]): ``("0", ..., "9")``.

    Items are ``(image Tensor[1, S, S] float32, label int)``.

    Examples:
        >>> train = DigitsDataset("train")
        >>> len(train), train.images.shape, train.labels.dtype
        (1078, torch.Size([1078, 1, 8, 8]), torch.int64)
        >>> image, label = DigitsDataset("test", size=28, normalize=False)[0]
        >>> image.shape, bool(image.min() >= 0) and bool(image.max() <= 1), type(label)
        (torch.Size([1, 28, 28]), True, <class 'int'>)
    """

    classes = DIGIT_CLASSES

    def __init__(self, split: str = "train", size: int | None = None, normalize: bool = True, seed: int = 0) -> None:
        check_in(split, "split", SPLITS)
        if size is not None:
            check_positive_int(size, "size")
            check_numel(NUM_DIGITS * size * size, "size", (NUM_DIGITS, 1, size, size))  # every image is resized
        check_seed(seed, "seed")
        check_bool(normalize, "normalize")
        self.split = split
        self.size = RAW_SIZE if size is None else size
        self.normalize = normalize
        self.seed = seed

        all_images, all_labels = _raw_digits()
        idx = _split_indices(seed)[split]
        self.mean, self.std = _train_stats(size, seed)
        images = _resize(all_images[idx], size)  # [N, 1, S, S]
        if normalize:
            images = (images - self.mean) / self.std
        self.images = images
        self.labels = all_labels[idx].clone()  # [N]
        self.indices = idx.clone()  # [N]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = check_index(index, len(self.labels), "DigitsDataset")
        return self.images[index], int(self.labels[index])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, n={len(self)}, size={self.size}, "
            f"normalize={self.normalize}, seed={self.seed})"
        )

    def show(self, n: int = 8, seed: int = 0):
        """Plot ``n`` random images of the split (chosen with ``seed``) with their labels.

        Normalized images are shown de-normalized (``image * std + mean``), so they look the same
        either way. Returns the matplotlib Figure.
        """
        from course_utils.viz import show_images

        check_positive_int(n, "n")
        check_nonnegative_int(seed, "seed")
        pick = np.sort(np.random.default_rng(seed).choice(len(self), size=min(n, len(self)), replace=False))
        titles = [self.classes[int(c)] for c in self.labels[pick]]
        undo = dict(mean=[self.mean], std=[self.std]) if self.normalize else {}
        return show_images(self.images[pick], titles=titles, ncols=min(len(pick), 8), cmap="gray", **undo)


def digits_loaders(
    batch_size: int = 64,
    size: int | None = None,
    seed: int = 0,
    normalize: bool = True,
    num_workers: int = 0,
) -> tuple[DataLoader, DataLoader, DataLoader]:
    """Train, val and test DataLoaders over :class:`DigitsDataset`.

    The train loader reshuffles every epoch with a generator seeded by ``seed``, so the
    sequence of batches over a whole run is reproducible; val and test are not shuffled.
    Batches are ``(images Tensor[B, 1, S, S] float32, labels Tensor[B] int64)``.

    Args:
        batch_size: images per batch (the last batch may be smaller).
        size: image side ``S`` (``None`` keeps 8).
        seed: seed of the split and of the train shuffling.
        normalize: standardize with the train statistics (see :class:`DigitsDataset`).
        num_workers: DataLoader worker processes (0 = load in the main process, fastest here).

    Examples:
        >>> train, val, test = digits_loaders(batch_size=32)
        >>> images, labels = next(iter(train))
        >>> images.shape, labels.shape
        (torch.Size([32, 1, 8, 8]), torch.Size([32]))
    """
    check_positive_int(batch_size, "batch_size")
    check_nonnegative_int(num_workers, "num_workers", maximum=os.cpu_count() or 1)
    datasets = [DigitsDataset(split, size=size, normalize=normalize, seed=seed) for split in SPLITS]
    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(datasets[0], batch_size=batch_size, shuffle=True, generator=generator, num_workers=num_workers)
    val, test = (DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=num_workers) for ds in datasets[1:])
    return train, val, test
