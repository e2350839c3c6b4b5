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
# # Chapter 4 — Semantic segmentation
#
# A classifier looks at a whole image and answers with one word. Semantic segmentation
# answers with a whole image: a class for *every pixel*. The output of a segmentation
# network is a label map of the same height and width as the input, in which pixel
# $(i, j)$ says "road", "sky", "cow" or "background". Once you see it as per-pixel
# classification, the loss is easy (the cross-entropy of the previous chapters, averaged
# over pixels instead of over images). What is hard is the *architecture*: to label one
# pixel well, a network must look far around it, yet it must also answer at the full
# resolution of the image, and doing both naively costs absurd amounts of compute and
# memory.
#
# This chapter follows the road the field took. We first cost out the two naive designs
# with real numbers, then build the encoder–decoder that fixes them, and spend most of
# our time on the new layers a decoder needs: upsampling by copying, by "bed of nails",
# by max unpooling, by bilinear interpolation and by transposed convolution (which we
# implement, write as a matrix, and catch producing checkerboards). We then put the
# pieces together into an FCN and a U-Net, learn how segmentation is scored (pixel
# accuracy, IoU, mIoU from a confusion matrix), and train both networks on synthetic
# scenes of shapes to see with our own eyes what U-Net's skip connections buy.
#
# **How this notebook works.** Exercise cells contain a signature and a docstring; replace
# the `raise NotImplementedError(...)` line with your code. The test cell after each
# exercise runs visible tests that say what is wrong; more (hidden) tests run at grading.
# Implementation exercises must do the work themselves: calling
# `torch.nn.functional.conv_transpose2d`, `max_unpool2d`, `interpolate`, torchmetrics or the
# course's reference versions (`course_utils.ops.upsample`, `course_utils.metrics`) inside them
# scores no points. With the environment variable `DLCV_QUICK=1` the training cells use
# tiny budgets; grading does that, and nothing graded depends on how long you train.
#
# The facts and quiz questions come from lecture notes of three courses (two Berkeley deep
# learning courses and a Chinese computer vision course). They contain mistakes. Wherever
# this chapter disagrees with them, it says so and shows the computation; a list of all of
# them closes the chapter.

# %%
import math
import textwrap
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.ops import upsample as ref  # the course's reference ops (used after the exercises)
from course_utils.ops.conv import activation_bytes, receptive_field
from course_utils.data import SHAPE_CLASSES, ShapesScenes
from course_utils.grading import (as_number, as_numbers, expect_answer, expect_close, expect_equal, expect_raises,
                                  expect_tensor, forbid)
from course_utils.metrics import segmentation as segm
from course_utils.models import FCN, UNet, UNetBlock
from course_utils.runtime import budget, get_device, report
from course_utils.summary import count_parameters
from course_utils.train import fit, seed_everything
from course_utils.viz import overlay_mask, plot_confusion_matrix, plot_history, show_images

NOTEBOOK_START = time.time()
# The networks of this chapter are tiny; on a CPU a second thread barely speeds them up,
# and when the machine is busy with other work it slows them down many times over (we
# measured 10x). One thread keeps the timings predictable; remove this line if you like.
torch.set_num_threads(1)
seed_everything(0)
device = get_device()
print("device:", device)

# %% [markdown]
# ## 1. The task: a class for every pixel
#
# Formally, the input is an image $x$ of shape $3 \times H \times W$ and the target is a
# label map $y$ of shape $H \times W$ whose entries are class indices in
# $\{0, \dots, K-1\}$. A network $f$ outputs $K$ scores per pixel, a tensor of shape
# $K \times H \times W$, and is trained with the pixel-wise cross-entropy
#
# $$
# L(x, y) = -\frac{1}{HW} \sum_{i, j} \log \operatorname{softmax}\big(f(x)_{:, i, j}\big)_{y_{ij}} ,
# $$
#
# which is exactly what `F.cross_entropy(logits [N, K, H, W], target [N, H, W])` computes.
# At test time each pixel takes the class with the highest score (`argmax` over $K$).
# "Background" and, in real data sets, "unknown" are classes like any other.
#
# **Semantic versus instance segmentation.** A semantic label map does not distinguish
# objects of the same class: two circles that touch become one circle-coloured blob. If we
# need to know that there are *two* circles, and which pixels belong to which, the task
# is *instance segmentation* (Mask R-CNN, in the detection chapter), whose output is a set
# of masks, one per object, with a variable number of entries. Semantic segmentation has a
# fixed-size output, which is part of why it is the easier problem to set up. (Panoptic
# segmentation combines both: instances for countable "things", one region per class for
# "stuff" like sky and road.)
#
# **The same shape of problem, other targets.** Anything that attaches a value to every
# pixel can use the networks of this chapter, with another last layer and another loss:
# *depth estimation* predicts one number per pixel (the distance to the camera, a
# regression with an L1 or scale-invariant loss), *surface-normal estimation* predicts a
# unit 3-vector per pixel (a cosine loss), optical flow a 2-vector per pixel, colourisation
# two colour channels, pose estimation one heat map per keypoint. These are all called
# *dense prediction* tasks.
#
# Our data are the course's synthetic shapes scenes: coloured circles, squares, triangles,
# stars and rings on a noisy background, generated on the fly, so no download is needed.
# Each item carries a semantic label map (`target["semantic"]`, 0 = background, 1 to 5 =
# the shapes) and the instance masks. To train in well under a minute on a CPU we use
# small 32 × 32 scenes with two or three fairly large shapes that do not overlap (a shape
# that finds no free room is left out, so a few scenes have only one; an empty scene
# would teach the network little but "background"). The figure shows both views of
# the same scenes.

# %%
IMAGE_SIZE = 32  # small images keep training within the CPU budget
NUM_CLASSES = len(SHAPE_CLASSES)
SCENE_KW = dict(image_size=IMAGE_SIZE, min_objects=2, max_objects=3, size_range=(0.2, 0.35), occlusion=False)
preview = ShapesScenes(6, seed=112, **SCENE_KW)  # a seed whose scenes show two objects of one class
print("classes:", SHAPE_CLASSES)

fig, axes = plt.subplots(3, 4, figsize=(10, 7.6))
for col in range(4):
    image, target = preview[col]
    instance_ids = torch.zeros(IMAGE_SIZE, IMAGE_SIZE, dtype=torch.long)
    for k, mask in enumerate(target["masks"]):
        instance_ids[mask] = k + 1  # one id per object, whatever its class
    for row, (label_map, title) in enumerate([(None, "image"), (target["semantic"], "semantic labels"),
                                              (instance_ids, "instances")]):
        ax = axes[row, col]
        ax.imshow(image.permute(1, 2, 0).numpy())
        if label_map is not None:
            overlay_mask(ax, label_map, alpha=0.75)
        ax.set_title(title if row else textwrap.fill(target["caption"], 30), fontsize=8)
        ax.axis("off")
fig.suptitle("Semantic labels colour by class; instance masks separate the objects", fontsize=10)
fig.tight_layout()
plt.show()
semantic_all = torch.stack([preview[i][1]["semantic"] for i in range(len(preview))])
print(f"fraction of background pixels in these scenes: {(semantic_all == 0).float().mean():.2f}")

# %% [markdown]
# Notice the last line: most pixels are background. Keep it in mind for the evaluation
# section, where it will make one metric look much better than the network deserves.
#
# ## 2. Two naive designs, and what they cost
#
# ### Idea 1: classify a patch around every pixel
#
# We already know how to classify an image. So cut an $N \times N$ patch centred on each
# pixel, run a CNN classifier on it, and give the pixel the predicted class. This works
# (it is how the first neural segmenters were built), but it is wasteful: neighbouring
# patches overlap almost entirely, and the CNN recomputes the same features for them
# again and again. An interior pixel lies in the patch of every pixel within $N/2$ of it,
# so it is processed $N^2$ times, once per patch. The lecture of the Chinese course asks
# exactly this ("how many times is the red pixel computed?") and answers $N \cdot N$. That
# is right for interior pixels; pixels near the border are in fewer patches. We count all
# of them at once: unfold every $N \times N$ patch of an image of ones (one per pixel,
# with zero padding) and fold them back, summing the copies that land on each pixel.

