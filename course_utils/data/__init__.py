"""Datasets of the course: offline, deterministic for a seed, documented with shapes.

Real data that ships with the installed packages:

* :class:`DigitsDataset`, :func:`digits_loaders`: scikit-learn's 1,797 8x8 digits,
  split 60/20/20 (the course's MNIST).
* :func:`load_photo`, :data:`PHOTO_NAMES`: photographs bundled with scikit-image.

Synthetic data, generated from ``(seed, index)``:

* :class:`ShapesScenes`: scenes of shapes with boxes, masks and captions (detection,
  segmentation, captioning).
* :class:`ArticulatedFigures`: stick figures with keypoints (pose estimation).
* :class:`ActionClips`: short clips whose class is only in the motion (video).

Real datasets read from a local folder (never downloaded by default):
:func:`cifar10`, :func:`voc_detection` and :func:`voc_target`.
"""
from course_utils.data.clips import ACTION_CLASSES, CLIP_SHAPES, ActionClips
from course_utils.data.digits import DIGIT_CLASSES, DigitsDataset, digits_loaders
from course_utils.data.figures import (
    FLIP_PAIRS,
    KEYPOINT_NAMES,
    SKELETON,
    ArticulatedFigures,
    heatmaps_to_keypoints,
    hflip_keypoints,
    render_heatmaps,
)
from course_utils.data.photos import PHOTO_NAMES, load_photo
from course_utils.data.shapes import (
    CAPTION_VOCAB,
    COLOR_NAMES,
    SHAPE_CLASSES,
    ShapesScenes,
    detection_collate,
    tokenize_caption,
)

__all__ = [
    # digits.py
    "DigitsDataset",
    "digits_loaders",
    "DIGIT_CLASSES",
    # photos.py
    "PHOTO_NAMES",
    "load_photo",
    # clips.py
    "ActionClips",
    "ACTION_CLASSES",
    "CLIP_SHAPES",
    # real.py
    "cifar10",
    "voc_detection",
    "voc_target",
    "CIFAR10_CLASSES",
    "VOC_CLASSES",
    "LocalCIFAR10",
    "LocalVOCDetection",
    # shapes.py (helper B)
    "ShapesScenes",
    "SHAPE_CLASSES",
    "COLOR_NAMES",
    "CAPTION_VOCAB",
    "detection_collate",
    "tokenize_caption",
    # figures.py (helper B)
    "ArticulatedFigures",
    "KEYPOINT_NAMES",
    "SKELETON",
    "FLIP_PAIRS",
    "render_heatmaps",
    "heatmaps_to_keypoints",
    "hflip_keypoints",
]

# The real-dataset loaders subclass torchvision's datasets, whose import costs seconds;
# load them on first use so that `import course_utils.data` stays fast for every chapter.
_REAL = ("CIFAR10_CLASSES", "VOC_CLASSES", "LocalCIFAR10", "LocalVOCDetection", "cifar10",
         "voc_detection", "voc_target")


def __getattr__(name):
    if name in _REAL:
        from course_utils.data import real

        return getattr(real, name)
    raise AttributeError(f"module 'course_utils.data' has no attribute {name!r}")

