# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: nbgrader,deletable,editable,tags,-all
#     notebook_metadata_filter: kernelspec,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 9 — Human pose estimation
#
# A detector draws a box around a person. A box says where someone is, but not what they
# are doing: standing, reaching for a shelf, falling, raising a hand to vote. **Pose
# estimation** answers that question with a handful of points, the *keypoints*: the
# head, the shoulders, elbows, wrists, hips, knees and ankles, joined by a *skeleton*.
# A dozen or two points are enough to animate a digital character from a video of an
# actor (motion capture without markers), to count repetitions in a fitness app, to
# control a game with your body, or to notice that the people in a bank are standing
# with their arms raised, which the computer vision lecture uses as an example of pose
# as a cue to activity: the scene says "bank", the pose says "robbery".
#
# Pose is hard for reasons a box never meets. A body is *articulated*: the same person
# produces wildly different silhouettes, and a wrist can be almost anywhere within an
# arm's length of the shoulder. Limbs are *occluded* by other limbs, by objects and by
# other people, yet we still want to know where they are. People appear at every
# *scale*, from a face-filling close-up to a far-away player on a football pitch. And
# the body is nearly *symmetric*: a left wrist and a right wrist look the same, so a
# network must use context to tell them apart.
#
# This chapter builds a pose estimator from the ground up on synthetic stick figures
# that share all four difficulties. You will render the Gaussian *heatmaps* that modern
# networks are trained to predict, decode them back to coordinates (with and without
# sub-pixel accuracy), implement the two standard metrics (PCK and COCO's OKS), flip
# images and keypoints correctly, compute the sizes inside a stacked hourglass, and write
# the hourglass module itself. The chapter then trains a small stacked hourglass on a CPU
# in well under a minute, compares it with direct regression of coordinates on the same
# backbone, and uses it to explore flip testing, occlusion, multi-person scenes, lifting
# 2D poses to 3D, and what happens when the test data drift away from the training data.
#
# **How this notebook works.** Exercise cells contain a function signature and a
# docstring; replace the `raise NotImplementedError(...)` line with your code. The cell
# after each exercise holds tests: the visible ones tell you what is wrong, and more
# (hidden) tests run when the notebook is graded. Implementation exercises must do the
# work themselves: calling the course's reference versions (`course_utils.ops.keypoints`,
# `course_utils.metrics.keypoints`, `course_utils.models.hourglass`, and the dataset's own
# `render_heatmaps`, `heatmaps_to_keypoints` and `hflip_keypoints`) inside them scores no
# points, and each exercise names the library functions it asks you not to use. Set the
# environment variable `DLCV_QUICK=1` to run everything with tiny training budgets;
# grading does that too, and nothing graded depends on how long you train.
#
# A note on the sources. Topics and examples come from the pose-estimation lecture of a
# computer-vision course (and the chapters before this one); the numbers are computed
# here. Where the slides and this chapter differ, the chapter says so and shows why.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from course_utils.data import FLIP_PAIRS, KEYPOINT_NAMES, SKELETON, ArticulatedFigures
from course_utils.data import figures as ref_figures  # the dataset's renderer, decoder and flip
from course_utils.data.pose_scenes import PoseScenes, crop_to_scene, limb_score, part_affinity_fields, person_crops
from course_utils.data.skeletons3d import SyntheticSkeletons, bone_lengths, mpjpe
from course_utils.grading import expect_close, expect_equal, expect_raises, expect_tensor, forbid
from course_utils.metrics import keypoints as ref_metrics  # the course's reference metrics
from course_utils.models import hourglass as ref_hourglass  # the course's reference models
from course_utils.models.hourglass import KeypointRegressor, Residual, StackedHourglass, heatmap_loss
from course_utils.ops import keypoints as ref_ops  # the course's reference heatmap ops
from course_utils.runtime import budget, get_device, report
from course_utils.summary import summarize
from course_utils.train import fit, seed_everything
from course_utils.viz import plot_history
from course_utils.viz.keypoints import draw_keypoints, show_heatmaps

torch.set_num_threads(1)  # the models are tiny: one thread is as fast and leaves the other core free
seed_everything(0)
device = get_device()
CHAPTER_START = time.perf_counter()
print("device:", device)

# %% [markdown]
# ## 1. Pose as keypoints and a skeleton
#
# A pose is an ordered list of $K$ keypoints, each with image coordinates $(x, y)$ and a
# visibility flag, plus a fixed *skeleton*: the pairs of keypoints joined by a limb. The
# skeleton is not predicted; it only tells us how to draw the points and which ones
# belong together. Real data sets choose different keypoints: COCO has 17 (five on the
# face: nose, eyes and ears), MPII has 16 (with the top of the head, the neck, the
# pelvis and the thorax), the lecture's example has 28. Our data set,
# `course_utils.data.ArticulatedFigures`, has 15 keypoints on synthetic stick figures:
# head, neck, pelvis, and the left and right shoulders, elbows, wrists, hips, knees and
# ankles.
#
# The figures are generated on the fly from a seed: a random pose (joint angles within
# human-like ranges, forward kinematics from the pelvis), a random size, position and
# rotation, limb thickness and colours, a cluttered background of blobs and lines, and in
# half of the images a rectangular *occluder* that hides one to four keypoints. The
# figure faces the viewer, so its left side appears on the right of the image, as in a
# photograph of a person facing the camera; its left limbs are drawn in a lighter tint of
# its body colour and its right limbs in a darker shade, which is the only cue that
# separates the two sides. Coordinates follow the *pixel-index* convention: the centre of
# the pixel in row $r$ and column $c$ is $(x, y) = (c, r)$.
#
# Every keypoint comes with a flag `visible`: 1 when it can be seen, 0 when the occluder
# covers it. Its coordinates are still the true ones: the figure is "labelled but not
# visible" there, in COCO's words. Keep this distinction in mind; the two metrics of
# section 4 treat it differently.

# %%
figures = ArticulatedFigures(400, image_size=64, seed=0)
sample_images, sample_targets = zip(*(figures[i] for i in range(len(figures))))
sample_keypoints = torch.stack([t["keypoints"] for t in sample_targets])  # [N, 15, 3]
print(f"{len(KEYPOINT_NAMES)} keypoints: {', '.join(KEYPOINT_NAMES)}")
print(f"{len(SKELETON)} limbs in the skeleton; {len(FLIP_PAIRS)} left/right pairs")
occluded = sample_keypoints[..., 2] == 0
print(f"{occluded.any(dim=1).float().mean():.0%} of {len(figures)} images have an occluder; "
      f"{occluded.float().mean():.1%} of all keypoints are hidden")


def show_pose(ax, image, keypoints, title=None, color=None):
    """An image with its skeleton (visible keypoints) and red crosses on the hidden ones."""
    ax.imshow(image.permute(1, 2, 0).numpy())
    draw_keypoints(ax, keypoints, SKELETON, color=color, markersize=12, linewidth=1.5)
    hidden = keypoints[keypoints[:, 2] == 0]
    if len(hidden):
        ax.scatter(hidden[:, 0], hidden[:, 1], marker="x", color="red", s=30, linewidths=1.5, zorder=4)
    if title:
        ax.set_title(title, fontsize=8)
    ax.set_axis_off()


fig, axes = plt.subplots(2, 8, figsize=(16, 4.4))
for ax, i in zip(axes.flat, range(16)):
    show_pose(ax, sample_images[i], sample_keypoints[i],
              title=f"{int(occluded[i].sum())} hidden" if occluded[i].any() else None)
fig.suptitle("ArticulatedFigures: skeletons on the visible keypoints, red crosses on the hidden ones", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The four difficulties of the lecture are all in these images, and we can measure them.
# **Articulation**: where the left wrist is relative to the neck, and the left ankle
# relative to the pelvis, in units of the torso (neck to pelvis), over all 400 figures.
# **Scale**: the size of each figure, measured as the longer side of the box around its
# keypoints (the *reference size* that PCK will use). **Occlusion**: how often each
# keypoint is hidden.

# %%
def relative(a, b):
    """Keypoint a minus keypoint b, in torso lengths, for every sample figure."""
    torso = (sample_keypoints[:, KEYPOINT_NAMES.index("neck"), :2]
             - sample_keypoints[:, KEYPOINT_NAMES.index("pelvis"), :2]).norm(dim=1, keepdim=True)
    return (sample_keypoints[:, KEYPOINT_NAMES.index(a), :2] - sample_keypoints[:, KEYPOINT_NAMES.index(b), :2]) / torso


sizes = ref_metrics.reference_size(sample_keypoints)
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for (a, b), color in ((("left_wrist", "neck"), "tab:blue"), (("left_ankle", "pelvis"), "tab:orange")):
    offsets = relative(a, b)
    axes[0].scatter(offsets[:, 0], offsets[:, 1], s=6, alpha=0.5, color=color, label=f"{a} - {b}")
axes[0].scatter([0], [0], color="black", marker="+", s=80)
axes[0].invert_yaxis()
axes[0].set_aspect("equal")
axes[0].set_xlabel("x (torso lengths)")
axes[0].set_ylabel("y (torso lengths, down)")
axes[0].legend(fontsize=8)
axes[0].set_title("articulation: where a wrist and an ankle can be", fontsize=9)
axes[1].hist(sizes.numpy(), bins=25, color="tab:green")
axes[1].set_xlabel("longer side of the keypoint box (pixels, 64 x 64 images)")
axes[1].set_title(f"scale: from {sizes.min():.0f} to {sizes.max():.0f} pixels", fontsize=9)
hidden_rate = occluded.float().mean(dim=0)
axes[2].barh(range(len(KEYPOINT_NAMES)), hidden_rate.numpy(), color="tab:red")
axes[2].set_yticks(range(len(KEYPOINT_NAMES)))
axes[2].set_yticklabels(KEYPOINT_NAMES, fontsize=7)
axes[2].invert_yaxis()
axes[2].set_xlabel("fraction of images where the keypoint is hidden")
axes[2].set_title("occlusion", fontsize=9)
fig.tight_layout()
plt.show()
print(f"left wrist to neck: from {relative('left_wrist', 'neck').norm(dim=1).min():.2f} to "
      f"{relative('left_wrist', 'neck').norm(dim=1).max():.2f} torso lengths")

# %% [markdown]
# The wrist roams over a disc about two torso lengths wide, so no fixed template of "a
# person" can match every pose: a detector of body *parts* that then reasons about their
# arrangement (the idea of the pictorial structures of the 2000s) or a network with a
# large receptive field is needed. The figures' sizes vary by a factor of almost two,
# and every keypoint is hidden in some images.
#
# ## 2. Two ways to predict keypoints: coordinates or heatmaps
#
# The most direct design is the one the lecture starts from: a convolutional network
# maps the image to a vector of $F$ numbers, and for pose we simply ask for $F = 2K$
# coordinates (the lecture's 28 keypoints give $F = 56$; our 15 give 30). DeepPose
# (Toshev and Szegedy, 2014) did exactly this, regressing the coordinates with an L2 loss
# and refining them in a cascade of crops. It works, but it asks a lot of the network:
# the convolutional layers produce a *map* of features that move with the image, and the
# final fully connected layer must turn "there is an elbow-like pattern in this region of
# the map" into the number 37.4. Translation, which convolutions handle for free, has to
# be learned by a dense layer, one output at a time, and with a single number per
# coordinate the network cannot express doubt between two candidate wrists: it can only
# average them, and the average of two plausible positions is usually in empty space.
#
# The alternative, which has dominated since Tompson et al. (2014) and the stacked
# hourglass (Newell et al., 2016), treats pose like *segmentation*: the network outputs
# one **heatmap** per keypoint, a grey-scale image that should be bright where that
# keypoint is and dark elsewhere. The training target for keypoint $k$ at $(x_k, y_k)$ is
# a Gaussian bump,
#
# $$T_k(u, v) = \exp\left(-\frac{(u - x_k)^2 + (v - y_k)^2}{2\sigma^2}\right),$$
#
# evaluated at every position $(u, v)$ of the map. The output is a stack of $K$ maps,
# fully convolutional, so a keypoint moving in the image simply moves its peak; two
# candidate wrists give two peaks, and decoding picks one. Heatmaps are usually smaller
# than the image, by the network's *stride* $s$ (4 in the hourglass: a 256 × 256 image
# gives 64 × 64 maps), and $\sigma$ is then measured in heatmap cells.
#
# ### Exercise 1: rendering Gaussian heatmaps (3 points)
#
# Write `gaussian_heatmaps(keypoints, height, width, sigma)`: one map of size
# `height × width` per keypoint, with the value $T_k$ above at each cell, where cell
# (row $r$, column $c$) is at $(u, v) = (c, r)$ (the pixel-index convention; stride 1).
#
# * `keypoints` is a `Tensor[K, 2]` of $(x, y)$; they may be fractional and may even lie
#   outside the map (the map then shows the tail of the Gaussian).
# * The result is a `Tensor[K, height, width]` with the dtype of `keypoints`; with
#   $K = 0$ it is an empty `Tensor[0, height, width]`.
# * Vectorize it: the Gaussian is *separable*, a column profile times a row profile, and
#   broadcasting builds the maps without a loop over pixels. Do not call the dataset's
#   `render_heatmaps` or the course's `course_utils.ops.keypoints.gaussian_heatmaps`.

# %% nbgrader={"grade": false, "grade_id": "gaussian_heatmaps", "locked": false, "schema_version": 3, "solution": true}
def gaussian_heatmaps(keypoints, height, width, sigma):
    """One Gaussian heatmap per keypoint, with peak value 1 at the keypoint.

    Args:
        keypoints: Tensor[K, 2] float, (x, y) in pixel-index coordinates.
        height, width: ints, the size of each map.
        sigma: float > 0, the standard deviation in cells.

    Returns:
        Tensor[K, height, width] with the dtype of keypoints:
        exp(-((c - x)^2 + (r - y)^2) / (2 sigma^2)) at row r, column c.
    """
    ### BEGIN SOLUTION
    cols = torch.arange(width, dtype=keypoints.dtype)  # [W]
    rows = torch.arange(height, dtype=keypoints.dtype)  # [H]
    along_x = torch.exp(-((cols[None, :] - keypoints[:, 0:1]) ** 2) / (2 * sigma**2))  # [K, W]
    along_y = torch.exp(-((rows[None, :] - keypoints[:, 1:2]) ** 2) / (2 * sigma**2))  # [K, H]
    return along_y[:, :, None] * along_x[:, None, :]  # [K, H, W]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_heatmaps", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def gaussian_by_hand(keypoints, height, width, sigma):
    """The formula, one keypoint and one cell at a time (slow, obviously right), in float64."""
    maps = torch.zeros(len(keypoints), height, width, dtype=torch.float64)
    for k, (x, y) in enumerate(keypoints.tolist()):
        for r in range(height):
            for c in range(width):
                maps[k, r, c] = math.exp(-((c - x) ** 2 + (r - y) ** 2) / (2 * sigma**2))
    return maps


one = gaussian_heatmaps(torch.tensor([[3.0, 2.0]]), 5, 7, 1.0)
_ = expect_tensor(one, "gaussian_heatmaps(one keypoint, 5, 7, 1.0)", shape=(1, 5, 7), dtype=torch.float32)
expect_equal(one[0, 2, 3], 1.0, "the value at the keypoint itself (row 2, column 3)")
expect_equal(one[0, 2, 4], math.exp(-0.5), "the value one column to the right of the keypoint (sigma 1)")
cases = [
    (torch.tensor([[3.0, 2.0], [0.0, 4.0]]), 5, 7, 1.0, "two keypoints on a 5 x 7 map"),
    (torch.tensor([[2.3, 1.6]]), 4, 6, 1.5, "a fractional keypoint (2.3, 1.6), sigma 1.5"),
    (torch.tensor([[-2.0, 8.5]]), 6, 5, 2.0, "a keypoint outside the 6 x 5 map"),
]
for points, h, w, s, name in cases:
    expect_close(gaussian_heatmaps(points, h, w, s), gaussian_by_hand(points, h, w, s).float(),
                 f"gaussian_heatmaps for {name}")
double = gaussian_heatmaps(torch.tensor([[1.25, 0.5]], dtype=torch.float64), 3, 4, 0.8)
_ = expect_tensor(double, "gaussian_heatmaps on float64 keypoints", dtype=torch.float64)
expect_close(double, gaussian_by_hand(torch.tensor([[1.25, 0.5]]), 3, 4, 0.8), "gaussian_heatmaps in float64")
_ = expect_tensor(gaussian_heatmaps(torch.zeros(0, 2), 4, 5, 1.0), "gaussian_heatmaps of no keypoints",
                  shape=(0, 4, 5))
### BEGIN HIDDEN TESTS
_FORBIDDEN_HEATMAPS = (ref_ops.gaussian_heatmaps, ref_ops.gaussian_heatmaps_loop, ref_figures.render_heatmaps)
_h_g = torch.Generator().manual_seed(91)
_h_cases = []
for _h_k, _h_h, _h_w, _h_s in ((15, 16, 16, 1.0), (7, 23, 11, 2.5), (3, 9, 30, 0.5), (1, 1, 1, 1.0)):
    _h_pts = torch.rand(_h_k, 2, generator=_h_g) * torch.tensor([_h_w + 4.0, _h_h + 4.0]) - 2.0
    _h_cases.append((_h_pts, _h_h, _h_w, _h_s))
_h_cases.append((_h_cases[1][0].double(), 23, 11, 2.5))
_h_expected = [ref_figures.render_heatmaps(torch.cat([p, torch.ones(len(p), 1, dtype=p.dtype)], 1), (h, w), s,
                                           stride=1, include_occluded=True) for p, h, w, s in _h_cases]
with forbid(*_FORBIDDEN_HEATMAPS, exercise="gaussian_heatmaps"):
    _h_got = [gaussian_heatmaps(p, h, w, s) for p, h, w, s in _h_cases]
    _h_empty = gaussian_heatmaps(torch.zeros(0, 2, dtype=torch.float64), 3, 3, 1.0)
for (_h_p, _h_h, _h_w, _h_s), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"gaussian_heatmaps for {len(_h_p)} keypoints on {_h_h} x {_h_w}", dtype=_h_p.dtype)
    expect_close(_h_r, _h_e, f"gaussian_heatmaps for {len(_h_p)} keypoints on {_h_h} x {_h_w}, sigma {_h_s}")
