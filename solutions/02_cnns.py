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
# # Chapter 2 — Convolutional networks
#
# A photograph is not just a long list of numbers. Neighbouring pixels belong together,
# and a cat's ear looks the same whether it sits in the top-left corner or in the middle
# of the frame. Convolutional networks are built on exactly these two facts, and this
# chapter takes them apart piece by piece.
#
# We start from the problem (fully connected layers on images need absurd numbers of
# weights), derive the convolution from two observations (locality and weight sharing),
# and then work through everything that decides the *shape* of a convolutional layer:
# channels, padding, stride, dilation, pooling and the receptive field. Along the way you
# will implement convolution twice (with loops, then as one matrix multiply), write max
# pooling, answer the arithmetic questions from the lectures with code that checks itself,
# and finally train LeNet, the classic digit recogniser, on a small digits data set.
#
# **How this notebook works.** Exercise cells contain a function signature and a
# docstring; replace the `raise NotImplementedError(...)` line with your code. The cell
# after each exercise holds tests: the visible ones tell you what is wrong, and more
# (hidden) tests run when the notebook is graded. Implementation exercises must do the
# work themselves: calling `torch.nn.functional.conv2d`, `unfold`, `max_pool2d` or the
# course's reference versions in `course_utils.ops.conv` inside them scores no points.
# Set the environment variable `DLCV_QUICK=1` to run everything with tiny training
# budgets; grading does that too, and nothing graded depends on how long you train.
#
# A note on the sources. The facts and quiz questions come from two lecture series
# (a Berkeley deep learning course and a computer vision course). Every number in the
# prose is computed by a cell, so you can check it yourself.

# %%
import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

from course_utils.ops import conv as ref_conv  # the course's reference ops (used after the exercises)
from course_utils.data import digits_loaders, load_photo
from course_utils.grading import (as_bool, as_number, as_numbers, expect_answer, expect_close, expect_equal, expect_raises,
                                  expect_tensor, forbid)
from course_utils.models import LeNet
from course_utils.runtime import budget, get_device, report
from course_utils.summary import count_parameters, summarize
from course_utils.train import accuracy, evaluate, fit, seed_everything
from course_utils.viz import plot_confusion_matrix, plot_curves, plot_history, show_filters, show_images

# The models of this chapter are tiny: one CPU thread runs them about as fast as several, and
# it avoids the dramatic slow-down of multi-threaded kernels on a machine that is busy with
# other work (several notebooks graded in parallel, for example).
torch.set_num_threads(1)
seed_everything(0)
device = get_device()
print("device:", device)

# %% [markdown]
# ## 1. Why fully connected layers fail on images
#
# In the previous chapter a network was a stack of fully connected (linear) layers: every
# output unit is connected to every input value by its own weight. Nothing stops us from
# feeding an image to such a layer. We flatten it into a vector, and the first layer
# multiplies that vector by a weight matrix.
#
# The trouble is the size of that matrix. The Berkeley lecture uses a small colour image
# of 128 × 128 pixels with 3 channels, and a first hidden layer with only 64 units. The
# flattened image has 128 · 128 · 3 values, and each of the 64 units needs one weight per
# value. Let us count, letting PyTorch build the layer on the `meta` device (which records
# shapes without allocating memory):

# %%
image_shape = (3, 128, 128)
hidden_units = 64
with torch.device("meta"):  # shapes only: no memory is allocated
    first_layer = nn.Linear(int(np.prod(image_shape)), hidden_units)
fc_weights = first_layer.weight.numel()
print(f"flattened input: {first_layer.in_features:,} values")
print(f"weights of the first layer: {fc_weights:,} (+ {first_layer.bias.numel()} biases)")
print(f"as float32: {4 * count_parameters(first_layer) / 1e6:.1f} MB for one layer")
print(f"local 3x3x3 patches instead: {3 * 3 * 3 * hidden_units:,} weights")
print(f"224x224x3 image to 4,096 units: {224 * 224 * 3 * 4096:,} weights")

# %% [markdown]
# That is about 3.1 million weights for a single, tiny layer. The count grows with the *square* of the image side, so a 224 × 224 image
# feeding 4,096 units (the width of AlexNet's fully connected layers) would need more than
# 600 million weights in the first layer alone. Besides memory, so many weights need a lot
# of data to be estimated well, and the layer has no idea that pixel (10, 10) and pixel
# (10, 11) are neighbours: shuffle the pixels of every image in the same way and a fully
# connected network learns exactly as well (or as badly) as before. We are throwing away
# what we know about images.
#
# The figure compares the first-layer weights of a fully connected layer with those of
# the convolutional layer we are about to build (64 filters of size 3 × 3 × 3), as the
# image grows.

# %%
sides = np.array([8, 16, 32, 64, 128, 224, 512])
fc_counts = [nn.Linear(3 * s * s, hidden_units, device="meta").weight.numel() for s in sides]
conv_counts = [nn.Conv2d(3, hidden_units, 3, device="meta").weight.numel() for s in sides]
fig = plot_curves(sides, {"fully connected, 64 units": fc_counts, "3x3 convolution, 64 filters": conv_counts},
                  xlabel="image side (pixels)", ylabel="weights in the first layer", logx=True, logy=True,
                  title="First-layer weights for an RGB image")
fig.axes[0].axvline(128, color="gray", ls=":", lw=1)
plt.show()
print(f"128x128: fully connected {fc_counts[4]:,} weights, convolution {conv_counts[4]:,} weights "
      f"({fc_counts[4] / conv_counts[4]:,.0f} times fewer)")

# %% [markdown]
# ## 2. Locality and weight sharing
#
# Two observations turn the fully connected layer into a convolution.
#
# **Locality.** Most useful image features are local. To decide whether a small patch
# contains an edge, a corner or a blob of colour, it is enough to look at that patch. So
# instead of connecting a hidden unit to all 49,152 input values, connect it to a small
# window, say 3 × 3 pixels with 3 colour channels: 27 inputs. Sixty-four such units
# looking at the same window need 64 · 27 = 1,728 weights. We then repeat this for every
# position of the window in the image, and get a different 64-dimensional output at each
# location: the output is itself an image, with 64 channels instead of 3.
#
# **Weight sharing.** An edge detector that is useful in the top-left corner is just as
# useful in the bottom-right corner. So the units at every position can share the *same*
# 1,728 weights. The number of parameters no longer depends on the image size at all:
# that is the flat line in the figure above. The same filter slides over the whole image,
# which also makes the layer *equivariant* to translation: shift the input by a pixel and
# the output shifts by a pixel.
#
# One small filter applied everywhere is something you already know from image
# processing. Below, two hand-made 3 × 3 filters (the Sobel derivative filters) are slid
# over a photo. Each produces a map of where its pattern occurs. A convolutional network
# *learns* dozens of such filters from data instead of having them designed by hand;
# at the end of the chapter we look at the ones LeNet learns.

# %%
photo = load_photo("camera", size=128)                    # [3, 128, 128] in [0, 1]
gray = photo.mean(dim=0, keepdim=True).unsqueeze(0)       # [1, 1, 128, 128]
sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
edge_filters = torch.stack([sobel_x, sobel_x.T]).unsqueeze(1)  # [2 filters, 1 channel, 3, 3]
edges = F.conv2d(gray, edge_filters, padding=1)           # [1, 2, 128, 128]
fig = show_images([gray[0, 0], edges[0, 0].abs(), edges[0, 1].abs()],
                  titles=["input", "|vertical-edge filter|", "|horizontal-edge filter|"], ncols=3,
                  figsize=(9, 3.2))
plt.show()
print("one filter has", edge_filters[0].numel(), "weights and was applied at",
      edges.shape[-2] * edges.shape[-1], "positions")

# %% [markdown]
# ## 3. The convolution equation
#
# Let the input have $C_\text{in}$ channels, and let a layer have $C_\text{out}$ filters,
# each of size $C_\text{in} \times k_H \times k_W$. PyTorch stores the input as a tensor
# `x[n, c, h, w]` (batch, channel, row, column) and all filters together as
# `weight[o, c, u, v]` with shape `[C_out, C_in, kH, kW]`, plus one bias per filter,
# `bias[o]`. For stride 1 and no padding, output channel $o$ at position $(i, j)$ is
#
# $$
# \text{out}[n, o, i, j] = \text{bias}[o] + \sum_{c=0}^{C_\text{in}-1} \sum_{u=0}^{k_H-1} \sum_{v=0}^{k_W-1}
#     \text{weight}[o, c, u, v]\; x[n, c, i + u, j + v].
# $$
#
# Read it as: put the filter's top-left corner on pixel $(i, j)$, multiply the filter
# and the image patch under it elementwise *across all input channels*, add everything
# up and add the bias. Every filter looks at all input channels at once and produces one
# output channel; the number of output channels is the number of filters. A layer
# therefore has $C_\text{out} \cdot C_\text{in} \cdot k_H \cdot k_W$ weights plus
# $C_\text{out}$ biases. At each position it is a tiny fully connected layer from the
# $C_\text{in} k_H k_W$ values of the patch to $C_\text{out}$ outputs, the same one at
# every position.
#
# Three remarks about how this is written elsewhere:
#
# * **Cross-correlation, not convolution.** In signal processing, a convolution flips the
#   kernel: it uses $x[i - u, j - v]$. Deep learning libraries do not flip; what they
#   compute is strictly a *cross-correlation*. Since the filters are learned, the
#   difference is irrelevant (the network would simply learn the flipped filter), but it
#   matters when you compare with a signal-processing library. The next cell shows it in
#   one dimension with NumPy (`np.correlate` does not flip, `np.convolve` does); in two
#   dimensions, `scipy.signal.correlate2d` and `convolve2d` behave the same way.
# * **Layout.** The Berkeley slides write images as height × width × channels and the
#   filter bank as FLT.HEIGHT × FLT.WIDTH × OUTPUT CHAN × INPUT CHAN, and centre the
#   filter on the output pixel (indices $i + l - (k_H - 1)/2$). PyTorch puts channels
#   first and anchors the filter at its top-left corner. The arithmetic is the same; only
#   the bookkeeping differs. In this chapter, shapes are PyTorch's `[N, C, H, W]` unless
#   a question explicitly asks for (H, W, C).
# * **A nonlinearity follows.** A convolution is linear. In a network it is followed by an
#   elementwise nonlinearity such as ReLU, exactly like a fully connected layer.

# %%
signal = torch.tensor([0.0, 1.0, 3.0, 2.0, 5.0, 4.0, 1.0, 0.0])
kernel = torch.tensor([1.0, 0.0, -2.0])  # not symmetric, so flipping matters
torch_out = F.conv1d(signal.view(1, 1, -1), kernel.view(1, 1, -1))[0, 0].numpy()
print(f"{'F.conv1d':<36}", torch_out)
print(f"{'np.correlate (no flip)':<36}", np.correlate(signal.numpy(), kernel.numpy(), mode="valid"))
print(f"{'np.convolve (flips the kernel)':<36}", np.convolve(signal.numpy(), kernel.numpy(), mode="valid"))
print(f"{'np.convolve of the flipped kernel':<36}", np.convolve(signal.numpy(), kernel.flip(0).numpy(), mode="valid"))

layer = nn.Conv2d(in_channels=3, out_channels=6, kernel_size=5)
print("weight shape:", tuple(layer.weight.shape), " bias shape:", tuple(layer.bias.shape),
      " parameters:", count_parameters(layer))