# %%
def patch_coverage(height, width, patch):
    """How many of the per-pixel patches (patch x patch, centred, zero padded) contain each pixel."""
    ones = torch.ones(1, 1, height, width)
    cols = F.unfold(ones, patch, padding=patch // 2)  # [1, patch*patch, H*W]: one column per centre pixel
    return F.fold(cols, (height, width), patch, padding=patch // 2)[0, 0]  # [H, W] copies summed back


PATCH = 9
coverage = patch_coverage(32, 32, PATCH)
print(f"patch {PATCH}x{PATCH}: an interior pixel is processed {int(coverage.max())} times "
      f"(= {PATCH}^2 = {PATCH ** 2}), a corner pixel {int(coverage[0, 0])} times")
side, big_patch = 400, 65
print(f"a {side}x{side} image with {big_patch}x{big_patch} patches: {side * side:,} CNN evaluations that read "
      f"{side * side * big_patch ** 2:,} pixels in total, {big_patch ** 2:,} times more than the image has")

# %% [markdown]
# ### Idea 2: a deep stack of convolutions at full resolution
#
# Convolutions share the computation between overlapping windows for free. So drop the
# patches, and stack 3×3 convolutions with stride 1 and padding 1: every layer keeps the
# $H \times W$ size, and the last one outputs $K$ scores per pixel. The problem is the
# receptive field. Each 3×3 layer adds 2 pixels to it, so $L$ layers see a square of
# $2L + 1$ pixels. To judge a pixel of a 400 × 400 photo we want to see a good part of the
# image, say 200 pixels, and that needs $L \ge 99.5$, so **100 layers** (99 layers only
# reach 199). The lecture's answer, 100, is right.
#
# Now the memory. Training keeps every layer's output for the backward pass. The lecture
# takes 200 channels per layer at $H = W = 400$ in float32 (4 bytes): one layer's output is
# $200 \cdot 400 \cdot 400 \cdot 4$ bytes, for 100 layers and a batch of 20 images. Your
# first exercise turns these two calculations into functions.

# %% [markdown]
# ### Exercise 1: receptive field and memory of the full-resolution stack (3 points)
#
# * `layers_for_receptive_field(target, kernel_size=3, dilation=1)` returns the smallest
#   number of stacked stride-1 convolutions whose receptive field is at least `target`
#   pixels. A $k \times k$ kernel with dilation $d$ (holes between its taps, see section
#   3.5; $d = 1$ is the ordinary kernel) spans $d(k-1)+1$ pixels, so each such layer widens
#   the receptive field by $d(k-1)$; a single pixel (no layer) has receptive field 1.
#   A 1×1 convolution never widens anything: raise `ValueError` if `target` > 1 cannot be
#   reached.
# * `activation_memory_bytes(channels, height, width, layers=1, batch=1, bytes_per_value=4)`
#   returns the bytes needed to keep the outputs of `layers` layers, each of shape
#   `[batch, channels, height, width]`, as an `int`.

# %% nbgrader={"grade": false, "grade_id": "naive_costs", "locked": false, "schema_version": 3, "solution": true}
def layers_for_receptive_field(target, kernel_size=3, dilation=1):
    """Smallest number of stride-1 (dilated) k x k convolutions with receptive field >= target.

    Args:
        target: wanted receptive field in pixels, int >= 1.
        kernel_size: k, int >= 1.
        dilation: d, int >= 1.

    Returns:
        int >= 0.

    Raises:
        ValueError: if target > 1 and kernel_size == 1 (the receptive field never grows).
    """
    ### BEGIN SOLUTION
    if target <= 1:
        return 0
    growth = dilation * (kernel_size - 1)  # pixels added by one layer
    if growth == 0:
        raise ValueError(f"1x1 convolutions never reach a receptive field of {target}")
    return -(-(target - 1) // growth)  # ceil((target - 1) / growth) in integers
    ### END SOLUTION


def activation_memory_bytes(channels, height, width, layers=1, batch=1, bytes_per_value=4):
    """Bytes to store `layers` feature maps of shape [batch, channels, height, width], as an int."""
    ### BEGIN SOLUTION
    return batch * layers * channels * height * width * bytes_per_value
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_naive_costs", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# The receptive field of L layers must reach the target, and L - 1 layers must not.
for target, k in [(200, 3), (7, 3), (50, 5)]:
    n_layers = as_number(layers_for_receptive_field(target, k), f"layers_for_receptive_field({target}, {k})", integer=True)
    reached = receptive_field([(k, 1)] * n_layers)
    assert reached >= target, (f"layers_for_receptive_field({target}, kernel_size={k}) = {n_layers}, but "
                               f"{n_layers} layers only see {reached} pixels")
    assert receptive_field([(k, 1)] * (n_layers - 1)) < target, (
        f"layers_for_receptive_field({target}, kernel_size={k}) = {n_layers} is not the smallest: "
        f"{n_layers - 1} layers already see {receptive_field([(k, 1)] * (n_layers - 1))} pixels")
expect_equal(layers_for_receptive_field(1), 0, "layers_for_receptive_field(1) (one pixel needs no layer)", integer=True)
expect_raises(lambda: layers_for_receptive_field(5, kernel_size=1), ValueError,
              "layers_for_receptive_field(5, kernel_size=1)")
# Memory: compare with the bytes of a real (small) tensor.
small = torch.zeros(2, 3, 5, 7)
expected_small = small.numel() * small.element_size() * 4
expect_equal(activation_memory_bytes(3, 5, 7, layers=4, batch=2), expected_small,
             "activation_memory_bytes(3, 5, 7, layers=4, batch=2) (four float32 tensors of shape [2, 3, 5, 7])",
             integer=True)
### BEGIN HIDDEN TESTS
with forbid(activation_bytes, exercise="activation_memory_bytes"):
    _h_mem = activation_memory_bytes(200, 400, 400, layers=100, batch=20)
expect_equal(_h_mem, 200 * 400 * 400 * 100 * 20 * 4, "memory of the lecture's stack", integer=True)
_h_f16 = activation_memory_bytes(8, 10, 12, 3, 5, bytes_per_value=2)
expect_equal(_h_f16, 8 * 10 * 12 * 3 * 5 * 2, "activation_memory_bytes in float16", integer=True)
_h_default = activation_memory_bytes(4, 6, 6)
expect_equal(_h_default, 4 * 6 * 6 * 4, "activation_memory_bytes with default layers/batch", integer=True)
for _h_t, _h_k, _h_d in [(200, 3, 2), (201, 3, 1), (202, 3, 1), (3, 3, 1), (2, 3, 1), (100, 7, 1), (255, 3, 4),
                         (10, 2, 1), (64, 5, 3)]:
    _h_eff = _h_d * (_h_k - 1) + 1
    _h_n = as_number(layers_for_receptive_field(_h_t, kernel_size=_h_k, dilation=_h_d),
                     f"layers_for_receptive_field({_h_t}, kernel_size={_h_k}, dilation={_h_d})", integer=True)
    assert receptive_field([(_h_eff, 1)] * _h_n) >= _h_t and receptive_field([(_h_eff, 1)] * (_h_n - 1)) < _h_t, (
        f"layers_for_receptive_field({_h_t}, kernel_size={_h_k}, dilation={_h_d}) = {_h_n} is wrong")
### END HIDDEN TESTS

# %% [markdown]
# With the course's reference functions (`course_utils.ops.conv`), here are the lecture's
# numbers, and a check of its units:

# %%
rf_layers = next(n for n in range(1, 1000) if receptive_field([(3, 1)] * n) >= 200)
one_layer = activation_bytes(200, 400, 400)
stack = activation_bytes(200, 400, 400, layers=100, batch=20)
macs_per_layer = 200 * 200 * 3 * 3 * 400 * 400  # every output value: 200 channels x 3 x 3 products
print(f"3x3 layers needed for a 200-pixel receptive field: {rf_layers} "
      f"(receptive field {receptive_field([(3, 1)] * rf_layers)}; one fewer gives "
      f"{receptive_field([(3, 1)] * (rf_layers - 1))})")
print(f"one layer, one image: {one_layer:,} bytes = {one_layer / 1e6:.0f} MB = {one_layer / 2**20:.1f} MiB")
print(f"100 layers, batch 20: {stack:,} bytes = {stack / 1e9:.0f} GB = {stack / 2**30:.1f} GiB")
print(f"compute: {macs_per_layer / 1e9:.1f} G multiply-adds per layer and image, "
      f"{macs_per_layer * 100 * 20 / 1e12:.0f} T for one forward pass of the batch")

# %% [markdown]
# The lecture writes "122 MB" per layer and "238 GB" in total. The byte counts behind
# them are right, but the units are binary: 128,000,000 bytes are 128 MB or 122 MiB, and
# 256,000,000,000 bytes are 256 GB or 238 GiB. Either way, no GPU holds a quarter of a
# terabyte of activations, and that is before the gradients of the backward pass and the
# extra copies that batch normalisation and ReLU keep. And 115 T multiply-adds per
# forward pass is hundreds of times what a ResNet-50 spends on the same batch.
#
# The figure puts both naive designs side by side with the fix of the next section. On
# the left, how often the patch classifier processes each pixel of a 32 × 32 image with
# 9 × 9 patches. On the right, the activation memory per layer of the 100-layer
# full-resolution stack, against an encoder that halves the resolution and doubles the
# channels every 20 layers (the pattern of VGG and ResNet).

# %%
levels = (torch.arange(100) // 20).tolist()  # resolution level of each layer: 400, 200, 100, 50, 25
flat_mb = torch.full((100,), one_layer / 2**20)
pyramid_mb = torch.tensor([activation_bytes(200 * 2**v, 400 // 2**v, 400 // 2**v) / 2**20 for v in levels])
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.6]})
im = axes[0].imshow(coverage, cmap="viridis")
fig.colorbar(im, ax=axes[0], fraction=0.046)
axes[0].set_title(f"patches ({PATCH}x{PATCH}) containing each pixel", fontsize=9)
axes[0].axis("off")
axes[1].semilogy(flat_mb, label=f"full resolution: {flat_mb.sum() / 1024:.1f} GiB per image")
axes[1].semilogy(pyramid_mb, label=f"halve size, double channels every 20 layers: {pyramid_mb.sum() / 1024:.2f} GiB per image")
axes[1].set_xlabel("layer")
axes[1].set_ylabel("activation memory (MiB, one image)")
axes[1].legend(fontsize=8)
axes[1].grid(alpha=0.3)
axes[1].set_title("200 channels at 400x400, float32", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Encoder–decoder: shrink, think, grow back
#
# The way out of this dilemma is the one classification networks already use: shrink the
# feature maps. An **encoder** repeatedly halves the resolution, with max pooling or with
# strided convolutions (a learned downsampling), usually doubling the channels. Each
# halving doubles the distance in input pixels between neighbouring feature-map pixels,
# so the receptive field grows exponentially instead of linearly with depth, and the
# maps get cheaper as they get coarser. At the bottom, a feature vector "knows" what is
# in a large part of the image but is only known at a coarse grid. A **decoder** then
# brings the maps back to $H \times W$, so that every pixel gets its scores.
#
# How much does downsampling help? The encoder of the course's U-Net (two 3×3
# convolutions per level, 2×2 max pooling between levels) reaches, after four poolings:

# %%
encoder_layers = [(3, 1), (3, 1)]
for level in range(4):
    encoder_layers += [(2, 2), (3, 1), (3, 1)]
print(f"{sum(k > 2 for k, _ in encoder_layers)} convolutions and 4 poolings: receptive field "
      f"{receptive_field(encoder_layers)} pixels (a stride-1 stack of the same 10 convolutions: "
      f"{receptive_field([(3, 1)] * 10)})")

# %% [markdown]
# Downsampling is the easy half: we know pooling and strided convolution from the
# previous chapters. The decoder needs the opposite operation, and there are several.
#
# ### 3.1 Nearest neighbour and "bed of nails"
#
# The simplest upsampling by a factor $s$ copies every value into an $s \times s$ block
# (**nearest neighbour**). **Bed of nails** puts each value in the top-left corner of its
# block and zeros elsewhere. Neither has parameters. Bed of nails looks useless on its
# own, but followed by a convolution that fills in the zeros it becomes the transposed
# convolution of section 3.4. Here are the lecture's 2 × 2 examples, computed with the
# course's reference functions (`course_utils.ops.upsample`).

# %%
small_input = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
print("nearest neighbour:\n", ref.nearest_upsample(small_input, 2)[0, 0])
print("bed of nails:\n", ref.bed_of_nails(small_input, 2)[0, 0])
print("same as F.interpolate(mode='nearest'):",
      torch.equal(ref.nearest_upsample(small_input, 2), F.interpolate(small_input, scale_factor=2, mode="nearest")))

# %% [markdown]
# ### 3.2 Max unpooling
#
# Max pooling throws away *where* the maximum of each window was. **Max unpooling**
# remembers it: the pooling layer of the encoder saves the position of every maximum, and
# the matching unpooling layer of the decoder puts each incoming value back at that
# position, with zeros everywhere else (SegNet is built on this). The lecture's example:
# max pooling the 4 × 4 input below with 2 × 2 windows gives `[[5, 6], [7, 8]]`, whose
# maxima sit at rows/columns (1, 1), (0, 2), (3, 0) and (3, 3). When the decoder later
# unpools the values `[[1, 2], [3, 4]]` (whatever the rest of the network made of them),
# they land at those four positions.
#
# PyTorch returns the positions from `F.max_pool2d(x, 2, return_indices=True)` as
# *flat* indices into each $H \times W$ plane: position $(r, c)$ is stored as
# $r \cdot W + c$, separately for every image and channel.
#
# Note that the *value* being unpooled goes to the recorded position, not a one: the
# output is zero everywhere else and equal to the pooled maximum there.

# %%
pool_input = torch.tensor([[1.0, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]]).reshape(1, 1, 4, 4)
pooled, pool_indices = F.max_pool2d(pool_input, 2, return_indices=True)
print("max pooled:\n", pooled[0, 0])
print("saved flat indices:\n", pool_indices[0, 0])
print("as (row, column):", [divmod(int(k), 4) for k in pool_indices.flatten()])

# %% [markdown]
# ### Exercise 2: max unpooling (3 points)
#
# Implement `max_unpool2d(x, indices, output_size)`: `x` and `indices` are
# `[N, C, h, w]` (the values to place and the saved flat indices), `output_size` is the
# `(H, W)` of the map that was pooled. Return an `[N, C, H, W]` tensor with the dtype and
# device of `x`, zero except at the saved positions. Loops over `N`, `C`, `h`, `w` are
# fine; `Tensor.scatter_` on flattened planes is the fast way. Do not call
# `F.max_unpool2d` or `nn.MaxUnpool2d`.

# %% nbgrader={"grade": false, "grade_id": "max_unpool", "locked": false, "schema_version": 3, "solution": true}
def max_unpool2d(x, indices, output_size):
    """Max unpooling: each value of x goes to the flat position `indices` gives it.

    Args:
        x: Tensor[N, C, h, w], the values.
        indices: Tensor[N, C, h, w] int64, flat positions row * W + col in each [H, W] plane.
        output_size: (H, W), the size of the map that was pooled.

    Returns:
        Tensor[N, C, H, W] with the dtype and device of x.
    """
    ### BEGIN SOLUTION
    height, width = output_size
    planes = x.new_zeros(x.shape[0], x.shape[1], height * width)  # [N, C, H*W]
    planes.scatter_(2, indices.flatten(2), x.flatten(2))  # value k of each plane -> position indices[k]
    return planes.reshape(x.shape[0], x.shape[1], height, width)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_unpool", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
# The lecture's 4x4 example.
unpooled = max_unpool2d(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), pool_indices, (4, 4))
expect_close(unpooled, F.max_unpool2d(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), pool_indices, 2, output_size=(4, 4)),
             "max_unpool2d on the lecture's example")
# Several images and channels, a non-square map; the values are not the pooled maxima.
torch.manual_seed(0)
feature_map = torch.randn(2, 3, 6, 10)
_, idx = F.max_pool2d(feature_map, 2, return_indices=True)
values = torch.randn(2, 3, 3, 5)
expect_close(max_unpool2d(values, idx, (6, 10)), F.max_unpool2d(values, idx, 2, output_size=(6, 10)),
             "max_unpool2d on a [2, 3, 6, 10] map pooled 2x2")
### BEGIN HIDDEN TESTS
_h_forbidden = ("torch.nn.functional.max_unpool2d", "torch._C._nn.max_unpool2d", ref.max_unpool2d,
                ref.max_unpool2d_loop)
_h_g = torch.Generator().manual_seed(404)
for _h_shape, _h_k in [((1, 2, 7, 5), 2), ((3, 1, 9, 6), 3), ((2, 4, 5, 8), 2), ((1, 1, 1, 1), 1)]:
    _h_map = torch.randn(*_h_shape, generator=_h_g, dtype=torch.float64)
    _h_pooled, _h_idx = F.max_pool2d(_h_map, _h_k, return_indices=True)
    _h_vals = torch.randn(_h_pooled.shape, generator=_h_g, dtype=torch.float64)
    with forbid(*_h_forbidden, exercise="max_unpool2d"):
        _h_out = max_unpool2d(_h_vals, _h_idx, _h_shape[2:])
    _ = expect_tensor(_h_out, f"max_unpool2d output for {_h_shape}", dtype=torch.float64)
    expect_close(_h_out, F.max_unpool2d(_h_vals, _h_idx, _h_k, output_size=_h_shape[2:]),
                 f"max_unpool2d for a {list(_h_shape)} map pooled {_h_k}x{_h_k}")
### END HIDDEN TESTS

# %% [markdown]
# The figure draws the three parameter-free upsamplings on the lecture's numbers. Note
# how max unpooling keeps the *where* of the encoder: the values return to the
# positions of the maxima, not to a fixed corner.

# %%
def draw_grid(ax, values, title, highlight=None):
    """Draw a small matrix with its numbers; highlight: bool mask of cells to outline."""
    values = values.double()
    ax.imshow(values, cmap="Blues", vmin=0, vmax=max(float(values.max()), 1.0) * 1.6)
    for (r, c), v in zip(torch.cartesian_prod(torch.arange(values.shape[0]), torch.arange(values.shape[1])).tolist(),
                         values.flatten().tolist()):
        ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=9)
        if highlight is not None and highlight[r, c]:
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="crimson", lw=2))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


max_positions = ref.max_unpool2d(torch.ones(1, 1, 2, 2), pool_indices, (4, 4))[0, 0] > 0
fig, axes = plt.subplots(1, 5, figsize=(13, 3))
draw_grid(axes[0], small_input[0, 0], "input 2x2")
draw_grid(axes[1], ref.nearest_upsample(small_input, 2)[0, 0], "nearest neighbour")
draw_grid(axes[2], ref.bed_of_nails(small_input, 2)[0, 0], "bed of nails")
draw_grid(axes[3], pool_input[0, 0], "encoder: max-pooled 4x4", highlight=max_positions)
draw_grid(axes[4], ref.max_unpool2d(small_input, pool_indices, (4, 4))[0, 0], "decoder: max unpooling",
          highlight=max_positions)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 3.3 Bilinear interpolation
#
# Nearest neighbour produces blocks; **bilinear** interpolation produces smooth ramps. An
# output pixel is mapped back to a (fractional) position in the input, and its value is
# the weighted mean of the four surrounding input pixels, with weights that fall off
# linearly with distance in each direction. Because the weights factor into a row weight
# times a column weight, bilinear upsampling is *separable*: interpolate along the rows,
# then along the columns.
#
# The only subtle point is where output pixel $i$ lands in the input. PyTorch has two
# conventions (`align_corners`):
#
# * `align_corners=False` (the default, and what `nn.Upsample` and most models use):
#   pixels are unit squares, and the image *edges* are aligned. The centre of output
#   pixel $i$ is at $i + 0.5$ in output units, at $(i + 0.5)/s$ in input units, so at input
#   pixel coordinate $\text{src} = (i + 0.5)/s - 0.5$. Near the border this is negative;
#   it is clamped to 0 (the first input pixel is simply repeated there).
# * `align_corners=True`: the *centres* of the corner pixels are aligned, so
#   $\text{src} = i \cdot (h_\text{in} - 1)/(h_\text{out} - 1)$ (and 0 if $h_\text{out} = 1$).
#
# Then with $i_0 = \lfloor \text{src} \rfloor$, $i_1 = \min(i_0 + 1, h_\text{in} - 1)$ and
# $t = \text{src} - i_0$, the value is $(1 - t)\,x[i_0] + t\,x[i_1]$ along each axis.

# %% [markdown]
# ### Exercise 3: bilinear upsampling (4 points)
#
# Implement `bilinear_upsample(x, scale, align_corners=False)` for a floating-point
# `x` of shape `[N, C, H, W]` and an integer `scale` $\ge 1$, returning
# `[N, C, scale·H, scale·W]` equal to
# `F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=align_corners)`.
# Compute the source coordinates of the output rows and columns, then interpolate first
# along one axis and then along the other (indexing a tensor with an index tensor, e.g.
# `x[:, :, rows]`, gathers whole rows at once). Loops are fine too. Keep the dtype and
# device of `x`. Do not call `F.interpolate`, `nn.Upsample` or `F.grid_sample`.

# %% nbgrader={"grade": false, "grade_id": "bilinear", "locked": false, "schema_version": 3, "solution": true}
def bilinear_upsample(x, scale, align_corners=False):
    """Bilinear upsampling of x [N, C, H, W] by the integer factor `scale` -> [N, C, scale*H, scale*W]."""
    ### BEGIN SOLUTION
    def neighbours(n_in):
        n_out = n_in * scale
        i = torch.arange(n_out, dtype=torch.float64, device=x.device)
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else torch.zeros_like(i)
        else:
            src = ((i + 0.5) / scale - 0.5).clamp(min=0)
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, (src - lo).to(x.dtype)

    r0, r1, tr = neighbours(x.shape[2])
    c0, c1, tc = neighbours(x.shape[3])
    rows = x[:, :, r0] * (1 - tr[:, None]) + x[:, :, r1] * tr[:, None]  # [N, C, sH, W]
    return rows[..., c0] * (1 - tc) + rows[..., c1] * tc  # [N, C, sH, sW]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bilinear", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# validity: dtype-stated