_ = expect_tensor(_h_empty, "gaussian_heatmaps of no float64 keypoints", shape=(0, 3, 3), dtype=torch.float64)
### END HIDDEN TESTS

# %% [markdown]
# The network of this chapter predicts maps at stride 4: 16 × 16 cells for a 64 × 64
# image, with $\sigma = 1$ cell (4 pixels). The dataset's `render_heatmaps` draws them with
# the stride taken into account (cell $(i, j)$ looks at image pixel
# $(4j + 1.5, 4i + 1.5)$, the centre of the 4 × 4 block it covers). Here are the 15
# target maps of one figure, over the image, and their maximum in the last panel.

# %%
SIGMA, STRIDE = 1.0, 4
shown_index = 3
targets_shown = ref_figures.render_heatmaps(sample_keypoints[shown_index], (64, 64), sigma=SIGMA, stride=STRIDE,
                                            include_occluded=True)
print("target heatmaps:", tuple(targets_shown.shape))
fig = show_heatmaps(targets_shown, sample_images[shown_index], names=KEYPOINT_NAMES, ncols=8, combined=True)
fig.set_size_inches(16, 4.6)
plt.show()

# %% [markdown]
# How wide should the bumps be? A small $\sigma$ locates the keypoint sharply, but then
# almost every cell of the target is 0 and the rare bright cells are easy to miss; a
# large $\sigma$ gives the network a generous target, but neighbouring keypoints (a wrist
# next to a hip) blur into each other. There is a subtler problem with the classic loss,
# the mean squared error (MSE) between predicted and target maps. Compare two wrong
# predictions for one 16 × 16 map: predicting **nothing at all** (an all-zero map), and
# predicting the right bump **two cells off**. The second is clearly the more useful
# answer. The cell computes what each costs under MSE, and under a second loss that we
# will train with: treat the map's values as scores of a softmax over the 256 cells and
# the normalized target as the label distribution (a cross-entropy, as if each keypoint
# were a 256-way classification of its position).

# %%
def loss_of(prediction_logits, target, kind):
    return heatmap_loss(prediction_logits[None, None], target[None], kind=kind).item()


centre = torch.tensor([[7.0, 8.0, 1.0]])
for sigma in (1.0, 2.0):
    target = ref_figures.render_heatmaps(centre, (16, 16), sigma=sigma)  # [1, 16, 16], peak 1
    shifted = ref_figures.render_heatmaps(centre + torch.tensor([2.0, 0.0, 0.0]), (16, 16), sigma=sigma)
    cells_lit = (target > 0.1).float().mean().item()
    print(f"sigma {sigma:.0f}: {cells_lit:.1%} of the cells above 0.1 | "
          f"MSE: nothing {loss_of(torch.zeros_like(target), target, 'mse'):.4f}, "
          f"two cells off {loss_of(shifted, target, 'mse'):.4f} | "
          f"softmax cross-entropy: uniform {loss_of(torch.zeros_like(target), target, 'softmax'):.2f}, "
          f"two cells off {loss_of(4 * shifted, target, 'softmax'):.2f}")

# %% [markdown]
# With $\sigma = 1$, MSE rates the empty map *better* than the bump two cells away: the
# misplaced bump is penalized twice (where it is, and where it is not), while the empty
# map pays only once. A network trained with MSE therefore first learns to output zeros
# everywhere, and only slowly the peaks: it is the class imbalance of segmentation
# again, with one foreground cell for every hundred of background. The softmax
# cross-entropy has no such trap: every map must put its probability somewhere, and the
# closer to the truth the lower the loss. We will measure what this does to training in
# section 7. (With $\sigma = 2$ the MSE ranking flips back, at the price of a blurrier
# target: the choice of $\sigma$ and the choice of loss are not independent.)
#
# ## 3. Decoding heatmaps: argmax, soft-argmax and sub-pixel refinement
#
# At test time we need coordinates again. The obvious decoder takes, for every map, the
# cell with the largest value, the **argmax**, and converts it to image pixels:
# $x = s \cdot j + (s - 1)/2$ for column $j$ at stride $s$. Its precision is limited by the
# grid: with $s = 4$ the answer is always the centre of a 4 × 4 block, so even a perfect
# heatmap leaves an error of up to 2 pixels per axis. For a figure 40 pixels tall, that is
# already 5 % of its size, half of the tolerance of the PCK@0.1 metric we will use.
#
# Two families of fixes exist. **Soft-argmax** replaces the hard maximum by an average:
# turn the map into a probability distribution with a softmax (an inverse temperature
# $\beta$ controls how peaked it is) and return the *expected* position,
#
# $$p_{ij} = \frac{e^{\beta h_{ij}}}{\sum_{i'j'} e^{\beta h_{i'j'}}}, \qquad
# \hat x = \sum_{ij} p_{ij}\, j, \qquad \hat y = \sum_{ij} p_{ij}\, i.$$
#
# It is differentiable, so a network can be trained through it on the coordinates
# themselves ("integral regression", Sun et al., 2018). **Sub-pixel refinement** keeps
# the argmax and corrects it using the neighbouring cells: the stacked-hourglass code
# shifts the answer a quarter of a cell towards the larger neighbour, and fitting a
# parabola through the logarithm of the peak and its two neighbours recovers the exact
# centre of a Gaussian (its logarithm *is* a parabola), the idea behind DARK (Zhang et
# al., 2020).
#
# ### Exercise 2: argmax and soft-argmax (4 points)
#
# Write both decoders for a batch of heatmaps `Tensor[B, K, H, W]`. Both return a
# `Tensor[B, K, 2]` of $(x, y)$ in heatmap cells (pixel-index convention: $x$ is the
# column, $y$ the row), with the dtype of the heatmaps.
#
# * `argmax_keypoints(heatmaps)`: the cell with the largest value. When several cells
#   share the maximum, take the first in row-major order (the smallest row, then the
#   smallest column; `torch.argmax` on a flattened map does exactly that). Turn the flat
#   index into row and column yourself, with integer division and remainder: do not use
#   `torch.unravel_index` or `numpy.unravel_index`.
# * `soft_argmax(heatmaps, beta=1.0)`: the expectation above. Compute the softmax
#   yourself (no `torch.softmax`, `F.softmax`, `log_softmax` or their methods), and make
#   it *stable*: subtract each map's maximum of $\beta h$ before the exponential, so that
#   values like 1000 do not overflow to infinity.

# %% nbgrader={"grade": false, "grade_id": "decode_heatmaps", "locked": false, "schema_version": 3, "solution": true}
def argmax_keypoints(heatmaps):
    """(x, y) of the largest cell of each map.

    Args:
        heatmaps: Tensor[B, K, H, W] float.

    Returns:
        Tensor[B, K, 2] with the dtype of heatmaps: (column, row) of the maximum; ties go
        to the first cell in row-major order.
    """
    ### BEGIN SOLUTION
    batch, num_kp, height, width = heatmaps.shape
    index = heatmaps.reshape(batch, num_kp, height * width).argmax(dim=-1)  # [B, K], first maximum
    rows = index // width
    cols = index % width
    return torch.stack([cols, rows], dim=-1).to(heatmaps.dtype)  # [B, K, 2]
    ### END SOLUTION


def soft_argmax(heatmaps, beta=1.0):
    """Expected (x, y) under a softmax of beta * heatmap over each map's cells.

    Args:
        heatmaps: Tensor[B, K, H, W] float.
        beta: float > 0, the inverse temperature.

    Returns:
        Tensor[B, K, 2] with the dtype of heatmaps.
    """
    ### BEGIN SOLUTION
    batch, num_kp, height, width = heatmaps.shape
    scores = beta * heatmaps.reshape(batch, num_kp, height * width)  # [B, K, H*W]
    weights = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)  # the largest weight is exactly 1
    weights = (weights / weights.sum(dim=-1, keepdim=True)).reshape(batch, num_kp, height, width)
    cols = torch.arange(width, dtype=heatmaps.dtype)
    rows = torch.arange(height, dtype=heatmaps.dtype)
    x = (weights * cols[None, None, None, :]).sum(dim=(-2, -1))  # [B, K]
    y = (weights * rows[None, None, :, None]).sum(dim=(-2, -1))
    return torch.stack([x, y], dim=-1)  # [B, K, 2]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_argmax_keypoints", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def argmax_by_hand(heatmaps):
    """Scan every map cell by cell, keeping the first maximum (slow, obviously right)."""
    out = torch.zeros(*heatmaps.shape[:2], 2, dtype=torch.float64)
    for b in range(heatmaps.shape[0]):
        for k in range(heatmaps.shape[1]):
            best, where = None, (0, 0)
            for r in range(heatmaps.shape[2]):
                for c in range(heatmaps.shape[3]):
                    if best is None or heatmaps[b, k, r, c] > best:
                        best, where = heatmaps[b, k, r, c], (c, r)
            out[b, k] = torch.tensor(where, dtype=torch.float64)
    return out


peak = torch.zeros(1, 1, 4, 6)
peak[0, 0, 3, 1] = 2.0
_ = expect_tensor(argmax_keypoints(peak), "argmax_keypoints of one 4 x 6 map", shape=(1, 1, 2), dtype=torch.float32)
expect_equal(argmax_keypoints(peak)[0, 0].tolist(), [1.0, 3.0], "argmax_keypoints of a peak at row 3, column 1 (x, y)")
tied = torch.zeros(1, 2, 3, 5)
tied[0, 0, 1, 4] = tied[0, 0, 2, 0] = 1.0  # two equal maxima: row 1 comes first
expect_equal(argmax_keypoints(tied)[0].tolist(), [[4.0, 1.0], [0.0, 0.0]],
             "argmax_keypoints with tied maxima (first in row-major order; an all-zero map gives (0, 0))")
g = torch.Generator().manual_seed(0)
batch_maps = torch.rand(3, 4, 5, 7, generator=g)
expect_close(argmax_keypoints(batch_maps), argmax_by_hand(batch_maps).float(),
             "argmax_keypoints on a batch of 3 x 4 random 5 x 7 maps")
_ = expect_tensor(argmax_keypoints(batch_maps.double()), "argmax_keypoints on float64 maps", dtype=torch.float64)
### BEGIN HIDDEN TESTS
_FORBIDDEN_ARGMAX = (ref_ops.argmax_keypoints, ref_ops.argmax_keypoints_loop, ref_figures.heatmaps_to_keypoints,
                     "torch.unravel_index", "numpy.unravel_index")
_h_g = torch.Generator().manual_seed(92)
_h_maps = [torch.rand(2, 15, 16, 16, generator=_h_g), torch.rand(1, 3, 9, 31, generator=_h_g).double(),
           torch.randint(0, 3, (4, 5, 6, 6), generator=_h_g).float(),  # many ties
           torch.rand(2, 2, 1, 8, generator=_h_g), torch.rand(2, 2, 8, 1, generator=_h_g)]
_h_expected = [ref_ops.argmax_keypoints(m) for m in _h_maps]
with forbid(*_FORBIDDEN_ARGMAX, exercise="argmax_keypoints"):
    _h_got = [argmax_keypoints(m) for m in _h_maps]
for _h_m, _h_r, _h_e in zip(_h_maps, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"argmax_keypoints on maps of shape {list(_h_m.shape)}", dtype=_h_m.dtype)
    expect_close(_h_r, _h_e, f"argmax_keypoints on maps of shape {list(_h_m.shape)} ({_h_m.dtype})", atol=0, rtol=0)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_soft_argmax", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def soft_argmax_by_hand(heatmaps, beta):
    """The expectation of the column and the row under the softmax, in float64 (slow, obviously right)."""
    out = torch.zeros(*heatmaps.shape[:2], 2, dtype=torch.float64)
    for b in range(heatmaps.shape[0]):
        for k in range(heatmaps.shape[1]):
            scores = [[beta * float(v) for v in row] for row in heatmaps[b, k].tolist()]
            top = max(max(row) for row in scores)
            weights = [[math.exp(v - top) for v in row] for row in scores]
            total = sum(sum(row) for row in weights)
            out[b, k, 0] = sum(w * c for row in weights for c, w in enumerate(row)) / total
            out[b, k, 1] = sum(w * r for r, row in enumerate(weights) for w in row) / total
    return out