# %% [markdown]
# ## 4. Padding
#
# With the equation above, the filter must fit entirely inside the image, so the output
# is smaller than the input: a $k \times k$ filter loses $k - 1$ rows and columns. The
# lecture's first quiz asks for the output of six 5 × 5 filters on a 32 × 32 × 3 image;
# the "radius" of the filter is 2 on each side, so 4 rows and 4 columns are lost. Stack
# a few such layers and the feature maps shrink with every layer, and pixels near the
# border take part in fewer windows than pixels in the middle.
#
# **Padding** adds a frame of $p$ extra pixels around the input before the filter slides.
# With $p = (k - 1)/2$ (for odd $k$) the output has the same size as the input, which is
# why "3 × 3 convolution with padding 1" is the most common layer in modern networks.
# What goes into the frame is a choice:
#
# * **zeros** (PyTorch's default): simple, but the border becomes a dark frame the network
#   can "see" (which is why the lecture recommends subtracting the image mean first, so
#   that zero means "average grey");
# * **reflect**: mirror the image at its border (without repeating the edge pixel);
# * **circular** (wrap around): the left border continues with the right one, natural for
#   periodic signals such as angles or panoramas;
# * **replicate**: repeat the edge pixel outwards.
#
# The computer vision lecture also lists "symmetric" padding ("fold sides over"), which
# mirrors *including* the edge pixel (`numpy.pad(..., mode="symmetric")`); PyTorch's
# `reflect` mirrors *excluding* it. The figure shows the modes with
# `course_utils.ops.conv.pad2d`, first on a photo padded by a quarter of its size, then on a
# small array where you can follow every number.

# %%
modes = ["zeros", "reflect", "circular", "replicate"]
small_photo = load_photo("astronaut", size=64)            # [3, 64, 64]
small_array = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
fig, axes = plt.subplots(2, len(modes), figsize=(11, 5.6))
for col, mode in enumerate(modes):
    padded_photo = ref_conv.pad2d(small_photo, 16, mode=mode)       # [3, 96, 96]
    axes[0, col].imshow(padded_photo.permute(1, 2, 0).numpy())
    axes[0, col].add_patch(plt.Rectangle((15.5, 15.5), 64, 64, fill=False, color="yellow", lw=1.5))
    axes[0, col].set_title(f"{mode} (photo, pad 16)")
    padded_array = ref_conv.pad2d(small_array, 2, mode=mode)[0, 0]  # [7, 7]
    axes[1, col].imshow(padded_array.numpy(), cmap="Blues", vmin=0, vmax=12)
    for (r, c), value in np.ndenumerate(padded_array.numpy()):
        axes[1, col].text(c, r, f"{value:.0f}", ha="center", va="center", fontsize=9)
    axes[1, col].add_patch(plt.Rectangle((1.5, 1.5), 3, 3, fill=False, color="red", lw=2))
    axes[1, col].set_title(f"{mode} (3x3 array, pad 2)")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Stride, dilation and the output size
#
# **Stride.** A convolutional layer performs a $C_\text{out} \times C_\text{in} k^2$
# matrix multiply at *every* position of the image, which is expensive for large
# images. The stride $s$ skips positions: the filter moves $s$ pixels at a time, so the
# output has roughly $1/s$ as many rows and columns. Some people argue that a strided
# convolution is as good as a convolution followed by pooling (section 7), and many
# modern networks downsample this way.
#
# **Output size.** Along one dimension, let the input have $N$ pixels, the padding be
# $P$ on each side, the filter $F$ pixels and the stride $S$. The padded input has
# $N + 2P$ pixels. The first window starts at 0, the next at $S$, and so on; the last
# window must end inside the padded input, so its start is at most $N + 2P - F$. The
# number of windows is therefore
#
# $$ \text{out} = \frac{N + 2P - F}{S} + 1. $$
#
# The computer vision lecture draws a 7 × 7 input with a 3 × 3 filter: stride 1 gives
# $(7 - 3)/1 + 1 = 5$, stride 2 gives $(7 - 3)/2 + 1 = 3$, and then it asks what happens
# at stride 3: $(7 - 3)/3 + 1 = 2.33$ is not an integer. The windows start at 0 and 3,
# the next would start at 6 and stick out of the image by two pixels. The lecture's rule
# is that such a configuration **does not fit** and should not be used: the last column
# of the image would never be seen by any window. PyTorch is more lenient: it rounds
# down (`//`) and silently ignores the leftover pixels, as the next cell shows.
#
# **Dilation** spreads the filter's taps apart: with dilation $d$ a $k$-tap filter
# covers $d(k - 1) + 1$ pixels (with holes in between), so in the formula $F$ becomes
# that span. PyTorch's general formula is
# `out = (N + 2P - d(k - 1) - 1) // S + 1`.

# %%
x7 = torch.arange(49.0).reshape(1, 1, 7, 7)
for stride in (1, 2, 3):
    exact = (7 - 3) / stride + 1
    torch_size = F.conv2d(x7, torch.ones(1, 1, 3, 3), stride=stride).shape[-1]
    print(f"7x7 input, 3x3 filter, stride {stride}: (7 - 3) / {stride} + 1 = {exact:.2f}  -> PyTorch gives {torch_size}")

# which input columns does PyTorch actually read at stride 3?
starts = list(range(0, 7 - 3 + 1, 3))
seen = sorted({start + v for start in starts for v in range(3)})
print("window starts:", starts, " columns read:", seen, " columns never read:", sorted(set(range(7)) - set(seen)))

# %% [markdown]
# ### Exercise 1: the output size, with the lecture's rule (4 points)
#
# Write `conv_output_size`. It returns the output length along one dimension for the
# given input length, kernel size, stride, padding and dilation, and it **rejects**
# configurations that do not work:
#
# * the (dilated) filter is larger than the padded input: there is not even one window;
# * the stride does not tile the padded input exactly: there is a remainder, as in the
#   7-pixel, stride-3 example above;
# * nonsensical arguments (sizes, kernel, stride or dilation below 1, negative padding).
#
# In each case raise a `ValueError` with a message that explains the problem with the
# numbers (for example which pixels would be left over). The tests only check that a
# message exists; write the one you would like to read.

# %% nbgrader={"grade": false, "grade_id": "conv_output_size", "locked": false, "schema_version": 3, "solution": true}
def conv_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one dimension, for configurations that fit.

    Args:
        in_size (int): input length N (>= 1).
        kernel_size (int): filter length k (>= 1).
        stride (int): step S between windows (>= 1).
        padding (int): pixels P added on each side (>= 0).
        dilation (int): spacing d between filter taps (>= 1); the filter spans d*(k-1)+1 pixels.

    Returns:
        int: the number of windows, (N + 2P - span) / S + 1.

    Raises:
        ValueError: (with a non-empty message) if an argument is out of range, if the
            filter span is larger than the padded input, or if (N + 2P - span) is not a
            multiple of S (the stride does not tile the input exactly).
    """
    ### BEGIN SOLUTION
    if min(in_size, kernel_size, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"in_size, kernel_size, stride and dilation must be >= 1 and padding >= 0; got "
                         f"in_size={in_size}, kernel_size={kernel_size}, stride={stride}, "
                         f"padding={padding}, dilation={dilation}")
    span = dilation * (kernel_size - 1) + 1  # input pixels covered by one window
    padded = in_size + 2 * padding
    if span > padded:
        raise ValueError(f"the filter spans {span} pixels but the padded input has only {padded}")
    steps, leftover = divmod(padded - span, stride)
    if leftover:
        raise ValueError(f"stride {stride} does not fit: after the last window {leftover} pixel(s) of the "
                         f"padded input ({padded} pixels, filter span {span}) are never covered")
    return steps + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_output_size_values", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Configurations that fit: compare with the output size PyTorch computes.
def torch_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of F.conv2d, run on the meta device (shapes only)."""
    x = torch.empty(1, 1, in_size, 1, device="meta")
    w = torch.empty(1, 1, kernel_size, 1, device="meta")
    return F.conv2d(x, w, stride=stride, padding=(padding, 0), dilation=dilation).shape[2]


for config in [(32, 5), (7, 3, 1), (7, 3, 2), (32, 3, 1, 1), (227, 11, 4), (10, 3, 1, 0, 2), (1, 1)]:
    expect_equal(conv_output_size(*config), torch_output_size(*config),
                 f"conv_output_size{config} (arguments: in_size, kernel_size, stride, padding, dilation)", integer=True)
### BEGIN HIDDEN TESTS
_h_gen = torch.Generator().manual_seed(20240602)
for _h_trial in range(40):
    _h_k, _h_s, _h_d = (int(v) for v in torch.randint(1, 5, (3,), generator=_h_gen))
    _h_p = int(torch.randint(0, 4, (1,), generator=_h_gen))
    _h_steps = int(torch.randint(0, 12, (1,), generator=_h_gen))
    _h_n = _h_steps * _h_s + _h_d * (_h_k - 1) + 1 - 2 * _h_p  # built to tile exactly
    if _h_n < 1:
        continue
    _h_cfg = (_h_n, _h_k, _h_s, _h_p, _h_d)
    with forbid("torch.nn.functional.conv2d", ref_conv.conv_output_size, exercise="conv_output_size"):
        _h_got = conv_output_size(*_h_cfg)
    expect_equal(_h_got, torch_output_size(*_h_cfg), f"conv_output_size{_h_cfg}", integer=True)
_h_big = conv_output_size(in_size=224, kernel_size=3, stride=1, padding=1, dilation=1)
expect_equal(_h_big, 224, "conv_output_size(224, 3, stride=1, padding=1) called with keywords", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_conv_output_size_errors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# A configuration that fits must work, and the impossible ones must raise ValueError.
def torch_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of F.conv2d, run on the meta device (shapes only)."""
    x = torch.empty(1, 1, in_size, 1, device="meta")
    w = torch.empty(1, 1, kernel_size, 1, device="meta")
    return F.conv2d(x, w, stride=stride, padding=(padding, 0), dilation=dilation).shape[2]


expect_equal(conv_output_size(7, 3, stride=2), torch_output_size(7, 3, stride=2), "conv_output_size(7, 3, stride=2)",
             integer=True)
err = expect_raises(lambda: conv_output_size(7, 3, stride=3), ValueError,
                    "conv_output_size(7, 3, stride=3) (stride 3 leaves pixels uncovered)")
assert str(err).strip(), "the ValueError for a stride that does not fit should carry a message"
err = expect_raises(lambda: conv_output_size(4, 5), ValueError, "conv_output_size(4, 5) (filter larger than the input)")
assert str(err).strip(), "the ValueError for a filter larger than the input should carry a message"
### BEGIN HIDDEN TESTS
def _h_tiles(n, k, s=1, p=0, d=1):
    return (torch_output_size(n, k, s, p, d) - 1) * s + d * (k - 1) + 1 == n + 2 * p


for _h_bad in [(8, 3, 2), (32, 5, 2), (224, 11, 4), (224, 11, 4, 2), (10, 3, 4, 1), (12, 3, 5), (10, 3, 2, 0, 3)]:
    assert not _h_tiles(*_h_bad)
    expect_raises(lambda: conv_output_size(*_h_bad), ValueError, f"conv_output_size{_h_bad} (stride does not tile)")
for _h_bad in [(3, 5), (4, 3, 1, 0, 3), (1, 2), (5, 9, 1, 1)]:
    expect_raises(lambda: conv_output_size(*_h_bad), ValueError, f"conv_output_size{_h_bad} (filter too large)")
for _h_bad in [(0, 3), (7, 0), (7, 3, 0), (7, 3, 1, -1), (7, 3, 1, 0, 0)]:
    expect_raises(lambda: conv_output_size(*_h_bad), ValueError, f"conv_output_size{_h_bad} (invalid argument)")
_h_dilated = torch_output_size(5, 3, 1, 0, 2)
expect_equal(conv_output_size(5, 3, 1, 0, 2), _h_dilated, "conv_output_size(5, 3, dilation=2)", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# ### A conv-arithmetic explorer
#
# The widget below draws a square input (white), its padding (grey) and where the filter
# lands. Each dot marks the centre of one window position, that is one output pixel; the
# blue cells are the taps of the first window and the orange ones those of the last.
# Cells hatched in red are never read by any window: with a stride that does not fit they
# are the leftover pixels, with dilation they are the holes between taps. The title gives
# the output size, or the reason why the configuration is rejected (from
# `course_utils.ops.conv.conv_output_size`, the course's version of your exercise).
#
# Things to try: a 7-pixel input with a 3 × 3 filter at stride 1, 2 and 3; padding 1
# with a 3 × 3 filter ("same" convolution); dilation 2 and 3 on a 9-pixel input.

# %%
def draw_conv_windows(in_size, kernel_size, stride=1, padding=0, dilation=1, ax=None):
    """Draw a square input, its padding and all window positions of a convolution; return the Figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.6))
    grid = in_size + 2 * padding  # side of the padded input
    span = dilation * (kernel_size - 1) + 1
    try:
        size = ref_conv.conv_output_size(in_size, kernel_size, stride, padding, dilation)
        title = f"output {size} x {size}"
        color = "black"
    except ValueError as err:
        title, color = f"rejected: {err}", "firebrick"
    starts = list(range(0, grid - span + 1, stride))  # PyTorch's windows (the remainder is dropped)
    taps = [s + dilation * u for s in starts for u in range(kernel_size)]
    read = np.zeros(grid, dtype=bool)
    read[taps] = True
    for r in range(grid):
        for c in range(grid):
            inside = padding <= r < padding + in_size and padding <= c < padding + in_size
            ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor="white" if inside else "0.82", edgecolor="0.5", lw=0.5))
            if inside and not (read[r] and read[c]):
                ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor="none", hatch="///", edgecolor="red", lw=0))
    for start, tint in ((starts[0], "tab:blue"), (starts[-1], "tab:orange")) if starts else ():
        for u in range(kernel_size):
            for v in range(kernel_size):
                ax.add_patch(plt.Rectangle((start + dilation * v, start + dilation * u), 1, 1,
                                           facecolor=tint, alpha=0.45, lw=0))
    centres = [s + span / 2 for s in starts]
    ax.scatter([c for c in centres for _ in centres], [r for _ in centres for r in centres], s=14, color="black", zorder=3)
    ax.set_xlim(0, grid)
    ax.set_ylim(grid, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"N={in_size}, k={kernel_size}, S={stride}, P={padding}, d={dilation}\n" + textwrap.fill(title, 52),
                 fontsize=8, color=color)
    return ax.figure