torch.manual_seed(1)
x_small = torch.randn(2, 3, 4, 5)
for scale in (1, 2, 3):
    for align in (False, True):
        expect_close(bilinear_upsample(x_small, scale, align_corners=align),
                     F.interpolate(x_small, scale_factor=scale, mode="bilinear", align_corners=align),
                     f"bilinear_upsample(x [2, 3, 4, 5], scale={scale}, align_corners={align})")
expect_close(bilinear_upsample(x_small, 2),
             F.interpolate(x_small, scale_factor=2, mode="bilinear", align_corners=False),
             "bilinear_upsample(x, 2) with the default align_corners")
### BEGIN HIDDEN TESTS
_h_forbidden = ("torch.nn.functional.interpolate", "torch.nn.functional.upsample", "torch.nn.functional.grid_sample",
                "torch._C._nn.upsample_bilinear2d", "torch._C._nn.upsample_nearest2d", ref.bilinear_upsample,
                ref.bilinear_upsample_loop, ref.interpolation_matrix)
_h_g = torch.Generator().manual_seed(33)
for _h_shape, _h_s, _h_dtype in [((1, 1, 1, 1), 3, torch.float32), ((1, 2, 1, 4), 2, torch.float64),
                                 ((3, 1, 7, 2), 4, torch.float64), ((2, 2, 5, 5), 5, torch.float32),
                                 ((1, 3, 6, 3), 1, torch.float64)]:
    _h_x = torch.randn(*_h_shape, generator=_h_g, dtype=_h_dtype)
    for _h_align in (False, True):
        with forbid(*_h_forbidden, exercise="bilinear_upsample"):
            _h_out = bilinear_upsample(_h_x, _h_s, align_corners=_h_align)
        _ = expect_tensor(_h_out, "bilinear_upsample output", dtype=_h_dtype)
        expect_close(_h_out, F.interpolate(_h_x, scale_factor=_h_s, mode="bilinear", align_corners=_h_align),
                     f"bilinear_upsample for {list(_h_shape)}, scale {_h_s}, align_corners={_h_align}, {_h_dtype}")
### END HIDDEN TESTS

# %% [markdown]
# On an image, the difference is obvious. Below, a scene is shrunk 4× by average
# pooling and brought back with each method (the course's reference versions). Nearest
# neighbour gives blocks; bilinear is smooth but blurry; bed of nails is mostly zeros;
# and none of them recovers the sharp edges of the original, because the information is
# gone after downsampling. Remember this when we meet U-Net.

# %%
scene, scene_target = preview[0]
tiny = F.avg_pool2d(scene[None], 4)  # [1, 3, 8, 8]
views = [scene, ref.nearest_upsample(tiny, 4)[0], ref.bilinear_upsample(tiny, 4)[0],
         ref.bed_of_nails(tiny, 4)[0]]
fig = show_images(torch.stack(views).clamp(0, 1),
                  titles=["original 32x32", "4x smaller, nearest", "4x smaller, bilinear", "4x smaller, bed of nails"],
                  ncols=4, figsize=(11, 3.2))
plt.show()

# %% [markdown]
# ### 3.4 Transposed convolution
#
# All the upsamplings so far are fixed. A **transposed convolution** (also called
# "deconvolution", a misleading name, or "fractionally strided convolution") is a
# *learned* upsampling. The picture to keep in mind is stamping: each input pixel takes
# a copy of the $k \times k$ filter, scales it by its own value, and adds it to the output
# at a position that moves by `stride` output pixels per input pixel. Where stamps
# overlap, they **add up**. With stride 2, the output is about twice as large as the
# input; the filter weights decide how each value is spread over its neighbourhood.
#
# Written out, for one channel, no padding:
#
# $$
# \text{out}[s\,i + u,\; s\,j + v] \mathrel{+}= x[i, j]\; w[u, v]
# \qquad \text{for all } i, j \text{ and } 0 \le u, v < k .
# $$
#
# With several channels the weight has shape `[C_in, C_out, k, k]` (in this order in
# PyTorch: the reverse of `nn.Conv2d`), and input channel $c$ stamps `w[c]`, a
# `[C_out, k, k]` block, so the stamps of all input channels add up. Then **padding**
# works backwards compared with a convolution: it *crops* `padding` rows and columns from
# each side of the full output. Counting the stamped area gives the output size
#
# $$
# H_\text{out} = (H - 1)\,s - 2p + k + p_\text{out},
# $$
#
# where the extra `output_padding` $p_\text{out}$ (which must be smaller than the stride)
# adds rows at the bottom and columns at the right. It exists because a stride-$s$
# convolution maps $s$ different input sizes to the same output size (both 7 and 8 give
# 4 with $k = 3, s = 2, p = 1$), and the transposed convolution needs to be told which one
# to give back.

# %% [markdown]
# ### Exercise 4: output size of a transposed convolution (2 points)
#
# Implement `conv_transpose_output_size(in_size, kernel_size, stride=1, padding=0,
# output_padding=0)` (dilation 1). Raise `ValueError` when `output_padding` is not smaller
# than `stride` (PyTorch refuses those) and when the result would be smaller than 1.

# %% nbgrader={"grade": false, "grade_id": "transpose_size", "locked": false, "schema_version": 3, "solution": true}
def conv_transpose_output_size(in_size, kernel_size, stride=1, padding=0, output_padding=0):
    """Output size of a transposed convolution along one axis (dilation 1), as an int."""
    ### BEGIN SOLUTION
    if output_padding >= stride:
        raise ValueError(f"output_padding ({output_padding}) must be smaller than the stride ({stride})")
    size = (in_size - 1) * stride - 2 * padding + kernel_size + output_padding
    if size < 1:
        raise ValueError(f"the output would have size {size}")
    return size
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transpose_size", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def torch_transpose_size(in_size, kernel_size, stride=1, padding=0, output_padding=0):
    """What PyTorch's layer actually returns for this configuration."""
    layer = nn.ConvTranspose2d(1, 1, kernel_size, stride, padding, output_padding)
    return layer(torch.zeros(1, 1, in_size, in_size)).shape[-1]


for config in [(2, 3, 2), (4, 2, 2), (3, 3, 2, 1, 1), (5, 4, 2, 1), (6, 3, 1, 1)]:
    expect_equal(conv_transpose_output_size(*config), torch_transpose_size(*config),
                 f"conv_transpose_output_size{config}", integer=True)
expect_raises(lambda: conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=2), ValueError,
              "conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=2)")
### BEGIN HIDDEN TESTS
with forbid(ref.conv_transpose_output_size, exercise="conv_transpose_output_size"):
    _h_sizes = [conv_transpose_output_size(*_h_c) for _h_c in
                [(1, 1), (7, 3, 3, 2, 2), (10, 5, 4, 3, 3), (3, 1, 1), (16, 4, 2, 1), (9, 7, 1, 3)]]
for _h_c, _h_got in zip([(1, 1), (7, 3, 3, 2, 2), (10, 5, 4, 3, 3), (3, 1, 1), (16, 4, 2, 1), (9, 7, 1, 3)], _h_sizes):
    expect_equal(_h_got, torch_transpose_size(*_h_c), f"conv_transpose_output_size{_h_c}", integer=True)
expect_equal(conv_transpose_output_size(in_size=8, kernel_size=2, stride=2, padding=0, output_padding=1),
             torch_transpose_size(8, 2, 2, 0, 1), "conv_transpose_output_size with keywords", integer=True)
expect_raises(lambda: conv_transpose_output_size(5, 3, stride=1, output_padding=1), ValueError,
              "conv_transpose_output_size(5, 3, stride=1, output_padding=1)")
expect_raises(lambda: conv_transpose_output_size(1, 1, padding=1), ValueError,
              "conv_transpose_output_size(1, 1, padding=1) (everything cropped)")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: transposed convolution with loops (5 points)
#
# Implement `conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0,
# output_padding=0)` with PyTorch's conventions: `x` is `[N, C_in, H, W]`, `weight` is
# `[C_in, C_out, kH, kW]`, `bias` is `[C_out]` or `None`, and the result must equal
# `F.conv_transpose2d(x, weight, bias, stride, padding, output_padding)`.
#
# A plan: allocate the *full* output of size `(H - 1)·s + kH + output_padding` by
# `(W - 1)·s + kW + output_padding` (zeros, dtype and device of `x`); loop over the input
# positions $(i, j)$ and add each one's stamp (the sum over input channels of
# `x[:, c, i, j]` times `weight[c]`, a `[N, C_out, kH, kW]` block) at rows
# `i·s … i·s + kH - 1` and columns `j·s … j·s + kW - 1`; then crop `padding` from every side and
# add the bias. Don't call any convolution function (`F.conv_transpose2d`,
# `nn.ConvTranspose2d`, `F.conv2d`, ...).