flat = torch.zeros(1, 1, 3, 5)
expect_close(soft_argmax(flat), torch.tensor([[[2.0, 1.0]]]), "soft_argmax of a constant 3 x 5 map (its centre)")
two_peaks = torch.zeros(1, 1, 4, 4)
two_peaks[0, 0, 0, 0] = two_peaks[0, 0, 2, 2] = 1.0
expect_close(soft_argmax(two_peaks, beta=50.0), torch.tensor([[[1.0, 1.0]]]),
             "soft_argmax of two equal peaks at (0, 0) and (2, 2) with beta 50 (their midpoint)", atol=1e-4)
huge = torch.zeros(1, 1, 5, 5)
huge[0, 0, 3, 1] = 1000.0
expect_close(soft_argmax(huge), torch.tensor([[[1.0, 3.0]]]),
             "soft_argmax of a map with one value 1000 (subtract the maximum before exp: no overflow)")
g = torch.Generator().manual_seed(1)
batch_maps = torch.randn(2, 3, 4, 6, generator=g)
for beta in (1.0, 3.0):
    expect_close(soft_argmax(batch_maps, beta=beta), soft_argmax_by_hand(batch_maps, beta).float(),
                 f"soft_argmax on a batch of 2 x 3 random 4 x 6 maps with beta {beta}")
_ = expect_tensor(soft_argmax(batch_maps.double()), "soft_argmax on float64 maps", shape=(2, 3, 2), dtype=torch.float64)
### BEGIN HIDDEN TESTS
_FORBIDDEN_SOFT = (ref_ops.soft_argmax, ref_ops.soft_argmax_loop, "torch.softmax", "torch.nn.functional.softmax",
                   "torch.Tensor.softmax", "torch.special.softmax", "torch.nn.functional.log_softmax",
                   "aten::_softmax", "aten::_log_softmax")
_h_g = torch.Generator().manual_seed(93)
_h_cases = [(torch.randn(2, 15, 16, 16, generator=_h_g) * 4, 1.0), (torch.randn(1, 2, 7, 13, generator=_h_g).double(), 0.3),
            (torch.randn(3, 1, 5, 5, generator=_h_g) * 300, 2.0), (torch.rand(1, 4, 1, 9, generator=_h_g), 10.0)]
_h_expected = [soft_argmax_by_hand(m, b) for m, b in _h_cases]
with forbid(*_FORBIDDEN_SOFT, exercise="soft_argmax"):
    _h_got = [soft_argmax(m, beta=b) for m, b in _h_cases]
for (_h_m, _h_b), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"soft_argmax on maps of shape {list(_h_m.shape)}", dtype=_h_m.dtype)
    expect_close(_h_r, _h_e.to(_h_m.dtype), f"soft_argmax on maps of shape {list(_h_m.shape)}, beta {_h_b}", atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# How much does each decoder lose? Take a single keypoint, slide it across two cells of a
# stride-4 heatmap (from $x = 20$ to $x = 28$ pixels, a quarter pixel at a time), render its
# exact target map, decode it in four ways, and plot the error. The decoders are the
# course's versions of what you just wrote (`course_utils.ops.keypoints`), plus the two
# refinements; `cells_to_pixels` does the conversion $x = 4j + 1.5$.

# %%
def decode_all(maps, stride=STRIDE):
    """Four decodings of heatmaps [B, K, h, w] (positive values), in image pixels: name -> [B, K, 2]."""
    coarse = ref_ops.argmax_keypoints(maps)
    logs = maps.clamp_min(1e-30).log()
    return {
        "argmax": ref_ops.cells_to_pixels(coarse, stride),
        "quarter offset": ref_ops.cells_to_pixels(ref_ops.quarter_offset(maps, coarse), stride),
        "parabola on log": ref_ops.cells_to_pixels(ref_ops.parabola_offset(logs, coarse), stride),
        "soft-argmax of log": ref_ops.cells_to_pixels(ref_ops.soft_argmax(logs), stride),
    }


xs = torch.arange(20.0, 28.01, 0.25)
sliding = torch.stack([xs, torch.full_like(xs, 30.0), torch.ones_like(xs)], dim=1)[:, None]  # [N, 1, 3]
sliding_maps = ref_figures.render_heatmaps(sliding, (64, 64), sigma=SIGMA, stride=STRIDE)  # [N, 1, 16, 16]
fig, ax = plt.subplots(figsize=(8, 3.6))
for name, decoded in decode_all(sliding_maps).items():
    ax.plot(xs, decoded[:, 0, 0] - xs, marker=".", label=name)
for edge in (20 - 0.5 + 4, 20 - 0.5 + 8):
    ax.axvline(edge, color="0.8", lw=0.8)
ax.set_xlabel("true x of the keypoint (pixels)")
ax.set_ylabel("decoded x - true x (pixels)")
ax.set_title("decoding a perfect stride-4 heatmap; grey lines: cell boundaries", fontsize=9)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The argmax error is a sawtooth between −2 and +2 pixels; the quarter offset halves it
# (a sawtooth of half the amplitude, twice as often), and on a perfect Gaussian both the
# parabola and soft-argmax of the log-map are exact. Real heatmaps are not perfect
# Gaussians. The cell below decodes 2,000 random keypoints twice: from the exact maps,
# and from the same maps with a noisy background (a floor of 0.05 and Gaussian noise of
# standard deviation 0.05, roughly what an imperfect network produces far from the
# keypoint), and reports the mean error of each decoder. Soft-argmax of the log-map is
# the expectation under the map itself, normalized to sum to 1; we also try soft-argmax
# on the raw heatmap values, with two inverse temperatures.

# %%
g = torch.Generator().manual_seed(0)
random_points = torch.cat([torch.rand(2000, 1, 2, generator=g) * 56 + 4, torch.ones(2000, 1, 1)], dim=2)
clean_maps = ref_figures.render_heatmaps(random_points, (64, 64), sigma=SIGMA, stride=STRIDE)
noisy_maps = (clean_maps + 0.05 + 0.05 * torch.randn(clean_maps.shape, generator=g)).clamp_min(1e-3)
print(f"{'decoder':<24}{'exact maps':>12}{'noisy maps':>12}   (mean error in pixels)")
for (name, clean), noisy in zip(decode_all(clean_maps).items(), decode_all(noisy_maps).values()):
    errors = [(d - random_points[..., :2]).norm(dim=-1).mean().item() for d in (clean, noisy)]
    print(f"{name:<24}{errors[0]:>12.3f}{errors[1]:>12.3f}")
for beta in (1.0, 10.0):
    decoded = [ref_ops.cells_to_pixels(ref_ops.soft_argmax(m, beta), STRIDE) for m in (clean_maps, noisy_maps)]
    errors = [(d - random_points[..., :2]).norm(dim=-1).mean().item() for d in decoded]
    print(f"{f'soft-argmax, beta {beta:.0f}':<24}{errors[0]:>12.3f}{errors[1]:>12.3f}")

# %% [markdown]
# Three lessons. The argmax costs about 1.5 pixels on average at stride 4 even when the
# network is perfect, which is why every serious pose estimator refines. The parabola
# through the log-map is nearly exact on clean maps and still the best on noisy ones.
# And soft-argmax depends entirely on what it averages. The normalized map is accurate
# when the map is clean (a keypoint near the border loses part of its bump, which pulls
# the average inwards a little), but a background floor of 0.05 spread over 256 cells
# outweighs the bump itself and drags the answer towards the centre of the map. Raw values
# with $\beta = 1$ are worse still: values between 0 and 1 give weights between 1 and
# $e$, almost uniform. A large $\beta$ concentrates the weights on the peak. Networks
# trained *through* soft-argmax learn to produce maps for which it works, which is why
# integral regression trains the map and the decoder together.
#
# Our network will be trained with the softmax cross-entropy of section 2. Its outputs are
# then *logits*, and the logarithm of its softmax is the logits minus a constant: the
# parabola refinement can be applied to the logits directly. That is how the chapter
# decodes from now on.

# %%
def decode_logits(logits, stride=STRIDE):
    """Keypoints (x, y) in image pixels from heatmap logits [B, K, h, w]: argmax + parabola on the logits."""
    coarse = ref_ops.argmax_keypoints(logits)
    return ref_ops.cells_to_pixels(ref_ops.parabola_offset(logits, coarse), stride)  # [B, K, 2]


# %% [markdown]
# ## 4. Measuring a pose: PCK and OKS
#
# For boxes, one number (IoU) says how well a prediction overlaps the truth. For a pose
# we have $K$ distances, one per keypoint, and they need a scale: an error of 5 pixels is
# excellent on a person 400 pixels tall and useless on one 20 pixels tall. Two metrics
# are in common use.
#
# **PCK@α**, the *percentage of correct keypoints*, counts a keypoint as correct when its
# distance to the truth is at most $\alpha$ times a reference size of the person. Data
# sets differ in the reference: LSP used the torso diameter, MPII's PCKh uses the length
# of the head segment (PCKh@0.5 is MPII's headline number), and many benchmarks use the
# longer side of the person's bounding box, which is what we do (the box around all the
# target keypoints). Only *visible* keypoints are scored: nobody can be asked to point at
# a wrist hidden behind a wall. PCK is simple and easy to read per keypoint ("the wrists
# are right 70 % of the time"), but it is a hard threshold: a keypoint 0.99 α away counts
# fully and one 1.01 α away not at all.
#
# ### Exercise 3: PCK with visibility (3 points)
#
# Write `pck(predicted, target, alpha)` for a batch of $N$ instances:
#
# * `predicted` is a `Tensor[N, K, 2]` of $(x, y)$, `target` a `Tensor[N, K, 3]` of
#   $(x, y, v)$;
# * the reference size of instance $n$ is $\max(x_{\max} - x_{\min},\; y_{\max} - y_{\min})$
#   over **all** $K$ of its target keypoints (visible or not: the person's extent does not
#   change because a wrist is hidden);
# * keypoint $k$ of instance $n$ is correct if its Euclidean distance to the target is
#   **at most** $\alpha$ times that size;
# * only keypoints with $v > 0$ are scored; the result is the number of correct visible
#   keypoints divided by the number of visible keypoints, pooled over all instances (not
#   the mean of per-instance rates). There is at least one visible keypoint.
#
# Return a number (a Python float, a numpy scalar or a 0-d tensor are all fine).

# %% nbgrader={"grade": false, "grade_id": "pck", "locked": false, "schema_version": 3, "solution": true}
def pck(predicted, target, alpha):
    """PCK@alpha over all visible keypoints of all instances.

    Args:
        predicted: Tensor[N, K, 2] float, (x, y).
        target: Tensor[N, K, 3] float, (x, y, v); v > 0 means visible.
        alpha: float > 0, the threshold as a fraction of each instance's reference size.

    Returns:
        A number: correct visible keypoints / visible keypoints.
    """
    ### BEGIN SOLUTION
    extent = target[..., :2].amax(dim=1) - target[..., :2].amin(dim=1)  # [N, 2]
    size = extent.amax(dim=1)  # [N] the longer side of the keypoint box
    distance = (predicted - target[..., :2]).norm(dim=-1)  # [N, K]
    visible = target[..., 2] > 0
    correct = (distance <= alpha * size[:, None]) & visible
    return correct.sum().item() / visible.sum().item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pck", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def pck_by_hand(predicted, target, alpha):
    """One instance and one keypoint at a time (slow, obviously right)."""
    correct = visible = 0
    for pred, truth in zip(predicted.tolist(), target.tolist()):
        size = max(max(t[0] for t in truth) - min(t[0] for t in truth), max(t[1] for t in truth) - min(t[1] for t in truth))
        for (px, py), (tx, ty, v) in zip(pred, truth):
            if v > 0:
                visible += 1
                correct += math.hypot(px - tx, py - ty) <= alpha * size
    return correct / visible


target = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 32.0, 1.0], [16.0, 16.0, 0.0]]])  # reference size 32
at_threshold = torch.tensor([[[0.0, 8.0], [0.0, 32.0], [60.0, 60.0]]])
expect_equal(pck(at_threshold, target, 0.25), 1.0,
             "pck when one keypoint is exactly alpha * size = 8 px away (counts) and the invisible one is far off")
beyond = torch.tensor([[[0.0, 8.5], [0.0, 32.0], [16.0, 16.0]]])
expect_equal(pck(beyond, target, 0.25), 0.5, "pck with one of two visible keypoints 8.5 px away (threshold 8 px)")
wide = target.clone()
wide[0, 2, :2] = torch.tensor([64.0, 16.0])  # the hidden keypoint widens the box to 64 px: threshold 16 px
expect_equal(pck(beyond, wide, 0.25), 1.0, "pck when a hidden keypoint sets the reference size (64 px)")
pooled_target = torch.cat([target, torch.tensor([[[0.0, 0.0, 1.0], [0.0, 32.0, 1.0], [16.0, 16.0, 1.0]]])])
pooled_pred = torch.cat([beyond, torch.tensor([[[0.0, 0.0], [0.0, 32.0], [16.0, 16.0]]])])
expect_equal(pck(pooled_pred, pooled_target, 0.25), 4 / 5,
             "pck pooled over two instances (1 of 2 and 3 of 3 visible keypoints correct: 4 of 5, not the mean 0.75)")
g = torch.Generator().manual_seed(2)
rand_target = torch.cat([torch.rand(6, 15, 2, generator=g) * 50, (torch.rand(6, 15, 1, generator=g) > 0.3).float()], 2)
rand_pred = rand_target[..., :2] + torch.randn(6, 15, 2, generator=g) * 3
for alpha in (0.05, 0.1, 0.2):
    expect_equal(pck(rand_pred, rand_target, alpha), pck_by_hand(rand_pred, rand_target, alpha),
                 f"pck on 6 random instances of 15 keypoints, alpha {alpha}")
### BEGIN HIDDEN TESTS
_FORBIDDEN_PCK = (ref_metrics.pck, ref_metrics.pck_loop, ref_metrics.pck_per_keypoint)
_h_g = torch.Generator().manual_seed(94)
_h_cases = []
for _h_n, _h_k, _h_alpha, _h_dtype in ((50, 15, 0.1, torch.float32), (13, 17, 0.05, torch.float64),
                                       (1, 4, 0.5, torch.float32), (200, 15, 0.2, torch.float32)):
    _h_t = torch.cat([torch.rand(_h_n, _h_k, 2, generator=_h_g) * 80,
                      torch.randint(0, 3, (_h_n, _h_k, 1), generator=_h_g).float()], 2).to(_h_dtype)
    _h_t[:, 0, 2] = 2.0
    _h_p = _h_t[..., :2] + torch.randn(_h_n, _h_k, 2, generator=_h_g, dtype=_h_dtype) * 5
    _h_cases.append((_h_p, _h_t, _h_alpha))
_h_expected = [pck_by_hand(p, t, a) for p, t, a in _h_cases]
with forbid(*_FORBIDDEN_PCK, exercise="pck"):
    _h_got = [pck(p, t, a) for p, t, a in _h_cases]