fig, axes = plt.subplots(1, 4, figsize=(14, 4.9))
for ax, config in zip(axes, [(7, 3, 2, 0, 1), (7, 3, 3, 0, 1), (5, 3, 1, 1, 1), (9, 3, 1, 0, 2)]):
    draw_conv_windows(*config, ax=ax)
fig.tight_layout()
plt.show()

# %%
import ipywidgets as widgets


def _explore(in_size, kernel_size, stride, padding, dilation):
    fig = draw_conv_windows(in_size, kernel_size, stride, padding, dilation)
    display(fig)
    plt.close(fig)


explorer = widgets.interactive(
    _explore,
    in_size=widgets.IntSlider(value=7, min=1, max=16, description="input N"),
    kernel_size=widgets.IntSlider(value=3, min=1, max=7, description="kernel k"),
    stride=widgets.IntSlider(value=3, min=1, max=5, description="stride S"),
    padding=widgets.IntSlider(value=0, min=0, max=3, description="padding P"),
    dilation=widgets.IntSlider(value=1, min=1, max=3, description="dilation d"),
)
display(explorer)

# %% [markdown]
# ### Exercise 2: convolution with loops (5 points)
#
# Now implement the layer itself, the direct way: loops over output positions (and
# output channels, if you like), exactly as the equation reads. Support several input
# and output channels, an optional bias, a stride and zero padding. Follow PyTorch's
# conventions so that the result can be compared with `torch.nn.functional.conv2d`:
#
# * `x` is `[N, C_in, H, W]`, `weight` is `[C_out, C_in, kH, kW]` (kH and kW may differ),
#   `bias` is `[C_out]` or `None`;
# * the output is `[N, C_out, H_out, W_out]` with `H_out = (H + 2p - kH) // s + 1`
#   (like PyTorch, round down: windows that would run past the padded input are dropped;
#   your `conv_output_size` is stricter on purpose, so don't call it here);
# * the output has the dtype and device of `x` (`x.new_zeros(...)` does that).
#
# A good plan: pad the input once (a zero tensor of the padded size with `x` copied into
# its middle, or `F.pad`), allocate the output, then for every output position take the
# `[N, C_in, kH, kW]` patch, multiply it with each filter and sum over the last three
# dimensions. Don't forget to multiply the output index by the stride to find the patch.