# %% nbgrader={"grade": false, "grade_id": "transpose_loops", "locked": false, "schema_version": 3, "solution": true}
def conv_transpose2d_loops(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Transposed convolution: x [N, C_in, H, W], weight [C_in, C_out, kH, kW] -> [N, C_out, H_out, W_out]."""
    ### BEGIN SOLUTION
    n, c_in, h, w = x.shape
    c_out, kh, kw = weight.shape[1:]
    full = x.new_zeros(n, c_out, (h - 1) * stride + kh + output_padding, (w - 1) * stride + kw + output_padding)
    for i in range(h):
        for j in range(w):
            # [N, C_in, 1, 1, 1] * [C_in, C_out, kH, kW], summed over C_in -> [N, C_out, kH, kW]
            stamp = (x[:, :, i, j, None, None, None] * weight).sum(dim=1)
            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += stamp
    cropped = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    if bias is not None:
        cropped = cropped + bias[None, :, None, None]
    return cropped
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transpose_loops", "locked": true, "points": 5, "schema_version": 3, "solution": false}
# validity: dtype-stated
torch.manual_seed(2)
# One channel, stride 2: overlapping stamps.
x1, w1 = torch.randn(1, 1, 3, 3), torch.randn(1, 1, 3, 3)
expect_close(conv_transpose2d_loops(x1, w1, stride=2), F.conv_transpose2d(x1, w1, stride=2),
             "conv_transpose2d_loops, 1 channel, 3x3 kernel, stride 2")
# Several channels (C_in = 2, C_out = 3), a bias, padding and output_padding.
x2, w2, b2 = torch.randn(2, 2, 4, 3), torch.randn(2, 3, 3, 3), torch.randn(3)
expect_close(conv_transpose2d_loops(x2, w2, b2), F.conv_transpose2d(x2, w2, b2),
             "conv_transpose2d_loops, 2 -> 3 channels with bias, stride 1")
expect_close(conv_transpose2d_loops(x2, w2, b2, stride=2, padding=1, output_padding=1),
             F.conv_transpose2d(x2, w2, b2, stride=2, padding=1, output_padding=1),
             "conv_transpose2d_loops, 2 -> 3 channels, stride 2, padding 1, output_padding 1")
### BEGIN HIDDEN TESTS
_h_forbidden = ("torch.nn.functional.conv_transpose2d", "torch.nn.functional.conv_transpose1d",
                "torch.nn.functional.conv2d", "torch.nn.functional.conv1d", "torch.convolution",
                "torch.nn.grad.conv2d_input", ref.conv_transpose2d, ref.conv_transpose2d_loop, ref.conv_matrix,
                ref.conv_transpose_matrix)
_h_g = torch.Generator().manual_seed(2024)
_h_cases = [((2, 3, 3, 4), (3, 2, 2, 2), True, 2, 0, 0), ((1, 2, 5, 5), (2, 4, 4, 4), False, 2, 1, 0),
            ((3, 1, 2, 3), (1, 1, 3, 2), True, 3, 1, 2), ((1, 4, 4, 4), (4, 2, 1, 1), True, 1, 0, 0),
            ((2, 2, 3, 3), (2, 3, 5, 5), False, 1, 2, 0), ((1, 3, 2, 2), (3, 5, 3, 3), True, 2, 1, 1)]
for _h_xs, _h_ws, _h_use_b, _h_s, _h_p, _h_op in _h_cases:
    _h_x = torch.randn(*_h_xs, generator=_h_g, dtype=torch.float64)
    _h_w = torch.randn(*_h_ws, generator=_h_g, dtype=torch.float64)
    _h_b = torch.randn(_h_ws[1], generator=_h_g, dtype=torch.float64) if _h_use_b else None
    with forbid(*_h_forbidden, exercise="conv_transpose2d_loops"):
        _h_out = conv_transpose2d_loops(_h_x, _h_w, _h_b, stride=_h_s, padding=_h_p, output_padding=_h_op)
    _ = expect_tensor(_h_out, "conv_transpose2d_loops output", dtype=torch.float64)
    expect_close(_h_out, F.conv_transpose2d(_h_x, _h_w, _h_b, stride=_h_s, padding=_h_p, output_padding=_h_op),
                 f"conv_transpose2d_loops for x {list(_h_xs)}, weight {list(_h_ws)}, bias {_h_use_b}, stride {_h_s}, "
                 f"padding {_h_p}, output_padding {_h_op}", atol=1e-10, rtol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ### Why "transposed"? The matrix view
#
# For a fixed input size, a convolution is a linear map, so it is a matrix: flatten the
# input to a vector $x$, and $\operatorname{conv}(x) = C x$, where each row of $C$ holds the
# filter weights at the input positions that output pixel reads. The Chinese course
# writes this out for a length-4 input $(a, b, c, d)$, a kernel $(x, y, z)$, stride 1 and
# padding 1: $C$ has rows $(y, z, 0, 0)$, $(x, y, z, 0)$, $(0, x, y, z)$, $(0, 0, x, y)$
# (the slide shows it with two extra columns for the padding zeros). Transposing that
# 4 × 6 matrix, the slide gets six outputs, $ax$, $ay + bx$, …, $dz$: the transposed
# convolution *without* cropping. The adjoint of the padded convolution, which is what
# PyTorch's `conv_transpose1d(..., padding=1)` returns, drops the first and the last of
# them; the code below prints both. The transposed
# convolution is multiplication by $C^\top$: every input value $y_m$ of the transposed
# convolution is spread back, with the same weights, onto exactly the positions that
# output $m$ of the convolution read from. That is the stamp.
#
# Two consequences. First, $C^\top$ is the **adjoint** of $C$: $\langle C x, y \rangle =
# \langle x, C^\top y \rangle$ for all $x, y$. Second, since the gradient of $\langle Cx, y
# \rangle$ with respect to $x$ is $C^\top y$, the transposed convolution is exactly what the
# backward pass of a convolution computes for the gradient of its input ("same as the
# backward pass for normal convolution", says the Berkeley slide). Note that $C^\top$ is
# not the *inverse* of $C$: a transposed convolution restores the shape, not the values.
# The course's `ref.conv_matrix` builds $C$ by looping over output pixels and taps; we check
# all of this numerically.

# %%
kernel_1d = torch.tensor([1.0, 2.0, 3.0])  # (x, y, z)
C = ref.conv_matrix(kernel_1d, 4, stride=1, padding=1)
print("C for kernel (x, y, z) = (1, 2, 3), length 4, padding 1:\n", C)
abcd = torch.tensor([2.0, 3.0, 5.0, 7.0])
print("C @ x equals F.conv1d:", torch.allclose(C @ abcd, F.conv1d(abcd[None, None], kernel_1d[None, None], padding=1)[0, 0]))
print("C.T @ y equals F.conv_transpose1d:",
      torch.allclose(C.T @ abcd, F.conv_transpose1d(abcd[None, None], kernel_1d[None, None], padding=1)[0, 0]))
# The slide writes C over the padded input (0, a, b, c, d, 0): a 4x6 matrix. Its transpose returns 6 values,
# conv_transpose1d without cropping; PyTorch's padding=1 crops the first and last, giving C.T @ y above.
C_slide = ref.conv_matrix(kernel_1d, 6)  # [4, 6]
print("slide's 6x4 C^T @ (a, b, c, d):", (C_slide.T @ abcd).tolist())
print("conv_transpose1d, padding 0:   ", F.conv_transpose1d(abcd[None, None], kernel_1d[None, None])[0, 0].tolist())
print("C.T @ (a, b, c, d), padding 1: ", (C.T @ abcd).tolist())

# A 2-D example with stride 2: the adjoint identity and the gradient of the convolution.
torch.manual_seed(3)
w2d = torch.randn(3, 3)
C2 = ref.conv_matrix(w2d, (5, 5), stride=2, padding=1)  # [9, 25]: a 5x5 input gives a 3x3 output
x_img, y_img = torch.randn(5, 5, requires_grad=True), torch.randn(3, 3)
conv_out = F.conv2d(x_img[None, None], w2d[None, None], stride=2, padding=1)[0, 0]
print("C2 shape:", tuple(C2.shape), "| C2 @ x equals F.conv2d:",
      torch.allclose(C2 @ x_img.detach().flatten(), conv_out.detach().flatten(), atol=1e-6))
print("<Cx, y> =", round(float(conv_out.detach().flatten() @ y_img.flatten()), 4),
      " <x, C^T y> =", round(float(x_img.detach().flatten() @ (C2.T @ y_img.flatten())), 4))
(conv_out * y_img).sum().backward()
transposed = F.conv_transpose2d(y_img[None, None], w2d[None, None], stride=2, padding=1)[0, 0]
print("gradient of the convolution w.r.t. its input equals conv_transpose2d(y):",
      torch.allclose(x_img.grad, transposed, atol=1e-6))

# %% [markdown]
# Seen as matrices, the convolution's $C$ (left) has one row per output pixel, with the
# 9 filter taps spread over the input positions it reads; $C^\top$ (right) has one column
# per input pixel of the transposed convolution: its stamp.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [25, 12]})
limit = float(C2.abs().max())
axes[0].imshow(C2, cmap="RdBu_r", vmin=-limit, vmax=limit)
axes[0].set_title("C: 3x3 conv, stride 2, pad 1, 5x5 -> 3x3 (9 x 25)", fontsize=9)
axes[0].set_xlabel("input pixel (flattened 5x5)")
axes[0].set_ylabel("output pixel")
axes[1].imshow(C2.T, cmap="RdBu_r", vmin=-limit, vmax=limit)
axes[1].set_title("C^T: transposed conv, 3x3 -> 5x5 (25 x 9)", fontsize=9)
axes[1].set_xlabel("input pixel of the transposed conv")
axes[1].set_ylabel("output pixel (flattened 5x5)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### The lecture's quiz
#
# The Berkeley CS182 lecture asks: a transposed convolution with a 3 × 3 filter and
# stride 2 takes the 2 × 2 input `[[10, 20], [30, 40]]` to a 5 × 5 output, with the filter
#
# ```
# 1 2 1
# 2 4 2
# 1 2 1
# ```
#
# X, Y and Z are three neighbouring outputs: counting rows and columns from 0, X is the
# output at row 1, column 1; Y at row 1, column 2; Z at row 1, column 3. What are they?
# The lecture offers four choices:
#
# | choice | X | Y | Z |
# |---|---|---|---|
# | A | 20 | 20 | 20 |
# | B | 20 | 30 | 40 |
# | C | 40 | 60 | 80 |
# | D | 80 | 60 | 40 |
#
# ### Exercise 6: X, Y and Z (3 points)
#
# Work them out by hand first: which input pixels stamp onto each of these three output
# positions, and with which filter weights? Then set `quiz_X`, `quiz_Y`, `quiz_Z` to the
# numbers (you may check them with your `conv_transpose2d_loops`). The cells after the quiz
# work through the same stamping on another input, so they do not give the answer away.

# %% nbgrader={"grade": false, "grade_id": "quiz_answers", "locked": false, "schema_version": 3, "solution": true}
# Set quiz_X, quiz_Y and quiz_Z (numbers) here.
### BEGIN SOLUTION
# Row 1 of the output is reached only by the stamps of input row 0 (10 and 20), through the
# filter's middle row (2, 4, 2); the stamp of 10 covers columns 0-2, that of 20 columns 2-4.
quiz_X = 10 * 4
quiz_Y = 10 * 2 + 20 * 2  # the two stamps overlap in column 2: they add up
quiz_Z = 20 * 4
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_quiz", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# The four choices of the lecture's table, column by column.
choice_X, choice_Y, choice_Z = (20, 20, 40, 80), (20, 30, 60, 60), (20, 40, 80, 40)
_xyz = tuple(as_number(v, name) for name, v in (("quiz_X", quiz_X), ("quiz_Y", quiz_Y), ("quiz_Z", quiz_Z)))
assert _xyz in list(zip(choice_X, choice_Y, choice_Z)), (
    f"(X, Y, Z) = {_xyz} is none of the four choices. Hint: each input pixel adds "
    "its value times the whole filter to the output, and where two stamps overlap the values add up")
### BEGIN HIDDEN TESTS
_h_expected = F.conv_transpose2d(torch.tensor([[[[10.0, 20.0], [30.0, 40.0]]]]),
                                 torch.tensor([[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]), stride=2)
expect_answer([quiz_X, quiz_Y, quiz_Z], _h_expected[0, 0, 1, 1:4].tolist(), "(quiz_X, quiz_Y, quiz_Z)",
              hint="row 1 is stamped by the input's row 0 only, through the filter's middle row; overlaps add up")
### END HIDDEN TESTS

# %% [markdown]
# The same stamping, on another input (`[[3, 1], [2, 5]]`, the quiz's filter, stride 2), so
# that it does not give the quiz's numbers away. The figure decomposes the output into the
# four stamps: every output pixel is the sum of the stamps covering it, and row 2 and
# column 2 are covered twice or four times. The outlined pixels sit where X, Y and Z sit in
# the quiz; do the same sums for the quiz's input.

# %%
stamp_x = torch.tensor([[3.0, 1.0], [2.0, 5.0]]).reshape(1, 1, 2, 2)
stamp_w = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]).reshape(1, 1, 3, 3)
stamp_out = F.conv_transpose2d(stamp_x, stamp_w, stride=2)[0, 0]  # [5, 5]
fig, axes = plt.subplots(1, 5, figsize=(14, 3.1))
for ax, (r, c) in zip(axes[:4], [(0, 0), (0, 1), (1, 0), (1, 1)]):
    single = torch.zeros_like(stamp_x)
    single[0, 0, r, c] = stamp_x[0, 0, r, c]
    draw_grid(ax, F.conv_transpose2d(single, stamp_w, stride=2)[0, 0], f"stamp of input ({r}, {c}) = {stamp_x[0, 0, r, c]:g}")
xyz = torch.zeros(5, 5, dtype=torch.bool)
xyz[1, 1:4] = True
draw_grid(axes[4], stamp_out, "sum = output (X, Y, Z positions outlined)", highlight=xyz)
fig.tight_layout()
plt.show()
print(f"sum of the output {stamp_out.sum():g} = (sum of the input {stamp_x.sum():g}) x (sum of the filter {stamp_w.sum():g})")
averaged = stamp_out / F.conv_transpose2d(torch.ones_like(stamp_x), torch.ones_like(stamp_w), stride=2)[0, 0]
print("row 1 with overlaps summed:  ", stamp_out[1].tolist())
print("row 1 if overlaps were averaged:", averaged[1].tolist())

# %% [markdown]
# The middle one of the three outlined values is the interesting one: it is the right edge
# of the first stamp plus the left edge of the second. Where stamps overlap, the
# contributions are **summed**, not averaged, in PyTorch and every other framework: that
# is what makes the transposed convolution the adjoint of the convolution (averaging
# would give another, wrong, answer). Summing also means the output's total is the input's total times the
# filter's total, as printed above.

# %% [markdown]
# ### Transposed convolution = bed of nails + convolution
#
# The name "fractionally strided convolution" comes from another way to compute the same
# thing: insert $s - 1$ zeros between the input pixels (bed of nails, trimmed so the last
# pixel is not followed by zeros), pad by $k - 1 - p$, and run an ordinary stride-1
# convolution with the filter flipped in both directions (and its two channel axes
# swapped). The stride becomes a "stride of $1/s$". We check it on random data:

# %%
torch.manual_seed(4)
xt, wt = torch.randn(1, 2, 4, 4), torch.randn(2, 3, 3, 3)
s, p, k = 2, 1, 3
nails = ref.bed_of_nails(xt, s)[:, :, :(4 - 1) * s + 1, :(4 - 1) * s + 1]  # [1, 2, 7, 7]
via_conv = F.conv2d(nails, wt.flip(-1, -2).transpose(0, 1), padding=k - 1 - p)  # weight [C_out, C_in, k, k]
print("zero insertion + flipped conv equals conv_transpose2d:",
      torch.allclose(via_conv, F.conv_transpose2d(xt, wt, stride=s, padding=p), atol=1e-6))

# %% [markdown]
# ### Checkerboard artefacts
#
# Because overlaps add, an output pixel that receives more stamps gets more "ink". With
# kernel 3 and stride 2, along each axis the output positions alternate between being
# covered by one stamp and by two; in 2-D the counts are 1, 2 and 4 in a regular pattern.
# So even the most innocent filter, all weights equal, turns a flat input into a
# checkerboard. The overlap is even when the kernel size is divisible by the stride:
# kernel 2 with stride 2 (U-Net's choice: no overlap at all) or kernel 4 with stride 2.
#
# Even overlap is not the whole story, though. With stride 2, the output pixels fall
# into four *phases* (even or odd row, even or odd column), and each phase is computed
# from its own subset of the filter taps. A flat input gives a flat output only if the
# taps of every phase add up to the same total. With equal weights and an even overlap that
# holds; with kernel 3 and stride 2 it takes a special filter such as
# `[0.5, 1, 0.5]` in each direction (which, as we check below, is just linear
# interpolation); with random weights it holds for no kernel size. A network must learn
# this balance in every channel of every layer, and the uneven-overlap configurations make
# it hardest (Odena, Dumoulin and Olah, "Deconvolution and checkerboard artifacts",
# Distill 2016). The robust remedy is to *resize, then convolve*: nearest or bilinear
# upsampling followed by an ordinary convolution, which treats all output pixels alike
# whatever its weights.
#
# The top row counts the stamps per output pixel (a transposed convolution of an image of
# ones with a filter of ones). The bottom row feeds a constant image through three
# randomly initialised upsampling layers of each kind and prints the relative spread of
# the output away from the borders: every transposed convolution prints a periodic
# pattern on a flat input, resize-then-convolve does not.

# %%
def overlap_count(kernel_size, stride, size=6):
    ones = torch.ones(1, 1, size, size)
    full = F.conv_transpose2d(ones, torch.ones(1, 1, kernel_size, kernel_size), stride=stride)[0, 0]
    return full[kernel_size:-kernel_size, kernel_size:-kernel_size]  # interior: away from the borders


TRANSPOSED_2X = {3: dict(padding=1, output_padding=1), 4: dict(padding=1), 2: dict()}  # all exactly double the size


def random_upsampler(kind, channels=8, layers=3, seed=0):
    """Three x2 upsampling layers with random weights: transposed conv of kernel `kind`, or 'resize'."""
    torch.manual_seed(seed)
    blocks = []
    for i in range(layers):
        c_in, c_out = (1 if i == 0 else channels), (1 if i == layers - 1 else channels)
        if kind == "resize":
            blocks += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)]
        else:
            blocks.append(nn.ConvTranspose2d(c_in, c_out, kind, stride=2, **TRANSPOSED_2X[kind]))
        if i < layers - 1:
            blocks.append(nn.ReLU())
    return nn.Sequential(*blocks)


flat_input = torch.ones(1, 1, 6, 6)
fig, axes = plt.subplots(2, 4, figsize=(12, 6))
for col, (kind, title) in enumerate([(3, "transposed k=3, s=2"), (4, "transposed k=4, s=2"),
                                     (2, "transposed k=2, s=2"), ("resize", "nearest x2 + conv 3x3")]):
    counts = torch.ones(6, 6) if kind == "resize" else overlap_count(kind, 2)
    axes[0, col].imshow(counts, cmap="magma", vmin=0, vmax=4)
    stamps = "no stamps: every pixel alike" if kind == "resize" else \
        f"stamps per pixel: {sorted(set(counts.int().flatten().tolist()))}"
    axes[0, col].set_title(f"{title}\n{stamps}", fontsize=9)
    with torch.no_grad():
        out = random_upsampler(kind)(flat_input)[0, 0]  # [48, 48]
    inner = out[8:-8, 8:-8]  # away from the borders, where padding disturbs every method
    axes[1, col].imshow(inner, cmap="gray", vmin=float(inner.min()) - 1e-3, vmax=float(inner.max()) + 1e-3)
    axes[1, col].set_title(f"random weights, constant input\nstd / mean = {inner.std() / inner.abs().mean():.3f}",
                           fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
plt.show()
signal = torch.tensor([0.0, 4.0, 2.0, 6.0]).reshape(1, 1, 4)
print("stride-2 transposed conv with [0.5, 1, 0.5]:",
      F.conv_transpose1d(signal, torch.tensor([[[0.5, 1.0, 0.5]]]), stride=2)[0, 0, 1:-1].tolist())
print("linear interpolation (align_corners=True):  ",
      F.interpolate(signal, size=7, mode="linear", align_corners=True)[0, 0].tolist())

# %% [markdown]
# To explore other kernel sizes and strides, use the widget below (it needs a live
# kernel; the figure above is its static version). The period of the pattern is the
# stride, and it disappears exactly when the stride divides the kernel size.

# %%
import ipywidgets as widgets


def _show_overlap(kernel_size, stride):
    counts = F.conv_transpose2d(torch.ones(1, 1, 8, 8), torch.ones(1, 1, kernel_size, kernel_size), stride=stride)[0, 0]
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(counts, cmap="magma")
    ax.set_title(f"k={kernel_size}, s={stride}: stamps per pixel {sorted(set(counts.flatten().int().tolist()))}",
                 fontsize=9)
    ax.axis("off")
    display(fig)
    plt.close(fig)


display(widgets.interactive(_show_overlap, kernel_size=widgets.IntSlider(value=3, min=1, max=7, description="kernel"),
                            stride=widgets.IntSlider(value=2, min=1, max=4, description="stride")))

# %% [markdown]
# ### 3.5 Dilated (atrous) convolution
#
# There is a way to grow the receptive field without downsampling at all: spread the
# filter taps apart. A **dilated** convolution with rate $d$ reads the pixels
# $x[i + d u, j + d v]$ instead of $x[i + u, j + v]$: a 3 × 3 filter with $d = 2$ covers a
# 5 × 5 window with 9 weights, the other 16 positions are holes ("à trous" in French,
# hence *atrous* convolution). With stride 1 and padding $d$, the resolution is kept. Stack
# rates 1, 2, 4, 8, … and the receptive field doubles with every layer, as with pooling,
# but the maps stay at full resolution (Yu and Koltun, 2016). DeepLab uses this to remove
# the last poolings of a classification backbone while keeping its receptive field.
#
# A dilated convolution is just an ordinary convolution with a kernel full of zeros (a
# bed-of-nails kernel), which we check. Then we count: how many layers reach a receptive
# field of 200 pixels, with and without dilation, and what that costs in memory for the
# lecture's 200 channels at 400 × 400?

# %%
torch.manual_seed(5)
xd, wd = torch.randn(1, 1, 9, 9), torch.randn(1, 1, 3, 3)
holey = ref.bed_of_nails(wd, 2)[:, :, :5, :5]  # 3x3 taps spread over 5x5
print("dilation 2 equals a 5x5 kernel with holes:",
      torch.allclose(F.conv2d(xd, wd, dilation=2), F.conv2d(xd, holey), atol=1e-6))
rates = []
while receptive_field([(2 * d + 1, 1) for d in rates]) < 200:
    rates.append(2 ** len(rates))  # dilations 1, 2, 4, ...
rf_dilated = receptive_field([(2 * d + 1, 1) for d in rates])
print(f"3x3 layers with dilations {rates}: receptive field {rf_dilated} with {len(rates)} layers "
      f"(ordinary 3x3: {rf_layers} layers)")
print(f"activation memory at 200 channels, 400x400, batch 20: "
      f"{activation_bytes(200, 400, 400, layers=len(rates), batch=20) / 2**30:.1f} GiB instead of "
      f"{stack / 2**30:.1f} GiB")

# %% [markdown]
# Dilation has its own artefact. If all layers use the same rate, the taps of the
# stack only ever touch a sparse grid of input pixels (the "gridding" problem). The figure
# shows which input pixels influence the central output pixel of three stacked 3 × 3
# convolutions (with all weights 1), computed as the gradient of that output with respect
# to the input. Rates (2, 2, 2) leave holes; rates (1, 2, 4) cover a 15 × 15 square
# without gaps, which is why good designs vary the rates.

# %%
def influence(dilations, size=19):
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    out = x
    for d in dilations:
        out = F.conv2d(out, torch.ones(1, 1, 3, 3), padding=d, dilation=d)
    out[0, 0, size // 2, size // 2].backward()
    return x.grad[0, 0]


fig, axes = plt.subplots(1, 3, figsize=(10, 4))
for ax, dil in zip(axes, [(1, 1, 1), (2, 2, 2), (1, 2, 4)]):
    footprint = influence(dil)
    ax.imshow(footprint > 0, cmap="Greys")
    ax.set_title(f"dilations {dil}: {int((footprint > 0).sum())} input pixels\n"
                 f"receptive field {receptive_field([(2 * d + 1, 1) for d in dil])}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])  # keep the frame: it marks the 19 x 19 input
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Architectures
#
# ### FCN: a classifier made fully convolutional
#
# Long, Shelhamer and Darrell (2015) observed that a classification network is almost a
# segmentation network already. Its fully connected layers are the only part that needs a
# fixed input size, and a fully connected layer applied to a $C \times 1 \times 1$ feature
# vector is the same as a 1 × 1 convolution. (The first one, on a $512 \times 7 \times 7$
# map in VGG, becomes a 7 × 7 convolution; the later ones become 1 × 1 convolutions.)
# Convert them, feed a larger image, and the network outputs a *grid* of class scores,
# one per position of its receptive field: as if the classifier were slid over the
# image, but with all the shared computation done once. Upsample that coarse grid to the
# input size (bilinearly, or with a learned transposed convolution) and you have a
# segmentation. The output stride of a VGG is 32, so the "FCN-32s" predictions are
# blocky; FCN-16s and FCN-8s add score maps from earlier, finer layers to recover detail,
# an early form of the skip connections below.
#
# Both facts are quick to check: a linear layer applied at every pixel is a 1 × 1
# convolution with the same weights, and the course's `FCN` (an encoder of
# `UNetBlock`s and poolings, a 1 × 1 head, bilinear upsampling) works on any size that its
# poolings divide.

# %%
torch.manual_seed(6)
linear = nn.Linear(16, NUM_CLASSES)
features = torch.randn(2, 16, 8, 8)
as_conv = nn.Conv2d(16, NUM_CLASSES, kernel_size=1)
as_conv.weight.data = linear.weight.data.reshape(NUM_CLASSES, 16, 1, 1)  # [K, C] -> [K, C, 1, 1]
as_conv.bias.data = linear.bias.data
per_pixel = linear(features.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # [N, H, W, C] -> [N, K, H, W]
print("Linear at every pixel equals a 1x1 convolution:", torch.allclose(per_pixel, as_conv(features), atol=1e-6))
fcn_demo = FCN(NUM_CLASSES, width=8, depth=3)
for size in (32, 48, 64):
    print(f"FCN on {size}x{size}: output {tuple(fcn_demo(torch.zeros(1, 3, size, size)).shape)}, "
          f"score grid before upsampling {size // 8}x{size // 8}")

# %% [markdown]
# ### Bottlenecks and autoencoders
#
# An encoder–decoder whose middle is much smaller than its ends is a **bottleneck**
# architecture. Trained to reproduce its input, $\min \lVert D(E(x)) - x \rVert$, it is an
# **autoencoder**, and the small middle (the *latent code*) must summarise the image
# (section 6 trains one briefly). For segmentation the bottleneck is
# where the context lives: a pixel of the 1/8- or 1/32-resolution map has a receptive
# field large enough to tell a star from a circle. But the same smallness is the problem.
# The decoder has to draw sharp boundaries from a coarse code, and information that was
# discarded on the way down cannot be recovered by any upsampling: we saw above that
# downsampling and upsampling an image loses its edges.
#
# Where exactly is the loss? The lost part is the image minus its blurred version: the
# *high frequencies*, edges and fine texture. The figure splits a scene into the part
# that survives 4× and 8× downsampling followed by bilinear upsampling, and the rest. The
# rest is what a decoder would have to invent, and the printout measures how much of it
# sits on the pixels along object boundaries.

# %%
sem = scene_target["semantic"]
edge = torch.zeros_like(sem, dtype=torch.bool)  # pixels with a 4-neighbour of another class
edge[:, 1:] |= sem[:, 1:] != sem[:, :-1]
edge[:, :-1] |= sem[:, 1:] != sem[:, :-1]
edge[1:] |= sem[1:] != sem[:-1]
edge[:-1] |= sem[1:] != sem[:-1]
centred = scene - scene.mean(dim=(1, 2), keepdim=True)
panels, titles = [scene], ["scene"]
for factor in (2, 4, 8):
    low = ref.bilinear_upsample(F.avg_pool2d(scene[None], factor), factor)[0]  # what survives the bottleneck
    lost = ((scene - low) ** 2).sum(dim=0)  # [H, W] energy of what does not
    print(f"{factor}x down and up: {float(lost.sum() / (centred ** 2).sum()):.0%} of the scene's variance is lost; "
          f"{float(lost[edge].sum() / lost.sum()):.0%} of the loss sits on the {float(edge.double().mean()):.0%} "
          f"of pixels at object boundaries")
    if factor > 2:
        panels += [low.clamp(0, 1), ((scene - low).abs() * 3).clamp(0, 1)]
        titles += [f"{factor}x down + bilinear up", f"lost at {factor}x (x3)"]
fig = show_images(torch.stack(panels), titles=titles, ncols=5, figsize=(13, 3.0))
plt.show()

# %% [markdown]
# ### U-Net: skip connections bring the detail back
#
# U-Net (Ronneberger, Fischer and Brox, 2015) keeps the encoder–decoder but adds a
# shortcut at every resolution. The encoder's output at each level, *before* pooling, is
# copied across and **concatenated** (along the channel axis) with the decoder's
# upsampled features of the same size. A decoder block then sees two kinds of
# information at once: from below, coarse but context-rich features that say *what* is
# here; from the side, fine features from an early layer that still know *where* exactly
# every edge is, the high frequencies that the bottleneck threw away. Two 3 × 3
# convolutions merge them. The architecture draws a U: down on the left, up on the right,
# horizontal skips in between.
#
# U-Net's skips are not residual connections. A residual connection *adds* a block's
# input to its output (ResNet); U-Net *concatenates* encoder features to decoder
# features, which doubles the channels entering each decoder block and lets the
# convolution decide how to mix them. (And FCN stands for fully *convolutional* network,
# not fully connected.)
#
# The course's `UNet` (in `course_utils.models`) has `depth` levels below the top. The
# top `UNetBlock` maps the image to `base` channels at full size; each level down pools
# 2 × 2 and doubles the channels. Each level up is a 2 × 2, stride-2 transposed convolution
# that halves the channels (its stamps do not overlap, so there is no uneven ink; the
# two 3 × 3 convolutions that follow smooth what phase differences remain), a concatenation with the skip
# of that level, and a `UNetBlock` (two 3 × 3 convolutions with batch norm and ReLU, 'same'
# padding so sizes are kept; the original paper used unpadded convolutions and cropped
# the skips). A 1 × 1 convolution makes the class scores.

# %% [markdown]
# ### Exercise 7: the shapes inside a U-Net (3 points)
#
# Implement `unet_block_shapes(height, width, base=16, depth=3)`: for the course's
# `UNet(num_classes, in_channels=3, base=base, depth=depth)` on an input of size
# `height × width`, return a dict with three lists of `(channels, height, width)` triples
# of ints (tuples or lists):
#
# * `"encoder"`: the outputs of the `depth + 1` encoder blocks, from the top (full
#   resolution) to the bottleneck;
# * `"concat"`: the `depth` concatenated tensors that enter the decoder blocks, in the
#   order they are computed (from the bottom up);
# * `"decoder"`: the outputs of the `depth` decoder blocks, in the same order.
#
# Raise `ValueError` if `height` or `width` is not divisible by $2^\text{depth}$. Work it out
# from the description above; don't run the network.

# %% nbgrader={"grade": false, "grade_id": "unet_shapes", "locked": false, "schema_version": 3, "solution": true}
def unet_block_shapes(height, width, base=16, depth=3):
    """Shapes (C, H, W) of the encoder outputs, decoder inputs (concatenated) and decoder outputs of a UNet."""
    ### BEGIN SOLUTION
    if height % 2**depth or width % 2**depth:
        raise ValueError(f"height and width ({height}, {width}) must be divisible by 2^{depth}")
    level_shape = [(base * 2**lv, height // 2**lv, width // 2**lv) for lv in range(depth + 1)]
    encoder = list(level_shape)
    concat = [(2 * level_shape[lv][0],) + level_shape[lv][1:] for lv in reversed(range(depth))]
    decoder = [level_shape[lv] for lv in reversed(range(depth))]
    return {"encoder": encoder, "concat": concat, "decoder": decoder}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_unet_shapes", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def unet_shapes_by_running(height, width, base, depth):
    """The same shapes, measured with forward hooks on the course's UNet."""
    net = UNet(NUM_CLASSES, base=base, depth=depth)
    seen = {"encoder": [], "concat": [], "decoder": []}
    hooks = []
    for name, blocks in (("encoder", [net.inc, *net.down]), ("decoder", list(net.dec))):
        for block in blocks:
            hooks.append(block.register_forward_hook(lambda m, i, o, name=name: seen[name].append(tuple(o.shape[1:]))))
    for block in net.dec:
        hooks.append(block.register_forward_pre_hook(lambda m, i: seen["concat"].append(tuple(i[0].shape[1:]))))
    with torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    for h in hooks:
        h.remove()
    return seen


got_shapes = unet_block_shapes(32, 32, base=8, depth=2)
assert isinstance(got_shapes, dict) and set(got_shapes) == {"encoder", "concat", "decoder"}, (
    f"unet_block_shapes should return a dict with keys 'encoder', 'concat', 'decoder', got {got_shapes!r}"[:300])
measured = unet_shapes_by_running(32, 32, base=8, depth=2)
for key in ("encoder", "concat", "decoder"):
    assert len(got_shapes[key]) == len(measured[key]), (
        f"unet_block_shapes(32, 32, base=8, depth=2)[{key!r}] should list {len(measured[key])} shapes, "
        f"got {len(got_shapes[key])}")
    for i, (got, true) in enumerate(zip(got_shapes[key], measured[key])):
        expect_equal(got, true, f"unet_block_shapes(32, 32, base=8, depth=2)[{key!r}][{i}]", integer=True)
expect_raises(lambda: unet_block_shapes(30, 32, base=8, depth=2), ValueError,
              "unet_block_shapes(30, 32, depth=2) (30 is not divisible by 4)")
### BEGIN HIDDEN TESTS
for _h_cfg in [(64, 48, 16, 3), (16, 32, 4, 1), (32, 96, 6, 4), (8, 24, 3, 3)]:
    with forbid(UNet.forward, UNetBlock.forward, exercise="unet_block_shapes"):
        _h_got = unet_block_shapes(*_h_cfg)
    _h_true = unet_shapes_by_running(*_h_cfg)
    for _h_key in ("encoder", "concat", "decoder"):
        expect_equal(_h_got[_h_key], _h_true[_h_key], f"unet_block_shapes{_h_cfg}[{_h_key!r}]", integer=True)
expect_raises(lambda: unet_block_shapes(64, 60, 16, 3), ValueError, "unet_block_shapes(64, 60, depth=3)")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: the U-Net forward pass (4 points)
#
# Now write the forward pass itself; section 6 then trains the U-Net through *your*
# function. Implement `unet_forward(net, x)` for a course `UNet` `net` (any `depth`,
# any `base`) and a batch `x` of shape `[N, in_channels, H, W]` with `H` and `W`
# divisible by $2^\text{depth}$ and the dtype and device of `net`'s parameters. Use the
# modules `net` already has, so its weights are the ones trained:
#
# * `net.inc`: the top block, at full resolution;
# * `net.pool` then `net.down[i]`, for `i = 0, ..., depth - 1`: one level down each time;
#   the input of each of these steps (before pooling) is the **skip** of its level;
# * for `i = depth - 1` down to `0`: `net.up[i]` (the transposed convolution), then the
#   concatenation along the channel axis with **the skip first**,
#   `torch.cat([skip_i, upsampled], dim=1)` (the weights of `net.dec[i]` expect that
#   order), then `net.dec[i]`;
# * `net.head`: the 1 × 1 convolution to the class scores.
#
# Return the scores `[N, num_classes, H, W]`. The tests compare your output and the
# gradients it gives every parameter with the course's `UNet.forward` on the same
# network (in training mode, where batch norm uses the batch's statistics, and in
# evaluation mode); calling `net(x)` or `UNet.forward` scores no points.

# %% nbgrader={"grade": false, "grade_id": "unet_forward", "locked": false, "schema_version": 3, "solution": true}
def unet_forward(net, x):
    """Class scores [N, num_classes, H, W] of the course's UNet `net` on x [N, C, H, W], skips concatenated."""
    ### BEGIN SOLUTION
    x = net.inc(x)  # [N, base, H, W]
    skips = []
    for block in net.down:
        skips.append(x)  # the skip of this level, before pooling
        x = block(net.pool(x))  # [N, 2c, h/2, w/2]
    for i in reversed(range(len(net.up))):
        x = net.up[i](x)  # [N, c, 2h, 2w]
        x = torch.cat([skips[i], x], dim=1)  # [N, 2c, 2h, 2w]: skip first
        x = net.dec[i](x)  # [N, c, 2h, 2w]
    return net.head(x)  # [N, num_classes, H, W]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_unet_forward", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# validity: dtype-stated
import copy


def compare_unet_forward(net, x, what, train=True):
    """Your unet_forward and UNet.forward on two copies of `net`: outputs, then gradients of every parameter."""
    mine, theirs = copy.deepcopy(net).train(train), copy.deepcopy(net).train(train)
    weight = torch.linspace(-1, 1, net.head.out_channels * x.shape[-2] * x.shape[-1], dtype=x.dtype)
    weight = weight.reshape(1, net.head.out_channels, x.shape[-2], x.shape[-1])
    expected = UNet.forward(theirs, x.clone())
    with forbid(UNet.forward, exercise="unet_forward"):  # net(x) would run the course's forward
        got = unet_forward(mine, x.clone())
    expect_tensor(got, f"unet_forward's output ({what})", shape=tuple(expected.shape), dtype=expected.dtype)
    tol = 1e-4 if x.dtype == torch.float32 else 1e-9
    expect_close(got, expected.detach(), f"unet_forward's output ({what})", atol=tol, rtol=tol)
    (got * weight).sum().backward()
    (expected * weight).sum().backward()
    for (name, p_mine), p_theirs in zip(mine.named_parameters(), theirs.parameters()):
        assert p_mine.grad is not None, f"unet_forward ({what}): no gradient reaches {name} (is it used?)"
        expect_close(p_mine.grad, p_theirs.grad, f"gradient of {name} ({what})", atol=tol, rtol=tol)


torch.manual_seed(0)
small_net = UNet(num_classes=4, in_channels=3, base=4, depth=2)
small_x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
compare_unet_forward(small_net, small_x, "UNet(4, base=4, depth=2) on [2, 3, 16, 16], training mode")
compare_unet_forward(small_net, small_x, "the same in evaluation mode", train=False)
### BEGIN HIDDEN TESTS
_h_rng_state = torch.manual_seed(17)  # the hidden networks
for _h_net, _h_shape in [(UNet(num_classes=3, in_channels=1, base=3, depth=3), (3, 1, 16, 40)),
                         (UNet(num_classes=2, in_channels=2, base=5, depth=1), (1, 2, 6, 4)),
                         (UNet(num_classes=6, in_channels=3, base=2, depth=4), (2, 3, 32, 16))]:
    _h_x = torch.randn(*_h_shape, generator=torch.Generator().manual_seed(2))
    compare_unet_forward(_h_net, _h_x, f"depth {_h_net.depth} on {list(_h_shape)}")
    compare_unet_forward(_h_net.double(), _h_x.double(), f"depth {_h_net.depth}, float64, evaluation mode",
                         train=False)
### END HIDDEN TESTS

# %% [markdown]
# ### DeepLab and HRNet, as ideas
#
# Two later families attack the same tension between context and resolution in other
# ways. We describe them without building them.
#
# **DeepLab** (Chen et al., 2015–2018) starts from a classification backbone (a ResNet),
# removes the strides of its last stages and replaces the lost receptive field with
# dilated convolutions, so the features end at 1/8 or 1/16 of the input instead of 1/32.
# On top sits **atrous spatial pyramid pooling (ASPP)**: several parallel 3 × 3
# convolutions with different dilation rates (6, 12 and 18 at output stride 16), plus a 1 × 1
# convolution and a global-average-pooled image feature, concatenated and mixed by a 1 × 1
# convolution. Each branch looks at the same position with a different field of view, so
# objects of different sizes find a matching branch. DeepLabv3+ adds a light decoder with
# one skip from an early layer, borrowing U-Net's idea. (ASPP is named after SPP-net's
# *spatial pyramid pooling*, which pools a feature map into fixed grids for
# classification, but it uses dilated convolutions, not pooling bins.) The receptive fields of the ASPP branches, measured in
# input pixels, at output stride 16:

# %%
for rate in (1, 6, 12, 18):
    span = rate * (3 - 1) + 1  # feature-map pixels covered by one dilated 3x3
    print(f"3x3 with rate {rate:2d}: {span:2d} feature pixels wide = {span * 16:3d} input pixels (at output stride 16)")

# %% [markdown]
# **HRNet** (Sun et al., 2019; Wang et al., 2020) refuses to lose the resolution in the first
# place. It keeps a high-resolution stream (1/4 of the input) through the whole network and
# adds streams at 1/8, 1/16 and 1/32 in parallel as it goes deeper. Repeatedly, every
# stream exchanges information with all the others: lower resolutions are upsampled
# (bilinear + 1 × 1 convolution) and added to higher ones, higher resolutions are
# downsampled by strided 3 × 3 convolutions and added to lower ones. The final head
# upsamples and concatenates all streams. Where U-Net goes down and then recovers detail
# through skips, HRNet never gives the detail away, at the price of running convolutions
# at high resolution all the time. It is the standard backbone for pose estimation, where
# keypoints must be located to the pixel.
#
# ## 5. How to score a segmentation
#
# Every pixel is classified, so the natural summary is the **confusion matrix** $M$ of
# size $K \times K$: $M[t, p]$ counts the pixels whose true class is $t$ and predicted class
# is $p$ (rows = truth, columns = prediction, the convention of scikit-learn and of
# `course_utils.metrics.segmentation`). Everything else is computed from $M$:
#
# * **pixel accuracy** $= \sum_c M[c, c] / \sum_{t, p} M[t, p]$, the fraction of pixels
#   classified correctly;
# * for each class $c$: true positives $TP_c = M[c, c]$, false negatives
#   $FN_c = \sum_p M[c, p] - TP_c$ (row sum minus diagonal), false positives
#   $FP_c = \sum_t M[t, c] - TP_c$ (column sum minus diagonal), and the **intersection
#   over union** $\text{IoU}_c = TP_c / (TP_c + FP_c + FN_c)$: the overlap of the predicted
#   and the true region of class $c$, divided by their union;
# * **mean IoU (mIoU)**: the mean of $\text{IoU}_c$ over the classes.
#
# Pixel accuracy is dominated by the largest class. In our scenes about four pixels in
# five are background (section 1 printed the share), so a network that predicts
# "background" everywhere scores about 80 % pixel accuracy while finding no object at all.
# Its mIoU gives it away: background IoU equals the background share, every other class
# has IoU 0, so the mean is that share divided by 6 (section 6 prints the numbers). IoU
# punishes both missing pixels and extra pixels of each class, and the mean gives every
# class the same weight, however small. That is why mIoU is the headline number of
# PASCAL VOC, Cityscapes and ADE20K.
#
# **Classes that do not occur.** When a class is absent from both the ground truth and
# the prediction, $TP + FP + FN = 0$ and its IoU is $0/0$. Counting it as 0 would punish a
# network for a class it could not have found; counting it as 1 would reward it for
# nothing. **In this course, such a class has IoU NaN (undefined) and is left out of the
# mean**: mIoU averages only over the classes that occur in the ground truth or in the
# prediction. A class that is predicted but absent from the ground truth has
# $TP = 0$, $FP > 0$, so IoU 0, and it does count. If no class occurs at all (an empty
# input), mIoU is NaN. We also accumulate *one* confusion matrix over the whole
# evaluation set before computing IoU (the VOC convention), rather than averaging
# per-image scores; this way a small class absent from most images is not a constant
# source of NaNs.

# %% [markdown]
# ### Exercise 9: the confusion matrix (3 points)
#
# Implement `confusion_matrix(pred, target, num_classes)`: `pred` and `target` are integer
# tensors of the same shape (any shape, e.g. `[N, H, W]`) with values in
# `[0, num_classes)`. Return a `[num_classes, num_classes]` int64 tensor with
# `cm[t, p]` = the number of pixels with target `t` and prediction `p`. Raise `ValueError`
# if the shapes differ. A loop over pixels is correct but slow; one `torch.bincount` of
# `t * num_classes + p` does it all at once (mind its `minlength`).

# %% nbgrader={"grade": false, "grade_id": "confusion", "locked": false, "schema_version": 3, "solution": true}
def confusion_matrix(pred, target, num_classes):
    """Confusion matrix Tensor[K, K] int64, rows = target class, columns = predicted class."""
    ### BEGIN SOLUTION
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {list(pred.shape)} and {list(target.shape)}")
    flat = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()  # [P] row-major cell of each pixel
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_confusion", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
toy_target = torch.tensor([[0, 0, 1], [1, 2, 2]])
toy_pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
toy_cm = confusion_matrix(toy_pred, toy_target, 3)
_ = expect_tensor(toy_cm, "confusion_matrix(toy_pred, toy_target, 3)", shape=(3, 3), dtype=torch.int64)
assert int(toy_cm.sum()) == 6, f"the confusion matrix should count all 6 pixels, its entries sum to {int(toy_cm.sum())}"
assert int(toy_cm[0, 1]) == 1, (f"one pixel has target 0 and prediction 1, but cm[0, 1] = {int(toy_cm[0, 1])}; "
                                "rows are the target, columns the prediction")
assert int(toy_cm[2, 0]) == 1, f"one pixel has target 2 and prediction 0, but cm[2, 0] = {int(toy_cm[2, 0])}"
torch.manual_seed(7)
rand_target, rand_pred = torch.randint(0, 4, (3, 8, 8)), torch.randint(0, 4, (3, 8, 8))
expect_close(confusion_matrix(rand_pred, rand_target, 4), segm.confusion_matrix(rand_pred, rand_target, 4),
             "confusion_matrix on random [3, 8, 8] label maps with 4 classes")
expect_raises(lambda: confusion_matrix(rand_pred[:2], rand_target, 4), ValueError,
              "confusion_matrix with shapes [2, 8, 8] and [3, 8, 8]")
expect_raises(lambda: confusion_matrix(rand_pred.reshape(8, 3, 8), rand_target, 4), ValueError,
              "confusion_matrix with shapes [8, 3, 8] and [3, 8, 8] (as many pixels, but not the same shape)")
### BEGIN HIDDEN TESTS
import torchmetrics.functional.classification as _h_tmf

_h_forbidden = (segm.confusion_matrix, segm.confusion_matrix_loop, segm.segmentation_metrics,
                "sklearn.metrics.confusion_matrix", _h_tmf.multiclass_confusion_matrix)
_h_g = torch.Generator().manual_seed(8)
_h_t = torch.randint(0, 6, (4, 16, 16), generator=_h_g)
_h_p = torch.where(torch.rand(4, 16, 16, generator=_h_g) < 0.7, _h_t, torch.randint(0, 6, (4, 16, 16), generator=_h_g))
_h_p[_h_p == 5] = 4  # class 5 is never predicted
with forbid(*_h_forbidden, exercise="confusion_matrix"):
    _h_cm = confusion_matrix(_h_p, _h_t, 7)  # class 6 occurs nowhere: its row and column must be zero
    _h_cm_flat = confusion_matrix(_h_p.flatten(), _h_t.flatten(), 7)
    _h_cm_small = confusion_matrix(torch.tensor([1]), torch.tensor([1]), 3)
_ = expect_tensor(_h_cm, "confusion_matrix output", shape=(7, 7), dtype=torch.int64)
expect_close(_h_cm, _h_tmf.multiclass_confusion_matrix(_h_p.flatten(), _h_t.flatten(), 7),
             "confusion_matrix with 7 classes, some never predicted or absent")
expect_close(_h_cm_flat, _h_cm, "confusion_matrix on flattened maps")
expect_close(_h_cm_small, torch.tensor([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "confusion_matrix of a single pixel")
_ = expect_tensor(_h_cm_small, "confusion_matrix of a single pixel", dtype=torch.int64)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10: scores from the confusion matrix (4 points)
#
# Implement `segmentation_scores(cm)` for a `[K, K]` confusion matrix (rows = target).
# Return a dict with
#
# * `"pixel_accuracy"`: a number (a Python `float`, or a 0-d tensor);
# * `"per_class_iou"`: a float64 tensor `[K]`, NaN for classes absent from both target and
#   prediction;
# * `"mean_iou"`: a number, the mean over the classes whose IoU is not NaN (NaN if there is
#   none).
#
# An all-zero matrix (no pixels at all) has no accuracy either: its `"pixel_accuracy"`,
# like its `"mean_iou"`, is NaN, and every class's IoU is NaN.
#
# Convert to float64 before dividing: pixel counts of a whole data set are large, and
# integer division would truncate.

# %% nbgrader={"grade": false, "grade_id": "miou", "locked": false, "schema_version": 3, "solution": true}
def segmentation_scores(cm):
    """Pixel accuracy, per-class IoU (NaN = class absent from target and prediction) and mIoU of a [K, K] cm."""
    ### BEGIN SOLUTION
    counts = cm.double()
    tp = counts.diagonal()  # [K]
    union = counts.sum(dim=0) + counts.sum(dim=1) - tp  # [K] TP + FP + FN
    iou = tp / union  # 0 / 0 -> NaN exactly for the absent classes
    present = ~torch.isnan(iou)
    mean = float(iou[present].mean()) if bool(present.any()) else float("nan")
    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou, "mean_iou": mean}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_miou", "locked": true, "points": 4, "schema_version": 3, "solution": false}
def expect_iou(actual, expected, what):
    """Compare IoU vectors that may contain NaN (NaN must match NaN)."""
    actual = expect_tensor(actual, what, shape=expected.shape)
    assert actual.is_floating_point(), f"{what} should be a floating-point tensor, got {actual.dtype}"
    nan_got, nan_want = torch.isnan(actual), torch.isnan(expected)
    assert torch.equal(nan_got, nan_want), (f"{what}: NaN (absent class) at classes {nan_got.nonzero().flatten().tolist()}"
                                            f", expected at {nan_want.nonzero().flatten().tolist()}")
    expect_close(actual[~nan_want], expected[~nan_want], f"{what} (classes that occur)")


# The toy example of exercise 9, written out (this test does not depend on your confusion_matrix).
toy_matrix = torch.tensor([[1, 1, 0], [0, 2, 0], [1, 0, 1]])  # rows = target, columns = prediction
toy_scores = segmentation_scores(toy_matrix)
assert isinstance(toy_scores, dict), f"segmentation_scores should return a dict, got {type(toy_scores).__name__}"
expect_equal(toy_scores.get("pixel_accuracy"), 4 / 6, "pixel_accuracy of the toy example (4 of its 6 pixels are right)")
expect_iou(toy_scores["per_class_iou"], segm.per_class_iou(toy_matrix), "per_class_iou of the toy example")
expect_equal(toy_scores.get("mean_iou"), float(segm.mean_iou(toy_matrix)), "mean_iou of the toy example")
# Class 3 occurs in neither target nor prediction: NaN, and left out of the mean.
cm_absent = torch.tensor([[5, 1, 0, 0], [2, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
cm_absent[1, 2] = 1  # class 2 is predicted once but never true: IoU 0, and it counts
scores_absent = segmentation_scores(cm_absent)
expect_iou(scores_absent["per_class_iou"], segm.per_class_iou(cm_absent), "per_class_iou with absent classes")
expect_equal(scores_absent["mean_iou"], float(segm.mean_iou(cm_absent)),
             "mean_iou with class 3 absent and class 2 only predicted (average over the classes whose IoU is not NaN)")
# An all-zero matrix: no pixels, so pixel accuracy is 0 / 0 as well: NaN, like the mean IoU.
try:
    scores_empty = segmentation_scores(torch.zeros(3, 3, dtype=torch.int64))
except ZeroDivisionError as err:
    raise AssertionError(f"segmentation_scores of an all-zero confusion matrix raised ZeroDivisionError ({err}); "
                         "with no pixels, pixel_accuracy is 0/0: return NaN (float('nan'))") from None
expect_equal(scores_empty["pixel_accuracy"], float("nan"), "pixel_accuracy of an all-zero confusion matrix")
expect_equal(scores_empty["mean_iou"], float("nan"), "mean_iou of an all-zero confusion matrix")
expect_iou(scores_empty["per_class_iou"], torch.full((3,), float("nan"), dtype=torch.float64),
           "per_class_iou of an all-zero confusion matrix")
### BEGIN HIDDEN TESTS
from torchmetrics.classification import MulticlassJaccardIndex as _h_Jaccard

_h_forbidden = (segm.per_class_iou, segm.mean_iou, segm.pixel_accuracy, segm.segmentation_metrics,
                "torchmetrics.functional.classification.multiclass_jaccard_index",
                "torchmetrics.functional.classification.multiclass_accuracy")
_h_g = torch.Generator().manual_seed(9)
_h_t = torch.randint(0, 5, (3, 20, 20), generator=_h_g)
_h_p = torch.where(torch.rand(3, 20, 20, generator=_h_g) < 0.6, _h_t, torch.randint(0, 5, (3, 20, 20), generator=_h_g))
_h_t[_h_t == 4] = 0  # class 4 never true ...
_h_p[_h_p == 4] = 1  # ... and never predicted: absent
_h_p[0, 0, 0] = 3
_h_cm = segm.confusion_matrix(_h_p, _h_t, 6)  # class 5 absent as well
with forbid(*_h_forbidden, exercise="segmentation_scores"):
    _h_scores = segmentation_scores(_h_cm)
    _h_empty = segmentation_scores(torch.zeros(5, 5, dtype=torch.int64))
    _h_big = segmentation_scores(torch.tensor([[10**9, 3], [7, 2 * 10**9]]))
expect_iou(_h_scores["per_class_iou"], segm.per_class_iou(_h_cm), "per_class_iou (6 classes, 2 absent)")
_h_tm = float(_h_Jaccard(num_classes=6, average="macro")(_h_p.flatten(), _h_t.flatten()))
expect_equal(_h_scores["mean_iou"], _h_tm, "mean_iou (6 classes, 2 absent) compared with torchmetrics")
expect_equal(_h_scores["pixel_accuracy"], float((_h_p == _h_t).double().mean()), "pixel_accuracy (6 classes)")
expect_equal(_h_empty["pixel_accuracy"], float("nan"), "pixel_accuracy of a 5 x 5 all-zero matrix")
expect_equal(_h_empty["mean_iou"], float("nan"), "mean_iou of a 5 x 5 all-zero matrix")
expect_iou(_h_empty["per_class_iou"], torch.full((5,), float("nan"), dtype=torch.float64),
           "per_class_iou of a 5 x 5 all-zero matrix")
expect_equal(_h_big["pixel_accuracy"], 3 * 10**9 / (3 * 10**9 + 10), "pixel_accuracy with counts above 2^31")
expect_iou(_h_big["per_class_iou"], segm.per_class_iou(torch.tensor([[10**9, 3], [7, 2 * 10**9]])),
           "per_class_iou with large counts")
### END HIDDEN TESTS

# %% [markdown]
# The course's `course_utils.metrics.segmentation` implements the same definitions (and
# its tests check them against torchmetrics). A small example shows the three
# conventions side by side: our NaN-mean; counting absent classes as 0, which drags the
# mean down; and torchmetrics' `MulticlassJaccardIndex` (if installed: it comes with the
# course's test extra), which agrees with us on the mean.

# %%
try:  # torchmetrics comes with the course's test extra only; the lab runs without it
    from torchmetrics.classification import MulticlassJaccardIndex
except ImportError:
    MulticlassJaccardIndex = None

demo_target = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1], [0, 2, 2, 0], [0, 2, 2, 0]])
demo_pred = torch.tensor([[0, 0, 1, 1], [0, 0, 0, 1], [0, 2, 2, 0], [0, 2, 3, 0]])
demo_cm = segm.confusion_matrix(demo_pred, demo_target, 5)  # class 3 predicted once, class 4 absent everywhere
demo_iou = segm.per_class_iou(demo_cm)
print("per-class IoU:", [round(v, 3) for v in demo_iou.tolist()])
print(f"mIoU, absent classes left out: {float(segm.mean_iou(demo_cm)):.4f}")
print(f"mIoU, absent classes counted as 0: {float(demo_iou.nan_to_num(0.0).mean()):.4f}")
if MulticlassJaccardIndex is not None:
    print(f"torchmetrics MulticlassJaccardIndex(average='macro'): "
          f"{float(MulticlassJaccardIndex(num_classes=5)(demo_pred.flatten(), demo_target.flatten())):.4f}")
else:
    print("torchmetrics is not installed (pip install torchmetrics): its line is skipped")
print(f"pixel accuracy: {float(segm.pixel_accuracy(demo_cm)):.4f}")

# %% [markdown]
# ## 6. Training an FCN and a U-Net on shapes
#
# Time to see all this at work. We generate training and held-out scenes of 32 × 32
# pixels (different seeds, so no held-out scene was seen in training) and train two
# networks of the course with the same encoder: the `FCN` (no skips: encoder, 1 × 1 head,
# bilinear upsampling from 1/8 resolution) and the `UNet` (the same encoder, a decoder of
# 2 × 2 transposed convolutions with skips). We draw the scenes once and keep them as
# two tensors: drawing a scene costs more than a training step on it (compare the two
# timings printed below), so fresh scenes every epoch would more than double the time.
#
# **A loss that counts classes, not pixels.** The plain pixel-wise cross-entropy treats
# every pixel alike. With about 80 % background, the five shape classes together supply
# a fifth of the terms the loss averages, and what the network finds hardest, telling
# apart the look-alike pairs (a triangle from a star, a circle from a square), rests on a
# few percent of them. mIoU, on the other hand, gives every class the same weight. So we
# weight each pixel's loss by a weight of its true class, larger for rarer classes:
# `F.cross_entropy(logits, target, weight=w)`, with $w_c = \text{share}_c^{-0.75}$. Full
# inverse frequency (power $-1$) tends to overshoot: the rare classes then spill over
# their boundaries, which costs background IoU; a power between 0.5 and 1 is the usual
# compromise. With `weight`, PyTorch's mean divides by the summed weights of the pixels in
# the batch, so the loss stays a weighted *average* and the scale of $w$ does not matter.
#
# Both networks are trained with AdamW and a one-cycle learning-rate schedule (warm up,
# then anneal), the U-Net for 12 epochs and the FCN for only 4. The FCN is here to show
# what a network without skips loses, and what limits it is its coarse 4 × 4 grid of
# scores rather than training time: the error analysis at the end of this section finds
# its errors piled up along the object boundaries. The budgets are set for well under a
# minute of training on one CPU core; in quick mode (`DLCV_QUICK=1`) they shrink to a
# single epoch on 16 scenes, and the numbers are then meaningless.

# %%
N_TRAIN = budget(full=1000, quick=16)
N_VAL = budget(full=200, quick=16)
EPOCHS = budget(full=12, quick=1)  # U-Net
FCN_EPOCHS = budget(full=4, quick=1)  # the FCN only has to show what is lost without skips
BATCH = 16
WIDTH = 8  # channels of the first stage of both networks
CLASS_WEIGHT_POWER = 0.75  # w_c = share_c ** -0.75: between no weighting (0) and inverse frequency (1)


def scenes_to_tensors(dataset):
    """Stack a ShapesScenes into images [N, 3, H, W] and semantic label maps [N, H, W]."""
    images, labels = zip(*[(img, tgt["semantic"]) for img, tgt in (dataset[i] for i in range(len(dataset)))])
    return torch.stack(images), torch.stack(labels)


data_start = time.time()
train_x, train_y = scenes_to_tensors(ShapesScenes(N_TRAIN, seed=0, **SCENE_KW))
val_x, val_y = scenes_to_tensors(ShapesScenes(N_VAL, seed=1, **SCENE_KW))
train_loader = DataLoader(TensorDataset(train_x, train_y), batch_size=BATCH, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
val_loader = DataLoader(TensorDataset(val_x, val_y), batch_size=256)
class_share = torch.bincount(train_y.flatten(), minlength=NUM_CLASSES).double() / train_y.numel()
# clamp: in quick mode a class may be missing from the 16 scenes, and 0 ** -0.75 is infinite
class_weight = (class_share.clamp(min=1e-3) ** -CLASS_WEIGHT_POWER).float()
class_weight = class_weight / class_weight.min()  # background = 1, for readability only
print(f"{N_TRAIN} training and {N_VAL} held-out scenes built in {time.time() - data_start:.1f} s")
print("share of pixels per class:", {name: round(float(v), 3) for name, v in zip(SHAPE_CLASSES, class_share)})
print("loss weight per class:    ", {name: round(float(v), 2) for name, v in zip(SHAPE_CLASSES, class_weight)})


def weighted_cross_entropy(logits, target):
    """Pixel-wise cross-entropy, each pixel weighted by class_weight of its true class."""
    return F.cross_entropy(logits, target, weight=class_weight.to(logits.device))


def pixel_accuracy_metric(logits, target):
    return (logits.argmax(dim=1) == target).double().mean()


def miou_metric(logits, target):
    """mIoU of one batch (the validation loader has a single batch, so this is the set's mIoU)."""
    return segm.mean_iou(segm.confusion_matrix(logits.argmax(dim=1), target, NUM_CLASSES))


def train_segmenter(model, epochs=EPOCHS, lr=5e-3):
    # channels_last stores the channels of each pixel together, the layout that the CPU's
    # convolution kernels (oneDNN) prefer: the same computation, noticeably faster here.
    model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))
    return fit(model, weighted_cross_entropy, train_loader, val_loader, epochs=epochs, optimizer=optimizer,
               scheduler=schedule, scheduler_step="batch", device=device,
               metrics={"pixel_acc": pixel_accuracy_metric, "miou": miou_metric})


# %%
SEED = 0  # change it to see how much the results vary from run to run
seed_everything(SEED)
train_loader.generator.manual_seed(SEED)  # both networks see the batches in the same order
fcn = FCN(NUM_CLASSES, width=WIDTH, depth=3)
train_start = time.time()
fcn_history = train_segmenter(fcn, epochs=FCN_EPOCHS)
fcn_seconds = time.time() - train_start


class StudentUNet(UNet):
    """The course's UNet (same modules, same initial weights), run by your unet_forward of exercise 8."""

    def forward(self, x):
        return unet_forward(self, x)


try:  # a tiny probe: is exercise 8 written yet?
    unet_forward(UNet(NUM_CLASSES, base=2, depth=1).eval(), torch.zeros(1, 3, 2, 2))
    unet_class = StudentUNet
    print("The U-Net below is trained through your unet_forward.")
except NotImplementedError:
    unet_class = UNet
    print("unet_forward (exercise 8) is not written yet: the U-Net below runs the course's UNet.forward.")
seed_everything(SEED)
train_loader.generator.manual_seed(SEED)
unet = unet_class(NUM_CLASSES, base=WIDTH, depth=3)
train_start = time.time()
unet_history = train_segmenter(unet)
unet_seconds = time.time() - train_start
print(f"FCN: {count_parameters(fcn):,} parameters, trained in {fcn_seconds:.0f} s; "
      f"U-Net: {count_parameters(unet):,} parameters, trained in {unet_seconds:.0f} s")

# %%
fig = plot_history(unet_history, metrics=["loss", "miou"])
fig.suptitle("U-Net training", fontsize=10)
plt.show()
fig = plot_history(fcn_history, metrics=["loss", "miou"])
fig.suptitle("FCN training", fontsize=10)
plt.show()

# %% [markdown]
# Now the held-out scores, computed from one confusion matrix per model over all
# held-out pixels, exactly as defined in section 5:

# %%
def predict(model, images):
    model.eval()
    with torch.no_grad():
        return model(images.to(device)).argmax(dim=1).cpu()  # [N, H, W] labels


fcn_pred, unet_pred = predict(fcn, val_x), predict(unet, val_x)
results = {name: segm.segmentation_metrics(pred, val_y, NUM_CLASSES) for name, pred in
           (("FCN", fcn_pred), ("U-Net", unet_pred))}
print(f"{'':8s}{'pixel acc':>10s}{'mIoU':>8s}  " + "".join(f"{c[:8]:>9s}" for c in SHAPE_CLASSES))
for name, m in results.items():
    print(f"{name:8s}{float(m['pixel_accuracy']):10.3f}{float(m['mean_iou']):8.3f}  "
          + "".join(f"{v:9.3f}" for v in m["per_class_iou"].tolist()))
all_background = segm.segmentation_metrics(torch.zeros_like(val_y), val_y, NUM_CLASSES)
print(f"{'all bg':8s}{float(all_background['pixel_accuracy']):10.3f}{float(all_background['mean_iou']):8.3f}"
      "   <- predicting background everywhere")
unet_miou = float(results["U-Net"]["mean_iou"])
fcn_miou = float(results["FCN"]["mean_iou"])
report("fcn_miou", fcn_miou)
report("unet_miou", unet_miou, target=0.85)

# %% [markdown]
# The "all background" line is the trap of pixel accuracy made concrete: a high accuracy
# for a useless prediction, and an mIoU that gives it away. The confusion matrix of the
# U-Net (rows normalised, so the diagonal is the per-class recall) shows which classes
# it still confuses:

# %%
fig = plot_confusion_matrix(results["U-Net"]["confusion_matrix"], class_names=SHAPE_CLASSES, normalize=True)
fig.axes[0].set_title("U-Net on held-out scenes (row-normalised)", fontsize=9)
plt.show()

# %% [markdown]
# ### Where the FCN loses detail
#
# Look at the predictions next to the ground truth. The FCN's scores are computed at 1/8
# resolution (a 4 × 4 grid for a 32 × 32 image) and bilinearly upsampled: it finds the
# objects and mostly names them right, but it can only paint a few coarse, straight-edged
# regions per object. Corners of squares and the tips of stars are lost, and the ring's
# hole vanishes. Because our loss weights the rare classes up, a grid cell that is partly
# object tends to be painted as object entirely, so the FCN errs on the generous side:
# compare its pixel accuracy in the table above with the all-background line. The
# U-Net's skips deliver the full-resolution encoder features to the last decoder block,
# and its boundaries follow the shapes. The last two columns mark the wrong pixels of each
# network in red.

# %%
classes_in_scene = torch.stack([(val_y == c).flatten(1).any(dim=1) for c in range(1, NUM_CLASSES)]).sum(dim=0)  # [N]
busy = classes_in_scene * val_y[0].numel() + (val_y > 0).flatten(1).sum(dim=1)  # most classes, then most object pixels
show_idx = torch.argsort(busy, descending=True)[:6].tolist()
fig, axes = plt.subplots(len(show_idx), 6, figsize=(12, 2.1 * len(show_idx)))
for row, i in enumerate(show_idx):
    panels = [("image", None), ("ground truth", val_y[i]), ("FCN", fcn_pred[i]), ("U-Net", unet_pred[i])]
    for col, (title, label_map) in enumerate(panels):
        ax = axes[row, col]
        ax.imshow(val_x[i].permute(1, 2, 0).numpy())
        if label_map is not None:
            overlay_mask(ax, label_map, alpha=0.8)
        ax.set_title(title if row == 0 else "", fontsize=9)
    for col, (title, pred) in enumerate([("FCN errors", fcn_pred[i]), ("U-Net errors", unet_pred[i])], start=4):
        ax = axes[row, col]
        ax.imshow(val_x[i].permute(1, 2, 0).numpy() * 0.4 + 0.6)
        wrong = (pred != val_y[i]).float()
        ax.imshow(torch.stack([wrong, torch.zeros_like(wrong), torch.zeros_like(wrong), wrong], dim=-1).numpy())
        ax.set_title(f"{title}" if row == 0 else "", fontsize=9)
        ax.set_xlabel(f"{int(wrong.sum())} wrong px", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# The picture suggests that the difference lives at the boundaries. We can measure it:
# for every held-out pixel, compute its distance to the nearest class boundary of the
# ground truth (0 = on a boundary, growing inwards and outwards), and plot each network's
# error rate against that distance (on a log scale; a missing point means no errors at all).

# %%
def boundary_distance(labels, max_distance=8):
    """Chessboard distance of every pixel to the nearest pixel whose 4-neighbourhood has another class."""
    lab = labels[:, None].double()  # [N, 1, H, W]
    padded = F.pad(lab, (1, 1, 1, 1), mode="replicate")
    neighbours = [padded[..., 1:-1, :-2], padded[..., 1:-1, 2:], padded[..., :-2, 1:-1], padded[..., 2:, 1:-1]]
    edge = torch.stack([n != lab for n in neighbours]).any(dim=0).double()  # [N, 1, H, W]
    dist = torch.full_like(lab, float(max_distance))
    reached = edge
    for d in range(max_distance):
        dist[(reached > 0) & (dist == max_distance)] = d
        reached = F.max_pool2d(reached, 3, stride=1, padding=1)  # grow the boundary by one pixel
    return dist[:, 0].long()  # [N, H, W]


dist = boundary_distance(val_y)
distances = torch.arange(int(dist.max()) + 1)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, pred in (("FCN", fcn_pred), ("U-Net", unet_pred)):
    wrong = pred != val_y
    rate = [float(wrong[dist == d].double().mean()) if bool((dist == d).any()) else float("nan") for d in distances]
    rate = [r if r > 0 else float("nan") for r in rate]  # no errors at all: no point on a log scale
    ax.plot(distances, rate, marker="o", label=name)
ax.set_xlabel("distance to the nearest true boundary (pixels; last point: this far or more)")
ax.set_ylabel("error rate")
ax.set_yscale("log")
ax.grid(alpha=0.3)
ax.legend()
ax.set_title("Errors concentrate at boundaries, much more so without skips", fontsize=9)
fig.tight_layout()
plt.show()
near = dist <= 1
for name, pred in (("FCN", fcn_pred), ("U-Net", unet_pred)):
    wrong = pred != val_y
    print(f"{name}: {float(wrong[near].double().mean()):.1%} of pixels within 1 px of a boundary are wrong, "
          f"{float(wrong[~near].double().mean()):.1%} of the others; "
          f"{float(wrong[near].sum() / wrong.sum().clamp(min=1)):.0%} of its errors are within 1 px of a boundary")

# %% [markdown]
# ### A bottleneck on its own: an autoencoder
#
# Section 4 called the small middle of an encoder–decoder a bottleneck. Trained to give
# back its own input, the same shape is an **autoencoder**, and what passes through the
# bottleneck is all the decoder has. We train one briefly on the same scenes: two
# stride-2 convolutions take a 3 × 32 × 32 image (3,072 numbers) to a code of
# `CODE_CHANNELS` × 8 × 8, and two transposed convolutions paint the image back, with a
# mean-squared-error loss. No skips, on purpose: a skip would let the input bypass the
# bottleneck, and the network could learn to copy.

# %%
CODE_CHANNELS = 4  # the code is CODE_CHANNELS x 8 x 8 numbers
AE_EPOCHS = budget(full=6, quick=1)
seed_everything(SEED)
autoencoder = nn.Sequential(
    nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.ReLU(),  # [N, 32, 16, 16]
    nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),  # [N, 32, 8, 8]
    nn.Conv2d(32, CODE_CHANNELS, 1),  # [N, CODE_CHANNELS, 8, 8]: the bottleneck
    nn.ConvTranspose2d(CODE_CHANNELS, 32, 2, stride=2), nn.ReLU(),  # [N, 32, 16, 16]
    nn.ConvTranspose2d(32, 3, 2, stride=2), nn.Sigmoid(),  # [N, 3, 32, 32], pixels in [0, 1]
).to(device)
ae_loader = DataLoader(TensorDataset(train_x, train_x), batch_size=32, shuffle=True,
                       generator=torch.Generator().manual_seed(SEED))
ae_val_loader = DataLoader(TensorDataset(val_x, val_x), batch_size=256)
ae_optimizer = torch.optim.AdamW(autoencoder.parameters(), lr=3e-3)
ae_history = fit(autoencoder, F.mse_loss, ae_loader, ae_val_loader, epochs=AE_EPOCHS, optimizer=ae_optimizer,
                 device=device)
autoencoder.eval()
with torch.no_grad():
    reconstructed = autoencoder(val_x.to(device)).cpu()
ae_mse = float(F.mse_loss(reconstructed, val_x))
mean_image_mse = float(F.mse_loss(train_x.mean(dim=0, keepdim=True).expand_as(val_x), val_x))
print(f"code: {CODE_CHANNELS * 8 * 8} numbers for {3 * 32 * 32} pixel values "
      f"({3 * 32 * 32 / (CODE_CHANNELS * 8 * 8):.0f} x smaller)")
print(f"held-out MSE: autoencoder {ae_mse:.4f}; predicting the mean training image {mean_image_mse:.4f}")
report("autoencoder_mse", ae_mse)
fig = show_images(torch.cat([val_x[:6], reconstructed[:6]]), titles=["held-out"] * 6 + ["reconstructed"] * 6,
                  ncols=6)
plt.show()

# %% [markdown]
# With the full training budget, the reconstructions keep where the objects are and
# roughly their colours, and blur
# what a 12-times-smaller code cannot hold: sharp corners, thin parts, the exact
# outline. That is the loss of detail that U-Net's skips repair for segmentation.
#
# ### Other dense outputs: depth and surface normals
#
# Segmentation predicts a class per pixel; the same encoder–decoder predicts *numbers*
# per pixel as well. Only the head and the loss change:
#
# * **depth**: one output channel. Depth is positive and spans orders of magnitude, so
#   the head predicts $\log$ depth (or passes its output through an exponential), and
#   the loss compares logarithms. Eigen et al. (2014) noticed that a single image barely
#   tells the global scale (a toy car close by or a real one far away), and proposed the
#   *scale-invariant* loss $D = \frac1n \sum_i d_i^2 - \frac{\lambda}{n^2}\bigl(\sum_i
#   d_i\bigr)^2$ with $d_i = \log y_i - \log y_i^*$: with $\lambda = 1$, multiplying the
#   whole prediction by a constant changes nothing.
# * **surface normals**: three output channels, divided by their length so every pixel
#   gets a unit vector, and a loss of $1 - \cos$ of the angle between predicted and true
#   normal. Normals also follow from depth: for a surface $z(x, y)$ the normal is
#   proportional to $(-\partial z/\partial x, -\partial z/\partial y, 1)$.
#
# A worked example on a synthetic depth map, a tilted plane with a box standing on it;
# the "prediction" is the true depth three times too large, with noise.

# %%
def depth_head(features):
    """A 1x1 convolution to log-depth, exponentiated: positive depths [N, 1, H, W]."""
    return torch.exp(nn.Conv2d(features.shape[1], 1, 1)(features))


def normal_head(features):
    """A 1x1 convolution to 3 channels, normalised: unit normals [N, 3, H, W]."""
    return F.normalize(nn.Conv2d(features.shape[1], 3, 1)(features), dim=1)


def scale_invariant_loss(pred, target, lam=1.0):
    d = (pred.log() - target.log()).flatten(1)  # [N, H * W]
    return (d.pow(2).mean(dim=1) - lam * d.mean(dim=1).pow(2)).mean()


def normals_from_depth(z):
    """Unit normals [N, 3, H, W] of the surface z [N, 1, H, W] (pixel spacing 1), by finite differences."""
    dz_dy, dz_dx = torch.gradient(z[:, 0], dim=(1, 2))
    n = torch.stack([-dz_dx, -dz_dy, torch.ones_like(dz_dx)], dim=1)
    return F.normalize(n, dim=1)


yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
true_depth = 5.0 + 0.1 * xx + 0.05 * yy  # a tilted plane
true_depth[10:22, 12:20] -= 2.0  # a box standing on it, closer to the camera
true_depth = true_depth[None, None]  # [1, 1, 32, 32]
noise = torch.randn(true_depth.shape, generator=torch.Generator().manual_seed(0))
pred_depth = 3.0 * true_depth * torch.exp(0.05 * noise)  # wrong global scale, some noise
true_normals, pred_normals = normals_from_depth(true_depth), normals_from_depth(pred_depth)
print(f"L1 on log depth:               {float((pred_depth.log() - true_depth.log()).abs().mean()):.3f}")
print(f"scale-invariant loss, lam = 0: {float(scale_invariant_loss(pred_depth, true_depth, 0.0)):.4f}")
print(f"scale-invariant loss, lam = 1: {float(scale_invariant_loss(pred_depth, true_depth, 1.0)):.4f} "
      f"(the factor 3 is forgiven, only the noise counts)")
cosine = (true_normals * pred_normals).sum(dim=1)
print(f"normal loss 1 - cos, mean over pixels: {float((1 - cosine).mean()):.3f} "
      f"(median angle {float(torch.rad2deg(torch.acos(cosine.clamp(-1, 1))).median()):.0f} degrees)")
some_features = torch.randn(1, 8, 32, 32, generator=torch.Generator().manual_seed(1))
print("heads on [1, 8, 32, 32] features:", list(depth_head(some_features).shape), list(normal_head(some_features).shape))
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].imshow(true_depth[0, 0], cmap="viridis")
axes[0].set_title("true depth", fontsize=9)
axes[1].imshow(pred_depth[0, 0], cmap="viridis")
axes[1].set_title("predicted depth (x3, noisy)", fontsize=9)
axes[2].imshow((true_normals[0].permute(1, 2, 0) + 1) / 2)
axes[2].set_title("true normals as RGB ((n + 1) / 2)", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
plt.show()

# %% [markdown]
# The plain loss on log depth is dominated by the factor of 3 ($\log 3 \approx 1.1$),
# the scale-invariant loss with $\lambda = 1$ sees only the noise. Normals computed by
# finite differences from a noisy depth map are much noisier than the depth itself
# (differences amplify noise), which is one reason networks predict normals directly
# with their own head. Depth, normals and segmentation share an encoder–decoder so well
# that one network often predicts all three, with one head each.

# %% [markdown]
# ## 7. Summary
#
# * Semantic segmentation is per-pixel classification with a pixel-wise cross-entropy;
#   depth, normals and other dense tasks share its structure. It labels classes, not
#   objects: instances need another output.
# * The naive designs fail on cost: a patch classifier recomputes each pixel $N^2$ times;
#   a full-resolution stack needs 100 3×3 layers to see 200 pixels and 256 GB (238 GiB) of
#   activations for the lecture's setting.
# * Encoder–decoders shrink to get context cheaply and grow back with nearest, bed-of-nails,
#   max-unpooling, bilinear or learned transposed-convolution upsampling. A transposed
#   convolution stamps its filter per input pixel, *summing* overlaps; it is the matrix
#   transpose (the adjoint, the input gradient) of a convolution, and uneven overlaps
#   (kernel not divisible by stride) print checkerboards. Dilated convolutions grow the
#   receptive field without downsampling.
# * FCN turns a classifier into a segmenter with 1 × 1 convolutions; U-Net adds
#   concatenated skips that bring back the high frequencies the bottleneck lost; DeepLab
#   uses dilation and ASPP, HRNet keeps a high-resolution stream throughout.
# * Score with mIoU from one confusion matrix, not with pixel accuracy; classes absent from
#   both prediction and ground truth are NaN and left out of the mean.
#
# ### Points that are easy to get wrong
#
# * Where the stamps of a transposed convolution overlap, the contributions are
#   **summed** (the quiz's middle value is such a sum); averaging gives another answer.
# * 200 · 400 · 400 · 4 bytes is 128,000,000 bytes: 128 MB, or 122 MiB. Decimal and
#   binary units differ by 7 % at the giga scale (256 GB = 238 GiB): say which you mean.
# * Max unpooling puts the pooled *value* at the recorded position, not a one.
# * FCN is a fully **convolutional** network, and U-Net's skips **concatenate**; they are
#   not residual additions.
# * DeepLab's ASPP uses parallel *dilated convolutions*, not the pooling bins of SPP-net.
# * A patch classifier computes an interior pixel $N \cdot N$ times; border pixels are in
#   fewer patches (see the coverage map).
# * Only the fully connected layers after the first become 1 × 1 convolutions; the first
#   one, on a $k \times k$ map, is a $k \times k$ convolution.

# %%
print(f"whole notebook: {time.time() - NOTEBOOK_START:.0f} s")