for (_h_p, _h_t, _h_a), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_equal(_h_r, _h_e, f"pck on {len(_h_p)} instances of {_h_t.shape[1]} keypoints ({_h_t.dtype}), alpha {_h_a}")
### END HIDDEN TESTS

# %% [markdown]
# **OKS**, the *object keypoint similarity* of COCO, replaces PCK's hard threshold by a
# soft score per keypoint and plays for keypoints the role IoU plays for boxes. For a
# predicted instance and a target with keypoints $i = 1..K$,
#
# $$\mathrm{OKS} = \frac{\sum_i \exp\!\left(-d_i^2 / (2 s^2 k_i^2)\right)\, [v_i > 0]}{\sum_i [v_i > 0]},$$
#
# where $d_i$ is the distance between predicted and true keypoint $i$, $s^2$ is the
# object's *area* (the pixel area of its segmentation mask, so $s$ is a length), and
# $k_i = 2\sigma_i$ a per-keypoint constant. Each term is an unnormalized Gaussian in the
# error: 1 for a perfect keypoint, $e^{-1/2} \approx 0.61$ at one standard deviation
# $s k_i$. COCO's $v$ has three values: 0 for an *unlabelled* keypoint (outside the image,
# or impossible to guess), 1 for *labelled but not visible*, 2 for visible; unlike PCK,
# OKS scores occluded keypoints that were labelled.
#
# Where do the $\sigma_i$ come from? COCO had 5,000 images annotated twice and measured,
# for each keypoint type, the standard deviation of the two annotators' clicks relative to
# the object's scale. Eyes are easy to place consistently ($\sigma = 0.025$), hips are not
# (a hip joint is hidden under clothing and flesh: 0.107). OKS thus forgives an error in
# proportion to how much human annotators disagree there. The table converts the
# constants into pixels: the distance at which a keypoint's term drops to 0.5, for a person
# whose mask covers 96 × 96 pixels (COCO's boundary between "medium" and "large" objects).
# Like IoU, OKS is turned into average precision by counting a detection as correct above
# a threshold, averaged over thresholds 0.50, 0.55, ..., 0.95.

# %%
area_large = 96.0**2
print(f"{'COCO keypoint':<16}{'sigma':>7}{'OKS term = 0.5 at':>20}")
for name, sigma in zip(ref_metrics.COCO_KEYPOINT_NAMES, ref_metrics.COCO_SIGMAS):
    half = math.sqrt(2 * math.log(2) * area_large) * 2 * sigma  # solve exp(-d^2 / (2 s^2 k^2)) = 0.5
    print(f"{name:<16}{sigma:>7.3f}{half:>16.1f} px")
print("our figures (head, neck, pelvis have no COCO constant; see course_utils.metrics.keypoints.FIGURE_SIGMAS):")
print("  " + ", ".join(f"{n}: {s:.3f}" for n, s in zip(KEYPOINT_NAMES, ref_metrics.FIGURE_SIGMAS)))

# %% [markdown]
# ### Exercise 4: OKS for one instance (3 points)
#
# Write `oks(predicted, target, area, sigmas)` with the formula above:
#
# * `predicted` is a `Tensor[K, 2]`, `target` a `Tensor[K, 3]` with COCO's $v$ (0, 1 or
#   2); only keypoints with $v > 0$ count, whether visible or not, and at least one does;
# * `area` is the object's area $s^2$ (a positive number, **not** its square root);
# * `sigmas` holds the $K$ constants $\sigma_i$ (a list or a tensor); remember
#   $k_i = 2 \sigma_i$.
#
# Return a number.

# %% nbgrader={"grade": false, "grade_id": "oks", "locked": false, "schema_version": 3, "solution": true}
def oks(predicted, target, area, sigmas):
    """COCO's object keypoint similarity between one prediction and one target.

    Args:
        predicted: Tensor[K, 2] float, (x, y).
        target: Tensor[K, 3] float, (x, y, v) with v in {0, 1, 2}; v > 0 is labelled.
        area: float > 0, the object's area s^2.
        sigmas: K floats (list or Tensor[K]), the per-keypoint constants sigma_i.

    Returns:
        A number in (0, 1].
    """
    ### BEGIN SOLUTION
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    squared = ((predicted - target[:, :2]) ** 2).sum(dim=1).double()  # [K] d_i^2
    k = 2 * sigmas
    similarity = torch.exp(-squared / (2 * area * k**2))  # [K]
    labelled = target[:, 2] > 0
    return similarity[labelled].mean().item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_oks", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def oks_by_hand(predicted, target, area, sigmas):
    """The formula, one keypoint at a time (slow, obviously right)."""
    terms = [math.exp(-((px - tx) ** 2 + (py - ty) ** 2) / (2 * area * (2 * s) ** 2))
             for (px, py), (tx, ty, v), s in zip(predicted.tolist(), target.tolist(), list(map(float, sigmas))) if v > 0]
    return sum(terms) / len(terms)


target = torch.tensor([[10.0, 10.0, 2.0], [30.0, 12.0, 2.0], [50.0, 40.0, 2.0]])
expect_equal(oks(target[:, :2].clone(), target, 400.0, [0.05, 0.1, 0.1]), 1.0, "oks of a perfect prediction")
off = torch.tensor([[10.0, 14.0], [30.0, 12.0], [50.0, 40.0]])  # 4 px off on the first keypoint
expected_first = math.exp(-16 / (2 * 400.0 * (2 * 0.05) ** 2))
expect_equal(oks(off, target, 400.0, [0.05, 0.1, 0.1]), (expected_first + 2) / 3,
             "oks with one keypoint 4 px off (area 400, sigma 0.05: k = 2 sigma, s^2 = area)")
labels = target.clone()
labels[:, 2] = torch.tensor([1.0, 0.0, 2.0])  # labelled-but-hidden counts, unlabelled does not
far = torch.tensor([[10.0, 14.0], [99.0, 99.0], [50.0, 40.0]])
expect_equal(oks(far, labels, 400.0, [0.05, 0.1, 0.1]), (expected_first + 1) / 2,
             "oks with v = [1, 0, 2] (v = 1 is scored, the unlabelled keypoint is ignored however far off)")
expect_equal(oks(off, target, 400.0, torch.tensor([0.05, 0.1, 0.1])), (expected_first + 2) / 3,
             "oks with sigmas given as a tensor")
g = torch.Generator().manual_seed(3)
rand_target = torch.cat([torch.rand(15, 2, generator=g) * 60, torch.randint(0, 3, (15, 1), generator=g).float()], 1)
rand_target[0, 2] = 2.0
rand_pred = rand_target[:, :2] + torch.randn(15, 2, generator=g) * 4
expect_equal(oks(rand_pred, rand_target, 900.0, ref_metrics.FIGURE_SIGMAS),
             oks_by_hand(rand_pred, rand_target, 900.0, ref_metrics.FIGURE_SIGMAS),
             "oks on 15 random keypoints with the figures' constants, area 900")
### BEGIN HIDDEN TESTS
_FORBIDDEN_OKS = (ref_metrics.oks, ref_metrics.oks_loop, ref_metrics.oks_matrix)
_h_g = torch.Generator().manual_seed(95)
_h_cases = []
for _h_k, _h_area, _h_dtype in ((17, 5000.0, torch.float32), (17, 120.5, torch.float64), (5, 30.0, torch.float32),
                                (15, 2500.0, torch.float32), (1, 10.0, torch.float64)):
    _h_t = torch.cat([torch.rand(_h_k, 2, generator=_h_g) * 150,
                      torch.randint(0, 3, (_h_k, 1), generator=_h_g).float()], 1).to(_h_dtype)
    _h_t[-1, 2] = 1.0
    _h_p = _h_t[:, :2] + torch.randn(_h_k, 2, generator=_h_g, dtype=_h_dtype) * 6
    _h_s = (ref_metrics.COCO_SIGMAS if _h_k == 17 else torch.rand(_h_k, generator=_h_g) * 0.1 + 0.02)
    _h_cases.append((_h_p, _h_t, _h_area, _h_s))
_h_expected = [oks_by_hand(*c) for c in _h_cases]
with forbid(*_FORBIDDEN_OKS, exercise="oks"):
    _h_got = [oks(*c) for c in _h_cases]
for (_h_p, _h_t, _h_area, _h_s), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_equal(_h_r, _h_e, f"oks for {len(_h_p)} keypoints ({_h_t.dtype}), area {_h_area}")
### END HIDDEN TESTS

# %% [markdown]
# The course's `course_utils.metrics.keypoints.oks_matrix` computes OKS between every
# prediction and every target of an image and reproduces pycocotools' `computeOks` to
# ten decimals (its tests check it), including a rule you may meet: a target with *no*
# labelled keypoint is compared through the distance to an enlarged version of its box.

# %% [markdown]
# ## 5. Horizontal flips, and the swap that must not be forgotten
#
# A mirror image of a person is another valid picture of a person, so flipping training
# images left-right doubles the data for free. The image part is one line
# (`image.flip(-1)`); the keypoints need two steps, and the second is the one everybody
# forgets once:
#
# 1. **mirror the coordinates**: with pixel centres at $0, 1, \dots, W - 1$, the pixel in
#    column $c$ goes to column $W - 1 - c$, so $x \mapsto W - 1 - x$ (not $W - x$, which
#    is the rule for pixel *edges*, as for the boxes of chapter 05);
# 2. **swap left and right**: the person's left wrist, mirrored, looks exactly like a right
#    wrist. After the flip, the keypoint that the data calls "left wrist" must be the
#    mirrored *right* wrist, and vice versa, for every (left, right) pair.
#
# Without the swap, the flipped image labels the wrist on the image's left as the left
# wrist half of the time and as the right wrist the other half, and the network can only
# learn to put both "left" and "right" in both places.
#
# ### Exercise 5: flipping an image and its keypoints (3 points)
#
# Write `hflip(image, keypoints, flip_pairs)`:
#
# * `image` is a `Tensor[C, H, W]`, `keypoints` a `Tensor[K, 3]` of $(x, y, v)$ in the
#   pixel-index convention, `flip_pairs` a list of (left index, right index) pairs such as
#   `FLIP_PAIRS`;
# * return `(flipped_image, flipped_keypoints)`: the image mirrored left-right, and
#   keypoints with $x \mapsto W - 1 - x$, $y$ unchanged, and the rows of every pair
#   exchanged, each keypoint's visibility travelling with it;
# * do not modify the inputs (return new tensors), and do not call the dataset's
#   `hflip_keypoints`, the course's `course_utils.ops.keypoints` flips or torchvision's
#   `horizontal_flip_keypoints`.

# %% nbgrader={"grade": false, "grade_id": "hflip", "locked": false, "schema_version": 3, "solution": true}
def hflip(image, keypoints, flip_pairs):
    """Mirror an image left-right and move its keypoints along, swapping left and right.

    Args:
        image: Tensor[C, H, W].
        keypoints: Tensor[K, 3] float, (x, y, v) in pixel-index coordinates.
        flip_pairs: list of (left, right) index pairs.

    Returns:
        (flipped_image Tensor[C, H, W], flipped_keypoints Tensor[K, 3]).
    """
    ### BEGIN SOLUTION
    width = image.shape[-1]
    mirrored = keypoints.clone()
    mirrored[:, 0] = width - 1 - keypoints[:, 0]
    order = list(range(len(keypoints)))
    for left, right in flip_pairs:
        order[left], order[right] = right, left
    return image.flip(-1), mirrored[order]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_hflip", "locked": true, "points": 3, "schema_version": 3, "solution": false}
tiny = torch.arange(12.0).reshape(2, 2, 3)  # 2 channels, 2 rows, 3 columns
tiny_kp = torch.tensor([[0.0, 1.0, 1.0], [2.0, 0.0, 0.0], [1.5, 0.5, 1.0]])
tiny_before, tiny_kp_before = tiny.clone(), tiny_kp.clone()
flipped_image, flipped_kp = hflip(tiny, tiny_kp, [(0, 1)])
expect_close(flipped_image, tiny.flip(-1), "hflip's image (each row reversed)")
expect_close(flipped_kp, torch.tensor([[0.0, 0.0, 0.0], [2.0, 1.0, 1.0], [0.5, 0.5, 1.0]]),
             "hflip's keypoints for pairs [(0, 1)] on a 3-pixel-wide image (x -> 2 - x, rows 0 and 1 swapped with "
             "their visibility, keypoint 2 only mirrored)")
expect_close(tiny, tiny_before, "the input image after hflip (it must not change)")
expect_close(tiny_kp, tiny_kp_before, "the input keypoints after hflip (they must not change)")
wide_image = torch.rand(3, 10, 40)  # W = 40, not H = 10
_, wide_kp = hflip(wide_image, torch.tensor([[5.0, 2.0, 1.0]]), [])
expect_close(wide_kp, torch.tensor([[34.0, 2.0, 1.0]]), "hflip on a 10 x 40 image (x -> W - 1 - x with W = 40)")
figure_image, figure_target = ArticulatedFigures(6, image_size=64, seed=0)[5]
expect_close(hflip(figure_image, figure_target["keypoints"], FLIP_PAIRS)[1],
             ref_figures.hflip_keypoints(figure_target["keypoints"], 64),
             "hflip of a 64 x 64 figure with FLIP_PAIRS (compared with the dataset's own flip)")
### BEGIN HIDDEN TESTS
_FORBIDDEN_FLIP = (ref_ops.hflip_image_and_keypoints, ref_ops.hflip_keypoints, ref_figures.hflip_keypoints,
                   "torchvision.transforms.v2.functional.horizontal_flip_keypoints")
_h_g = torch.Generator().manual_seed(96)
_h_cases = []
for _h_c, _h_h, _h_w, _h_k, _h_pairs, _h_dtype in ((3, 64, 64, 15, FLIP_PAIRS, torch.float32),
                                                   (1, 7, 19, 5, [(4, 0), (1, 3)], torch.float64),
                                                   (3, 32, 48, 17, [(1, 2), (3, 4), (5, 6), (15, 16)], torch.float32),
                                                   (2, 5, 5, 2, [], torch.float32)):
    _h_img = torch.rand(_h_c, _h_h, _h_w, generator=_h_g, dtype=_h_dtype)
    _h_kp = torch.cat([torch.rand(_h_k, 2, generator=_h_g, dtype=_h_dtype) * (_h_w - 1),
                       torch.randint(0, 3, (_h_k, 1), generator=_h_g).to(_h_dtype)], 1)
    _h_cases.append((_h_img, _h_kp, _h_pairs))
_h_expected = [ref_ops.hflip_image_and_keypoints(*c) for c in _h_cases]
with forbid(*_FORBIDDEN_FLIP, exercise="hflip"):
    _h_got = [hflip(*c) for c in _h_cases]
for (_h_img, _h_kp, _h_pairs), (_h_ri, _h_rk), (_h_ei, _h_ek) in zip(_h_cases, _h_got, _h_expected):
    expect_close(_h_ri, _h_ei, f"hflip's image of shape {list(_h_img.shape)}")
    _ = expect_tensor(_h_rk, f"hflip's keypoints ({_h_kp.dtype})", dtype=_h_kp.dtype)
    expect_close(_h_rk, _h_ek, f"hflip's {len(_h_kp)} keypoints with pairs {list(_h_pairs)} on a width-{_h_img.shape[-1]} image")
