"""Plots for the course: images, boxes, masks, keypoints, heatmaps, clips, curves, filters.

Conventions (the same everywhere in ``course_utils``):

* An image is a ``Tensor[C, H, W]`` (C = 1 or 3, PyTorch order) or ``Tensor[H, W]``;
  a NumPy array may also be ``[H, W, C]``. Values in ``[0, 1]`` are shown as they are;
  ``uint8`` arrays are divided by 255; anything outside ``[0, 1]`` (a normalized
  image) is min-max rescaled for display unless you pass ``mean``/``std`` to undo
  the normalization exactly (see :func:`to_display`).
* Boxes are ``Tensor[N, 4]`` in ``(x1, y1, x2, y2)`` absolute pixel coordinates (xyxy)
  on pixel *edges*, as in torchvision: pixel column c spans ``[c, c + 1)``, so a box
  around the whole image is ``(0, 0, W, H)``. :func:`show_detections` draws the image
  with ``extent=(0, W, H, 0)`` so that boxes sit exactly on pixel borders.
* Keypoints are ``Tensor[K, 3]`` ``(x, y, visible)`` in pixels, or ``Tensor[K, 2]``, in
  pixel-*index* coordinates: the centre of pixel (row r, column c) is ``(c, r)``. That
  is ``imshow``'s default, used by :func:`show_images` and :func:`show_heatmaps`.
* Class ``i`` always gets the colour ``class_color(i)``, so boxes, masks and legends
  agree across figures. Class 0 is background in masks and is left transparent.

Functions that make a figure return the ``matplotlib.figure.Figure`` and never call
``plt.show()``. The figure is created through pyplot, so a notebook displays it at
the end of the cell; if the call is the *last expression* of a cell, Jupyter shows
it a second time as the cell's value: end the line with ``;`` or assign it
(``fig = show_images(x)``). ``draw_*`` and ``overlay_*`` functions draw into an
``Axes`` you pass and return the artists they added.
"""
from course_utils.viz.core import class_color, class_colors, denormalize, to_display
from course_utils.viz.curves import plot_confusion_matrix, plot_curves, plot_history
from course_utils.viz.detection import draw_boxes, show_detections
from course_utils.viz.images import show_clips, show_filters, show_images
from course_utils.viz.keypoints import draw_keypoints, show_heatmaps
from course_utils.viz.segmentation import overlay_mask, show_segmentation

__all__ = [
    "class_color",
    "class_colors",
    "denormalize",
    "to_display",
    "show_images",
    "draw_boxes",
    "show_detections",
    "overlay_mask",
    "show_segmentation",
    "draw_keypoints",
    "show_heatmaps",
    "show_clips",
    "plot_history",
    "plot_curves",
    "plot_confusion_matrix",
    "show_filters",
]