# %% nbgrader={"grade": false, "grade_id": "conv2d_loops", "locked": false, "schema_version": 3, "solution": true}
def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """2D convolution (cross-correlation, as in PyTorch) with explicit loops.

    Args:
        x: Tensor[N, C_in, H, W], floating point.
        weight: Tensor[C_out, C_in, kH, kW].
        bias: Tensor[C_out] or None.
        stride (int): step between windows, the same along both axes.
        padding (int): zeros added on all four sides.

    Returns:
        Tensor[N, C_out, H_out, W_out] with the dtype of x, where
        H_out = (H + 2*padding - kH) // stride + 1 (and likewise W_out).
    """
    ### BEGIN SOLUTION
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    xp = x.new_zeros(n, c_in, h + 2 * padding, w + 2 * padding)
    xp[:, :, padding:padding + h, padding:padding + w] = x
    out = x.new_zeros(n, c_out, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            top, left = i * stride, j * stride
            window = xp[:, :, top:top + kh, left:left + kw]  # [N, C_in, kH, kW]
            for o in range(c_out):
                out[:, o, i, j] = (window * weight[o]).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.view(1, c_out, 1, 1)  # one bias per output channel, broadcast over N, H, W
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d_loops_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: dtype-stated
# Stride 1, no padding: several channels and a bias, then one channel without bias.
torch.manual_seed(0)
x = torch.randn(2, 3, 6, 7)
w = torch.randn(4, 3, 3, 3)
b = torch.randn(4)
expect_close(conv2d_loops(x, w, b), F.conv2d(x, w, b), "conv2d_loops(x, w, b) for x [2, 3, 6, 7], w [4, 3, 3, 3]",
             atol=1e-4)
x1 = torch.arange(16.0).reshape(1, 1, 4, 4)
w1 = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
expect_close(conv2d_loops(x1, w1), F.conv2d(x1, w1), "conv2d_loops(x1, w1) for a 4x4 ramp and a 2x2 filter, no bias")
### BEGIN HIDDEN TESTS
_FORBIDDEN_CONV = ("torch.nn.functional.conv2d", "torch.nn.functional.unfold", "torch.convolution",
                   ref_conv.conv2d_loop, ref_conv.conv2d_im2col, ref_conv.im2col)
_h_g = torch.Generator().manual_seed(11)
_h_x = torch.randn(3, 2, 5, 9, generator=_h_g)
_h_w = torch.randn(5, 2, 2, 4, generator=_h_g)  # non-square kernel
_h_b = torch.randn(5, generator=_h_g)
_h_x64 = torch.randn(1, 4, 6, 6, generator=_h_g, dtype=torch.float64)
_h_w64 = torch.randn(2, 4, 3, 3, generator=_h_g, dtype=torch.float64)
_h_w1 = torch.randn(3, 2, 1, 1, generator=_h_g)  # 1x1 convolution
with forbid(*_FORBIDDEN_CONV, exercise="conv2d_loops"):
    _h_out_a = conv2d_loops(_h_x, _h_w, _h_b)
    _h_out_b = conv2d_loops(_h_x, _h_w)
    _h_out_c = conv2d_loops(_h_x64, _h_w64)
    _h_out_d = conv2d_loops(_h_x, _h_w1, None)
expect_close(_h_out_a, F.conv2d(_h_x, _h_w, _h_b), "conv2d_loops with a 2x4 kernel and bias", atol=1e-4)
expect_close(_h_out_b, F.conv2d(_h_x, _h_w), "conv2d_loops with a 2x4 kernel, no bias", atol=1e-4)
_ = expect_tensor(_h_out_c, "conv2d_loops on float64 input", dtype=torch.float64)
expect_close(_h_out_c, F.conv2d(_h_x64, _h_w64), "conv2d_loops in float64", atol=1e-10, rtol=1e-10)
expect_close(_h_out_d, F.conv2d(_h_x, _h_w1), "conv2d_loops with a 1x1 kernel", atol=1e-4)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_conv2d_loops_stride_padding", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
# Stride and zero padding, on a non-square input.
torch.manual_seed(1)
x = torch.randn(1, 2, 7, 9)
w = torch.randn(3, 2, 3, 3)
b = torch.randn(3)
expect_close(conv2d_loops(x, w, b, padding=1), F.conv2d(x, w, b, padding=1),
             "conv2d_loops(x, w, b, padding=1)", atol=1e-4)
expect_close(conv2d_loops(x, w, b, stride=2), F.conv2d(x, w, b, stride=2),
             "conv2d_loops(x, w, b, stride=2)", atol=1e-4)
expect_close(conv2d_loops(x, w, b, stride=2, padding=2), F.conv2d(x, w, b, stride=2, padding=2),
             "conv2d_loops(x, w, b, stride=2, padding=2)", atol=1e-4)
### BEGIN HIDDEN TESTS
_FORBIDDEN_CONV = ("torch.nn.functional.conv2d", "torch.nn.functional.unfold", "torch.convolution",
                   ref_conv.conv2d_loop, ref_conv.conv2d_im2col, ref_conv.im2col)
_h_gen = torch.Generator().manual_seed(31337)
_h_cases = []
for _h_trial in range(6):
    _h_n, _h_ci, _h_co = (int(v) for v in torch.randint(1, 4, (3,), generator=_h_gen))
    _h_kh, _h_kw = (int(v) for v in torch.randint(1, 5, (2,), generator=_h_gen))
    _h_s = int(torch.randint(1, 4, (1,), generator=_h_gen))
    _h_p = int(torch.randint(0, 3, (1,), generator=_h_gen))
    _h_hh = _h_kh + int(torch.randint(0, 6, (1,), generator=_h_gen))
    _h_ww = _h_kw + int(torch.randint(0, 6, (1,), generator=_h_gen))
    _h_cases.append((torch.randn(_h_n, _h_ci, _h_hh, _h_ww, generator=_h_gen),
                     torch.randn(_h_co, _h_ci, _h_kh, _h_kw, generator=_h_gen),
                     torch.randn(_h_co, generator=_h_gen) if _h_trial % 2 else None, _h_s, _h_p))
_h_cases.append((torch.randn(2, 3, 8, 8, generator=_h_gen, dtype=torch.float64),
                 torch.randn(4, 3, 3, 3, generator=_h_gen, dtype=torch.float64), None, 3, 1))
_h_cases.append((torch.randn(1, 1, 5, 5, generator=_h_gen), torch.randn(1, 1, 1, 1, generator=_h_gen), None, 2, 0))
_h_results = []
with forbid(*_FORBIDDEN_CONV, exercise="conv2d_loops"):
    for _h_x, _h_w, _h_b, _h_s, _h_p in _h_cases:
        _h_results.append(conv2d_loops(_h_x, _h_w, _h_b, stride=_h_s, padding=_h_p))
for (_h_x, _h_w, _h_b, _h_s, _h_p), _h_out in zip(_h_cases, _h_results):
    expect_close(_h_out, F.conv2d(_h_x, _h_w, _h_b, stride=_h_s, padding=_h_p),
                 f"conv2d_loops for x {list(_h_x.shape)}, w {list(_h_w.shape)}, bias {_h_b is not None}, "
                 f"stride {_h_s}, padding {_h_p}, {_h_x.dtype}", atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Conv arithmetic from the lectures
#
# Shapes and parameter counts are the bread and butter of designing networks: get them
# wrong and the next layer does not fit. Answer the following questions in the cell
# below by assigning the named variables. You may compute the answers in code (with the
# formulas, with your functions from above, or by building the layer in PyTorch and
# looking at it), but first try them on paper.
#
# 1. An input of 32 × 32 × 3 (height × width × channels) goes through a layer of six
#    5 × 5 filters with stride 1 and no padding. What is the output size? Give
#    `conv1_output_shape` as `(H, W, C)`, three ints (a tuple or a list).
# 2. A layer of five 5 × 5 filters on the same 32 × 32 × 3 input. How many parameters
#    (weights and biases) does it have? `conv1_num_params`, an int.
# 3. The same five filters, now with **stride 3**, on a 35 × 35 × 3 input. What is the
#    output width `stride3_output_size` (an int)?
# 4. Does stride 3 fit a 7-pixel-wide input with a **4 × 4** filter (no padding), in the
#    sense of the lecture's rule that every pixel must be covered? `stride3_fits_7`, a bool.
#
# (The lecture's own stride examples, a 32-pixel input and a 3 × 3 filter on 7 pixels, are
# worked out after the quiz.)

# %% nbgrader={"grade": false, "grade_id": "answers_conv_arithmetic", "locked": false, "schema_version": 3, "solution": true}
# conv1_output_shape = (H, W, C)   conv1_num_params = ...
# stride3_output_size = ...        stride3_fits_7 = True or False
### BEGIN SOLUTION
conv1_output_shape = (32 - 5 + 1, 32 - 5 + 1, 6)
conv1_num_params = 5 * 5 * 3 * 5 + 5          # weights (k*k*C_in per filter) + one bias per filter
stride3_output_size = (35 - 5) // 3 + 1
stride3_fits_7 = (7 - 4) % 3 == 0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_conv1_output_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_shape = as_numbers(conv1_output_shape, "conv1_output_shape (H, W, C)", length=3, integer=True)
assert _shape[0] == _shape[1], \
    "a square input and a square filter give a square output: H and W should be equal (is C last?)"
assert _shape[0] < 32, "without padding the output is smaller than the 32-pixel input"
### BEGIN HIDDEN TESTS
_h_shape = nn.Conv2d(3, 6, 5)(torch.zeros(1, 3, 32, 32)).shape  # [1, C, H, W]
expect_answer(conv1_output_shape, (_h_shape[2], _h_shape[3], _h_shape[1]), "conv1_output_shape", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_conv1_num_params", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert as_number(conv1_num_params, "conv1_num_params", integer=True) > 0, \
    f"conv1_num_params should be positive, got {conv1_num_params}"
# Hint: each filter has kH * kW * C_in weights, and each filter has a bias.
### BEGIN HIDDEN TESTS
expect_answer(conv1_num_params, sum(p.numel() for p in nn.Conv2d(3, 5, 5).parameters()), "conv1_num_params",
              integer=True, hint="each filter has kH * kW * C_in weights and one bias")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_stride_fits", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: generic-answer
assert 1 <= as_number(stride3_output_size, "stride3_output_size", integer=True) < 31, \
    "with stride 3 the output is smaller than the 31 pixels of stride 1"
as_bool(stride3_fits_7, "stride3_fits_7")
### BEGIN HIDDEN TESTS
_h_out3 = nn.Conv2d(3, 5, 5, stride=3)(torch.zeros(1, 3, 35, 35)).shape[-1]
expect_answer(stride3_output_size, _h_out3, "stride3_output_size", integer=True)
assert (_h_out3 - 1) * 3 + 5 == 35  # the course's own claim: this configuration tiles exactly
_h_out7 = nn.Conv2d(1, 1, 4, stride=3)(torch.zeros(1, 1, 7, 7)).shape[-1]
expect_answer(stride3_fits_7, (_h_out7 - 1) * 3 + 4 == 7, "stride3_fits_7")
### END HIDDEN TESTS

# %% [markdown]
# ### Discussion: when does a stride "not fit"?
#
# Take five 5 × 5 filters at stride 3 on a 32 × 32 × 3 input. The output width is
# $(32 - 5)/3 + 1 = 10$, an integer, so the stride fits: the ten windows start at
# 0, 3, …, 27, the last one ends exactly on pixel 31, and the output is 10 × 10 × 5.
# The parameter count does not change with the stride (the cell checks it); only the
# number of positions does. Now a 3 × 3 filter at stride 3 on a 7-pixel input:
# $(7 - 3)/3 + 1 = 2.33$ is not an integer. The windows start at 0 and 3 and cover
# pixels 0 to 5; a third window would need pixels 6 to 8 and stick out of the image, so
# pixel 6 is never read. The cell below checks both with the course's strict
# `conv_output_size` and with PyTorch, which silently rounds down.

# %%
for n, k, s in [(32, 5, 3), (7, 3, 3)]:
    exact = (n - k) / s + 1
    last_end = ((n - k) // s) * s + k - 1  # last pixel read by PyTorch's last window
    try:
        verdict = f"fits, output {ref_conv.conv_output_size(n, k, s)}"
    except ValueError as err:
        verdict = f"rejected ({err})"
    print(f"N={n}, F={k}, S={s}: (N - F)/S + 1 = {exact:.2f}; PyTorch reads pixels 0..{last_end} of 0..{n - 1}; {verdict}")
print("the same number of parameters at stride 1 and 3:",
      count_parameters(nn.Conv2d(3, 5, 5)) == count_parameters(nn.Conv2d(3, 5, 5, stride=3)))

# %% [markdown]
# ## 7. Pooling
#
# A classifier must eventually turn an H × W × C feature map into a handful of numbers,
# so somewhere the resolution has to go down. **Pooling** does this without any
# parameters: it slides a window over each channel separately and replaces the window by
# one number, its maximum (**max pooling**) or its mean (**average pooling**). The
# usual choice is a 2 × 2 window with stride 2, which halves height and width and keeps
# the number of channels. AlexNet used *overlapping* 3 × 3 windows with stride 2, the
# example the computer vision lecture animates on a 7 × 7 input.
#
# Max pooling also makes a network a little more robust to small shifts: if an edge
# moves by one pixel but stays inside the same 2 × 2 window, the pooled value does not
# change. The output size follows the same formula as for a convolution, with the
# window size in place of the filter size.
#
# ### Exercise 3: max pooling with loops (3 points)
#
# Implement `max_pool2d_forward(x, kernel_size, stride=None)` for `x` of shape
# `[N, C, H, W]`, with square windows, no padding, and `stride` defaulting to
# `kernel_size` (PyTorch's default). Like PyTorch, round the output size down. Be careful
# with the initial value of a running maximum: feature maps can be negative.

# %% nbgrader={"grade": false, "grade_id": "max_pool2d_forward", "locked": false, "schema_version": 3, "solution": true}
def max_pool2d_forward(x, kernel_size, stride=None):
    """Max pooling over square windows, per channel, without padding.

    Args:
        x: Tensor[N, C, H, W].
        kernel_size (int): window side k.
        stride (int or None): step between windows; None means stride = kernel_size.

    Returns:
        Tensor[N, C, H_out, W_out] with the dtype of x, H_out = (H - k) // stride + 1.
    """
    ### BEGIN SOLUTION
    if stride is None:
        stride = kernel_size
    n, c, h, w = x.shape
    h_out = (h - kernel_size) // stride + 1
    w_out = (w - kernel_size) // stride + 1
    pooled = x.new_empty(n, c, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            region = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            pooled[:, :, i, j] = region.amax(dim=(2, 3))  # max over the window, per sample and channel
    return pooled
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_max_pool2d_forward", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
torch.manual_seed(2)
x = torch.randn(2, 3, 6, 6)
expect_close(max_pool2d_forward(x, 2), F.max_pool2d(x, 2), "max_pool2d_forward(x, 2) for x [2, 3, 6, 6]")
expect_close(max_pool2d_forward(x, 3, stride=3), F.max_pool2d(x, 3, stride=3), "max_pool2d_forward(x, 3, stride=3)")
expect_close(max_pool2d_forward(x, 2, stride=1), F.max_pool2d(x, 2, stride=1), "max_pool2d_forward(x, 2, stride=1)")
### BEGIN HIDDEN TESTS
_FORBIDDEN_POOL = ("torch.nn.functional.max_pool2d", "torch.max_pool2d", "torch.nn.functional.unfold",
                   ref_conv.max_pool2d_loop, ref_conv.max_pool2d)
_h_g = torch.Generator().manual_seed(5)
_h_pool_cases = [
    (torch.randn(1, 2, 7, 7, generator=_h_g), 3, 2),               # overlapping windows
    (-torch.rand(2, 3, 4, 6, generator=_h_g) - 0.5, 2, None),      # all values negative
    (torch.randn(1, 1, 5, 8, generator=_h_g), 2, None),            # non-square, odd height
    (torch.randn(2, 1, 9, 5, generator=_h_g, dtype=torch.float64), 3, None),
    (torch.randn(1, 2, 4, 4, generator=_h_g), 1, None),
    (-torch.rand(1, 1, 6, 6, generator=_h_g), 4, 1),
]
_h_pooled = []
with forbid(*_FORBIDDEN_POOL, exercise="max_pool2d_forward"):
    for _h_x, _h_k, _h_s in _h_pool_cases:
        _h_pooled.append(max_pool2d_forward(_h_x, _h_k) if _h_s is None else max_pool2d_forward(_h_x, _h_k, stride=_h_s))
for (_h_x, _h_k, _h_s), _h_y in zip(_h_pool_cases, _h_pooled):
    expect_close(_h_y, F.max_pool2d(_h_x, _h_k, stride=_h_s),
                 f"max_pool2d_forward for x {list(_h_x.shape)} ({_h_x.dtype}, min {float(_h_x.min()):.2f}), "
                 f"kernel {_h_k}, stride {_h_s}", atol=0, rtol=0)
_ = expect_tensor(_h_pooled[3], "max_pool2d_forward on float64 input", dtype=torch.float64)
### END HIDDEN TESTS

# %% [markdown]
# ### The lecture's pooling example
#
# The computer vision lecture pools the 4 × 4 array below with 2 × 2 windows and stride 2,
# and later applies one 4 × 4 *average* pool to the same array to reduce it to a single
# number (the slide shows it rounded to one decimal). Compute both:
#
# * `pooled_example`: the 2 × 2 max-pooled result, a `torch.Tensor` of shape `[2, 2]`;
# * `global_average_example`: the average of all 16 values, a number.

# %%
lecture_pool_input = torch.tensor([[1.0, 1.0, 2.0, 4.0],
                                   [5.0, 6.0, 7.0, 8.0],
                                   [3.0, 2.0, 1.0, 0.0],
                                   [1.0, 1.0, 3.0, 4.0]])

# %% nbgrader={"grade": false, "grade_id": "answers_pooling", "locked": false, "schema_version": 3, "solution": true}
# pooled_example = torch.tensor(...)   (shape [2, 2])
# global_average_example = ...        (a float)
### BEGIN SOLUTION
pooled_example = torch.tensor([[max(1.0, 1.0, 5.0, 6.0), max(2.0, 4.0, 7.0, 8.0)],
                               [max(3.0, 2.0, 1.0, 1.0), max(1.0, 0.0, 3.0, 4.0)]])
global_average_example = float(lecture_pool_input.sum()) / lecture_pool_input.numel()
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_pooling_answers", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: generic-answer
_ = expect_tensor(pooled_example, "pooled_example", shape=(2, 2))
assert all(v in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0] for v in pooled_example.flatten().tolist()), \
    "max pooling picks values of the input; pooled_example contains a value that is not in lecture_pool_input"
as_number(global_average_example, "global_average_example")
### BEGIN HIDDEN TESTS
_h_pool_in = torch.tensor([[1.0, 1.0, 2.0, 4.0], [5.0, 6.0, 7.0, 8.0], [3.0, 2.0, 1.0, 0.0], [1.0, 1.0, 3.0, 4.0]])
expect_answer(pooled_example.tolist(), F.max_pool2d(_h_pool_in.view(1, 1, 4, 4), 2)[0, 0].tolist(), "pooled_example")
_h_avg = float(F.avg_pool2d(_h_pool_in.view(1, 1, 4, 4), 4))
expect_answer(global_average_example, _h_avg, "global_average_example")
### END HIDDEN TESTS

# %% [markdown]
# How robust is max pooling to shifts, really? The next cell takes the edge map of the
# photo from section 2, shifts the photo by one pixel, and counts how many values stay
# the same, before and after a 2 × 2 max pool (using the course's reference
# `max_pool2d`). Without pooling the edge map simply moves along with the photo, so at a
# fixed position almost every value changes (the convolution is *equivariant*, not
# invariant). Pooling makes part of the output *invariant*, more so for larger windows,
# but it is far from full invariance: one reason why modern networks also rely on data
# augmentation.

# %%
shifted = torch.roll(gray, shifts=1, dims=-1)  # move the photo one pixel to the right
edge_maps = [F.conv2d(img, edge_filters[:1], padding=1).abs() for img in (gray, shifted)]
for name, fn in [("no pooling", lambda t: t), ("2x2 max pool", lambda t: ref_conv.max_pool2d(t, 2)),
                 ("4x4 max pool", lambda t: ref_conv.max_pool2d(t, 4))]:
    a, b = fn(edge_maps[0])[..., 4:-4], fn(edge_maps[1])[..., 4:-4]  # ignore the wrapped border
    print(f"{name:>13}: {float((a - b).abs().lt(1e-6).float().mean()):.0%} of the values unchanged by a 1-pixel shift")

# %% [markdown]
# ## 8. Receptive fields
#
# The **receptive field** of a unit is the region of the input image that can influence
# its value. A single 3 × 3 convolution sees 3 × 3 pixels. Stack a second one on top:
# each of its inputs already sees 3 × 3 pixels, and its 3 × 3 window spans 3 adjacent
# such regions, so it sees 5 × 5. Each further 3 × 3, stride-1 layer adds one pixel on
# each side. Strides and pooling make later layers grow faster, because one step in a
# downsampled map is several pixels in the input: in general a layer with kernel $k$ adds
# $(k - 1)$ times the product of all earlier strides.
#
# The left panel below makes this visible: it stacks 1, 2 and 3 convolutions with all
# weights set to one and asks autograd which input pixels influence the centre output
# (the gradient is non-zero exactly on the receptive field). The right panel shows how
# the receptive field grows with depth, with and without downsampling, computed with
# `course_utils.ops.conv.receptive_field`.
#
# This explains two design decisions of VGG-style networks that the lectures discuss.
# Three stacked 3 × 3 layers see as far as one 7 × 7 layer (7 × 7 pixels), but have
# fewer parameters (3 · 9 = 27 per channel pair instead of 49) and three nonlinearities
# instead of one, so they can compute more complex functions. And downsampling is
# essential: without it, a network that must look at 200 pixels around each point, as
# semantic segmentation needs, would have to be very deep.

# %%
fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
for depth, ax in zip((1, 2, 3), axes[:3]):
    stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, bias=False) for _ in range(depth)])
    for conv in stack:
        nn.init.ones_(conv.weight)
    probe = torch.zeros(1, 1, 11, 11, requires_grad=True)
    out = stack(probe)
    out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()  # the centre output unit
    ax.imshow(probe.grad[0, 0].numpy(), cmap="viridis")
    rows = probe.grad[0, 0].abs().sum(dim=1).nonzero()
    ax.set_title(f"{depth} stacked 3x3 conv: {int(rows.max() - rows.min() + 1)} px")
    ax.set_xticks([])
    ax.set_yticks([])
layers = np.arange(1, 21)
growth = {
    "3x3 convs, stride 1": [ref_conv.receptive_field([(3, 1)] * n) for n in layers],
    "3x3 convs, 2x2 pool after every 2": [ref_conv.receptive_field(([(3, 1), (3, 1), (2, 2)] * 10)[:n + (n - 1) // 2])
                                          for n in layers],
}
plot_curves(layers, growth, xlabel="number of 3x3 conv layers", ylabel="receptive field (pixels)",
            title="Receptive field growth", logy=True, ax=axes[3])
axes[3].axhline(200, color="gray", ls=":", lw=1)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Questions: receptive field and memory (4 points)
#
# Write `rf_stack(n)`, the receptive field side (in pixels) of `n` stacked 3 × 3
# convolutions with stride 1 (for `n >= 1`), and use it to find `convs_for_200`, the
# smallest number of such layers whose receptive field is at least 200 pixels.

# %% nbgrader={"grade": false, "grade_id": "answers_receptive_field", "locked": false, "schema_version": 3, "solution": true}
def rf_stack(n):
    """Receptive field side (int, pixels) of n stacked 3x3 stride-1 convolutions."""
    ### BEGIN SOLUTION
    return 2 * n + 1
    ### END SOLUTION


# convs_for_200 = ...   (an int)
### BEGIN SOLUTION
convs_for_200 = next(n for n in range(1, 1000) if rf_stack(n) >= 200)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_rf_stack", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: generic-answer
expect_equal(rf_stack(1), 3, "rf_stack(1) (a single 3x3 convolution sees 3 pixels)", integer=True)
assert as_number(rf_stack(2), "rf_stack(2)", integer=True) > 3, "stacking a second layer must enlarge the receptive field"
### BEGIN HIDDEN TESTS
def _h_rf_by_autograd(depth):
    _h_stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, bias=False) for _ in range(depth)])
    for _h_conv in _h_stack:
        nn.init.ones_(_h_conv.weight)
    _h_in = torch.zeros(1, 1, 1, 4 * depth + 5, requires_grad=True)
    _h_stack_out = _h_stack(F.pad(_h_in, (0, 0, depth, depth)))
    _h_stack_out[0, 0, 0, _h_stack_out.shape[-1] // 2].backward()
    _h_cols = _h_in.grad[0, 0, 0].nonzero()
    return int(_h_cols.max() - _h_cols.min() + 1)


for _h_depth in (1, 2, 3, 5, 8):
    expect_answer(rf_stack(_h_depth), _h_rf_by_autograd(_h_depth), f"rf_stack({_h_depth})", integer=True)
expect_answer(rf_stack(150), _h_rf_by_autograd(150), "rf_stack(150)", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_convs_for_200", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert as_number(convs_for_200, "convs_for_200", integer=True) > 10, \
    "ten 3x3 layers see far less than 200 pixels; convs_for_200 is too small"
### BEGIN HIDDEN TESTS
_h_needed = min(n for n in range(1, 1000) if 2 * n + 1 >= 200)  # n stacked 3x3 layers see 2n + 1 pixels
expect_answer(convs_for_200, _h_needed, "convs_for_200", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# Deep stacks are not only slow, they are memory hungry: every layer's activations must
# be kept for the backward pass. The segmentation slides of the computer vision lecture
# take a stack of 3 × 3 convolutions with 200 channels on a 400 × 400 image (we check their
# numbers after this question). Take a smaller layer of such a stack: 96 channels on a
# 300 × 300 image. How much memory does the output of **one** such layer take for one
# image in float32 (4 bytes per value)? Give `feature_map_bytes` (an int, in bytes) and
# `feature_map_mib` (a number, in mebibytes: 1 MiB = 2^20 bytes).

# %% nbgrader={"grade": false, "grade_id": "answers_memory", "locked": false, "schema_version": 3, "solution": true}
# feature_map_bytes = ...   (int, bytes)
# feature_map_mib = ...     (float, MiB)
### BEGIN SOLUTION
feature_map_bytes = 96 * 300 * 300 * 4
feature_map_mib = feature_map_bytes / 2**20
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_activation_memory", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert as_number(feature_map_bytes, "feature_map_bytes", integer=True) > 10**6, \
    "96 x 300 x 300 values take far more than a megabyte: is this in bytes?"
as_number(feature_map_mib, "feature_map_mib")
### BEGIN HIDDEN TESTS
_h_meta = torch.empty(96, 300, 300, dtype=torch.float32, device="meta")
expect_answer(feature_map_bytes, _h_meta.nelement() * _h_meta.element_size(), "feature_map_bytes", integer=True)
expect_answer(feature_map_mib, _h_meta.nelement() * _h_meta.element_size() / 1024**2, "feature_map_mib")
### END HIDDEN TESTS

# %% [markdown]
# **MB or MiB?** A 200 × 400 × 400 map of float32 values takes 200 · 400 · 400 · 4 =
# 128,000,000 bytes, which is 128 MB in decimal megabytes (10^6 bytes) but about 122 MiB
# in binary mebibytes (2^20 bytes); "122 MB" mixes the two units, a slip that is easy to
# make (chapter 4 meets it again, for the memory of the whole stack). Either way the conclusion stands:
# a deep stack at full resolution does not fit in a GPU.

# %%
one_map = ref_conv.activation_bytes(200, 400, 400)
print(f"one feature map: {one_map:,} bytes = {one_map / 1e6:.0f} MB = {one_map / 2**20:.1f} MiB")

# %% [markdown]
# ## 9. An example network, layer by layer
#
# The computer vision lecture builds a small classifier from a 32 × 32 × 3 image to 10
# class scores, and counts the parameters of every layer:
#
# * CONV with 10 filters of 3 × 3, stride 1, pad 1 → 32 × 32 × 10; ReLU;
# * CONV with 10 filters of 3 × 3, stride 1, pad 1 → 32 × 32 × 10; ReLU;
# * POOL 2 × 2, stride 2 → 16 × 16 × 10;
# * repeat CONV, ReLU, CONV, ReLU, POOL until the maps are 4 × 4 × 10;
# * a fully connected layer from the flattened 4 × 4 × 10 features to 10 class scores.
#
# As an alternative head, it replaces the last layer by a global average pool (one
# average per channel, 4 × 4 × 10 → 10) followed by a fully connected layer 10 → 10.
#
# Assign `example_conv_params`, the list of parameter counts of all convolutional layers
# in order (ints), `example_fc_head_params`, the parameters of the fully connected head,
# and `example_gap_head_params`, the parameters of the global-average-pool head.

# %% nbgrader={"grade": false, "grade_id": "answers_example_network", "locked": false, "schema_version": 3, "solution": true}
# example_conv_params = [...]   (one int per conv layer, in order)
# example_fc_head_params = ...   example_gap_head_params = ...
### BEGIN SOLUTION
example_conv_params = [3 * 3 * 3 * 10 + 10] + [3 * 3 * 10 * 10 + 10] * 5  # 3 stages (32 -> 16 -> 8 -> 4) of 2 convs
example_fc_head_params = 4 * 4 * 10 * 10 + 10
example_gap_head_params = 10 * 10 + 10
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_example_network_convs", "locked": true, "points": 2, "schema_version": 3, "solution": false}
_convs = as_numbers(example_conv_params, "example_conv_params", integer=True)
assert len(_convs) == 6, f"how many pools bring 32 down to 4, with two convs before each? got {len(_convs)} convs"
assert _convs[0] < _convs[1], \
    "the first conv sees only 3 input channels, so it has fewer parameters than the second"
### BEGIN HIDDEN TESTS
_h_body = nn.Sequential(
    nn.Conv2d(3, 10, 3, padding=1), nn.ReLU(), nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
assert tuple(_h_body(torch.zeros(1, 3, 32, 32)).shape) == (1, 10, 4, 4)
expect_answer(example_conv_params, [count_parameters(m) for m in _h_body if isinstance(m, nn.Conv2d)],
              "example_conv_params", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_example_network_heads", "locked": true, "points": 2, "schema_version": 3, "solution": false}
assert (as_number(example_gap_head_params, "example_gap_head_params", integer=True)
        < as_number(example_fc_head_params, "example_fc_head_params", integer=True)), \
    "averaging each channel first leaves fewer inputs for the linear layer: the GAP head should be smaller"
### BEGIN HIDDEN TESTS
_h_fc_head = nn.Sequential(nn.Flatten(), nn.Linear(10 * 4 * 4, 10))
_h_gap_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 10))
expect_answer(example_fc_head_params, count_parameters(_h_fc_head), "example_fc_head_params", integer=True)
expect_answer(example_gap_head_params, count_parameters(_h_gap_head), "example_gap_head_params", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# Now let PyTorch do this arithmetic. The cell builds the same network from `nn` layers, but
# with 16 filters per convolution instead of 10 (with 10, the table would print your
# answers), and prints the table of `course_utils.summary.summarize`: output shape,
# parameters and multiply-adds of every layer. Check your formulas against it.
#
# Every convolution of this network needs pad 1. Without padding a 3 × 3 filter removes
# two pixels, so the 16 × 16 maps of the second stage would shrink to 14 × 14 and then
# 12 × 12; only with pad 1 does 16 × 16 stay 16 × 16. The cell shows both. The parameter
# counts do not depend on padding, but the 4 × 4 × 10 features of the head assume pad 1
# throughout.

# %%
def conv_stage(c_in, c_out, padding=1):
    """Two 3x3 conv + ReLU layers and a 2x2 max pool (the lecture's repeating block)."""
    return [nn.Conv2d(c_in, c_out, 3, padding=padding), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=padding), nn.ReLU(), nn.MaxPool2d(2)]


WIDE = 16  # filters per convolution (the lecture's network has 10)
example_net = nn.Sequential(*conv_stage(3, WIDE), *conv_stage(WIDE, WIDE), *conv_stage(WIDE, WIDE),
                            nn.Flatten(), nn.Linear(4 * 4 * WIDE, 10))
display(summarize(example_net, (1, 3, 32, 32)))
gap_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(WIDE, 10))
print(f"with {WIDE} filters: fully connected head {count_parameters(example_net[-1])} parameters; "
      f"GAP head {count_parameters(gap_head)} parameters")
unpadded = nn.Sequential(*conv_stage(3, WIDE), *conv_stage(WIDE, WIDE, padding=0))
print("second stage without padding:", tuple(unpadded(torch.zeros(1, 3, 32, 32)).shape),
      f"instead of (1, {WIDE}, 8, 8)")

# %% [markdown]
# Notice where the parameters and the computation live. In this small network the six
# convolutions hold more parameters than the fully connected head, but in AlexNet and VGG
# (with 4,096-unit fully connected layers) the head holds the vast majority, as the next
# section shows. Almost all multiply-adds, on the other hand, happen in the convolutions
# at full resolution. The
# global-average-pool head, which ResNet made standard, removes most of the head's
# parameters and lets the network accept any input size.
#
# ## 10. AlexNet's first layer
#
# AlexNet (Krizhevsky, Sutskever and Hinton, 2012) was the first convolutional network to
# win the ImageNet challenge, and its first layer is a classic quiz: 96 filters of size
# 11 × 11 × 3 with stride 4 and no padding, followed by a 3 × 3 max pool with stride 2 (its
# windows overlap). The input size of the classic quiz is a puzzle of its own, worked out
# after this exercise; here the input is 227 × 227 × 3. Answer:
#
# * `alexnet_conv1_params`: the number of parameters of the convolution (int);
# * `alexnet_pool1_output_shape`: the output shape `(H, W, C)` of the max pool (three ints,
#   a tuple or a list);
# * `alexnet_pool1_fits`: do the pool's windows tile the convolution's output exactly, by
#   the lecture's rule (bool)?

# %% nbgrader={"grade": false, "grade_id": "answers_alexnet", "locked": false, "schema_version": 3, "solution": true}
# alexnet_conv1_params = ...   alexnet_pool1_output_shape = (H, W, C)   alexnet_pool1_fits = ...
### BEGIN SOLUTION
alexnet_conv1_params = 11 * 11 * 3 * 96 + 96
conv1_side = (227 - 11) // 4 + 1  # the convolution's output: conv1_side x conv1_side x 96
alexnet_pool1_output_shape = ((conv1_side - 3) // 2 + 1, (conv1_side - 3) // 2 + 1, 96)
alexnet_pool1_fits = (conv1_side - 3) % 2 == 0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_alexnet_conv1_params", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert as_number(alexnet_conv1_params, "alexnet_conv1_params", integer=True) % 96 == 0, \
    "every one of the 96 filters has the same number of weights plus one bias"
### BEGIN HIDDEN TESTS
_h_params = count_parameters(nn.Conv2d(3, 96, 11, stride=4))
expect_answer(alexnet_conv1_params, _h_params, "alexnet_conv1_params", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_alexnet_pool1_shape", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: generic-answer
assert as_numbers(alexnet_pool1_output_shape, "alexnet_pool1_output_shape (H, W, C)", length=3, integer=True)[2] == 96, \
    "C: pooling keeps the 96 channels of the convolution"
as_bool(alexnet_pool1_fits, "alexnet_pool1_fits")
### BEGIN HIDDEN TESTS
_h_conv1 = nn.Conv2d(3, 96, 11, stride=4)(torch.zeros(1, 3, 227, 227))
_h_pool1 = nn.MaxPool2d(3, stride=2)(_h_conv1).shape
_h_hwc = (_h_pool1[2], _h_pool1[3], _h_pool1[1])
expect_answer(alexnet_pool1_output_shape, _h_hwc, "alexnet_pool1_output_shape", integer=True)
expect_answer(alexnet_pool1_fits, (_h_pool1[-1] - 1) * 2 + 3 == _h_conv1.shape[-1], "alexnet_pool1_fits")
### END HIDDEN TESTS

# %% [markdown]
# ### The 224 vs 227 puzzle
#
# The AlexNet paper, and the Berkeley slide after it, say that CONV1 maps a
# 224 × 224 × 3 image to 55 × 55 × 96 "without zero padding". That cannot be:
# $(224 - 11)/4 + 1 = 54.25$. With a 227 × 227 input the numbers work out exactly,
# which is what later re-implementations used. With symmetric padding $p$ the numerator
# $224 + 2p - 11$ is always odd, so no padding makes 224 tile exactly at stride 4;
# torchvision's AlexNet uses padding 2, which gives $55.25$, and PyTorch's rounding down
# turns that into 55 (the last row and column of padding are never visited).
#
# The cell computes all of this, and then summarizes the whole AlexNet of
# `course_utils.models` (built on the `meta` device, so nothing is allocated) to check the
# lecture's total of 62.4 million parameters and its claim that most of them sit in the
# fully connected layers.

# %%
from course_utils.models import AlexNet

for size, pad in [(224, 0), (227, 0), (224, 2)]:
    exact = (size + 2 * pad - 11) / 4 + 1
    got = F.conv2d(torch.empty(1, 3, size, size, device="meta"), torch.empty(96, 3, 11, 11, device="meta"),
                   stride=4, padding=pad).shape[-1]
    print(f"input {size}, padding {pad}: (N + 2P - 11)/4 + 1 = {exact:.2f} -> PyTorch output {got}x{got}")
print("224 + 2p - 11 for p = 0..4:", [224 + 2 * p - 11 for p in range(5)], "(all odd: never divisible by 4)")

with torch.device("meta"):
    alexnet = AlexNet()
alex_summary = summarize(alexnet, (1, 3, 227, 227))
fc_params = sum(count_parameters(m) for m in alexnet.modules() if isinstance(m, nn.Linear))
print(f"AlexNet: {alex_summary.total_params:,} parameters, {fc_params / alex_summary.total_params:.1%} "
      f"of them in the fully connected layers; {alex_summary.total_macs / 1e9:.2f} G multiply-adds per image")

# %% [markdown]
# ## 11. Two special cases: 1 × 1 convolutions and fully connected layers
#
# A **1 × 1 convolution** looks at one pixel at a time, across all channels. At each
# position it maps the $C_\text{in}$ values of that pixel to $C_\text{out}$ values with the
# same weight matrix, so it is exactly a fully connected layer applied to every pixel
# independently. It is used to change the number of channels cheaply (the "bottleneck"
# layers of Inception and ResNet) and, in segmentation networks, as a per-pixel
# classifier. The cell below copies the weights of a `Conv2d(8, 4, kernel_size=1)` into a
# `Linear(8, 4)` and applies the linear layer to every pixel (by moving channels last).
#
# Conversely, a **fully connected layer is a convolution** whose filter is as large as its
# input: the lecture's flatten-and-FC head on 4 × 4 × 10 features is a `Conv2d(10, 10,
# kernel_size=4)` producing a 1 × 1 × 10 output, with the same number of parameters. This is
# more than a curiosity: run the convolutional version on a *larger* feature map and it
# slides, producing a grid of class scores, one per window. That is the idea behind
# OverFeat and fully convolutional networks for detection and segmentation, later in
# the course.

# %%
torch.manual_seed(0)
features = torch.randn(2, 8, 5, 5)                        # [N, C_in, H, W]
conv1x1 = nn.Conv2d(8, 4, kernel_size=1)
per_pixel = nn.Linear(8, 4)
with torch.no_grad():
    per_pixel.weight.copy_(conv1x1.weight.view(4, 8))      # [C_out, C_in, 1, 1] -> [C_out, C_in]
    per_pixel.bias.copy_(conv1x1.bias)
    via_linear = per_pixel(features.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # [N, H, W, C] -> [N, C, H, W]
    print("1x1 conv == Linear at every pixel: max |difference| =",
          f"{float((conv1x1(features) - via_linear).abs().max()):.2e}")

    head_features = torch.randn(2, 10, 4, 4)               # the example network's 4x4x10 features
    fc_head = nn.Linear(10 * 4 * 4, 10)
    conv_head = nn.Conv2d(10, 10, kernel_size=4)
    conv_head.weight.copy_(fc_head.weight.view(10, 10, 4, 4))  # flatten order of [C, H, W] = filter layout
    conv_head.bias.copy_(fc_head.bias)
    scores_fc = fc_head(head_features.flatten(1))          # [N, 10]
    scores_conv = conv_head(head_features)                 # [N, 10, 1, 1]
    print("FC head == 4x4 conv: max |difference| =", f"{float((scores_fc - scores_conv.flatten(1)).abs().max()):.2e}",
          f"| the same number of parameters: {count_parameters(fc_head) == count_parameters(conv_head)}")
    print("the conv head on 6x6 features gives a grid of scores:", tuple(conv_head(torch.randn(1, 10, 6, 6)).shape))

# %% [markdown]
# ## 12. Convolution as a matrix multiply: im2col
#
# The loop version of a convolution is easy to read and painfully slow: Python runs one
# small tensor operation per output position and filter. Fast libraries turn the whole
# convolution into **one matrix multiply**, the operation hardware is best at.
#
# The trick is called *im2col* ("image to columns"). For each output position, take the
# patch of the (padded) input that the filter sees, $C_\text{in} \times k_H \times k_W$
# values, and write it out as one column of a matrix. With $L = H_\text{out} W_\text{out}$
# positions, the columns form a matrix of shape $[C_\text{in} k_H k_W, L]$. Flatten
# every filter into a row the same way, giving a weight matrix of shape
# $[C_\text{out}, C_\text{in} k_H k_W]$. Their product is $[C_\text{out}, L]$: every
# filter times every patch, which is exactly the convolution, and a reshape to
# $[C_\text{out}, H_\text{out}, W_\text{out}]$ restores the image layout. Compare with
# section 11: after im2col, a $k \times k$ convolution *is* a 1 × 1 convolution on the
# columns.
#
# The price is memory: every input pixel is copied into up to $k_H k_W$ columns
# (9 times for a 3 × 3 filter). Libraries such as cuDNN therefore also use other
# algorithms (implicit GEMM, FFT, Winograd) and pick the fastest per layer. PyTorch
# exposes im2col as `torch.nn.functional.unfold`; the order of the rows is (channel,
# kernel row, kernel column) and the columns run over output positions in row-major
# order. The figure shows the columns of a 4 × 4 single-channel input and a 2 × 2 filter.

# %%
tiny = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
tiny_cols = F.unfold(tiny, kernel_size=2)[0]               # [C*kH*kW = 4, L = 9]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 2.2]})
axes[0].imshow(tiny[0, 0].numpy(), cmap="Blues", vmin=-4, vmax=20)
for (r, c), value in np.ndenumerate(tiny[0, 0].numpy()):
    axes[0].text(c, r, f"{value:.0f}", ha="center", va="center")
axes[0].add_patch(plt.Rectangle((0.5, -0.5), 2, 2, fill=False, color="tab:orange", lw=2.5))
axes[0].set_title("input 4x4; the window of column 1 (orange)")
axes[1].imshow(tiny_cols.numpy(), cmap="Blues", vmin=-4, vmax=20)
for (r, c), value in np.ndenumerate(tiny_cols.numpy()):
    axes[1].text(c, r, f"{value:.0f}", ha="center", va="center")
axes[1].add_patch(plt.Rectangle((0.5, -0.5), 1, 4, fill=False, color="tab:orange", lw=2.5))
axes[1].set_yticks(range(4), ["(0,0)", "(0,1)", "(1,0)", "(1,1)"])
axes[1].set_ylabel("kernel tap (u, v)")
axes[1].set_xticks(range(9), [f"({i},{j})" for i in range(3) for j in range(3)], fontsize=8)
axes[1].set_xlabel("output position (i, j)")
axes[1].set_title("im2col: one column per window, shape [4, 9]")
for ax in axes[:1]:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 4: im2col (3 points)
#
# Write `im2col(x, kernel_size, stride=1, padding=0)` for a batch `x` of shape
# `[N, C, H, W]`. It returns `[N, C * kH * kW, L]` with `L = H_out * W_out`, rows ordered
# (channel, kernel row, kernel column) and columns in row-major order of the output
# positions: exactly what `F.unfold` returns (which you may not call). `kernel_size` is an
# int or a pair `(kH, kW)`; padding is zeros.
#
# Two approaches work well. You can loop over output positions and copy each flattened
# patch into its column. Or, faster, loop over the $k_H k_W$ kernel taps $(u, v)$: for a
# fixed tap, the values it sees at all output positions form a strided slice of the padded
# input, `xp[:, :, u : u + s*(H_out-1) + 1 : s, v : v + s*(W_out-1) + 1 : s]`.
# (`Tensor.unfold`, a strided view of windows, is allowed too.)

# %% nbgrader={"grade": false, "grade_id": "im2col", "locked": false, "schema_version": 3, "solution": true}
def im2col(x, kernel_size, stride=1, padding=0):
    """Unroll every (padded) window of x into a column.

    Args:
        x: Tensor[N, C, H, W].
        kernel_size (int or tuple[int, int]): window size k or (kH, kW).
        stride (int): step between windows.
        padding (int): zeros added on all four sides.

    Returns:
        Tensor[N, C*kH*kW, H_out*W_out] with the dtype of x; the same as torch.nn.functional.unfold.
    """
    ### BEGIN SOLUTION
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    n, c, h, w = x.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    xp = F.pad(x, (padding, padding, padding, padding))  # [N, C, H + 2p, W + 2p]
    cols = x.new_empty(n, c, kh, kw, h_out, w_out)
    for u in range(kh):
        for v in range(kw):
            # tap (u, v) of every window at once: a strided slice of the padded input
            cols[:, :, u, v] = xp[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
    return cols.reshape(n, c * kh * kw, h_out * w_out)  # rows (c, u, v), columns (i, j)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_im2col", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
_tiny = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)  # the 4x4 example above
expect_close(im2col(_tiny, 2), F.unfold(_tiny, 2), "im2col(tiny, 2) for the 4x4 example above")
torch.manual_seed(3)
x = torch.randn(2, 3, 5, 6)
expect_close(im2col(x, 3), F.unfold(x, 3), "im2col(x, 3) for x [2, 3, 5, 6]")
expect_close(im2col(x, 3, stride=2, padding=1), F.unfold(x, 3, stride=2, padding=1),
             "im2col(x, 3, stride=2, padding=1)")
### BEGIN HIDDEN TESTS
_FORBIDDEN_COLS = ("torch.nn.functional.unfold", "torch.nn.functional.conv2d", ref_conv.im2col,
                   ref_conv.conv2d_im2col, ref_conv.conv2d_loop)
_h_g = torch.Generator().manual_seed(77)
_h_col_cases = [
    (torch.randn(1, 2, 7, 5, generator=_h_g), (2, 3), 1, 0),       # non-square kernel
    (torch.randn(2, 1, 9, 9, generator=_h_g), 3, 3, 0),
    (torch.randn(1, 4, 6, 8, generator=_h_g, dtype=torch.float64), (3, 1), 2, 2),
    (torch.randn(3, 2, 4, 4, generator=_h_g), 1, 1, 0),
    (torch.randn(1, 1, 8, 7, generator=_h_g), 4, 3, 1),
]
_h_cols = []
with forbid(*_FORBIDDEN_COLS, exercise="im2col"):
    for _h_x, _h_k, _h_s, _h_p in _h_col_cases:
        _h_cols.append(im2col(_h_x, _h_k, stride=_h_s, padding=_h_p))
for (_h_x, _h_k, _h_s, _h_p), _h_c in zip(_h_col_cases, _h_cols):
    expect_close(_h_c, F.unfold(_h_x, _h_k, stride=_h_s, padding=_h_p),
                 f"im2col for x {list(_h_x.shape)}, kernel {_h_k}, stride {_h_s}, padding {_h_p}", atol=0, rtol=0)
_ = expect_tensor(_h_cols[2], "im2col on float64 input", dtype=torch.float64)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: convolution as one matrix multiply (2 points)
#
# Use your `im2col` to write `conv2d_im2col`, with the same arguments and result as
# `conv2d_loops`. Reshape the weights to `[C_out, C_in * kH * kW]` (the row order then
# matches im2col's), multiply with the columns (`@` broadcasts over the batch), add the
# bias and reshape to `[N, C_out, H_out, W_out]`.

# %% nbgrader={"grade": false, "grade_id": "conv2d_im2col", "locked": false, "schema_version": 3, "solution": true}
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    """2D convolution as im2col followed by one matrix multiply; same contract as conv2d_loops.

    Args:
        x: Tensor[N, C_in, H, W]; weight: Tensor[C_out, C_in, kH, kW]; bias: Tensor[C_out] or None.

    Returns:
        Tensor[N, C_out, H_out, W_out].
    """
    ### BEGIN SOLUTION
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    columns = im2col(x, (kh, kw), stride=stride, padding=padding)  # [N, C_in*kH*kW, L]
    result = weight.reshape(c_out, -1) @ columns                   # [C_out, Ckk] @ [N, Ckk, L] -> [N, C_out, L]
    if bias is not None:
        result = result + bias.view(1, c_out, 1)
    return result.reshape(n, c_out, h_out, w_out)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2d_im2col", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: builds-on im2col
torch.manual_seed(4)
x = torch.randn(2, 3, 7, 6)
w = torch.randn(5, 3, 3, 2)
b = torch.randn(5)
expect_close(conv2d_im2col(x, w, b), F.conv2d(x, w, b), "conv2d_im2col(x, w, b) for x [2, 3, 7, 6], w [5, 3, 3, 2]",
             atol=1e-4)
expect_close(conv2d_im2col(x, w, b, stride=2, padding=1), F.conv2d(x, w, b, stride=2, padding=1),
             "conv2d_im2col(x, w, b, stride=2, padding=1)", atol=1e-4)
### BEGIN HIDDEN TESTS
_FORBIDDEN_MM = ("torch.nn.functional.conv2d", "torch.nn.functional.unfold", "torch.convolution",
                 ref_conv.conv2d_loop, ref_conv.conv2d_im2col, ref_conv.im2col)
_h_g = torch.Generator().manual_seed(99)
_h_mm_cases = [
    (torch.randn(1, 2, 9, 6, generator=_h_g), torch.randn(3, 2, 4, 1, generator=_h_g), None, 1, 0),
    (torch.randn(2, 3, 8, 8, generator=_h_g, dtype=torch.float64),
     torch.randn(4, 3, 3, 3, generator=_h_g, dtype=torch.float64), torch.randn(4, generator=_h_g, dtype=torch.float64), 3, 2),
    (torch.randn(3, 4, 5, 5, generator=_h_g), torch.randn(2, 4, 1, 1, generator=_h_g), torch.randn(2, generator=_h_g), 1, 0),
]
_h_mm = []
with forbid(*_FORBIDDEN_MM, exercise="conv2d_im2col"):
    for _h_x, _h_w, _h_b, _h_s, _h_p in _h_mm_cases:
        _h_mm.append(conv2d_im2col(_h_x, _h_w, _h_b, stride=_h_s, padding=_h_p))
for (_h_x, _h_w, _h_b, _h_s, _h_p), _h_y in zip(_h_mm_cases, _h_mm):
    _h_what = f"conv2d_im2col for x {list(_h_x.shape)}, w {list(_h_w.shape)}, stride {_h_s}, padding {_h_p}"
    expect_close(_h_y, F.conv2d(_h_x, _h_w, _h_b, stride=_h_s, padding=_h_p), _h_what, atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# ### How much faster is one big matrix multiply?
#
# The next cell times three implementations of the same convolution: the loop version,
# the im2col version and PyTorch's `F.conv2d` (which on a CPU uses highly tuned kernels).
# It uses the course's reference implementations `course_utils.ops.conv.conv2d_loop` and
# `conv2d_im2col`, which follow the same plan as your exercises (swap in yours if you
# like). Times depend on the machine and on whatever else runs on it, so the cell prints
# ratios measured in the same run, best of a few repetitions.

# %%
def best_time(fn, repeats):
    """Best wall-clock time of fn() over a few runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


torch.manual_seed(0)
bench_side = budget(full=24, quick=10)
bench_x = torch.randn(8, 16, bench_side, bench_side)  # [N, C_in, H, W]
bench_w = torch.randn(32, 16, 3, 3)
bench_b = torch.randn(32)
timings = {
    "loops": best_time(lambda: ref_conv.conv2d_loop(bench_x, bench_w, bench_b, padding=1), repeats=budget(full=2, quick=1)),
    "im2col + matmul": best_time(lambda: ref_conv.conv2d_im2col(bench_x, bench_w, bench_b, padding=1), repeats=5),
    "F.conv2d": best_time(lambda: F.conv2d(bench_x, bench_w, bench_b, padding=1), repeats=5),
}
for name, seconds in timings.items():
    print(f"{name:>16}: {seconds / timings['F.conv2d']:8.1f} x the time of F.conv2d")

# %% [markdown]
# On a typical laptop the loops are hundreds of times slower than `F.conv2d`, while
# im2col is within a small factor of it: nearly all the work is a single matrix multiply,
# and the remaining gap is the cost of copying the patches.
#
# ## 13. Training LeNet on handwritten digits
#
# Time to put the pieces together. LeNet-5 (LeCun et al., 1998) was designed to read
# handwritten digits on bank cheques, and the Berkeley lecture shows it as the first
# "real" convolutional network. Its structure is the template for everything that
# followed: convolution and nonlinearity, pooling, again convolution and pooling, then a
# few fully connected layers. `course_utils.models.LeNet` is the version most courses
# teach (ReLU and max pooling instead of the original tanh units and trainable
# subsampling); for inputs smaller than 32 × 32 its first convolution pads by 2, so a
# 28 × 28 digit behaves like the 32 × 32 input LeNet was designed for.
#
# Our data are the 1,797 handwritten digits that ship with scikit-learn: 8 × 8 pixels,
# upscaled to 28 × 28 by `course_utils.data.digits_loaders` and split 60 / 20 / 20 into
# training, validation and test sets. The summary shows the network layer by layer, with
# the shapes you can now predict yourself.

# %%
IMAGE_SIZE = 28
seed_everything(0)
train_loader, val_loader, test_loader = digits_loaders(batch_size=32, size=IMAGE_SIZE, seed=0)
print(f"train / val / test images: {len(train_loader.dataset)} / {len(val_loader.dataset)} / "
      f"{len(test_loader.dataset)}")
fig = train_loader.dataset.show(n=8)
plt.show()
lenet = LeNet(in_channels=1, num_classes=10, image_size=IMAGE_SIZE)
display(summarize(lenet, (1, 1, IMAGE_SIZE, IMAGE_SIZE)))

# %% [markdown]
# ### Exercise 6: LeNet's conv–pool block (4 points)
#
# LeNet's feature extractor repeats one block twice: a convolution, a ReLU, and a 2 × 2
# max pool that halves the resolution. Write that block as a module. The cell after the
# tests builds LeNet's two feature stages from *your* block, `conv_pool_block(1, 6, 5,
# padding=2)` and `conv_pool_block(6, 16, 5)`, and trains the network with it (while your
# block is still a stub, LeNet keeps its own layers and the cell says so).
#
# `conv_pool_block(in_channels, out_channels, kernel_size, padding=0)` returns an
# `nn.Module` (an `nn.Sequential` is simplest) that maps `[N, in_channels, H, W]` to
# `[N, out_channels, H', W']` with
#
# 1. one `nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding)`, stride 1,
#    **with** a bias (the tests find it by its type and copy weights into it, so use exactly
#    one `nn.Conv2d`);
# 2. a ReLU;
# 3. max pooling over 2 × 2 windows with stride 2 (an odd size is rounded down, as PyTorch
#    does).
#
# So $H' = \lfloor (H + 2p - k + 1) / 2 \rfloor$. The tests check output shapes,
# parameter counts, and the output and input gradient against the same layers with the
# same weights, in float32 and float64.

# %% nbgrader={"grade": false, "grade_id": "conv_pool_block", "locked": false, "schema_version": 3, "solution": true}
def conv_pool_block(in_channels, out_channels, kernel_size, padding=0):
    """Conv2d(in_channels, out_channels, kernel_size, padding=padding) with bias, ReLU, 2x2 max pool (stride 2).

    Returns:
        an nn.Module mapping Tensor[N, in_channels, H, W] to Tensor[N, out_channels, H', W'],
        H' = (H + 2 * padding - kernel_size + 1) // 2 (and the same for W').
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),  # [N, out, H + 2p - k + 1, ...]
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),  # halves H and W, rounding down
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv_pool_block_shapes", "locked": true, "points": 2, "schema_version": 3, "solution": false}
for _args, _in_shape, _out_shape in [((1, 6, 5, 2), (2, 1, 28, 28), (2, 6, 14, 14)),
                                     ((6, 16, 5, 0), (2, 6, 14, 14), (2, 16, 5, 5)),
                                     ((3, 4, 3, 1), (1, 3, 11, 9), (1, 4, 5, 4))]:
    _block = conv_pool_block(*_args)
    assert isinstance(_block, nn.Module), f"conv_pool_block{_args} should return an nn.Module, got {type(_block).__name__}"
    expect_tensor(_block(torch.randn(*_in_shape)), f"conv_pool_block{_args} applied to a {list(_in_shape)} batch",
                  shape=_out_shape)
    _c_in, _c_out, _k, _ = _args
    expect_equal(count_parameters(_block), _c_out * _c_in * _k * _k + _c_out,
                 f"number of parameters of conv_pool_block{_args}: the filters and one bias per filter "
                 "(ReLU and max pooling have none)", integer=True)
print("conv_pool_block: visible shape tests passed")
### BEGIN HIDDEN TESTS
for _h_args, _h_in, _h_out in [((2, 3, 3, 0), (3, 2, 9, 12), (3, 3, 3, 5)), ((5, 7, 1, 0), (1, 5, 7, 7), (1, 7, 3, 3)),
                               ((1, 2, 4, 3), (2, 1, 6, 5), (2, 2, 4, 4))]:
    _h_block = conv_pool_block(*_h_args)
    expect_tensor(_h_block(torch.randn(*_h_in)), f"hidden: conv_pool_block{_h_args} on {list(_h_in)}", shape=_h_out)
    expect_equal(count_parameters(_h_block), _h_args[1] * _h_args[0] * _h_args[2] ** 2 + _h_args[1],
                 f"hidden: parameters of conv_pool_block{_h_args}", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_conv_pool_block_values", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def reference_block_with_weights_of(block, in_channels, out_channels, kernel_size, padding):
    """Conv2d + ReLU + MaxPool2d(2) carrying the weights of the one nn.Conv2d inside `block`."""
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1, f"conv_pool_block should contain exactly one nn.Conv2d, found {len(convs)}"
    assert convs[0].bias is not None, "the nn.Conv2d of conv_pool_block should have a bias (bias=True)"
    reference = nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding), nn.ReLU(),
                              nn.MaxPool2d(2))
    assert convs[0].weight.shape == reference[0].weight.shape, (
        f"the nn.Conv2d has weights of shape {list(convs[0].weight.shape)}, expected {list(reference[0].weight.shape)}")
    with torch.no_grad():
        reference[0].weight.copy_(convs[0].weight)
        reference[0].bias.copy_(convs[0].bias)
    return reference.to(convs[0].weight.dtype)


def compare_block_with_reference(block, reference, x, what):
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out, expected = block(x1), reference(x2)
    expect_close(out, expected.detach(), f"{what}: output", atol=1e-5)
    weights = torch.randn(expected.shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    expect_close(x1.grad, x2.grad, f"{what}: gradient with respect to the input", atol=1e-5)


_block = conv_pool_block(3, 4, 3, padding=1)
_x = torch.randn(2, 3, 8, 10, generator=torch.Generator().manual_seed(0))
compare_block_with_reference(_block, reference_block_with_weights_of(_block, 3, 4, 3, 1), _x,
                             "conv_pool_block(3, 4, 3, padding=1) on a [2, 3, 8, 10] batch")
print("conv_pool_block: visible value tests passed")
### BEGIN HIDDEN TESTS
_h_block = conv_pool_block(2, 5, 5, padding=2).double()
_h_block2 = conv_pool_block(6, 16, 5)
_h_x = torch.randn(3, 2, 9, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
compare_block_with_reference(_h_block, reference_block_with_weights_of(_h_block, 2, 5, 5, 2), _h_x,
                             "hidden: conv_pool_block(2, 5, 5, padding=2) in float64")
_h_x2 = torch.randn(2, 6, 14, 14, generator=torch.Generator().manual_seed(3))
compare_block_with_reference(_h_block2, reference_block_with_weights_of(_h_block2, 6, 16, 5, 0), _h_x2,
                             "hidden: LeNet's second block, conv_pool_block(6, 16, 5)")
### END HIDDEN TESTS

# %% [markdown]
# Training uses `course_utils.train.fit`: Adam with a one-cycle learning-rate schedule
# (chapter 01, section 9.1; the rate warms up, then decays to almost zero), cross-entropy loss, and accuracy on
# the validation set after every epoch. The number of epochs goes through
# `budget(full=..., quick=...)`: a full run takes well under a minute on a laptop CPU,
# quick mode (used for grading) trains a single epoch.

# %%
def lenet_features_from_blocks():
    """LeNet's two feature stages built from your conv_pool_block, or None while it does not work yet."""
    try:
        features = nn.Sequential(conv_pool_block(1, 6, 5, padding=2), conv_pool_block(6, 16, 5))
        shape = tuple(features(torch.zeros(2, 1, IMAGE_SIZE, IMAGE_SIZE)).shape)
        if shape != (2, 16, 5, 5) or count_parameters(features) != 156 + 2416:
            raise ValueError(f"output shape {shape} or parameter count {count_parameters(features)} is not LeNet's")
    except Exception as error:  # a stub raises NotImplementedError; a broken block may raise anything
        print(f"conv_pool_block does not work yet ({type(error).__name__}), so LeNet keeps the course's own "
              "layers (course_utils.models.LeNet).")
        return None
    print("LeNet's feature stages are built from your conv_pool_block.")
    return features


EPOCHS = budget(full=10, quick=1)
LEARNING_RATE = 3e-3
seed_everything(0)
lenet = LeNet(in_channels=1, num_classes=10, image_size=IMAGE_SIZE)
student_features = lenet_features_from_blocks()
if student_features is not None:
    lenet.features = student_features.to(device)
optimizer = torch.optim.Adam(lenet.parameters(), lr=LEARNING_RATE)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE,
                                                total_steps=EPOCHS * len(train_loader))
history = fit(lenet, nn.CrossEntropyLoss(), train_loader, val_loader, epochs=EPOCHS, optimizer=optimizer,
              scheduler=scheduler, scheduler_step="batch", metrics={"accuracy": accuracy}, device=device)

# %%
fig = plot_history(history, metrics=["loss", "accuracy"])
plt.show()
test_metrics = evaluate(lenet, test_loader, nn.CrossEntropyLoss(), metrics={"accuracy": accuracy}, device=device)
report("lenet_test_accuracy", test_metrics["accuracy"], target=0.97)

# %% [markdown]
# About a thousand training images and a network of some 60,000 parameters are enough to
# pass the 97 % target on these digits (in quick mode, after one epoch, expect much
# less). For comparison, a fully connected network on the same 28 × 28 images with a
# 64-unit first layer spends most of its parameters in that first layer alone, while
# LeNet's first convolution needs only a few hundred:

# %%
fc_net = nn.Sequential(nn.Flatten(), nn.Linear(IMAGE_SIZE * IMAGE_SIZE, 64), nn.ReLU(), nn.Linear(64, 10))
fc_first, fc_total = count_parameters(fc_net[1]), count_parameters(fc_net)
lenet_first_conv = next(m for m in lenet.modules() if isinstance(m, nn.Conv2d))
print(f"fully connected 784 -> 64 -> 10: {fc_total:,} parameters, {fc_first:,} ({fc_first / fc_total:.1%}) "
      f"in the first layer")
print(f"LeNet: {count_parameters(lenet):,} parameters, {count_parameters(lenet_first_conv):,} in its first convolution")

# %% [markdown]
# ### What did the first layer learn?
#
# The six filters of LeNet's first layer are 5 × 5 images that we can look at directly.
# Each is shown min-max scaled on its own (dark = negative, bright = positive weights).
# After a short training on 1,000 digits they are rough, but you can usually make out
# oriented stroke and edge detectors: light on one side, dark on the other, like the
# Sobel filters of section 2.

# %%
fig = show_filters(lenet_first_conv.weight, ncols=6)
plt.show()

# %% [markdown]
# ### Which digits get confused?
#
# Accuracy is one number; a **confusion matrix** shows where the errors are. Row $t$,
# column $p$ counts the test images of digit $t$ that the network predicted as $p$, so a
# perfect classifier has all counts on the diagonal.

# %%
lenet.eval()
predictions, labels = [], []
with torch.no_grad():
    for images, targets in test_loader:
        predictions.append(lenet(images.to(device)).argmax(dim=1).cpu())
        labels.append(targets)
predictions, labels = torch.cat(predictions), torch.cat(labels)
confusion = torch.bincount(labels * 10 + predictions, minlength=10 * 10).view(10, 10)  # [true, predicted]
fig = plot_confusion_matrix(confusion, class_names=list(test_loader.dataset.classes))
plt.show()
off_diagonal = confusion.clone().fill_diagonal_(0)
worst = divmod(int(off_diagonal.argmax()), 10)
print(f"{int(off_diagonal.sum())} of {len(labels)} test digits misclassified; most common confusion: "
      f"true {worst[0]} predicted as {worst[1]} ({int(off_diagonal.max())} times)")

# %% [markdown]
# ## Summary
#
# * Fully connected layers on images need a weight per pixel and unit (3.1 million for a
#   128 × 128 × 3 image and 64 units) and ignore the image's structure. Convolutions use
#   **locality** (each unit sees a small window) and **weight sharing** (the same filter
#   everywhere), so their parameter count does not depend on the image size.
# * A layer with $C_\text{out}$ filters of size $C_\text{in} \times k_H \times k_W$ has
#   $C_\text{out} C_\text{in} k_H k_W + C_\text{out}$ parameters. PyTorch computes a
#   cross-correlation, with weights stored as `[C_out, C_in, kH, kW]`.
# * The output size is $(N + 2P - F)/S + 1$ (with $F$ the dilated span). When this is not
#   an integer the stride does not fit; PyTorch rounds down and ignores the leftover
#   pixels. Five 5 × 5 filters at stride 3 *do* fit a 32-pixel input (10 outputs);
#   a 3 × 3 filter at stride 3 does not fit a 7-pixel input.
# * Pooling reduces resolution without parameters; stacked layers, strides and pooling
#   grow the receptive field.
# * A 1 × 1 convolution is a per-pixel linear layer; a fully connected layer is a
#   convolution as large as its input; im2col turns any convolution into one matrix
#   multiply.
#
# Three computations of this chapter are worth remembering: AlexNet's CONV1 (11 × 11,
# stride 4) maps 227 to 55, not 224 ($(224 - 11)/4 + 1 = 54.25$; torchvision pads 224 by
# 2 and rounds down); a 3 × 3 convolution keeps 16 × 16 maps only with pad 1; and a
# 200 × 400 × 400 float32 map is 128 MB, which is 122 MiB.
#
# The next chapter looks at the architectures that followed LeNet and AlexNet (VGG,
# ResNet and their relatives) and at what makes deep networks trainable.