### END HIDDEN TESTS

# %% [markdown]
# torchvision's transforms (version 2) can flip keypoints along with an image, and they
# use the same $W - 1 - x$ rule. They cannot swap, though: a `KeyPoints` tensor does not
# know which of its points is a left wrist. The cell flips one figure three ways: the
# dataset's flip (with the swap, like yours), torchvision's, and draws where each says the
# *left wrist* is.

# %%
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as TF

demo_image, demo_target = figures[1]
demo_kp = demo_target["keypoints"]
LEFT_WRIST = KEYPOINT_NAMES.index("left_wrist")
swapped = ref_figures.hflip_keypoints(demo_kp, 64)
by_torchvision = TF.horizontal_flip(tv_tensors.KeyPoints(demo_kp[:, :2], canvas_size=(64, 64)))
print(f"left wrist in the image:                     ({demo_kp[LEFT_WRIST, 0]:.1f}, {demo_kp[LEFT_WRIST, 1]:.1f})")
print(f"after the flip, with the swap:               ({swapped[LEFT_WRIST, 0]:.1f}, {swapped[LEFT_WRIST, 1]:.1f})")
print(f"after torchvision's flip (no swap possible): ({by_torchvision[LEFT_WRIST, 0]:.1f}, "
      f"{by_torchvision[LEFT_WRIST, 1]:.1f})")
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
panels = [(demo_image, demo_kp, "original"), (demo_image.flip(-1), swapped, "flipped, left/right swapped"),
          (demo_image.flip(-1), torch.cat([by_torchvision.as_subclass(torch.Tensor), demo_kp[:, 2:]], 1),
           "flipped, not swapped (wrong)")]
for ax, (img, kp, title) in zip(axes, panels):
    show_pose(ax, img, kp, title=title)
    ax.annotate("left wrist", kp[LEFT_WRIST, :2].tolist(), xytext=(2, 60), color="yellow", fontsize=8,
                arrowprops=dict(arrowstyle="->", color="yellow"))
fig.tight_layout()
plt.show()

# %% [markdown]
# In the original the figure's left wrist is on the image's right, on the lighter arm.
# The mirrored figure still faces us, so its left side must again be on the image's
# right: with the swap, the label "left wrist" is there, on what used to be the right arm;
# without it, the label sits on the image's left, on the figure's right side. Notice the
# colours, too: after mirroring, the *lighter* arm is the right one. The tints are a
# shortcut of our synthetic data, and flipping reverses it, so a network trained with
# flips cannot rely on colour to tell left from right and must read the pose itself (for
# real people, who wear no such tint, flipping with the swap is a faithful augmentation).
# Section 9 meets the forgotten swap again at test time, where it does more damage.

# %% [markdown]
# ## 6. The stacked hourglass
#
# A heatmap network must do two things at once. To *find* a wrist it needs context: is
# this blob at the end of an arm, which arm, is it the left one? That takes a receptive
# field covering most of the body, so many layers of downsampling. To *place* the wrist
# it needs resolution: the output maps should be as fine as possible. Segmentation met the
# same tension (chapter 04), and the lecture draws the parallel: the hourglass plays the
# role of FCN and U-Net for pose, and the pyramid residual modules (Yang et al., 2017)
# that of DeepLab's multi-scale features.
#
# The **hourglass** of Newell, Yang and Deng (2016) is a symmetric encoder-decoder defined
# recursively. An hourglass of depth $d$ applied to a feature map $x$ computes two
# branches:
#
# * the **skip** branch keeps the resolution: one residual block on $x$;
# * the **lower** branch halves the resolution with a 2 × 2 max pool, applies a residual
#   block (*down*), then an hourglass of depth $d - 1$ (or, at the bottom, one more
#   residual block), then a residual block (*up*), and doubles the resolution again by
#   nearest-neighbour upsampling;
#
# and returns their **sum**. Unrolled, it looks like an hourglass lying on its side:
# resolution falls to $1/2^d$ and comes back, and at every level a skip connection
# carries the fine detail across, added (not concatenated as in U-Net). All blocks keep
# the same number of channels, 256 in the paper. Each block is the paper's residual
# "bottleneck": batch norm, ReLU and a 1 × 1 convolution to half the channels, then a
# 3 × 3 convolution, then a 1 × 1 convolution back, plus the input.
#
# The full network **stacks** several hourglasses. A *stem* first brings the image down
# by 4 (a 7 × 7 stride-2 convolution, residual blocks and a max pool: 256 × 256 images
# become 64 × 64 feature maps). After each hourglass, a 1 × 1 convolution produces $K$
# heatmaps, and these intermediate heatmaps are *supervised* with the same loss as the
# final ones. They are then mapped back to features with another 1 × 1 convolution and
# added to the input of the next hourglass, so each stack sees the previous estimate and
# can correct it: a left wrist that the first stack confused with a right wrist can be
# fixed once the second stack knows where both elbows are. Intermediate supervision also
# gives every stack a short path to the loss, which helps gradients reach the early
# layers of a deep network (the same motivation as GoogLeNet's auxiliary classifiers in
# chapter 03).
#
# Because of the additions, the two branches must have exactly the same size at every
# level: a map of odd side cannot be pooled and upsampled back to itself.
#
# ### Exercise 6: the sizes inside an hourglass (2 points)
#
# Write `hourglass_sizes(image_size, depth)` for the paper's network on a square image:
# the side of the feature map after the stem, then after each of the `depth` poolings of
# the hourglass, as a list of `depth + 1` ints.
#
# * The stem's size changes come from a 7 × 7 convolution with stride 2 and padding 3,
#   then a 2 × 2 max pool with stride 2 (PyTorch's default: the last row or column is
#   dropped when the side is odd). The residual blocks keep the size.
# * Each level of the hourglass pools by 2 and later upsamples by 2, so every side that is
#   about to be pooled must be even: raise a `ValueError` otherwise. The last side (the
#   bottom of the hourglass, which is not pooled) may be odd.
#
# For example, `hourglass_sizes(256, 4)` is `[64, 32, 16, 8, 4]`.

# %% nbgrader={"grade": false, "grade_id": "hourglass_sizes", "locked": false, "schema_version": 3, "solution": true}
def hourglass_sizes(image_size, depth):
    """Feature-map sides: after the stem, then after each pooling of a depth-`depth` hourglass.

    Args:
        image_size: int, side of the square input image.
        depth: int >= 1, number of poolings in the hourglass.

    Returns:
        list of depth + 1 ints.

    Raises:
        ValueError: if a side that must be pooled is odd.
    """
    ### BEGIN SOLUTION
    side = (image_size + 2 * 3 - 7) // 2 + 1  # 7x7 convolution, stride 2, padding 3
    side = side // 2  # the stem's 2x2 max pool
    sizes = [side]
    for level in range(depth):
        if side % 2 != 0:
            raise ValueError(f"a {side}-pixel map cannot be pooled and upsampled back to its size")
        side = side // 2
        sizes.append(side)
    return sizes
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_hourglass_sizes", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def sizes_from_pytorch(image_size, depth):
    """Run PyTorch's own layers on a meta tensor (shapes only) and read the sides; None if a side is odd."""
    x = torch.empty(1, 1, image_size, image_size, device="meta")
    x = nn.MaxPool2d(2)(nn.Conv2d(1, 1, 7, stride=2, padding=3, device="meta")(x))
    sides = [x.shape[-1]]
    for _ in range(depth):
        if x.shape[-1] % 2:
            return None
        x = nn.MaxPool2d(2)(x)
        sides.append(x.shape[-1])
    return sides


expect_equal(hourglass_sizes(256, 4), [64, 32, 16, 8, 4], "hourglass_sizes(256, 4) (the paper's network)",
             integer=True)
for size, depth in ((64, 2), (255, 3), (200, 1), (130, 1), (96, 3)):
    expect_equal(hourglass_sizes(size, depth), sizes_from_pytorch(size, depth), f"hourglass_sizes({size}, {depth})",
                 integer=True)
_ = expect_raises(lambda: hourglass_sizes(100, 1), ValueError,
                  "hourglass_sizes(100, 1) (100 -> 50 -> 25: a 25-pixel map cannot be pooled and upsampled back)")
_ = expect_raises(lambda: hourglass_sizes(224, 4), ValueError,
                  "hourglass_sizes(224, 4) (56 -> 28 -> 14 -> 7, and a fourth pooling of 7 is impossible)")
