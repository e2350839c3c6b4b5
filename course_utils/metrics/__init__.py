"""Evaluation metrics, one submodule per task (detection, segmentation), re-exported here."""
from course_utils.metrics.detection import average_precision, mean_average_precision, precision_recall_curve
from course_utils.metrics.segmentation import (
    confusion_matrix,
    confusion_matrix_loop,
    mean_iou,
    per_class_accuracy,
    per_class_iou,
    pixel_accuracy,
    segmentation_metrics,
)

__all__ = [
    # detection
    "average_precision",
    "mean_average_precision",
    "precision_recall_curve",
    # segmentation
    "confusion_matrix",
    "confusion_matrix_loop",
    "mean_iou",
    "per_class_accuracy",
    "per_class_iou",
    "pixel_accuracy",
    "segmentation_metrics",
]
