"""Real datasets (CIFAR-10, Pascal VOC) read from a local folder, never downloaded by default.

The course runs offline: these wrappers read a copy that the instructor or student put
on disk, and fail early with a :class:`FileNotFoundError` that names every expected
file and says where to get it. Nothing is downloaded unless ``download=True`` is passed
(which then uses torchvision's own downloader and its checksum of the archive).

Unlike torchvision, files are checked for *presence*, not checksums: hashing the whole
of CIFAR-10 on every construction is slow, and a small subset (or the tiny fake copies
the tests build) must load too.

Box convention of :func:`voc_target`, as everywhere in the course: ``(x1, y1, x2, y2)``
in absolute pixel-edge coordinates, where pixel column ``c`` covers ``[c, c + 1)``.
VOC's XML gives 1-based inclusive pixel indices, so ``x1 = xmin - 1``, ``x2 = xmax``.
"""
from __future__ import annotations

import math
import os
import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from torchvision.datasets import CIFAR10, VOCDetection
from torchvision.datasets.voc import DATASET_YEAR_DICT, ET_parse  # ET_parse: defusedxml when installed

from course_utils.checks import check_in, check_nonnegative_int, check_positive_int

__all__ = [
    "CIFAR10_CLASSES",
    "VOC_CLASSES",
    "LocalCIFAR10",
    "LocalVOCDetection",
    "cifar10",
    "voc_detection",
    "voc_target",
]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Index 0 is background, as for every detection dataset of the course; then VOC's 20 classes
# in their usual alphabetical order.
VOC_CLASSES = (
    "background",
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
VOC_YEARS = tuple(str(year) for year in range(2007, 2013))
_VOC_CLASS_INDEX = {name: i for i, name in enumerate(VOC_CLASSES)}


def _pick(n: int, length: int, seed: int) -> list[int]:
    """``min(n, length)`` distinct sorted indices drawn with ``seed`` (the choice of ``show``)."""
    check_positive_int(n, "n")
    check_nonnegative_int(seed, "seed")
    if length == 0:
        raise ValueError("cannot show an empty dataset (len is 0)")
    return np.sort(np.random.default_rng(seed).choice(length, size=min(n, length), replace=False)).tolist()


def _missing_error(what: str, root: Path, expected: list[Path], missing: list[Path], how: str) -> FileNotFoundError:
    lines = [f"{what} not found under {root}.", "Expected:"]
    lines += [f"  {p}" + ("   <- missing" if p in missing else "") for p in expected]
    lines.append(how)
    return FileNotFoundError("\n".join(lines))


# --------------------------------------------------------------------------- CIFAR-10


class LocalCIFAR10(CIFAR10):
    """torchvision's :class:`~torchvision.datasets.CIFAR10`, checking files for presence only.

    Build it with :func:`cifar10`. Items are ``(PIL.Image 32x32 RGB, int label)`` before
    ``transform``; ``.data`` is the ``uint8`` array ``[N, 32, 32, 3]`` and ``.targets`` the labels.
    """

    def _check_integrity(self) -> bool:
        # Presence of the files this split reads (torchvision hashes both splits' files).
        folder = Path(self.root, self.base_folder)
        names = [name for name, _ in (self.train_list if self.train else self.test_list)] + [self.meta["filename"]]
        return all((folder / name).is_file() for name in names)

    def _load_meta(self) -> None:
        with open(Path(self.root, self.base_folder, self.meta["filename"]), "rb") as f:
            self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def show(self, n: int = 8, seed: int = 0):
        """Plot ``n`` random images (chosen with ``seed``) with their class; returns the Figure."""
        from course_utils.viz import show_images

        pick = _pick(n, len(self), seed)
        titles = [self.classes[self.targets[i]] for i in pick]
        return show_images([self.data[i] for i in pick], titles=titles, ncols=min(len(pick), 8))


def cifar10(
    root: str | os.PathLike, train: bool = True, transform: Callable | None = None, download: bool = False
) -> LocalCIFAR10:
    """CIFAR-10 (50,000 train / 10,000 test images, 32x32 RGB, 10 classes) from a local folder.

    Args:
        root: folder that contains ``cifar-10-batches-py/`` (the extracted
            ``cifar-10-python.tar.gz``).
        train: the five training batches if True, else ``test_batch``.
        transform: applied to each PIL image (e.g. ``transforms.ToTensor()``).
        download: if True and the files are missing, download and extract the archive
            (needs network; off by default, the course runs offline).

    Returns:
        A :class:`LocalCIFAR10`; items are ``(image, label int in 0..9)``, class names in
        ``.classes`` (the same as :data:`CIFAR10_CLASSES`).

    Raises:
        FileNotFoundError: if a needed file is missing and ``download`` is False; the
            message lists the expected files and how to get them.
    """
    if not isinstance(train, bool):
        raise TypeError(f"train must be a bool, got {type(train).__name__} ({train!r})")
    root = Path(root).expanduser()
    folder = root / CIFAR10.base_folder
    batches = [name for name, _ in (CIFAR10.train_list if train else CIFAR10.test_list)]
    expected = [folder / name for name in batches + [CIFAR10.meta["filename"]]]
    missing = [p for p in expected if not p.is_file()]
    if missing and not download:
        how = (
            f"Get {CIFAR10.filename} from {CIFAR10.url} (or https://www.cs.toronto.edu/~kriz/cifar.html) "
            f"and extract it into {root}, or call cifar10({str(root)!r}, download=True) on a machine with network."
        )
        raise _missing_error("CIFAR-10", root, expected, missing, how)
    return LocalCIFAR10(str(root), train=train, transform=transform, download=download)


# --------------------------------------------------------------------------- Pascal VOC


class LocalVOCDetection(VOCDetection):
    """torchvision's :class:`~torchvision.datasets.VOCDetection` with a ``show`` method.

    Build it with :func:`voc_detection`. Items are ``(PIL.Image, annotation dict)`` (the parsed
    XML, ``{"annotation": {..., "object": [...]}}``) before ``transforms``; turn an annotation
    into tensors with :func:`voc_target`.
    """

    def show(self, n: int = 8, seed: int = 0):
        """Plot ``n`` random images (chosen with ``seed``) with their ground-truth boxes; returns the Figure."""
        from course_utils.viz import draw_boxes, show_images

        pick = _pick(n, len(self), seed)
        images, targets = [], []
        for i in pick:  # read the files directly: self.transforms may not return PIL images
            images.append(np.array(Image.open(self.images[i]).convert("RGB")))
            targets.append(voc_target(self.parse_voc_xml(ET_parse(self.annotations[i]).getroot())))
        fig = show_images(images, ncols=min(len(pick), 4), figsize=(3.0 * min(len(pick), 4), 3.0 * -(-len(pick) // 4)))
        for ax, target in zip(fig.axes, targets):
            draw_boxes(ax, target["boxes"], target["labels"], class_names=VOC_CLASSES)
        return fig


def voc_detection(
    root: str | os.PathLike,
    year: str = "2012",
    image_set: str = "train",
    transforms: Callable | None = None,
    download: bool = False,
) -> LocalVOCDetection:
    """Pascal VOC detection (20 classes) from a local folder.

    Args:
        root: folder that contains ``VOCdevkit/VOC2012/`` (for ``year="2012"``), with
            ``JPEGImages/``, ``Annotations/`` and ``ImageSets/Main/<image_set>.txt``.
        year: ``"2007"`` ... ``"2012"``.
        image_set: ``"train"``, ``"val"`` or ``"trainval"`` (and ``"test"`` for 2007).
        transforms: callable ``(image, annotation) -> (image, target)`` applied to each item,
            e.g. one that returns ``(to_tensor(image), voc_target(annotation))``.
        download: if True, download and extract the VOC archive (needs network; off by default).

    Returns:
        A :class:`LocalVOCDetection`; items are ``(PIL.Image, annotation dict)`` before ``transforms``.

    Raises:
        FileNotFoundError: if the folders or the image-set list are missing and ``download``
            is False; the message lists what is expected and how to get it.
    """
    check_in(year, "year", VOC_YEARS)
    check_in(image_set, "image_set", ("train", "val", "trainval", "test") if year == "2007" else ("train", "val", "trainval"))
    root = Path(root).expanduser()
    info = DATASET_YEAR_DICT["2007-test" if (year, image_set) == ("2007", "test") else year]
    voc_root = root / info["base_dir"]
    expected = [voc_root / "JPEGImages", voc_root / "Annotations", voc_root / "ImageSets" / "Main" / f"{image_set}.txt"]
    missing = [p for p in expected if not p.exists()]
    if missing and not download:
        how = (
            f"Get {info['filename']} from {info['url']} and extract it into {root}, "
            f"or call voc_detection({str(root)!r}, year={year!r}, download=True) on a machine with network."
        )
        raise _missing_error(f"Pascal VOC {year}", root, expected, missing, how)
    return LocalVOCDetection(str(root), year=year, image_set=image_set, download=download, transforms=transforms)


def _voc_box(bndbox, where: str) -> list[float]:
    """``bndbox`` (VOC's 1-based inclusive pixel indices, as strings) as xyxy pixel edges."""
    if not isinstance(bndbox, dict):
        raise TypeError(f"{where}: 'bndbox' must be a dict with xmin, ymin, xmax, ymax, got {type(bndbox).__name__}")
    values = {}
    for key in ("xmin", "ymin", "xmax", "ymax"):
        if key not in bndbox:
            raise ValueError(f"{where}: 'bndbox' has no {key!r} (keys: {sorted(bndbox)})")
        try:
            values[key] = float(bndbox[key])  # some VOC 2012 files write coordinates as "273.0"
        except (TypeError, ValueError):
            raise ValueError(f"{where}: 'bndbox' {key} must be a number, got {bndbox[key]!r}") from None
        if not math.isfinite(values[key]):
            raise ValueError(f"{where}: 'bndbox' {key} must be finite, got {bndbox[key]!r}")
    if values["xmax"] < values["xmin"] or values["ymax"] < values["ymin"]:
        raise ValueError(f"{where}: 'bndbox' is inverted (xmax < xmin or ymax < ymin), got {bndbox!r}")
    return [values["xmin"] - 1.0, values["ymin"] - 1.0, values["xmax"], values["ymax"]]


def voc_target(annotation: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Convert a parsed VOC annotation into the course's detection target.

    Args:
        annotation: the dict that :class:`~torchvision.datasets.VOCDetection` returns
            (``{"annotation": {...}}``), or its inner ``"annotation"`` dict.

    Returns:
        ``{"boxes": Tensor[N, 4] float32, "labels": Tensor[N] int64, "difficult": Tensor[N] bool}``:
        boxes in xyxy pixel-edge coordinates (``x1 = xmin - 1``, ``x2 = xmax``, see the module
        docstring), labels indexing :data:`VOC_CLASSES` (1..20; 0 is background), and VOC's
        ``difficult`` flag (such objects are usually ignored when computing VOC mAP).
        An image without objects gives ``Tensor[0, 4]`` and ``Tensor[0]``.

    Raises:
        ValueError: if an object's class is not one of :data:`VOC_CLASSES`, or an object has no
            ``name`` or ``bndbox``, or its box is not four finite numbers with ``xmin <= xmax``
            and ``ymin <= ymax``.

    Examples:
        >>> obj = {"name": "dog", "difficult": "0", "bndbox": {"xmin": "1", "ymin": "11", "xmax": "50", "ymax": "40"}}
        >>> target = voc_target({"annotation": {"object": [obj]}})
        >>> target["boxes"], target["labels"]
        (tensor([[ 0., 10., 50., 40.]]), tensor([12]))
    """
    if not isinstance(annotation, dict):
        raise TypeError(f"annotation must be a dict, got {type(annotation).__name__}")
    inner = annotation.get("annotation", annotation)
    if not isinstance(inner, dict):
        raise TypeError(f"annotation['annotation'] must be a dict, got {type(inner).__name__}")
    objects = inner.get("object", [])
    if isinstance(objects, dict):  # a hand-built annotation with a single object
        objects = [objects]
    if not isinstance(objects, list):
        raise TypeError(f"annotation's 'object' must be a list of dicts, got {type(objects).__name__}")
    boxes, labels, difficult = [], [], []
    for i, obj in enumerate(objects):
        where = f"annotation object {i}"
        if not isinstance(obj, dict):
            raise TypeError(f"{where} must be a dict, got {type(obj).__name__}")
        for key in ("name", "bndbox"):
            if key not in obj:
                raise ValueError(f"{where} has no {key!r} (keys: {sorted(obj)})")
        name = obj["name"]
        if not isinstance(name, str) or name not in _VOC_CLASS_INDEX or name == "background":
            raise ValueError(f"{where}: unknown VOC class {name!r}; valid names are: {', '.join(VOC_CLASSES[1:])}")
        box = _voc_box(obj["bndbox"], where)
        boxes.append(box)
        labels.append(_VOC_CLASS_INDEX[name])
        difficult.append(str(obj.get("difficult", "0")).strip() == "1")
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),  # [N, 4]
        "labels": torch.tensor(labels, dtype=torch.int64),  # [N]
        "difficult": torch.tensor(difficult, dtype=torch.bool),  # [N]
    }