_ = expect_raises(lambda: hourglass_sizes(70, 1), ValueError, "hourglass_sizes(70, 1) (the stem already gives 17)")
### BEGIN HIDDEN TESTS
_h_cases = [(s, d) for s in (32, 48, 63, 64, 65, 127, 128, 192, 250, 256, 384, 512) for d in (1, 2, 3, 4, 5)]
_h_expected = [sizes_from_pytorch(s, d) for s, d in _h_cases]
with forbid(ref_hourglass.hourglass_sizes, exercise="hourglass_sizes"):
    for (_h_s, _h_d), _h_e in zip(_h_cases, _h_expected):
        if _h_e is None:
            _ = expect_raises(lambda: hourglass_sizes(_h_s, _h_d), ValueError, f"hourglass_sizes({_h_s}, {_h_d})")
        else:
            expect_equal(hourglass_sizes(_h_s, _h_d), _h_e, f"hourglass_sizes({_h_s}, {_h_d})", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# Our images are 64 × 64. The chapter's network uses a lighter stem (two 3 × 3 stride-2
# convolutions and one residual block) that also divides by 4, so its hourglasses work on
# 16 × 16 maps, and with depth 3 they go down to 2 × 2: the bottom of the hourglass sees
# the whole figure at once.
#
# ### Exercise 7: the hourglass module (5 points)
#
# Write the class `Hourglass(depth, channels)`, an `nn.Module` with exactly four
# submodules, created in `__init__` with these names (the tests copy weights between your
# module and the course's by name):
#
# * `self.skip = Residual(channels, channels)`,
# * `self.down = Residual(channels, channels)`,
# * `self.inner`: an `Hourglass(depth - 1, channels)` (your own class, recursively) when
#   `depth > 1`, and a `Residual(channels, channels)` when `depth == 1`,
# * `self.up = Residual(channels, channels)`,
#
# where `Residual` is the course's bottleneck block, imported at the top of the notebook
# (`course_utils.models.hourglass.Residual`). `forward(x)` for a `Tensor[B, C, H, W]` returns
#
# `skip(x) + upsample(up(inner(down(maxpool(x)))))`
#
# with a 2 × 2 max pool of stride 2 (`F.max_pool2d(x, 2)`) and a nearest-neighbour
# upsampling by 2 (`F.interpolate(y, scale_factor=2, mode="nearest")`, or equivalent). The
# output has the shape of the input; $H$ and $W$ are multiples of $2^{depth}$. Do not add
# other parameters, and do not use the course's `course_utils.models.hourglass.Hourglass`.
# The chapter trains two stacks of *your* hourglass in section 7.

# %% nbgrader={"grade": false, "grade_id": "hourglass", "locked": false, "schema_version": 3, "solution": true}
import torch.nn.functional as F


class Hourglass(nn.Module):
    """One hourglass: a full-resolution skip branch plus a pooled branch around a smaller hourglass."""

    def __init__(self, depth, channels):
        super().__init__()
        ### BEGIN SOLUTION
        self.skip = Residual(channels, channels)
        self.down = Residual(channels, channels)
        self.inner = Hourglass(depth - 1, channels) if depth > 1 else Residual(channels, channels)
        self.up = Residual(channels, channels)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        lower = self.up(self.inner(self.down(F.max_pool2d(x, 2))))
        return self.skip(x) + F.interpolate(lower, scale_factor=2, mode="nearest")
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_hourglass_structure", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


mine = Hourglass(2, 8)
assert isinstance(mine, nn.Module), "Hourglass(2, 8) should be an nn.Module"
reference = ref_hourglass.Hourglass(2, 8)
expect_equal(sorted(mine.state_dict()), sorted(reference.state_dict()),
             "the names of Hourglass(2, 8)'s parameters and buffers (submodules skip, down, inner, up)")
expect_equal(parameter_count(mine), parameter_count(reference), "the number of parameters of Hourglass(2, 8)")
assert type(mine.inner) is Hourglass, (
    f"Hourglass(2, 8).inner should be an Hourglass of depth 1 (your own class), got {type(mine.inner).__name__}")
assert type(mine.inner.inner) is Residual, (
    f"at depth 1, inner should be a Residual, got {type(mine.inner.inner).__name__}")
expect_equal(parameter_count(Hourglass(1, 4)), parameter_count(ref_hourglass.Hourglass(1, 4)),
             "the number of parameters of Hourglass(1, 4)")
### BEGIN HIDDEN TESTS
for _h_depth, _h_channels in ((3, 8), (4, 12), (1, 16)):
    _h_mine, _h_ref = Hourglass(_h_depth, _h_channels), ref_hourglass.Hourglass(_h_depth, _h_channels)
    expect_equal(sorted(_h_mine.state_dict()), sorted(_h_ref.state_dict()),
                 f"the parameter names of Hourglass({_h_depth}, {_h_channels})")
    expect_equal(parameter_count(_h_mine), parameter_count(_h_ref), f"the parameters of Hourglass({_h_depth}, {_h_channels})")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_hourglass_forward", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def randomized(module, seed):
    """Random weights and batch-norm statistics, so that every branch matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.rand(tensor.shape, generator=g, dtype=tensor.dtype)
                tensor.copy_(noise + 0.5 if name.endswith(("running_var", "weight")) and tensor.ndim == 1 else noise - 0.5)
    return module


def reference_with_weights_of(module, depth, channels):
    """The course's Hourglass holding the same weights as `module`."""
    reference = ref_hourglass.Hourglass(depth, channels).to(next(module.parameters()).dtype)
    mine, theirs = module.state_dict(), reference.state_dict()
    missing, unexpected = sorted(set(theirs) - set(mine)), sorted(set(mine) - set(theirs))
    assert not missing and not unexpected, (
        f"Hourglass({depth}, {channels}) must have exactly the submodules skip, down, inner and up of the course's "
        f"hourglass; missing parameters {missing[:4]}, unexpected parameters {unexpected[:4]}")
    wrong = [k for k in theirs if mine[k].shape != theirs[k].shape]
    assert not wrong, f"Hourglass({depth}, {channels}): parameters with the wrong shape: {wrong[:4]}"
    reference.load_state_dict(mine)
    return reference


for depth, channels, size in ((2, 8, (8, 12)), (1, 4, (6, 6)), (3, 8, (16, 16))):
    mine = randomized(Hourglass(depth, channels), seed=depth)
    reference = reference_with_weights_of(mine, depth, channels)
    x = torch.randn(2, channels, *size, generator=torch.Generator().manual_seed(depth))
    for mode in ("eval", "train"):
        mine.train(mode == "train")
        reference.train(mode == "train")
        expect_close(mine(x), reference(x),
                     f"Hourglass({depth}, {channels}) on a {size[0]} x {size[1]} map in {mode} mode (same weights "
                     "as the course's hourglass)", atol=1e-4)
x = torch.randn(1, 8, 8, 8, requires_grad=True)
mine = randomized(Hourglass(2, 8), seed=5).eval()
reference = reference_with_weights_of(mine, 2, 8).eval()
x_ref = x.detach().clone().requires_grad_(True)
mine(x).square().sum().backward()
reference(x_ref).square().sum().backward()
expect_close(x.grad, x_ref.grad, "the gradient of Hourglass(2, 8)'s output with respect to its input", atol=1e-3)
### BEGIN HIDDEN TESTS
for _h_depth, _h_channels, _h_size, _h_dtype in ((4, 12, (16, 32), torch.float64), (2, 4, (4, 8), torch.float32),
                                                  (3, 16, (24, 8), torch.float64)):
    _h_mine = randomized(Hourglass(_h_depth, _h_channels), seed=10 + _h_depth).to(_h_dtype).eval()
    _h_ref = reference_with_weights_of(_h_mine, _h_depth, _h_channels).eval()
    _h_x = torch.randn(3, _h_channels, *_h_size, dtype=_h_dtype, generator=torch.Generator().manual_seed(7))
    _h_expected = _h_ref(_h_x)
    with forbid(ref_hourglass.Hourglass.forward, exercise="Hourglass"):
        _h_got = _h_mine(_h_x)
    expect_close(_h_got, _h_expected, f"Hourglass({_h_depth}, {_h_channels}) on {list(_h_x.shape)} ({_h_dtype})",
                 atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# How big is such a network? The cell counts the parameters and multiply-adds of the
# chapter's model (two stacks of depth 3, 32 channels, on 64 × 64 images), and of the
# paper's configuration (eight stacks of depth 4, 256 channels, 16 MPII keypoints, the
# 7 × 7 stem) built on PyTorch's `meta` device, which stores shapes only. The network is
# fully convolutional, so its multiply-adds grow exactly with the number of pixels: we
# count them on a 64 × 64 input and scale to the paper's 256 × 256 and to COCO's usual
# 256 × 192.

# %%
ours = StackedHourglass(num_keypoints=15, channels=32, num_stacks=2, depth=3)
ours_summary = summarize(ours, (1, 3, 64, 64))
with torch.device("meta"):
    published = StackedHourglass(num_keypoints=16, channels=256, num_stacks=8, depth=4, stem="newell")
published_params = sum(p.numel() for p in published.parameters())
published_macs_64 = summarize(published, (1, 3, 64, 64)).total_macs
print(f"this chapter's network: {sum(p.numel() for p in ours.parameters()):,} parameters, "
      f"{ours_summary.total_macs / 1e6:.1f} M multiply-adds per 64 x 64 image")
print(f"8-stack hourglass (Newell et al.): {published_params / 1e6:.1f} M parameters, "
      f"{published_macs_64 * 16 / 1e9:.1f} G multiply-adds at 256 x 256, "
      f"{published_macs_64 * 12 / 1e9:.1f} G at 256 x 192")

# %% [markdown]
# The paper's network has about 25 million parameters, in line with the 25.1 M that the
# HRNet paper lists for it. For its cost at 256 × 192, the HRNet paper lists 14.3
# GFLOPs; counting every convolution of the published configuration gives the larger
# number above, and we could not trace the difference (a reminder to recompute costs
# rather than copy them between papers).
#
# **Feature pyramids and HRNet.** The hourglass gets resolution back by upsampling. Two
# later designs keep more of it. Feature pyramids (FPN, and the pyramid residual modules
# the lecture mentions) compute features at several scales side by side, so that small
# and large people are both seen at a suitable scale. **HRNet** (Sun et al., 2019) never
# drops the high resolution at all: it runs a 1/4-resolution branch from beginning to end,
# adds a 1/8, a 1/16 and a 1/32 branch as it goes deeper, and exchanges information
# between all branches at every stage. Keeping a full-resolution branch sounds expensive,
# but HRNet doubles the channels each time it halves the resolution, and a 3 × 3
# convolution costs $9 C^2 H W$ multiply-adds: doubling $C$ multiplies it by 4, halving
# $H$ and $W$ divides it by 4. The cell computes the cost of one residual block (two 3 × 3
# convolutions) on each branch of HRNet-W32 for a 256 × 192 input, and the total over the
# blocks of its stages 2–4 (1, 4 and 3 modules of four blocks per branch, with 2, 3 and 4
# branches).

# %%
def conv3x3_macs(channels, height, width):
    return 9 * channels * channels * height * width


HRNET_WIDTH, FEATURE_HW = 32, (64, 48)  # the 1/4-resolution branch of a 256 x 192 input
for branch in range(4):
    channels = HRNET_WIDTH * 2**branch
    height, width = FEATURE_HW[0] // 2**branch, FEATURE_HW[1] // 2**branch
    print(f"branch {branch}: {channels:3d} channels at {height:2d} x {width:2d}: "
          f"{2 * conv3x3_macs(channels, height, width) / 1e6:.1f} M multiply-adds per residual block")
stages = {"stage 2": (1, 2), "stage 3": (4, 3), "stage 4": (3, 4)}  # (modules, branches), 4 blocks per branch
blocks = sum(modules * branches * 4 for modules, branches in stages.values())
block_cost = 2 * conv3x3_macs(HRNET_WIDTH, *FEATURE_HW)
print(f"{blocks} residual blocks in stages 2-4: {blocks * block_cost / 1e9:.2f} G multiply-adds "
      "(the paper reports 7.1 GFLOPs for the whole of HRNet-W32 at 256 x 192)")

# %% [markdown]
# Every branch costs the same per block, about 57 M multiply-adds, and the 104 blocks of
# the three parallel stages account for most of the published total; the stem, the first
# stage and the fusion layers make up the rest. HRNet-W32 reaches a higher COCO AP than
# the 8-stack hourglass at a fraction of the cost computed above, which is why it (and its
# descendants) replaced the hourglass in practice. The hourglass remains the clearest
# design to learn from, and at our scale it trains in seconds.

# %% [markdown]
# ## 7. Training a stacked hourglass on a CPU
#
# The data: 2,000 training figures and 300 held-out validation figures, generated from
# different seeds (every figure is a pure function of its seed and index, so the two sets
# never share an image). Each training batch is flipped at random, half of the images,
# with the left/right swap of section 5, and the target heatmaps (16 × 16, $\sigma = 1$
# cell) are rendered from the flipped keypoints. Occluded keypoints keep their targets: we
# know where they are, and asking the network to guess them teaches it to use the rest of
# the body. The budgets go through `budget(full=..., quick=...)`: in quick mode (grading)
# everything trains for a few steps on a few dozen images and is, of course, useless.

# %%
IMAGE_SIZE = 64
NUM_TRAIN = budget(full=2000, quick=64)
NUM_VAL = budget(full=300, quick=48)
EPOCHS = budget(full=3, quick=1)
BATCH_SIZE = 32
LEARNING_RATE = 1e-2

start = time.perf_counter()
train_items = [(image, target["keypoints"]) for image, target in ArticulatedFigures(NUM_TRAIN, IMAGE_SIZE, seed=1)]
val_items = [(image, target["keypoints"]) for image, target in ArticulatedFigures(NUM_VAL, IMAGE_SIZE, seed=2)]
val_images = torch.stack([image for image, _ in val_items])
val_keypoints = torch.stack([kp for _, kp in val_items])
print(f"{len(train_items)} training and {len(val_items)} validation figures generated in "
      f"{time.perf_counter() - start:.1f} s")
flip_generator = torch.Generator().manual_seed(0)


def heatmap_batch(items, flip=True):
    """Collate (image, keypoints) pairs; flip half of them (with the swap); render the target heatmaps."""
    images = torch.stack([image for image, _ in items])  # [B, 3, 64, 64]
    keypoints = torch.stack([kp for _, kp in items])  # [B, 15, 3]
    if flip:
        mirrored = torch.rand(len(items), generator=flip_generator) < 0.5
        images = torch.where(mirrored[:, None, None, None], images.flip(-1), images)
        keypoints = torch.where(mirrored[:, None, None], ref_figures.hflip_keypoints(keypoints, IMAGE_SIZE), keypoints)
    heatmaps = ref_figures.render_heatmaps(keypoints, (IMAGE_SIZE, IMAGE_SIZE), sigma=SIGMA, stride=STRIDE,
                                           include_occluded=True)  # [B, 15, 16, 16]
    return images, {"heatmaps": heatmaps, "keypoints": keypoints}


def val_batches(items):
    return heatmap_batch(items, flip=False)

# %% [markdown]
# First, the loss. Section 2 predicted that the mean squared error would learn slowly.
# The cell trains the same network from the same initialization twice for one epoch on
# half of the training figures, once with each loss, and measures PCK@0.1 on the
# validation figures. (The MSE network's outputs are heatmaps, not logits, so they are
# decoded through their logarithm.)

# %%
def decode_output(outputs, loss_kind):
    """Keypoints in pixels from the last stack's maps, for a network trained with `loss_kind`."""
    maps = outputs[:, -1].float()
    if loss_kind == "mse":
        maps = maps.clamp_min(1e-4).log()  # a heatmap's log, for the parabola refinement
    return decode_logits(maps)


def train_heatmap_network(items, epochs, loss_kind="softmax", hourglass=ref_hourglass.Hourglass, progress=True):
    """A fresh 2-stack hourglass trained with AdamW and a one-cycle schedule; returns (model, history)."""
    seed_everything(0)
    model = StackedHourglass(num_keypoints=15, channels=32, num_stacks=2, depth=3, hourglass=hourglass)
    model = model.to(device, memory_format=torch.channels_last)  # faster convolutions on CPUs (same results)
    loader = DataLoader(items, batch_size=BATCH_SIZE, shuffle=True, collate_fn=heatmap_batch,
                        generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=epochs * len(loader),
                                                    pct_start=0.2)
    history = fit(model, lambda out, target: heatmap_loss(out, target["heatmaps"], kind=loss_kind), loader,
                  DataLoader(val_items, batch_size=100, collate_fn=val_batches), epochs=epochs, optimizer=optimizer,
                  scheduler=scheduler, scheduler_step="batch", device=device, progress=progress,
                  metrics={"pck": lambda out, target: ref_metrics.pck(decode_output(out, loss_kind),
                                                                      target["keypoints"], 0.1)})
    return model, history


start = time.perf_counter()
half = train_items[: len(train_items) // 2]
loss_comparison = {kind: train_heatmap_network(half, epochs=1, loss_kind=kind, progress=False)[1]["val_pck"][-1]
                   for kind in ("mse", "softmax")}
print(f"one epoch on {len(half)} figures ({len(half) // BATCH_SIZE + (len(half) % BATCH_SIZE > 0)} steps), "
      f"{time.perf_counter() - start:.0f} s for both:")
for kind, value in loss_comparison.items():
    print(f"  {kind:>7} loss: validation PCK@0.1 = {value:.3f}")

# %% [markdown]
# Same network, same data, same number of steps: the softmax cross-entropy is far ahead.
# In longer runs made while writing this chapter the gap narrowed only slowly, which is
# why the classic MSE recipe needs hours of GPU time (the paper trained its hourglass for
# about three days). The softmax loss keeps the Gaussian targets of the classic recipe
# and only changes how the prediction is compared with them.
#
# Now the real training: two stacks of **your** hourglass (or the course's, while
# Exercise 7 is still a stub), intermediate supervision on both stacks, three epochs. The
# progress bar shows the loss; PCK@0.1 on the validation figures is measured after each
# epoch. In full mode this runs in about half a minute on a CPU.

# %%
def choose_hourglass():
    """Your Hourglass if it builds a working stacked network, else the course's reference."""
    try:
        StackedHourglass(num_keypoints=15, channels=8, num_stacks=1, depth=3, hourglass=Hourglass)(
            torch.zeros(1, 3, 64, 64))
        print("The network is built from your Hourglass.")
        return Hourglass
    except Exception as error:  # a stub raises NotImplementedError; a broken module may raise anything
        print(f"Hourglass does not work yet ({type(error).__name__}), so the network uses the course's reference "
              "(course_utils.models.hourglass.Hourglass).")
        return ref_hourglass.Hourglass


hourglass_for_training = choose_hourglass()
start = time.perf_counter()
heatmap_model, heatmap_history = train_heatmap_network(train_items, EPOCHS, hourglass=hourglass_for_training)
print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.1f} s")
heatmap_model.eval()
with torch.no_grad():
    val_logits = heatmap_model(val_images.to(device))[:, -1].float().cpu()  # [N, 15, 16, 16]
heatmap_predictions = decode_logits(val_logits)
heatmap_pck = ref_metrics.pck(heatmap_predictions, val_keypoints, 0.1)
report("pose_heatmap_pck@0.1", heatmap_pck, target=0.85)
fig = plot_history(heatmap_history, metrics=["loss", "pck"])
plt.show()

# %% [markdown]
# The figure shows validation figures with the predicted skeleton drawn over them (all 15
# predicted keypoints, occluded ones included), the six with the best PCK on top and the
# six with the worst below; the titles give each figure's PCK@0.1 over its visible
# keypoints.

# %%
per_image = torch.tensor([ref_metrics.pck(heatmap_predictions[i:i + 1], val_keypoints[i:i + 1], 0.1)
                          for i in range(len(val_items))])
order = torch.argsort(per_image, descending=True, stable=True).tolist()
fig, axes = plt.subplots(2, 6, figsize=(15, 5.4))
for ax, i in zip(axes.flat, order[:6] + order[-6:]):
    predicted = torch.cat([heatmap_predictions[i], torch.ones(15, 1)], dim=1)  # draw every predicted keypoint
    ax.imshow(val_images[i].permute(1, 2, 0).numpy())
    draw_keypoints(ax, predicted, SKELETON, markersize=10, linewidth=1.5)
    ax.set_title(f"PCK {per_image[i]:.2f}", fontsize=9)
    ax.set_axis_off()
fig.suptitle("predicted skeletons: best six (top) and worst six (bottom) validation figures", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. Direct regression on the same backbone
#
# Is the heatmap worth it? The fair comparison keeps everything else equal:
# `course_utils.models.hourglass.KeypointRegressor` has the same stem and the same two
# hourglasses (the course's), and replaces the heatmap heads by a strided convolution, a
# 4 × 4 average pool and a linear layer with 30 outputs, the coordinates divided by the
# image size. It is trained on the same figures for the same three epochs, with the same
# flips, optimizer and schedule, and an L1 loss on the coordinates (including the occluded
# ones, as for the heatmaps).

# %%
def regression_batch(items, flip=True):
    images, targets = heatmap_batch(items, flip)
    return images, {"uv": ref_hourglass.regression_targets(targets["keypoints"], (IMAGE_SIZE, IMAGE_SIZE)),
                    "keypoints": targets["keypoints"]}


def regression_pck(outputs, targets):
    return ref_metrics.pck(ref_hourglass.regression_to_keypoints(outputs.float(), (IMAGE_SIZE, IMAGE_SIZE)),
                           targets["keypoints"], 0.1)


seed_everything(0)
regressor = KeypointRegressor(num_keypoints=15, channels=32, num_stacks=2, depth=3)
regressor = regressor.to(device, memory_format=torch.channels_last)
regression_loader = DataLoader(train_items, batch_size=BATCH_SIZE, shuffle=True, collate_fn=regression_batch,
                               generator=torch.Generator().manual_seed(0))
optimizer = torch.optim.AdamW(regressor.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, pct_start=0.2,
                                                total_steps=EPOCHS * len(regression_loader))
start = time.perf_counter()
regression_history = fit(regressor, lambda out, target: nn.functional.l1_loss(out, target["uv"]), regression_loader,
                         epochs=EPOCHS, optimizer=optimizer, scheduler=scheduler, scheduler_step="batch",
                         device=device, metrics={"pck": regression_pck})
print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.1f} s")
regressor.eval()
with torch.no_grad():
    regression_predictions = ref_hourglass.regression_to_keypoints(regressor(val_images.to(device)).float().cpu(),
                                                                   (IMAGE_SIZE, IMAGE_SIZE))
regression_pck_value = ref_metrics.pck(regression_predictions, val_keypoints, 0.1)
report("pose_regression_pck@0.1", regression_pck_value)
print(f"heatmaps: PCK@0.1 = {heatmap_pck:.3f}, regression: PCK@0.1 = {regression_pck_value:.3f}")

# %% [markdown]
# PCK per keypoint, for both networks, on the same validation figures (and PCK@0.2, a
# looser threshold, as light bars behind):

# %%
fig, ax = plt.subplots(figsize=(12, 4))
positions = np.arange(len(KEYPOINT_NAMES))
for shift, (name, predictions, color) in zip((-0.2, 0.2), (("heatmaps", heatmap_predictions, "tab:blue"),
                                                           ("regression", regression_predictions, "tab:orange"))):
    loose = ref_metrics.pck_per_keypoint(predictions, val_keypoints, 0.2)
    strict = ref_metrics.pck_per_keypoint(predictions, val_keypoints, 0.1)
    ax.bar(positions + shift, loose.numpy(), width=0.4, color=color, alpha=0.3)
    ax.bar(positions + shift, strict.numpy(), width=0.4, color=color,
           label=f"{name}: PCK@0.1 {ref_metrics.pck(predictions, val_keypoints, 0.1):.2f} "
                 f"(light: @0.2, {ref_metrics.pck(predictions, val_keypoints, 0.2):.2f})")
ax.set_xticks(positions)
ax.set_xticklabels(KEYPOINT_NAMES, rotation=45, ha="right", fontsize=8)
ax.set_ylabel("PCK per keypoint")
ax.set_ylim(0, 1.05)
ax.legend(fontsize=8, loc="lower left")
ax.set_title("heatmap network versus direct regression, same backbone, held-out figures", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The regressor does well on the keypoints near the middle of the body (head, neck,
# shoulders, hips, pelvis), whose positions follow from where the figure is, and badly on
# the limbs, worst at the wrists and ankles, which move the most relative to the body.
# That is where the heatmap network's advantage is largest: its outputs are positions
# in the image, so the convolutions never have to *compute* a coordinate from a feature
# vector. The heatmap network is weakest at the wrists too, and the light bars say why:
# most of its wrist errors lie between 0.1 and 0.2 of the figure's size, near misses
# rather than confusions with another body part (the forearm is the thinnest limb, and on
# a 16 × 16 map it spans only two or three cells).

# %% [markdown]
# ## 9. Flip test-time averaging, and the bug of the forgotten swap
#
# Flipping helps at test time too. Run the network on the image and on its mirror image,
# bring the second set of heatmaps back (mirror each map, *and swap the left and right
# channels*), and average the two: two slightly different looks at the same figure, whose
# errors partly cancel. Almost every pose benchmark result since the hourglass uses it.
# The course's `course_utils.ops.keypoints.flip_test` does exactly this, with an option to
# leave out the swap so that we can see the bug. (With this course's convention that cell
# $j$ of a stride-$s$ map looks at pixel $sj + (s - 1)/2$, mirroring a map lines it up
# exactly with the mirrored image; code with another convention must shift the mirrored
# map by one cell, another classic source of bugs.)

# %%
def predict_logits(images):
    """Last-stack logits [B, 15, 16, 16] of the trained heatmap network, on the CPU."""
    with torch.no_grad():
        return heatmap_model(images.to(device))[:, -1].float().cpu()


flip_results = {
    "one pass": decode_logits(predict_logits(val_images)),
    "flip test, pairs swapped": decode_logits(ref_ops.flip_test(predict_logits, val_images, FLIP_PAIRS)),
    "flip test, swap forgotten": decode_logits(ref_ops.flip_test(predict_logits, val_images, FLIP_PAIRS, swap=False)),
}
sided = [k for pair in FLIP_PAIRS for k in pair]
central = [k for k in range(len(KEYPOINT_NAMES)) if k not in sided]
print(f"{'':<28}{'PCK@0.1':>9}{'left/right keypoints':>23}{'head, neck, pelvis':>21}")
for name, predictions in flip_results.items():
    print(f"{name:<28}{ref_metrics.pck(predictions, val_keypoints, 0.1):>9.3f}"
          f"{ref_metrics.pck(predictions[:, sided], val_keypoints[:, sided], 0.1):>23.3f}"
          f"{ref_metrics.pck(predictions[:, central], val_keypoints[:, central], 0.1):>21.3f}")
report("pose_heatmap_pck@0.1_flip_test", ref_metrics.pck(flip_results["flip test, pairs swapped"], val_keypoints, 0.1))

# %% [markdown]
# The flip test gains a little for free (it costs a second forward pass). Forgetting the
# swap is a disaster for the twelve sided keypoints and harmless for the three on the
# body's axis, which is exactly the signature to look for when a pose estimator's
# accuracy mysteriously collapses at test time. Here is what happens inside, for the left
# wrist of one validation figure: the probability map from the image, the one from the
# mirrored image brought back with and without the swap, and the average without the
# swap, which has two peaks and puts the argmax on the wrong one or in between.

# %%
case = int(torch.argmax((flip_results["flip test, swap forgotten"][:, LEFT_WRIST]
                         - val_keypoints[:, LEFT_WRIST, :2]).norm(dim=-1)))
direct = predict_logits(val_images[case:case + 1])
mirrored = predict_logits(val_images[case:case + 1].flip(-1))
maps = {
    "from the image": direct,
    "mirror image, brought back with the swap": ref_ops.flip_heatmaps(mirrored, FLIP_PAIRS),
    "mirror image, brought back without the swap": mirrored.flip(-1),
    "average without the swap": (direct + mirrored.flip(-1)) / 2,
}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
for ax, (title, logits) in zip(axes, maps.items()):
    probability = logits[0, LEFT_WRIST].flatten().softmax(0).view(16, 16)
    ax.imshow(val_images[case].permute(1, 2, 0).numpy())
    ax.imshow(probability.numpy(), cmap="magma", alpha=0.6, extent=(-0.5, 63.5, 63.5, -0.5))
    ax.scatter(*val_keypoints[case, LEFT_WRIST, :2].tolist(), marker="+", color="cyan", s=80)
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
fig.suptitle("the left wrist's probability map (cyan +: the true left wrist)", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 10. Occlusion: visible versus labelled
#
# About one keypoint in twelve of our figures is hidden by an occluder, and the network
# was trained to predict those too. How well does it guess them? PCK scores only visible
# keypoints, so we measure the hidden ones separately, with the same threshold.

# %%
errors = (heatmap_predictions - val_keypoints[..., :2]).norm(dim=-1)  # [N, 15]
tolerance = 0.1 * ref_metrics.reference_size(val_keypoints)[:, None]  # [N, 1]
hidden_mask = val_keypoints[..., 2] == 0
for name, mask in (("visible", ~hidden_mask), ("hidden but labelled", hidden_mask)):
    if mask.any():
        print(f"{name:<20}: {int(mask.sum()):5d} keypoints, within 0.1 x size: "
              f"{(errors <= tolerance)[mask].float().mean():.3f}, median error {errors[mask].median():.2f} px")

# %% [markdown]
# Hidden keypoints are found far less often, yet far more often than chance: the network
# extrapolates from the visible part of the body, the same way you guess where a hand
# behind a back is. The figure shows the validation figures with the largest errors on a
# hidden keypoint: the red crosses are the true hidden keypoints, the cyan circles the
# predictions for them, joined by a line; the rest of the skeleton is the prediction.

# %%
worst_hidden = torch.where(hidden_mask, errors, torch.zeros_like(errors)).amax(dim=1)
failures = torch.argsort(worst_hidden, descending=True)[:6].tolist()
fig, axes = plt.subplots(1, 6, figsize=(15, 3))
for ax, i in zip(axes, failures):
    predicted = torch.cat([heatmap_predictions[i], torch.ones(15, 1)], dim=1)
    ax.imshow(val_images[i].permute(1, 2, 0).numpy())
    draw_keypoints(ax, predicted, SKELETON, markersize=8, linewidth=1.2)
    for k in torch.nonzero(hidden_mask[i]).flatten().tolist():
        truth, guess = val_keypoints[i, k, :2], heatmap_predictions[i, k]
        ax.plot([truth[0], guess[0]], [truth[1], guess[1]], color="cyan", lw=1)
        ax.scatter(*truth.tolist(), marker="x", color="red", s=40, zorder=5)
        ax.scatter(*guess.tolist(), facecolors="none", edgecolors="cyan", s=40, zorder=5)
    ax.set_title(f"worst hidden error {worst_hidden[i]:.1f} px", fontsize=8)
    ax.set_axis_off()
fig.tight_layout()
plt.show()

# %% [markdown]
# Typical failures: a hidden wrist or ankle at the end of a limb whose middle is hidden
# too, so nothing constrains its direction, or a hidden keypoint that the network places
# on a visible limb of the wrong side. Real data make this worse and more interesting:
# people are occluded by other people (crowds, sports), by objects they hold, and by
# themselves, and annotators disagree most exactly where a keypoint is hidden (COCO's
# $\sigma$ for hips). That is why COCO labels hidden keypoints when it can guess them
# ($v = 1$) and OKS scores them, while PCK-based benchmarks usually skip them.
#
# ## 11. Several people: top-down and bottom-up
#
# Everything so far assumed one person per image. A real photograph has any number, and
# two families of methods handle that.
#
# **Top-down** methods first *detect* every person with a box (the detectors of chapter
# 05), cut each box out (a crop, or RoI align on the feature map as in Mask R-CNN, whose
# keypoint head predicts one heatmap per joint per box), and run a single-person pose
# estimator on each crop. They are accurate, because each crop is normalized in size and
# centred, but their cost grows with the number of people, and they inherit the
# detector's mistakes: a missed person has no pose, and two people in one box confuse
# the pose network. **AlphaPose** (Fang et al., 2017; the lecture presents it as a
# complete system) is a refined top-down pipeline: a spatial transformer re-centres each
# imperfect box before the pose network, and a *pose* non-maximum suppression removes
# duplicate skeletons by comparing keypoints rather than boxes.
#
# **Bottom-up** methods find all keypoints of all people in one pass over the image, then
# *group* them into people. OpenPose (Cao et al., 2017), whose results the lecture shows,
# predicts besides the heatmaps a **part affinity field** for each limb: on the pixels of
# the limb, a 2D unit vector pointing along it (from, say, the neck to the pelvis). To
# decide which neck goes with which pelvis, it integrates the field along the segment
# between each candidate pair: a real limb follows the field, a pairing of two different
# people crosses it. The cost is nearly independent of the number of people.
#
# `course_utils.data.pose_scenes.PoseScenes` pastes two or three figures into a
# 128 × 128 scene (later figures hide parts of earlier ones). We try the top-down recipe
# with our single-person network, using the true boxes as a perfect detector: each box is
# enlarged to a square of 1.25 times its longer side, cut out and resampled to 64 × 64
# with RoI align (`person_crops`), and the keypoints found in each crop are mapped back to
# the scene (`crop_to_scene`). The score is OKS, with the figures' constants and each
# figure's visible pixel area; for comparison, the same score on the single-figure
# validation set (whose masks we now render).

# %%
def coco_target(keypoints):
    """Figures' keypoints as a COCO target: every keypoint is labelled (v = 2 visible, 1 hidden)."""
    return torch.cat([keypoints[:, :2], torch.where(keypoints[:, 2:] > 0, 2.0, 1.0)], dim=1)


val_areas = torch.stack([t["mask"].sum() for _, t in ArticulatedFigures(NUM_VAL, IMAGE_SIZE, seed=2, with_mask=True)])
single_oks = torch.tensor([ref_metrics.oks(heatmap_predictions[i], coco_target(val_keypoints[i]), float(val_areas[i]),
                                           ref_metrics.FIGURE_SIGMAS) for i in range(len(val_items))])
scenes = PoseScenes(budget(full=40, quick=4), seed=3)
scene_results, scene_oks = [], []
for image, target in scenes:
    crops, squares = person_crops(image, target["boxes"], out_size=IMAGE_SIZE)
    in_scene = crop_to_scene(decode_logits(predict_logits(crops)), squares, IMAGE_SIZE)  # [P, 15, 2]
    scene_results.append((image, target, in_scene, crops))
    for p in range(len(in_scene)):
        scene_oks.append(ref_metrics.oks(in_scene[p], coco_target(target["keypoints"][p]), float(target["areas"][p]),
                                         ref_metrics.FIGURE_SIGMAS))
scene_oks = torch.tensor(scene_oks)
for name, values in (("single figures", single_oks), ("people in scenes", scene_oks)):
    print(f"{name:<17}: {len(values):4d} instances, mean OKS {values.mean():.3f}, "
          f"OKS >= 0.5: {(values >= 0.5).float().mean():.2f}, OKS >= 0.75: {(values >= 0.75).float().mean():.2f}")

fig, axes = plt.subplots(2, 4, figsize=(14, 7))
for col in range(min(4, len(scene_results))):
    image, target, in_scene, crops = scene_results[col]
    axes[0, col].imshow(image.permute(1, 2, 0).numpy())
    for p, person in enumerate(in_scene):
        draw_keypoints(axes[0, col], torch.cat([person, torch.ones(15, 1)], 1), SKELETON, color=f"C{p}",
                       markersize=6, linewidth=1.2)
    axes[0, col].set_title(f"{len(in_scene)} people (colours: one per predicted skeleton)", fontsize=8)
    axes[1, col].imshow(torch.cat(list(crops.clamp(0, 1)), dim=2).permute(1, 2, 0).numpy())
    axes[1, col].set_title("the crops the network sees", fontsize=8)
for ax in axes.flat:
    ax.set_axis_off()
fig.tight_layout()
plt.show()

# %% [markdown]
# The network never saw two figures in one image during training, and it shows: most
# people are found well, but a crop that contains a neighbour's limbs invites the network
# to borrow a wrist or an ankle from the wrong figure, and a figure that is half hidden
# behind another loses those keypoints. Top-down systems handle this with training data
# that contain crowds, and AlphaPose with its pose NMS.
#
# For the bottom-up side, the cell renders the part affinity field of the neck → pelvis
# limb for the first scene (`part_affinity_fields`, from the true keypoints, which is
# what a network would be trained to predict) and scores every candidate pairing of a
# neck with a pelvis with `limb_score`, the average of the field projected on the
# segment between them.

# %%
image, target, _, _ = scene_results[0]
LIMB = SKELETON.index((KEYPOINT_NAMES.index("neck"), KEYPOINT_NAMES.index("pelvis")))
fields = part_affinity_fields(target["keypoints"], (128, 128))  # [14, 2, 128, 128]
necks = target["keypoints"][:, KEYPOINT_NAMES.index("neck"), :2]
pelvises = target["keypoints"][:, KEYPOINT_NAMES.index("pelvis"), :2]
scores = torch.tensor([[limb_score(fields[LIMB], n, p) for p in pelvises] for n in necks])
print("limb scores, rows: necks, columns: pelvises (people in drawing order)")
print(np.array2string(scores.numpy(), precision=2, suppress_small=True))
assignment, free = {}, set(range(len(pelvises)))
for flat_index in torch.argsort(scores.flatten(), descending=True).tolist():  # greedy: best pairs first
    n, p = divmod(flat_index, len(pelvises))
    if n not in assignment and p in free and scores[n, p] > 0.5:
        assignment[n] = p
        free.discard(p)
print("greedy grouping (neck -> pelvis):", dict(sorted(assignment.items())))

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
axes[0].imshow(image.permute(1, 2, 0).numpy())
step = 3
yy, xx = np.mgrid[0:128:step, 0:128:step]
field = fields[LIMB, :, ::step, ::step].numpy()
on = np.hypot(field[0], field[1]) > 0
axes[0].quiver(xx[on], yy[on], field[0][on], field[1][on], color="yellow", angles="xy", scale_units="xy", scale=0.4)
for n, p in assignment.items():
    axes[0].plot(*zip(necks[n].tolist(), pelvises[p].tolist()), color="cyan", lw=1, ls="--")
axes[0].set_title("part affinity field of the neck -> pelvis limb (yellow)", fontsize=9)
axes[1].imshow(fields.norm(dim=1).amax(dim=0).numpy(), cmap="gray")
axes[1].set_title("where any limb's field is non-zero", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
plt.show()

# %% [markdown]
# The correct pairs score close to 1, the wrong ones close to 0, and the greedy matching
# recovers every person. OpenPose does this limb by limb along the skeleton, with
# predicted (not true) heatmaps and fields, which is where it can go wrong: crossing
# limbs of two people blur their fields where they overlap.
#
# ## 12. From 2D to 3D: lifting
#
# A 2D pose is a projection of a 3D one, and many applications (animation, sports
# analysis, robotics) need the 3D pose. A remarkably simple baseline (Martinez et al.,
# 2017) first estimates the 2D keypoints with a network like ours, then *lifts* them to
# 3D with a small fully connected network that sees nothing but the 2D coordinates. That
# it works at all says something about human bodies: limbs have fixed lengths and joints
# bend only within limits, so most 2D poses are consistent with few plausible 3D ones.
#
# `course_utils.data.skeletons3d.SyntheticSkeletons` builds 3D poses with the figures'
# proportions (lengths in torso units) by forward kinematics with joint limits (knees
# bend backwards, elbows forwards), turns them by a random yaw (any direction) and a
# small pitch, and projects them orthographically: the 2D pose is the $(x, y)$ of each
# joint, plus a little noise (a stand-in for the 2D detector's error), and the task is to
# predict each joint's depth $z$. How ambiguous is that? For a bone of known length $L$
# whose projection has length $\ell$, the depth difference of its ends is
# $\pm\sqrt{L^2 - \ell^2}$: only the *sign* is unknown, one per bone, $2^{14}$ combinations
# for our 14 bones. The cell measures three baselines with the mean per-joint position
# error (MPJPE, in torso units): depth 0 for every joint, each joint's mean depth, and an
# oracle that knows every bone's true length and guesses the signs at random.

# %%
LIFT_TRAIN = budget(full=20000, quick=512)
LIFT_STEPS = budget(full=800, quick=20)
lift_train_2d, lift_train_3d = SyntheticSkeletons(LIFT_TRAIN, seed=1, noise_2d=0.02).tensors()
lift_test_2d, lift_test_3d = SyntheticSkeletons(2000, seed=2, noise_2d=0.02).tensors()


def with_depth(pose2d, depth):
    return torch.cat([pose2d, depth[..., None]], dim=-1)  # [N, 15, 3]


def random_sign_oracle(pose2d, pose3d, seed=0):
    """Depths from the true bone lengths and the projected ones, with a random sign per bone."""
    g = torch.Generator().manual_seed(seed)
    depth = torch.zeros(pose2d.shape[:2])
    root, done = KEYPOINT_NAMES.index("pelvis"), {KEYPOINT_NAMES.index("pelvis")}
    edges = list(SKELETON)
    while len(done) < len(KEYPOINT_NAMES):  # walk the skeleton outwards from the pelvis
        for a, b in edges:
            if (a in done) != (b in done):
                parent, child = (a, b) if a in done else (b, a)
                length = (pose3d[:, child] - pose3d[:, parent]).norm(dim=-1)
                projected = (pose2d[:, child] - pose2d[:, parent]).norm(dim=-1)
                sign = torch.where(torch.rand(len(pose2d), generator=g) < 0.5, -1.0, 1.0)
                depth[:, child] = depth[:, parent] + sign * (length**2 - projected**2).clamp_min(0).sqrt()
                done.add(child)
    return depth - depth[:, root:root + 1]


baselines = {
    "depth 0 everywhere": torch.zeros(lift_test_2d.shape[:2]),
    "mean depth of each joint": lift_train_3d[..., 2].mean(dim=0).expand(lift_test_2d.shape[:2]),
    "true bone lengths, random signs": random_sign_oracle(lift_test_2d, lift_test_3d),
}
for name, depth in baselines.items():
    print(f"{name:<34} MPJPE {mpjpe(with_depth(lift_test_2d, depth), lift_test_3d):.3f} torso lengths")

# %% [markdown]
# Knowing every bone's length exactly is not enough: guessing the signs is worse than
# not guessing at all. The network must learn which combinations of signs make a body.
# The lifting network is a two-layer MLP, 30 inputs (the 2D pose, pelvis at the origin)
# and 15 outputs (the depths), trained with an L1 loss.

# %%
seed_everything(0)
lifter = nn.Sequential(nn.Flatten(), nn.Linear(30, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 15))
optimizer = torch.optim.AdamW(lifter.parameters(), lr=3e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=LIFT_STEPS)
g = torch.Generator().manual_seed(0)
start = time.perf_counter()
for step in range(LIFT_STEPS):
    batch = torch.randint(0, LIFT_TRAIN, (256,), generator=g)
    loss = (lifter(lift_train_2d[batch]) - lift_train_3d[batch, :, 2]).abs().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
with torch.no_grad():
    lifted_depth = lifter(lift_test_2d)
lifted_mpjpe = mpjpe(with_depth(lift_test_2d, lifted_depth), lift_test_3d).item()
print(f"{LIFT_STEPS} steps in {time.perf_counter() - start:.1f} s")
report("lifting_mpjpe_torso_units", lifted_mpjpe, higher_is_better=False)

# %% [markdown]
# The MLP cuts the error of the best baseline by more than half. With a torso of about
# half a metre, its error is a few centimetres per joint, in the range that such lifting
# networks reach on real motion-capture data, where the 2D input comes from a detector.
# The figure shows four test poses from the side (depth $z$ across, height $y$ up), the
# truth in black and the lifted pose in orange; the front view, the network's input, is
# the same for both.

# %%
fig, axes = plt.subplots(1, 4, figsize=(13, 3.8))
for ax, i in zip(axes, range(4)):
    for pose, color, label in ((lift_test_3d[i], "black", "truth"),
                               (with_depth(lift_test_2d[i], lifted_depth[i]), "tab:orange", "lifted")):
        for a, b in SKELETON:
            ax.plot([pose[a, 2], pose[b, 2]], [pose[a, 1], pose[b, 1]], color=color, lw=1.5,
                    label=label if (a, b) == SKELETON[0] else None)
    ax.invert_yaxis()
    ax.set_aspect("equal")
    ax.set_xlabel("depth z (torso lengths)")
    ax.set_ylabel("y (torso lengths, down)")
    ax.set_title(f"error {mpjpe(with_depth(lift_test_2d[i:i + 1], lifted_depth[i:i + 1]), lift_test_3d[i:i + 1]):.2f}",
                 fontsize=9)
axes[0].legend(fontsize=8)
fig.suptitle("side views of lifted test poses", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 13. Domain shift and plausibility
#
# Our network has only ever seen figures from one generator, and real systems face the
# same question on a grander scale: networks trained on the few labelled data sets
# (MPII, LSP, COCO, all photographs of people in everyday scenes) meet yoga poses,
# paintings and cartoons (the lecture's HumanArt data set), constrained lab recordings
# or phone footage. The lecture's answer is *domain adaptation*: use unlabelled images of
# the new domain, for example by training the features so that a discriminator cannot
# tell the two domains apart. We can at least measure the problem: the cell evaluates the
# trained network on figures drawn with changed settings, 150 of each.

# %%
shifts = {
    "as in training": {},
    "rotated up to 90 degrees": {"max_rotation": 90.0},
    "smaller (30-50 % of the image)": {"scale_range": (0.3, 0.5)},
    "no clutter, no occluder": {"clutter": False, "occlusion_prob": 0.0},
    "noisy pixels (noise 0.15)": {"pixel_noise": 0.15},
}
NUM_SHIFT = budget(full=150, quick=16)
shift_pck = {}
for name, settings in shifts.items():
    shifted = ArticulatedFigures(NUM_SHIFT, IMAGE_SIZE, seed=4, **settings)
    images = torch.stack([image for image, _ in shifted])
    keypoints = torch.stack([target["keypoints"] for _, target in shifted])
    shift_pck[name] = ref_metrics.pck(decode_logits(predict_logits(images)), keypoints, 0.1)
    print(f"{name:<32} PCK@0.1 = {shift_pck[name]:.3f}")

# %% [markdown]
# An easier version of the training data (no clutter, no occluder) is no problem, but
# every change the network was not trained for costs accuracy. Larger rotations cost some
# (the training figures were never more than 40 degrees from upright, so heads are "at
# the top"); smaller figures and noisier pixels cost far more: at half the size, a
# keypoint's neighbourhood holds a quarter of the pixels and the stride-4 heatmap
# barely resolves the limbs, and the noise destroys the thin limbs that the network
# follows. The remedy in our case is obvious (generate the new settings in training, as
# data augmentation), and for real data it is why augmentation with rotations and scales
# is standard in pose estimation.
#
# The lecture's last idea concerns **plausibility**: a pose estimator can output a
# skeleton that no body could make (a forearm twice as long as the other, a knee bent the
# wrong way), and a *discriminator* trained to tell real poses from predicted ones can
# serve as an adversarial loss that pushes predictions towards plausible poses ("which
# pose looks more real?"). The simplest such prior needs no training: our figures'
# left and right limbs always have the same length, in 3D and (being flat) in the image.
# The cell measures, for each validation prediction, the largest difference between a
# limb and its twin (upper arms, forearms, thighs, shins) in units of the predicted torso,
# flags the predictions where it exceeds 0.3 torso lengths, and compares the accuracy of
# the predictions that look plausible with that of those that do not.

# %%
def limb_length(keypoints, a, b):
    return (keypoints[:, KEYPOINT_NAMES.index(a)] - keypoints[:, KEYPOINT_NAMES.index(b)]).norm(dim=-1)


torso = limb_length(heatmap_predictions, "neck", "pelvis").clamp_min(1.0)
asymmetry = torch.zeros(len(val_items))
for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")):
    left = limb_length(heatmap_predictions, f"left_{a}", f"left_{b}")
    right = limb_length(heatmap_predictions, f"right_{a}", f"right_{b}")
    asymmetry = torch.maximum(asymmetry, (left - right).abs() / torso)
implausible = asymmetry > 0.3  # a limb longer than its twin by more than 0.3 torso lengths
for name, mask in (("plausible", ~implausible), ("implausible", implausible)):
    if mask.any():
        print(f"{name:<12}: {int(mask.sum()):3d} predictions, "
              f"PCK@0.1 {ref_metrics.pck(heatmap_predictions[mask], val_keypoints[mask], 0.1):.3f}")

# %% [markdown]
# The flagged predictions are less accurate on average, though the signal is modest: most
# of our network's errors are small misplacements that barely change a limb's length,
# and a keypoint confused with another can land at a plausible length by chance. Still,
# the geometry of the body carries information that the heatmaps, each computed for one
# keypoint, do not enforce. Learned priors (a discriminator on poses, or the bone-length
# and joint-angle constraints of 3D methods) exploit the same fact far more thoroughly,
# and can also be used as a loss rather than a filter.
#
# ## Summary
#
# * A pose is a list of keypoints with visibility flags, drawn along a fixed skeleton.
#   Articulation, occlusion, scale and left/right symmetry make it hard, and our
#   synthetic figures have all four.
# * Keypoints can be regressed directly ($F = 2K$ numbers) or, better, predicted as
#   heatmaps: one map per keypoint, trained towards Gaussian bumps. The mean squared
#   error on such sparse targets prefers an empty map to a slightly misplaced bump and
#   learns slowly; a softmax cross-entropy over each map's cells with the same targets
#   trains much faster.
# * Argmax decoding is quantized by the stride (about 1.5 pixels of error at stride 4
#   even for a perfect map). The quarter-cell offset halves it; a parabola through the
#   log-map (or the logits) removes it; soft-argmax is differentiable but pulled towards
#   the centre by the background unless it averages a sharp distribution.
# * PCK@α counts visible keypoints within α times the person's size; OKS scores each
#   labelled keypoint softly with COCO's per-keypoint constants, which come from the
#   spread of human annotators' clicks.
# * Flipping needs $x \mapsto W - 1 - x$ *and* the left/right swap, for augmentation and
#   for flip testing alike; a forgotten swap ruins the sided keypoints and spares the
#   central ones.
# * The stacked hourglass is a recursive encoder-decoder with additive skips, stacked
#   with intermediate supervision; every pooled side must be even. HRNet keeps a
#   high-resolution branch at a constant cost per branch by doubling channels as it
#   halves resolution.
# * With a 90 k-parameter network, half a minute of CPU training gives a heatmap network
#   well above PCK@0.1 of 0.85 on held-out figures, and much better than direct
#   regression on the same backbone.
# * Hidden keypoints can be guessed from the rest of the body, but far less reliably.
#   Several people call for top-down (detect, crop, estimate) or bottom-up (all
#   keypoints, then grouping with part affinity fields) pipelines. 2D poses lift to 3D
#   with a small MLP that learns the body's constraints. Networks degrade on data unlike
#   their training set, and simple plausibility checks catch some of their failures.
#
# On the lecture notes: their statements about pose held up when we computed them (the
# 28-keypoint regression with $F = 56$ outputs, the analogies of the hourglass with FCN
# and U-Net). Two cautions came from our computations instead: the classic MSE heatmap
# regression that the slides summarize as "regress the heatmap, like segmentation" is
# the slow way to train it, and published cost figures (such as the 14.3 GFLOPs listed
# for the 8-stack hourglass) should be recomputed from the architecture before they are
# compared.

# %%
print(f"chapter ran in {time.perf_counter() - CHAPTER_START:.0f} s (wall clock), "
      f"{time.process_time():.0f} s of CPU time in this kernel")
