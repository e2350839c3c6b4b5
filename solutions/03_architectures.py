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
# # Chapter 3 — Architectures: from AlexNet to MobileNet
#
# Chapter 2 built a convolutional layer from scratch and trained LeNet, a network with
# two convolutions. The networks that changed computer vision after 2012 use the same
# ingredients, but many more of them, and each famous architecture is remembered for one
# idea that made "more" possible: AlexNet showed that a big convolutional network trained
# on a GPU beats hand-made features; VGG showed that depth built from tiny 3 × 3 filters
# works better than a few large filters; ResNet showed how to train networks with a hundred
# layers or more; Inception and MobileNet showed how to spend far fewer multiplications for
# the same accuracy.
#
# This chapter reads these networks the way an engineer does: as tables of layers with
# output shapes, parameter counts and multiply-adds, computed by code rather than copied
# from slides. Then it looks at what makes deep networks trainable at all (initialization,
# batch normalization, residual connections), at how accuracy is measured (top-1 and
# top-5), at how to train well with little data (augmentation and transfer learning) and
# fast with much data (large batches and data parallelism), and finally at a question that
# is easy to ask and surprisingly hard to answer: which examples does a network find
# difficult?
#
# **How this notebook works.** Exercise cells contain a function signature and a docstring;
# replace the `raise NotImplementedError(...)` line with your code. The cell after each
# exercise holds tests: the visible ones tell you what is wrong, and more (hidden) tests run
# when the notebook is graded. Implementation exercises must do the work themselves: calling
# PyTorch's or `course_utils`' implementation of the same thing scores no points. Set the
# environment variable `DLCV_QUICK=1` to run everything with tiny training budgets; grading
# does that too, and nothing graded depends on how long you train.
#
# **About the sources.** Facts and quiz questions come from three sets of lecture notes (a
# Berkeley deep learning course, Berkeley scribe notes, and a computer vision course). Every
# number this chapter prints is computed, so you can check each claim yourself.

# %%
import copy
import math
import os
import socket
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course_utils.layers as layers_ref  # the course's reference layers (used after the exercises)
from course_utils.ops.conv import receptive_field as receptive_field_ref
from course_utils.data import DigitsDataset, digits_loaders
from course_utils.difficulty import c_scores, layer_features, mlp_fit_predict, prediction_depth, probe_predictions
from course_utils.grading import (as_number, as_numbers, expect_answer, expect_close, expect_equal, expect_raises,
                                  expect_tensor, forbid)
from course_utils.models import VGG, VGG_CONFIGS, AlexNet, InceptionModule, MobileNetV1, ResNet, SmallResNet
from course_utils.models import LeNet, resnet18, resnet50
from course_utils.runtime import budget, get_device, is_quick, report
from course_utils.optim.schedules import cosine_restarts
from course_utils.summary import count_parameters, summarize
from course_utils.train import accuracy, evaluate, fit, seed_everything
from course_utils.train import topk_accuracy as topk_accuracy_ref
from course_utils.viz import plot_curves, show_images

# The networks we train are tiny: on a shared 2-core CPU, splitting such small tensor
# operations over several threads costs more time than it saves.
torch.set_num_threads(1)
seed_everything(0)
device = get_device()
print(f"device: {device}, quick mode: {is_quick()}")

# %% [markdown]
# ## 1. Reading a network as a table: AlexNet
#
# AlexNet (Krizhevsky, Sutskever and Hinton, 2012) won the 2012 ImageNet challenge (1.2
# million training images in 1,000 classes) by a wide margin and started the deep learning
# era of computer vision. Layer by layer it is:
#
# * CONV1: 96 filters of 11 × 11 × 3, stride 4, no padding, then ReLU and a 3 × 3 max pool
#   with stride 2 (the pooling windows overlap);
# * CONV2: 256 filters of 5 × 5, padding 2, ReLU, max pool;
# * CONV3, CONV4, CONV5: 384, 384 and 256 filters of 3 × 3 with padding 1, ReLU, and a
#   final max pool down to 6 × 6 × 256;
# * FC6 and FC7: fully connected layers with 4,096 units, ReLU and dropout; FC8: 1,000
#   class scores.
#
# (The paper also has "local response normalization" after CONV1 and CONV2, a
# normalization that nobody uses any more; it has no parameters.)
#
# Three numbers describe the cost of each layer. The **output shape** tells how much memory
# the activations take. The **parameters** are the weights that must be learned and stored:
# a convolution with $C_\text{out}$ filters of size $C_\text{in} \times k \times k$ has
# $C_\text{out}(C_\text{in} k^2 + 1)$ of them, a fully connected layer from $n$ to $m$
# units has $m(n + 1)$. The **multiply-adds** (MACs) measure the computation: a convolution
# performs $C_\text{in} k^2$ of them for every one of its $C_\text{out} H_\text{out}
# W_\text{out}$ outputs.
#
# `course_utils.summary.summarize` runs one forward pass with hooks on every layer and
# tabulates the three numbers. To avoid allocating 62 million weights just to count them, we
# build the model on PyTorch's `meta` device: tensors there have shapes but no data, so the
# "forward pass" only propagates shapes. The input is 227 × 227: the paper's 224 does not
# tile with an 11 × 11 kernel at stride 4, as chapter 2 showed ($(224 - 11)/4 + 1 = 54.25$).

# %%
with torch.device("meta"):  # shapes only: no memory, no arithmetic
    alexnet = AlexNet()
alexnet_summary = summarize(alexnet, (1, 3, 227, 227))
display(alexnet_summary)

# %% [markdown]
# Now let us check the lecture's claims against the table. The slides compute FC6 as
# "6 × 6 × 256 × 4096 + 4096 = 38 million", FC7 as "17 million", and state that AlexNet has
# 62.4 million parameters, "the vast majority in the fully connected layers". They also ask
# how long it would take to read all parameters aloud at 4 seconds each (1, 4, 8 or 16
# years?).

# %%
def rows_of(summary, layer_type):
    """The rows of a summary table for one layer type (e.g. 'Conv2d', 'Linear')."""
    return [r for r in summary.rows if r.type == layer_type]


alex_fc = rows_of(alexnet_summary, "Linear")
alex_conv = rows_of(alexnet_summary, "Conv2d")
fc_params = sum(r.params for r in alex_fc)
print(f"FC6: {alex_fc[0].params:,} parameters, FC7: {alex_fc[1].params:,}, FC8: {alex_fc[2].params:,}")
print(f"total: {alexnet_summary.total_params:,} parameters")
print(f"fully connected share of the parameters: {fc_params / alexnet_summary.total_params:.1%}")
print(f"fully connected share of the multiply-adds: "
      f"{sum(r.macs for r in alex_fc) / alexnet_summary.total_macs:.1%}")
seconds_per_year = 365.25 * 24 * 3600
print(f"reading every parameter aloud at 4 s each: {4 * alexnet_summary.total_params / seconds_per_year:.1f} years")

# %% [markdown]
# The slide's numbers hold up: FC6 has 37.75 M parameters (the slide rounds to 38 M), FC7
# 16.78 M, and the whole network 62.38 M. The fully connected layers hold 94 % of the
# parameters but do only about 5 % of the multiply-adds: **parameters live in the fully
# connected layers, computation lives in the convolutions**. The figure below shows this
# layer by layer. (And the quiz answer is 8 years, 7.9 to be exact.)
#
# Two smaller slips in the computer-vision notes: one copy of the AlexNet table lists CONV2
# with 56 channels instead of 256, and the "AlexNet details" table has four fully connected
# rows (9216, 4096, 4096, 1000). The 9,216 is not a layer: it is the 6 × 6 × 256 output of
# the last pool, flattened. AlexNet has three fully connected layers.
#
# **Two GPUs.** The original network was split over two GPUs with 3 GB each, and CONV2,
# CONV4 and CONV5 only saw the half of their input channels that lived on their own GPU.
# In PyTorch that is a *grouped* convolution with `groups=2` (section 9 explains them), and
# it changes the counts:

# %%
with torch.device("meta"):
    alexnet_grouped = AlexNet(grouped=True)
grouped_summary = summarize(alexnet_grouped, (1, 3, 227, 227))
for name, s in (("single tower", alexnet_summary), ("two towers (groups=2)", grouped_summary)):
    print(f"{name:>22}: {s.total_params / 1e6:6.2f} M parameters, {s.total_macs / 1e6:7.0f} M multiply-adds")

# %% [markdown]
# The paper's "60 million parameters" is the two-tower network (60.97 M). The MobileNet
# paper's comparison table, copied into the lecture, lists AlexNet with 720 million
# multiply-adds: that is also the grouped version (724 M). The single-tower network that
# most re-implementations use costs 1,135 M. When two sources disagree about "the same"
# model, check which variant they counted.

# %%
def plot_layer_costs(summary, title, ax=None):
    """Bar chart of parameters and multiply-adds per conv/linear layer, in millions, log scale."""
    rows = [r for r in summary.rows if r.type in ("Conv2d", "Linear")]
    labels = [f"conv{i + 1}" if r.type == "Conv2d" else f"fc{i + 1}" for i, r in enumerate(rows)]
    x = np.arange(len(rows))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 0.45 * len(rows)), 3.4))
    ax.bar(x - 0.2, [r.params / 1e6 for r in rows], width=0.4, label="parameters (M)")
    ax.bar(x + 0.2, [r.macs / 1e6 for r in rows], width=0.4, label="multiply-adds (M)")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, rotation=90 if len(rows) > 10 else 0)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return ax.figure


fig = plot_layer_costs(alexnet_summary, "AlexNet (227 x 227): where the parameters and the work are")
plt.show()

# %% [markdown]
# ### Exercise 1: a layer table by hand (5 points)
#
# Write `layer_table(specs, input_shape)`, which walks through a list of layer
# specifications and returns, for every layer, its output shape and its number of
# parameters. This is exactly the table you fill in on paper for an exam question, and
# exactly what `summarize` does for a real model. The specifications are tuples:
#
# * `("conv", out_channels, kernel_size, stride, padding)`: a square convolution **with**
#   bias; its output is `(C, H, W)`;
# * `("pool", kernel_size, stride)`: max pooling without padding, no parameters;
# * `("fc", out_features)`: a fully connected layer with bias; if its input is a
#   `(C, H, W)` volume, the volume is flattened first; its output is `(out_features,)`.
#
# Sizes round down like PyTorch: $H_\text{out} = \lfloor (H + 2p - k)/s \rfloor + 1$. Raise a
# `ValueError` if a window does not fit in its (padded) input, if a conv or pool layer comes
# after a fully connected one, or if the kind of layer is unknown. Do not build PyTorch
# layers: compute.

# %% nbgrader={"grade": false, "grade_id": "layer_table", "locked": false, "schema_version": 3, "solution": true}
def layer_table(specs, input_shape):
    """Output shape and parameter count of every layer of a plain CNN.

    Args:
        specs: list of tuples ("conv", out_channels, kernel_size, stride, padding),
            ("pool", kernel_size, stride) or ("fc", out_features).
        input_shape: (C, H, W) of one input image.

    Returns:
        list with one (output_shape, params) pair per spec: output_shape holds ints,
        (C, H, W) after conv/pool layers and (F,) after fc layers; params is an int.
        (Pairs and shapes may be tuples or lists.)

    Raises:
        ValueError: a window larger than its padded input, a conv/pool after an fc
            layer, or an unknown layer kind.
    """
    ### BEGIN SOLUTION
    shape = tuple(int(s) for s in input_shape)
    table = []
    for spec in specs:
        kind = spec[0]
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise ValueError(f"{kind} layer needs a (C, H, W) input, got {shape}")
            c, h, w = shape
            if kind == "conv":
                _, out_channels, k, s, p = spec
                params = out_channels * (c * k * k + 1)
            else:
                _, k, s = spec
                out_channels, p, params = c, 0, 0
            if min(h, w) + 2 * p < k:
                raise ValueError(f"a {k}x{k} window does not fit in a {h}x{w} input with padding {p}")
            shape = (out_channels, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        elif kind == "fc":
            out_features = spec[1]
            params = out_features * (math.prod(shape) + 1)
            shape = (out_features,)
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        table.append((shape, params))
    return table
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_layer_table_alexnet", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def torch_layer_table(specs, input_shape):
    """The same table, computed by building the layers with torch.nn on the meta device."""
    x = torch.empty(1, *input_shape, device="meta")
    expected_rows = []
    for item in specs:
        if item[0] == "conv":
            layer = nn.Conv2d(x.shape[1], item[1], item[2], stride=item[3], padding=item[4], device="meta")
        elif item[0] == "pool":
            layer = nn.MaxPool2d(item[1], stride=item[2])
        else:
            x = x.flatten(1)
            layer = nn.Linear(x.shape[1], item[1], device="meta")
        x = layer(x)
        expected_rows.append((tuple(x.shape[1:]), count_parameters(layer)))
    return expected_rows


alexnet_specs = [("conv", 96, 11, 4, 0), ("pool", 3, 2), ("conv", 256, 5, 1, 2), ("pool", 3, 2),
                 ("conv", 384, 3, 1, 1), ("conv", 384, 3, 1, 1), ("conv", 256, 3, 1, 1), ("pool", 3, 2),
                 ("fc", 4096), ("fc", 4096), ("fc", 1000)]
student_table = layer_table(alexnet_specs, (3, 227, 227))
assert isinstance(student_table, (list, tuple)) and len(student_table) == len(alexnet_specs), \
    f"layer_table should return a list with one entry per spec ({len(alexnet_specs)}), got {student_table!r:.200}"
for i, ((spec, expected), got) in enumerate(zip(zip(alexnet_specs, torch_layer_table(alexnet_specs, (3, 227, 227))),
                                                student_table)):
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"entry {i} should be a pair (shape, params), got {got!r}"
    expect_equal(got[0], expected[0], f"output shape of AlexNet layer {i} {spec}", integer=True)
    expect_equal(got[1], expected[1], f"parameters of AlexNet layer {i} {spec}", integer=True)
### BEGIN HIDDEN TESTS
_h_vgg_specs = []
for _h_v in VGG_CONFIGS["vgg16"]:
    _h_vgg_specs.append(("pool", 2, 2) if _h_v == "M" else ("conv", _h_v, 3, 1, 1))
_h_vgg_specs += [("fc", 4096), ("fc", 4096), ("fc", 1000)]
_h_other = [("conv", 5, 3, 2, 0), ("pool", 2, 2), ("conv", 7, 2, 3, 1), ("fc", 13), ("fc", 3)]
_h_cases = [(_h_vgg_specs, (3, 224, 224)), (_h_other, (2, 17, 12)), ([("fc", 4), ("fc", 2)], (3, 1, 1)),
            ([("conv", 4, 1, 1, 0)], (6, 2, 3)), ([], (3, 5, 5))]
_h_expected = [torch_layer_table(s, shp) for s, shp in _h_cases]
with forbid("torch.nn.functional.conv2d", "torch.nn.functional.max_pool2d", "torch.nn.functional.linear",
            "torch.nn.Conv2d.__init__", "torch.nn.Linear.__init__", "course_utils.summary.summarize",
            exercise="layer_table"):
    _h_got = [layer_table(s, shp) for s, shp in _h_cases]
for (_h_specs, _h_shape), _h_exp, _h_res in zip(_h_cases, _h_expected, _h_got):
    expect_equal(_h_res, _h_exp, f"layer_table({_h_specs}, {_h_shape})", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_layer_table_errors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
small_specs = [("conv", 4, 3, 1, 0), ("pool", 2, 2), ("fc", 10)]
small_table = layer_table(small_specs, (1, 8, 8))
assert isinstance(small_table, (list, tuple)) and len(small_table) == 3, \
    f"layer_table should return one entry per spec for a valid network, got {small_table!r:.200}"
_ = expect_raises(lambda: layer_table([("conv", 4, 7, 1, 0)], (1, 5, 5)), ValueError,
              "layer_table with a 7x7 kernel on a 5x5 input and no padding")
_ = expect_raises(lambda: layer_table([("pool", 3, 2)], (2, 2, 8)), ValueError,
              "layer_table with a 3x3 pool on a 2x8 input")
### BEGIN HIDDEN TESTS
_ = expect_raises(lambda: layer_table([("dense", 10)], (1, 8, 8)), ValueError, "layer_table with an unknown kind")
_ = expect_raises(lambda: layer_table([("fc", 10), ("conv", 4, 1, 1, 0)], (1, 8, 8)), ValueError,
              "layer_table with a conv after an fc layer")
expect_equal(layer_table([("conv", 2, 7, 1, 1)], (1, 5, 5)), [((2, 1, 1), 2 * (7 * 7 + 1))],
             "a 7x7 kernel fits a 5x5 input padded by 1 (output 1x1)", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. VGG-16: depth from tiny filters
#
# VGG (Simonyan and Zisserman, 2014) made one design decision and stuck to it: every
# convolution is 3 × 3 with stride 1 and padding 1 (so it keeps the spatial size), every
# downsampling is a 2 × 2 max pool with stride 2 (which halves it), and the number of
# channels doubles after each of the first three pools (64, 128, 256, 512) and then stays at
# 512 for the last stage, so that the early stages cost about the same and the widest layers
# do not grow past 512 channels. VGG-16 has 13 such convolutions and the three fully connected layers of AlexNet.
# It is homogeneous and easy to reason about, and that is why its stacks of convolutions
# still appear in many later designs.
#
# The Berkeley lecture asks two questions about it: which parts use the most memory, and
# which have the most parameters? It also marks the first fully connected layer with
# "← almost all parameters are here". Let us measure all three quantities per layer.

# %%
with torch.device("meta"):
    vgg16 = VGG("vgg16")
vgg_summary = summarize(vgg16, (1, 3, 224, 224))
vgg_conv, vgg_fc = rows_of(vgg_summary, "Conv2d"), rows_of(vgg_summary, "Linear")
vgg_total = vgg_summary.total_params
print(f"VGG-16: {vgg_total:,} parameters, {vgg_summary.total_macs / 1e9:.2f} G multiply-adds")
print(f"first FC layer: {vgg_fc[0].params:,} parameters = {vgg_fc[0].params / vgg_total:.1%} of the total")
print(f"all three FC layers: {sum(r.params for r in vgg_fc) / vgg_total:.1%} of the parameters, "
      f"{sum(r.macs for r in vgg_fc) / vgg_summary.total_macs:.1%} of the multiply-adds")
conv_macs = sum(r.macs for r in vgg_conv)
print(f"multiply-adds in the convolutions alone: {conv_macs / 1e6:,.0f} M")
activation_values = [math.prod(r.output_shape) for r in vgg_summary.rows if r.type in ("Conv2d", "Linear")]
print(f"activations of one image (conv + fc outputs): {sum(activation_values) * 4 / 2**20:.0f} MiB in float32; "
      f"the first two convs alone: {sum(activation_values[:2]) * 4 / 2**20:.1f} MiB")

# %% [markdown]
# VGG-16 has 138.36 M parameters, the published figure. The first fully connected layer
# holds 74 % of them, all three 89 %: "almost all" is an exaggeration for one layer, but the
# point stands. Memory is the opposite story: the activations are largest in the first
# layers, where 64 channels sit at full 224 × 224 resolution, and during training all of
# them must be kept for the backward pass (per image, times the batch size). The MobileNet
# paper, in the table the lecture copies, lists VGG-16 with 15,300 M multiply-adds; the
# convolutions alone cost 15,347 M and the whole network 15,470 M, so the table rounds (and
# leaves out the classifier). The figure shows the three profiles side by side.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.4))
weighted = [r for r in vgg_summary.rows if r.type in ("Conv2d", "Linear")]
names = [f"c{i + 1}" if r.type == "Conv2d" else f"fc{i - len(vgg_conv) + 6}" for i, r in enumerate(weighted)]
for ax, values, title in zip(axes, ([r.params / 1e6 for r in weighted], [r.macs / 1e6 for r in weighted],
                                   [v * 4 / 2**20 for v in activation_values]),
                             ("parameters (M)", "multiply-adds (M)", "output activations (MiB, float32)")):
    ax.bar(range(len(values)), values, color="tab:blue")
    ax.set_xticks(range(len(values)), names, rotation=90, fontsize=8)
    ax.set_title(f"VGG-16: {title}")
    ax.grid(alpha=0.3, axis="y")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Why stacks of 3 × 3 filters?
#
# Two stacked 3 × 3 convolutions see a 5 × 5 window of the input, three see 7 × 7 (chapter 2
# derived this). So a stack of three 3 × 3 layers has the **receptive field** of a single
# 7 × 7 layer. Why is the stack better?
#
# * **Fewer parameters.** With $C$ channels in and out, a 7 × 7 layer has $49C^2$ weights;
#   three 3 × 3 layers have $3 \cdot 9 C^2 = 27C^2$, 45 % fewer. Per channel pair that is the
#   familiar "27 vs 49": three layers of 3 × 3 weights, $3 \times 9$, against $7 \times 7$.
# * **More nonlinearities.** The stack has three ReLUs where the single layer has one, so it
#   can compute more complicated functions of the same pixels. A single 7 × 7 convolution
#   followed by one ReLU is a thresholded linear function of its window; it cannot, for
#   example, compute the XOR of two pixels, which needs two layers.
# * **Less computation**, in the same ratio as the parameters.
#
# The cell checks the counts with real layers.

# %%
C = 64
one_7x7 = nn.Conv2d(C, C, 7, padding=3, bias=False)
three_3x3 = nn.Sequential(*[m for _ in range(3) for m in (nn.Conv2d(C, C, 3, padding=1, bias=False), nn.ReLU())])
print(f"one 7x7 layer: {count_parameters(one_7x7):,} weights = {count_parameters(one_7x7) // C**2} per channel pair")
print(f"three 3x3 layers: {count_parameters(three_3x3):,} weights = {count_parameters(three_3x3) // C**2} "
      f"per channel pair, {sum(isinstance(m, nn.ReLU) for m in three_3x3)} ReLUs instead of 1")
print("receptive fields:", receptive_field_ref([(7, 1)]), "and", receptive_field_ref([(3, 1)] * 3))

# %% [markdown]
# The receptive field says which pixels *can* influence an output, not how much they do.
# Luo et al. (2016) measured the **effective** receptive field: the gradient of one output
# with respect to the input image, averaged over random weights and inputs. The figure
# below does this for a single random 7 × 7 layer and for a stack of three random 3 × 3
# layers with ReLUs. Both are exactly 7 pixels wide, but the stack concentrates its
# attention on the centre: a centre pixel reaches the output through many paths, a corner
# pixel through exactly one. Deep networks therefore see less of their theoretical receptive
# field than the formula suggests.

# %%
def effective_rf(make_stack, trials=budget(full=300, quick=60), size=15, seed=0):
    """Mean |d output_centre / d input| over random networks and inputs: Tensor[size, size]."""
    torch.manual_seed(seed)
    total = torch.zeros(size, size)
    for _ in range(trials):
        stack = make_stack()
        image = torch.randn(1, 1, size, size, requires_grad=True)
        out = stack(image)
        out[0, :, out.shape[-2] // 2, out.shape[-1] // 2].sum().backward()
        total += image.grad[0, 0].abs()
    return total / trials


erf_7x7 = effective_rf(lambda: nn.Sequential(nn.Conv2d(1, 8, 7)))
erf_3x3 = effective_rf(lambda: nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(),
                                             nn.Conv2d(8, 8, 3)))
fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
for ax, erf, title in ((axes[0], erf_7x7, "one 7x7 conv"), (axes[1], erf_3x3, "three 3x3 convs + ReLU")):
    ax.imshow(erf / erf.max(), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"{title}: {int((erf.sum(0) > 0).sum())} px wide")
    ax.set_xticks([])
    ax.set_yticks([])
centre = erf_3x3.shape[0] // 2
for erf, label in ((erf_7x7, "one 7x7"), (erf_3x3, "three 3x3")):
    profile = erf.sum(dim=0)  # [size] summed over rows
    axes[2].plot(np.arange(-centre, centre + 1), (profile / profile.max()).numpy(), marker="o", label=label)
axes[2].set_title("horizontal profile (sum over rows)")
axes[2].set_xlabel("offset from the output position (pixels)")
axes[2].legend(fontsize=8)
axes[2].grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Exercise 2: the receptive field of any stack (2 points)
#
# Chapter 2 counted the receptive field of stride-1 stacks. Real networks also have strides
# (each later layer steps over several input pixels at once) and **dilated** convolutions
# (a $k \times k$ kernel with dilation $d$ leaves $d - 1$ pixels between its taps, so it spans
# $d(k - 1) + 1$ pixels). Write `receptive_field(layers)` for a stack of layers given as
# `(kernel_size, stride, dilation)` tuples (pooling layers count as layers with a kernel and
# a stride and dilation 1). Return a pair of ints `(rf, jump)` (a tuple or a list): the receptive field of one
# output of the last layer, in input pixels, and the distance in input pixels between two
# neighbouring outputs of the last layer (the product of all strides).
#
# Hint: keep track of the current `jump`. A layer whose kernel spans $d(k-1)+1$ positions of
# its input widens the receptive field by $d(k-1)$ positions of its input, and each of
# those is `jump` input pixels apart. Raise a `ValueError` if any value is not a positive
# integer.

# %% nbgrader={"grade": false, "grade_id": "receptive_field", "locked": false, "schema_version": 3, "solution": true}
def receptive_field(layers):
    """Receptive field and jump of a stack of (kernel_size, stride, dilation) layers.

    Args:
        layers: list of (kernel_size, stride, dilation) tuples of positive ints, input first.

    Returns:
        (rf, jump): ints; rf is the receptive field of one output of the last layer (input
        pixels, along one axis), jump the spacing of neighbouring outputs in input pixels.
        An empty stack gives (1, 1).

    Raises:
        ValueError: a value that is not a positive int.
    """
    ### BEGIN SOLUTION
    rf, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        for value in (kernel_size, stride, dilation):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"layer values must be positive ints, got {(kernel_size, stride, dilation)}")
        rf += dilation * (kernel_size - 1) * jump
        jump *= stride
    return rf, jump
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_receptive_field", "locked": true, "points": 2, "schema_version": 3, "solution": false}
as_numbers(receptive_field([(3, 1, 1)] * 3), "receptive_field([(3, 1, 1)] * 3), a pair (rf, jump)", length=2,
           integer=True)
expect_equal(receptive_field([(7, 1, 1)]), (7, 1), "receptive_field([(7, 1, 1)]) (a single 7x7 layer)", integer=True)
expect_equal(receptive_field([(3, 1, 1)] * 3), (7, 1),
             "receptive_field([(3, 1, 1)] * 3) (three 3x3 layers see as far as one 7x7 layer)", integer=True)
_strided = as_numbers(receptive_field([(3, 2, 1), (3, 1, 1)]), "receptive_field([(3, 2, 1), (3, 1, 1)])", length=2)
assert _strided[0] > 5, "a stride in the first layer should make the second layer's window cover more input pixels"
assert as_numbers(receptive_field([(3, 1, 2)]), "receptive_field([(3, 1, 2)])", length=2)[0] > 3, \
    "a dilated 3x3 kernel spans more than 3 pixels"
### BEGIN HIDDEN TESTS
def _h_measured_rf(stack):
    """Receptive field of the centre output, measured with autograd on conv1d layers of ones."""
    _h_convs = [nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in stack]
    for _h_c in _h_convs:
        nn.init.ones_(_h_c.weight)
    _h_x = torch.zeros(1, 1, 400, requires_grad=True, dtype=torch.float64)
    _h_y = _h_x
    for _h_c in _h_convs:
        _h_y = _h_c.double()(_h_y)
    _h_y[0, 0, _h_y.shape[-1] // 2].backward()
    _h_nz = _h_x.grad[0, 0].nonzero()
    return int(_h_nz.max() - _h_nz.min() + 1)


_h_stacks = [[(3, 1, 1), (2, 2, 1), (3, 1, 2), (3, 2, 1), (5, 1, 1)], [(7, 2, 1), (3, 2, 1), (3, 1, 3)],
             [(1, 1, 1)], [(5, 3, 2), (2, 2, 1)], [(3, 1, 4)] * 4]
with forbid(receptive_field_ref, exercise="receptive_field"):
    _h_results = [receptive_field(_h_s) for _h_s in _h_stacks]
for _h_s, _h_r in zip(_h_stacks, _h_results):
    expect_equal(_h_r, (_h_measured_rf(_h_s), math.prod(s for _, s, _ in _h_s)), f"(rf, jump) of {_h_s}", integer=True)
_h_vgg = [(2, 2, 1) if v == "M" else (3, 1, 1) for v in VGG_CONFIGS["vgg16"]]
_h_vgg_rf = (_h_measured_rf(_h_vgg), 32)
expect_equal(receptive_field(_h_vgg), _h_vgg_rf, "(rf, jump) of VGG-16's feature extractor", integer=True)
expect_equal(receptive_field([]), (1, 1), "receptive_field([])", integer=True)
_ = expect_raises(lambda: receptive_field([(3, 0, 1)]), ValueError, "receptive_field with stride 0")
### END HIDDEN TESTS

# %% [markdown]
# With this function the whole VGG-16 feature extractor is one line: the last pooling layer
# sees a window of 212 × 212 pixels of the 224 × 224 input, with outputs 32 pixels apart.
# (The cell uses the course's version, which ignores dilation.)

# %%
vgg_stack = [(2, 2) if v == "M" else (3, 1) for v in VGG_CONFIGS["vgg16"]]
print("VGG-16 after the last pool: receptive field", receptive_field_ref(vgg_stack), "pixels, jump",
      math.prod(s for _, s in vgg_stack), "pixels")

# %% [markdown]
# ## 4. Going deeper: vanishing and exploding gradients
#
# If 16 layers are better than 8, why not 100? The first obstacle is the gradient. For a
# plain stack of layers $z^{(l)} = f_l(z^{(l-1)})$, the chain rule gives the gradient of the
# loss with respect to an early layer's output as a product of Jacobians:
#
# $$
# \frac{\partial \mathcal{L}}{\partial z^{(1)}} =
#   J_2^\top J_3^\top \cdots J_n^\top \frac{\partial \mathcal{L}}{\partial z^{(n)}},
#   \qquad J_l = \frac{\partial z^{(l)}}{\partial z^{(l-1)}}.
# $$
#
# The lecture's scalar version makes the danger obvious: if every local derivative is about
# $d$, the product is $d^{n-1}$. With $d = 0.9$ and $n = 50$ that is 0.005; with $d = 1.1$
# it is 107. The gradient reaching the first layers **vanishes** or **explodes**
# exponentially with depth, unless the Jacobians are close to norm-preserving. For a linear
# layer followed by ReLU, $J_l = \operatorname{diag}(\mathbb{1}[z > 0])\, W_l$, so the
# scale of the weights decides which way it goes.
#
# **Kaiming initialization.** He et al. (2015) chose that scale so that the variance of the
# activations (and, symmetrically, of the gradients) stays constant from layer to layer. For
# a layer with $n$ inputs, $\operatorname{Var}(z_i) = n \operatorname{Var}(w)\,
# \mathbb{E}[x^2]$, and a ReLU keeps half of a symmetric input's second moment, so
# $\mathbb{E}[x^2] = \tfrac12 \operatorname{Var}(z^{(l-1)})$. The variance is preserved
# when $n \operatorname{Var}(w) / 2 = 1$, i.e. $w \sim \mathcal{N}(0, 2/n)$: standard
# deviation $\sqrt{2/n}$, as the lecture writes.
#
# Two other initializations are often confused with a principled one. The rule
# $\mathcal{U}(-1/\sqrt{n}, 1/\sqrt{n})$ is sometimes called "Xavier", but it is not Glorot and
# Bengio's rule ($\mathcal{U}(\pm\sqrt{6/(n_\text{in} + n_\text{out})})$, variance
# $2/(n_\text{in} + n_\text{out})$); it is what PyTorch's `nn.Linear` and `nn.Conv2d` use by
# default, and its variance is only $1/(3n)$. In a ReLU network each layer then multiplies
# the variance by $n \cdot \frac{1}{3n} \cdot \frac12 = \frac16$. AlexNet's
# $\mathcal{N}(0, 0.01^2)$ is worse still for wide layers, and only worked because AlexNet
# is shallow (and set some biases to 1 to keep ReLUs alive).
#
# The experiment: a plain 30-layer ReLU network of width 64 on the digits, four
# initializations, one backward pass on a batch, and the norm of the gradient with respect
# to every layer's output, i.e. the product of Jacobians above, measured.

# %%
digits_train = DigitsDataset("train")  # 8x8 digits, normalized: Tensor[1078, 1, 8, 8]
probe_x, probe_y = digits_train.images[:256], digits_train.labels[:256]
MLP_DEPTH, MLP_WIDTH = 30, 64


def deep_mlp(weight_std=None, depth=MLP_DEPTH, width=MLP_WIDTH, seed=0):
    """A plain ReLU MLP; weight_std(fan_in) sets N(0, std^2) weights, None keeps PyTorch's default."""
    torch.manual_seed(seed)
    layers, fan_in = [nn.Flatten()], 64
    for _ in range(depth):
        linear = nn.Linear(fan_in, width)
        if weight_std is not None:
            nn.init.normal_(linear.weight, 0.0, weight_std(fan_in))
            nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, 10))
    return nn.Sequential(*layers)


def gradient_profile(model, x, y):
    """Norms of dLoss/d(output of every ReLU) and std of those outputs, first layer first."""
    outputs = []

    def keep(module, inputs, out):  # a forward hook must return None to leave the output alone
        out.retain_grad()
        outputs.append(out)

    hooks = [m.register_forward_hook(keep) for m in model if isinstance(m, nn.ReLU)]
    F.cross_entropy(model(x), y).backward()
    for h in hooks:
        h.remove()
    return [float(o.grad.norm()) for o in outputs], [float(o.detach().std()) for o in outputs]


inits = {
    "PyTorch default U(±1/√n) (often called 'Xavier')": None,
    "Kaiming N(0, 2/n)": lambda n: math.sqrt(2 / n),
    "1.5 × Kaiming": lambda n: 1.5 * math.sqrt(2 / n),
    "AlexNet N(0, 0.01²)": lambda n: 0.01,
}
profiles = {name: gradient_profile(deep_mlp(std), probe_x, probe_y) for name, std in inits.items()}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
tiny = 1e-30  # log scale: show exact zeros (underflow) at the bottom of the plot
for name, (grads, stds) in profiles.items():
    axes[0].plot(range(1, MLP_DEPTH + 1), np.maximum(grads, tiny), marker=".", label=name)
    axes[1].plot(range(1, MLP_DEPTH + 1), np.maximum(stds, tiny), marker=".", label=name)
for ax, title in zip(axes, ("gradient norm ‖dL/dz‖ at each layer", "std of each layer's activations")):
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = first)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=7)
fig.tight_layout()
plt.show()
for name, (grads, stds) in profiles.items():
    print(f"{name:>50}: gradient first/last layer = {grads[0] / grads[-1]:.2e}, last activation std {stds[-1]:.2e}")

# %% [markdown]
# The picture matches the algebra. With PyTorch's default the weights shrink the signal by
# a factor of about $\sqrt{6}$ per layer (the small random biases keep the activations from
# vanishing entirely), and the gradient at layer 1 is many orders of magnitude below the
# one at layer 30 (the cell prints the ratio), of the order of $\sqrt{6}^{\,-29} \approx
# 5 \cdot 10^{-12}$: the first layers would not learn at all. With $1.5\times$ Kaiming the
# variance grows by $1.5^2 = 2.25$ per layer, and activations and gradients explode. AlexNet's
# tiny weights shrink the signal by a factor of about 18 per layer ($1 / \sqrt{64 \cdot
# 0.01^2 / 2}$): the last activations are around $10^{-39}$, at the edge of what float32 can
# represent, and the gradient of the first layers underflows to exactly zero. Only Kaiming keeps both curves flat. (In practice PyTorch's default is rarely a
# problem, because modern networks use batch normalization, which resets the scale at every
# layer; the next section covers it. The course's ResNets use Kaiming initialization anyway.)
#
# Try other scales yourself: the slider multiplies the Kaiming standard deviation. The
# variance changes by the square of the factor at every layer, and a factor of 1.1 already
# changes the ratio of the first to the last layer's gradient norm by $1.1^{29} \approx 16$
# (every backward step through a layer multiplies the gradient by the weights' scale).

# %%
import ipywidgets as widgets


def _plot_gain(gain):
    grads, _ = gradient_profile(deep_mlp(lambda n: gain * math.sqrt(2 / n)), probe_x, probe_y)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogy(range(1, MLP_DEPTH + 1), np.maximum(grads, tiny), marker=".")
    ax.set_title(f"weights N(0, ({gain:.2f} · √(2/n))²)")
    ax.set_xlabel("layer")
    ax.set_ylabel("‖dL/dz‖")
    ax.grid(alpha=0.3)
    display(fig)
    plt.close(fig)


display(widgets.interactive(_plot_gain, gain=widgets.FloatSlider(value=1.0, min=0.5, max=1.5, step=0.05,
                                                                 description="× Kaiming")))

# %% [markdown]
# ## 5. Batch normalization
#
# Careful initialization makes the *first* forward pass well scaled, but the scales drift as
# the weights change during training. **Batch normalization** (Ioffe and Szegedy, 2015)
# normalizes inside the network, at every step. For a convolutional feature map
# $x \in \mathbb{R}^{N \times C \times H \times W}$ it computes, for each channel $c$
# separately, the mean $\mu_c$ and the variance $\sigma_c^2$ over the batch and all spatial
# positions ($N H W$ values), and outputs
#
# $$
# y = \gamma_c \, \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \varepsilon}} + \beta_c ,
# $$
#
# with a learned scale $\gamma_c$ and shift $\beta_c$ (so the network can undo the
# normalization where that helps) and a small $\varepsilon$ for numerical safety.
#
# **Training and test mode.** At test time there may be a single image, and a prediction
# must not depend on which other images share its batch. So during training the layer also
# keeps *running estimates* of the mean and variance, and at test time (`model.eval()`) it
# normalizes with those instead. The lecture writes the update as
# $\bar\mu \leftarrow p\,\bar\mu + (1 - p)\,\mu_t$. PyTorch's `momentum` argument is
# $1 - p$, the weight of the *new* batch: `momentum=0.1` means $p = 0.9$. Two more details
# matter if you want to match `nn.BatchNorm2d` exactly: the batch is normalized with the
# *biased* variance (divide by $m = NHW$), but the running variance is updated with the
# *unbiased* one (divide by $m - 1$), because it estimates the variance of the whole
# population.
#
# **What batch norm does not do.** The computer-vision notes illustrate batch norm with a
# cloud of points that ends up centred, scaled and *uncorrelated*
# ($\operatorname{Cov}(x, y) = 0$). Normalizing each channel on its own cannot remove the
# correlation between channels: that would need whitening with the full covariance matrix.
# Let us check with `nn.BatchNorm2d` on two strongly correlated channels.

# %%
gen = torch.Generator().manual_seed(0)
a = torch.randn(500, generator=gen)
two_channels = torch.stack([3.0 * a + 5.0, 2.0 * a + 0.5 * torch.randn(500, generator=gen) - 4.0], dim=1)  # [500, 2]
bn = nn.BatchNorm2d(2)
normalized = bn(two_channels[:, :, None, None])[:, :, 0, 0].detach()  # as a batch of 500 1x1 "images"
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, data, title in ((axes[0], two_channels, "before batch norm"), (axes[1], normalized, "after batch norm")):
    corr = float(torch.corrcoef(data.T)[0, 1])
    ax.scatter(data[:, 0], data[:, 1], s=4, alpha=0.5)
    ax.set_title(f"{title}: means {data.mean(0).numpy().round(2)}, correlation {corr:.3f}", fontsize=9)
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_aspect("equal", adjustable="datalim")
fig.tight_layout()
plt.show()
print("covariance after batch norm:", float(torch.cov(normalized.T)[0, 1]))

# %% [markdown]
# Each channel now has mean 0 and variance 1, but the correlation is exactly what it was:
# batch norm is an affine map applied to each channel on its own, and correlation does not
# change under such maps. Batch norm does not decorrelate its inputs: the covariance of
# the normalized channels is their correlation, not 0 (the cell prints it).
#
# ### Exercise 3: batch norm, training and test mode (5 points)
#
# Implement `batch_norm_forward` with the contract of `torch.nn.functional.batch_norm`:
#
# * `x` is `[N, C, H, W]`; `gamma` and `beta` are `[C]` or `None` (meaning 1 and 0);
# * `training=True`: normalize with the batch mean and the **biased** batch variance per
#   channel, and, if `running_mean`/`running_var` are given, update them **in place** with
#   `running = (1 - momentum) * running + momentum * batch_statistic`, using the
#   **unbiased** batch variance for `running_var`;
# * `training=False`: normalize with `running_mean` and `running_var` and leave them alone.
#
# Gradients must flow through the batch statistics (do not detach them in the output), but
# the running buffers are statistics, not part of the graph: update them under
# `torch.no_grad()` or with detached values. Use tensor operations; calling
# `F.batch_norm`, `nn.BatchNorm2d` or the course's `layers_ref.batch_norm_forward` scores no
# points.

# %% nbgrader={"grade": false, "grade_id": "batch_norm_forward", "locked": false, "schema_version": 3, "solution": true}
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalization of x: Tensor[N, C, H, W] per channel; see the text for the contract.

    Returns a tensor of the shape and dtype of x. In training mode, running_mean and
    running_var (Tensor[C] or None) are updated in place.
    """
    ### BEGIN SOLUTION
    dims = (0, 2, 3)  # every dimension except the channels
    shape = (1, -1, 1, 1)  # [C] -> [1, C, 1, 1] broadcasts over N, H, W
    if training:
        mean = x.mean(dim=dims)  # [C]
        var = x.var(dim=dims, unbiased=False)  # [C], biased: normalizes this batch
        if running_mean is not None:  # statistics, not part of the graph: detached values
            m = x.numel() // x.shape[1]  # values per channel
            running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
            running_var.mul_(1 - momentum).add_(momentum * var.detach() * m / (m - 1))
    else:
        mean, var = running_mean, running_var
    out = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    if gamma is not None:
        out = out * gamma.reshape(shape)
    if beta is not None:
        out = out + beta.reshape(shape)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_batch_norm_train", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
def random_bn(channels, seed, dtype=torch.float32):
    """An nn.BatchNorm2d with random affine parameters and running statistics."""
    g = torch.Generator().manual_seed(seed)
    layer = nn.BatchNorm2d(channels).to(dtype)
    with torch.no_grad():
        layer.weight.copy_(1 + 0.5 * torch.randn(channels, generator=g))
        layer.bias.copy_(torch.randn(channels, generator=g))
        layer.running_mean.copy_(torch.randn(channels, generator=g))
        layer.running_var.copy_(0.5 + torch.rand(channels, generator=g))
    return layer


bn_ref = random_bn(3, seed=0)
x_bn = 2.0 + 3.0 * torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(1))
rm, rv = bn_ref.running_mean.clone(), bn_ref.running_var.clone()
y_student = batch_norm_forward(x_bn, bn_ref.weight.detach(), bn_ref.bias.detach(), rm, rv, training=True)
y_torch = bn_ref.train()(x_bn)
expect_close(y_student, y_torch.detach(), "batch_norm_forward output in training mode (vs nn.BatchNorm2d)", atol=1e-4)
expect_close(rm, bn_ref.running_mean, "running_mean after one training step (vs nn.BatchNorm2d)")
expect_close(rv, bn_ref.running_var, "running_var after one training step (vs nn.BatchNorm2d)", atol=1e-4)
# A batch with a small variance (0.0025) and eps = 0.01: where eps goes matters.
x_small = 0.05 * torch.randn(4, 2, 3, 3, generator=torch.Generator().manual_seed(4))
expect_close(batch_norm_forward(x_small, None, None, None, None, training=True, eps=0.01),
             F.batch_norm(x_small, None, None, training=True, eps=0.01),
             "training mode, small variance, eps=0.01 (eps goes inside the square root: (x - mean) / sqrt(var + eps))",
             atol=1e-4)
### BEGIN HIDDEN TESTS
for _h_seed, (_h_shape, _h_mom, _h_dtype) in enumerate([((2, 4, 3, 3), 0.3, torch.float64), ((7, 2, 1, 1), 0.1, torch.float32),
                                                        ((1, 5, 4, 6), 0.05, torch.float64), ((3, 1, 2, 2), 1.0, torch.float64)]):
    _h_ref = random_bn(_h_shape[1], seed=10 + _h_seed, dtype=_h_dtype)
    _h_ref.momentum = _h_mom
    _h_x = (torch.randn(*_h_shape, generator=torch.Generator().manual_seed(_h_seed), dtype=_h_dtype) * 2 - 1)
    _h_x_ref = _h_x.clone().requires_grad_(True)
    _h_x_st = _h_x.clone().requires_grad_(True)
    _h_rm, _h_rv = _h_ref.running_mean.clone(), _h_ref.running_var.clone()
    _h_g, _h_b = _h_ref.weight.detach().clone(), _h_ref.bias.detach().clone()
    _h_yr = _h_ref.train()(_h_x_ref)
    (_h_yr * torch.arange(_h_yr.numel(), dtype=_h_dtype).reshape(_h_yr.shape).sin()).sum().backward()
    with forbid("torch.nn.functional.batch_norm", "torch.batch_norm", layers_ref.batch_norm_forward,
                layers_ref.batch_norm_forward_loop, "torch.nn.BatchNorm2d.forward", exercise="batch_norm_forward"):
        _h_ys = batch_norm_forward(_h_x_st, _h_g, _h_b, _h_rm, _h_rv, training=True, momentum=_h_mom)
    _h_tol = 1e-10 if _h_dtype == torch.float64 else 1e-4
    expect_tensor(_h_ys, "output", shape=_h_x.shape, dtype=_h_dtype)
    expect_close(_h_ys, _h_yr.detach(), f"output for shape {_h_shape}", atol=_h_tol)
    expect_close(_h_rm, _h_ref.running_mean, f"running_mean for shape {_h_shape}, momentum {_h_mom}", atol=_h_tol)
    expect_close(_h_rv, _h_ref.running_var, f"running_var for shape {_h_shape}, momentum {_h_mom}", atol=_h_tol)
    (_h_ys * torch.arange(_h_ys.numel(), dtype=_h_dtype).reshape(_h_ys.shape).sin()).sum().backward()
    assert _h_x_st.grad is not None, "no gradient reached x"
    expect_close(_h_x_st.grad, _h_x_ref.grad, f"gradient wrt x for shape {_h_shape}", atol=_h_tol * 10)
_h_x = torch.randn(6, 2, 3, 3, generator=torch.Generator().manual_seed(5))
expect_close(batch_norm_forward(_h_x, None, None, None, None, training=True),
             F.batch_norm(_h_x, None, None, training=True), "training mode without running stats or affine", atol=1e-5)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_batch_norm_eval", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: dtype-stated
bn_ref = random_bn(3, seed=2)
x_bn = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(3))
rm, rv = bn_ref.running_mean.clone(), bn_ref.running_var.clone()
y_student = batch_norm_forward(x_bn, bn_ref.weight.detach(), bn_ref.bias.detach(), rm, rv, training=False)
expect_close(y_student, bn_ref.eval()(x_bn).detach(), "batch_norm_forward output in test mode (vs nn.BatchNorm2d)")
expect_close(rm, bn_ref.running_mean, "running_mean must not change in test mode")
expect_close(rv, bn_ref.running_var, "running_var must not change in test mode")
# Small running variances (0.01) and eps = 0.1: where eps goes matters.
_rm_small, _rv_small = torch.zeros(3), torch.full((3,), 0.01)
expect_close(batch_norm_forward(x_bn, None, None, _rm_small.clone(), _rv_small.clone(), training=False, eps=0.1),
             F.batch_norm(x_bn, _rm_small, _rv_small, training=False, eps=0.1),
             "test mode, running_var 0.01, eps=0.1 (eps goes inside the square root: (x - mean) / sqrt(var + eps))")
### BEGIN HIDDEN TESTS
for _h_seed in range(3):
    _h_ref = random_bn(4, seed=20 + _h_seed, dtype=torch.float64)
    _h_x = torch.randn(1 + _h_seed, 4, 2, 3, generator=torch.Generator().manual_seed(_h_seed), dtype=torch.float64)
    _h_rm, _h_rv = _h_ref.running_mean.clone(), _h_ref.running_var.clone()
    with forbid("torch.nn.functional.batch_norm", "torch.batch_norm", layers_ref.batch_norm_forward,
                layers_ref.batch_norm_forward_loop, "torch.nn.BatchNorm2d.forward", exercise="batch_norm_forward"):
        _h_y = batch_norm_forward(_h_x, _h_ref.weight.detach(), _h_ref.bias.detach(), _h_rm, _h_rv, training=False,
                                  momentum=0.5, eps=1e-3)
    _h_ref.eps = 1e-3
    expect_close(_h_y, _h_ref.eval()(_h_x).detach(), f"test-mode output (batch of {1 + _h_seed}, eps 1e-3)", atol=1e-10)
    expect_close(_h_rm, _h_ref.running_mean, "running_mean in test mode", atol=0)
    expect_close(_h_rv, _h_ref.running_var, "running_var in test mode", atol=0)
# a single image in test mode must work and must not depend on the rest of the batch
_h_ref = random_bn(2, seed=30)
_h_x = torch.randn(5, 2, 3, 3, generator=torch.Generator().manual_seed(9))
_h_all = batch_norm_forward(_h_x, None, None, _h_ref.running_mean.clone(), _h_ref.running_var.clone(), training=False)
_h_one = batch_norm_forward(_h_x[:1], None, None, _h_ref.running_mean.clone(), _h_ref.running_var.clone(), training=False)
expect_close(_h_one, _h_all[:1], "test mode on one image vs the same image inside a batch")
### END HIDDEN TESTS

# %% [markdown]
# The course's own `layers_ref.BatchNorm2dScratch` wraps the same computation in a module.
# Swapping it for `nn.BatchNorm2d` inside a network changes nothing, which the cell checks
# after a few training steps in both modes. It also shows the trap of forgetting
# `model.eval()`: the same image gets a different output depending on its batch mates.

# %%
torch.manual_seed(0)
net_torch = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
net_scratch = copy.deepcopy(net_torch)
net_scratch[1] = layers_ref.BatchNorm2dScratch(4)
for net in (net_torch, net_scratch):
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for step in range(5):
        optimizer.zero_grad()
        F.cross_entropy(net(probe_x[32 * step:32 * step + 32]), probe_y[32 * step:32 * step + 32]).backward()
        optimizer.step()
for mode in ("train", "eval"):
    net_torch.train(mode == "train")
    net_scratch.train(mode == "train")
    with torch.no_grad():
        diff = (net_torch(probe_x[:8]) - net_scratch(probe_x[:8])).abs().max()
    print(f"{mode} mode: largest difference nn.BatchNorm2d vs scratch = {float(diff):.1e}")
net_torch.train()
with torch.no_grad():
    alone, in_batch = net_torch(probe_x[:1]), net_torch(probe_x[:8])[:1]
print(f"train mode, image 0 alone vs in a batch of 8: logits differ by {float((alone - in_batch).abs().max()):.2f}")
net_torch.eval()
with torch.no_grad():
    alone, in_batch = net_torch(probe_x[:1]), net_torch(probe_x[:8])[:1]
print(f"eval mode,  image 0 alone vs in a batch of 8: logits differ by {float((alone - in_batch).abs().max()):.1e}")

# %% [markdown]
# ## 6. Residual connections
#
# With Kaiming initialization and batch norm, 20 or 30 layers train. Yet He et al. (2016)
# observed something odd beyond that: a 56-layer plain network had *higher training error*
# than a 20-layer one. That is not overfitting (the training error is worse), and it is not
# a lack of capacity either: the deeper network could copy the shallower one and set its
# extra layers to the identity. The optimizer simply does not find such solutions.
#
# Their fix makes the identity the default. A **residual block** computes a correction
# $F(x)$ and adds its input back: $H(x) = F(x) + x$. If the best thing a block can do is
# nothing, it only has to drive $F$ to zero. For the gradient this means
#
# $$
# \frac{\partial H}{\partial x} = \frac{\partial F}{\partial x} + I ,
# $$
#
# so every block's Jacobian contains an identity and the product of Jacobians of section 4
# becomes a product of $(I + J_l)$ terms, which always contains a direct path from the loss
# to every layer. ("The baseline gradient is 1" holds for one block; through many blocks the
# $J_l$ terms still multiply, as the measurement below shows, but far more gently.)
#
# ResNet's **basic block** is two 3 × 3 convolutions with batch norm:
# `out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`. Note where the addition
# sits: after the second batch norm and **before** the last ReLU. Where the block changes
# the shape (stride 2, or more channels), the identity does not fit, and the shortcut is a
# 1 × 1 convolution with the same stride followed by batch norm (a "projection").
#
# ### Exercise 4: a residual block's forward pass (4 points)

# %% nbgrader={"grade": false, "grade_id": "residual_block_forward", "locked": false, "schema_version": 3, "solution": true}
def residual_block_forward(x, conv1, bn1, conv2, bn2, shortcut=None):
    """Forward pass of a ResNet basic block built from given modules.

    out = relu( bn2(conv2(relu(bn1(conv1(x))))) + s ), where s = x if shortcut is None,
    else s = shortcut(x). The residual is added BEFORE the final ReLU.

    Args:
        x: Tensor[N, C_in, H, W].
        conv1, bn1, conv2, bn2: modules (nn.Conv2d, nn.BatchNorm2d); call them, whatever
            mode (train/eval) they are in.
        shortcut: None (identity) or a module mapping x to the block's output shape.

    Returns:
        Tensor[N, C_out, H_out, W_out].
    """
    ### BEGIN SOLUTION
    identity = x if shortcut is None else shortcut(x)
    out = torch.relu(bn1(conv1(x)))  # [N, C_out, H_out, W_out]
    out = bn2(conv2(out))
    return torch.relu(out + identity)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_residual_identity", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def random_block(in_channels, channels, stride, seed):
    """A course BasicBlock with random batch-norm statistics, so no layer is an identity."""
    torch.manual_seed(seed)
    block = layers_ref.BasicBlock(in_channels, channels, stride=stride)
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.5)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return block.eval()


block = random_block(8, 8, stride=1, seed=0)
x_res = torch.randn(2, 8, 6, 6, generator=torch.Generator().manual_seed(0))
out = residual_block_forward(x_res, block.conv1, block.bn1, block.conv2, block.bn2)
expect_tensor(out, "residual_block_forward output", shape=(2, 8, 6, 6))
expect_close(out, block(x_res).detach(), "residual_block_forward with an identity shortcut (vs course BasicBlock)")
### BEGIN HIDDEN TESTS
for _h_seed in range(3):
    _h_block = random_block(4, 4, stride=1, seed=10 + _h_seed)
    _h_x = torch.randn(3, 4, 5, 7, generator=torch.Generator().manual_seed(_h_seed), dtype=torch.float64)
    _h_block = _h_block.double()
    _h_xs = _h_x.clone().requires_grad_(True)
    _h_xr = _h_x.clone().requires_grad_(True)
    with forbid(layers_ref.BasicBlock.forward, exercise="residual_block_forward"):
        _h_out = residual_block_forward(_h_xs, _h_block.conv1, _h_block.bn1, _h_block.conv2, _h_block.bn2)
    _h_ref = _h_block(_h_xr)
    expect_close(_h_out, _h_ref.detach(), f"identity block output (seed {_h_seed})", atol=1e-10)
    _h_out.sum().backward()
    _h_ref.sum().backward()
    expect_close(_h_xs.grad, _h_xr.grad, "gradient wrt x through the identity block", atol=1e-10)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_residual_projection", "locked": true, "points": 2, "schema_version": 3, "solution": false}
down = random_block(8, 16, stride=2, seed=1)
out = residual_block_forward(x_res, down.conv1, down.bn1, down.conv2, down.bn2, shortcut=down.downsample)
expect_tensor(out, "residual_block_forward output with a stride-2 projection shortcut", shape=(2, 16, 3, 3))
assert bool((out >= 0).all()), "the block ends with a ReLU, so no output can be negative"
### BEGIN HIDDEN TESTS
expect_close(out, down(x_res).detach(), "stride-2 projection block output (vs course BasicBlock)")
_h_down = random_block(3, 6, stride=2, seed=5).double()
_h_x = torch.randn(2, 3, 7, 5, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
with forbid(layers_ref.BasicBlock.forward, exercise="residual_block_forward"):
    _h_out = residual_block_forward(_h_x, _h_down.conv1, _h_down.bn1, _h_down.conv2, _h_down.bn2,
                                    shortcut=_h_down.downsample)
expect_close(_h_out, _h_down(_h_x).detach(), "odd-sized stride-2 projection block", atol=1e-10)
# training mode: batch statistics, the same as the module's own forward on copies
_h_train = random_block(4, 8, stride=2, seed=6).train()
_h_copy = copy.deepcopy(_h_train)
_h_x = torch.randn(4, 4, 6, 6, generator=torch.Generator().manual_seed(8))
_h_out = residual_block_forward(_h_x, _h_train.conv1, _h_train.bn1, _h_train.conv2, _h_train.bn2,
                                shortcut=_h_train.downsample)
expect_close(_h_out, _h_copy(_h_x).detach(), "projection block in training mode", atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# Now the measurement that motivates all this. `course_utils.models.SmallResNet` is the
# CIFAR-style ResNet of the paper (a 3 × 3 stem, three stages of basic blocks with 16, 32
# and 64 channels, global average pooling, one linear layer; depth $6n + 2$), and
# `PlainNet` is the same network without shortcuts. Both use batch norm and Kaiming
# initialization. At depth 56, before any training, the gradient norm of every 3 × 3
# convolution's weights after one backward pass:

# %%
torch.manual_seed(0)
grad_norms = {}
for name, residual in (("plain, 56 layers", False), ("residual, 56 layers", True)):
    torch.manual_seed(0)
    net = SmallResNet(depth=56, residual=residual, width=8)
    F.cross_entropy(net(probe_x), probe_y).backward()
    grad_norms[name] = [float(m.weight.grad.norm()) for m in net.modules()
                        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
fig = plot_curves(np.arange(1, len(grad_norms["plain, 56 layers"]) + 1), grad_norms, xlabel="3x3 conv layer (1 = first)",
                  ylabel="‖dL/dW‖", logy=True, title="Gradient norms at initialization")
plt.show()
for name, g in grad_norms.items():
    print(f"{name}: first / last layer gradient = {g[0] / g[-1]:.1f}")

# %% [markdown]
# Batch norm does not give the plain network vanishing gradients here; it gives it the
# opposite problem: the gradient grows by orders of magnitude from the last layer to the
# first (the ratios are printed above). This is a known property of deep batch-normalized
# plain networks: each normalization slightly amplifies the gradient on its way back. The
# residual network's gradients stay within a much narrower band across all 55 layers.
#
# ### Training a deep plain and a deep residual network on the digits
#
# The real test is training. Both networks get 32 layers (a stem, 15 blocks of two
# convolutions, and the classifier), 8 channels in the first stage to fit the time budget,
# the same initialization, optimizer (SGD with momentum 0.9, learning rate 0.1), batches and
# number of epochs, on the 8 × 8 digits. The residual network's blocks run *your*
# `residual_block_forward` (Exercise 4): each `BasicBlock` keeps its layers and hands them to
# your function. While your function is a stub or disagrees with the course's block on a
# small check, the network keeps the course's own forward and the cell says so. This is the
# chapter's main training cell: about 15 seconds in full mode.

# %%
class YourBasicBlock(layers_ref.BasicBlock):
    """The course's BasicBlock (same layers, same initialization) with your residual_block_forward."""

    def forward(self, x):
        return residual_block_forward(x, self.conv1, self.bn1, self.conv2, self.bn2, self.downsample)


def block_forward_works():
    """True if residual_block_forward matches the course's block on a small random stride-2 block."""
    torch.manual_seed(0)
    reference = layers_ref.BasicBlock(4, 8, stride=2)
    x = torch.randn(2, 4, 6, 6, generator=torch.Generator().manual_seed(0))
    try:
        ours = residual_block_forward(x, reference.conv1, reference.bn1, reference.conv2, reference.bn2,
                                      reference.downsample)
        works = isinstance(ours, torch.Tensor) and torch.allclose(ours, reference(x), atol=1e-5)
    except Exception as error:  # a stub raises NotImplementedError; a broken forward may raise anything
        print(f"residual_block_forward does not work yet ({type(error).__name__}), so the residual network uses the "
              "course's BasicBlock.forward.")
        return False
    if not works:
        print("residual_block_forward disagrees with the course's block, so the residual network uses the course's "
              "BasicBlock.forward.")
    return works


def use_your_block_forward(net):
    """Make every residual BasicBlock of `net` run residual_block_forward (its layers and weights stay)."""
    count = 0
    for module in net.modules():
        if type(module) is layers_ref.BasicBlock and module.residual:
            module.__class__ = YourBasicBlock
            count += 1
    print(f"The residual network runs your residual_block_forward in its {count} blocks.")

# %%
DEPTH, WIDTH = 32, 8
EPOCHS = budget(full=8, quick=1)
train_loader, val_loader, test_loader = digits_loaders(batch_size=64, seed=0)
print(f"train / val / test images: {len(train_loader.dataset)} / {len(val_loader.dataset)} / {len(test_loader.dataset)}")
histories, nets = {}, {}
for name, residual in (("plain", False), ("residual", True)):
    seed_everything(0)
    nets[name] = SmallResNet(depth=DEPTH, residual=residual, width=WIDTH)
    if residual and block_forward_works():
        use_your_block_forward(nets[name])
    optimizer = torch.optim.SGD(nets[name].parameters(), lr=0.1, momentum=0.9)
    histories[name] = fit(nets[name], F.cross_entropy, train_loader, val_loader, epochs=EPOCHS, optimizer=optimizer,
                          metrics={"accuracy": accuracy}, device=device)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for name, h in histories.items():
    axes[0].plot(h.epoch, h.train_loss, marker="o", label=f"{name} (train)")
    axes[1].plot(h.epoch, h.val_accuracy, marker="o", label=f"{name} (val)")
for ax, title in zip(axes, ("training loss", "validation accuracy")):
    ax.set_title(f"{DEPTH}-layer networks on digits: {title}")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
resnet_digits = nets["residual"]
test_metrics = {name: evaluate(net, test_loader, F.cross_entropy, metrics={"accuracy": accuracy}, device=device)
                for name, net in nets.items()}
for name, m in test_metrics.items():
    print(f"{name:>8}: test loss {m['loss']:.3f}, test accuracy {m['accuracy']:.3f}")
report("resnet_digits_test_accuracy", test_metrics["residual"]["accuracy"], target=0.9)

# %% [markdown]
# With the same budget the residual network drives its training loss down quickly, while the
# plain network of the same depth is still far behind (expect well over 90 % test accuracy
# for the residual network in full mode, and much less for the plain one; in quick mode both
# train a single epoch). This is the paper's Figure 6 in miniature. The validation curves can
# be jumpy in the first epochs: in evaluation mode batch norm uses its *running* statistics,
# which lag behind the rapidly changing weights early in training.
#
# ## 7. Bottleneck blocks and ResNet-50
#
# The deeper ImageNet ResNets (50, 101, 152 layers) replace the basic block by a
# **bottleneck**: a 1 × 1 convolution reduces the channels by 4, a 3 × 3 convolution works
# on the thin tensor, and another 1 × 1 convolution expands back. Compare a basic block on
# 256 channels with a bottleneck block on 1,024 channels (reduced to 256 inside):

# %%
basic, bottleneck = layers_ref.BasicBlock(256, 256), layers_ref.Bottleneck(1024, 256)
for name, blk, c in (("basic block, 256 channels", basic, 256), ("bottleneck, 1024 -> 256 -> 1024", bottleneck, 1024)):
    s = summarize(blk, (1, c, 14, 14))
    print(f"{name:>32}: {s.total_params:,} parameters, {s.total_macs / 1e6:.0f} M multiply-adds at 14x14")

with torch.device("meta"):
    resnets = {"ResNet-18": resnet18(), "ResNet-50": resnet50()}
resnet_summaries = {name: summarize(m, (1, 3, 224, 224)) for name, m in resnets.items()}
for name, s in resnet_summaries.items():
    print(f"{name}: {s.total_params:,} parameters, {s.total_macs / 1e9:.2f} G multiply-adds")
display(summarize(resnets["ResNet-50"], (1, 3, 224, 224), depth=2))

# %% [markdown]
# The bottleneck block handles a representation four times wider for slightly fewer
# parameters and multiply-adds than the basic block. ResNet-50 has 25,557,032 parameters,
# the published 25.6 M, with no giant fully connected layer: after the last stage a global
# average pool turns the 7 × 7 × 2048 map into 2,048 numbers, and a single 2048 → 1000
# layer (2.05 M parameters) classifies.
#
# The paper lists ResNet-50 at 3.8 billion "FLOPs" (meaning multiply-adds), but `summarize`
# finds 4.09 G. The difference is a variant, not an error: the paper puts the stride 2 of
# each stage's first bottleneck on its first 1 × 1 convolution; torchvision (and this
# course) put it on the 3 × 3 convolution ("ResNet v1.5"), which is slightly more accurate
# and computes the 3 × 3 at the higher resolution. Moving the stride back reproduces the
# paper's number (3.86 G):

# %%
class BottleneckStrideFirst(layers_ref.Bottleneck):
    """The paper's bottleneck ("v1"): the stride sits on the first 1x1 convolution."""

    def __init__(self, in_channels, channels, stride=1, residual=True):
        super().__init__(in_channels, channels, stride=stride, residual=residual)
        self.conv1 = layers_ref.conv1x1(in_channels, channels, stride)
        self.conv2 = layers_ref.conv3x3(channels, channels)


with torch.device("meta"):
    resnet50_v1 = ResNet(BottleneckStrideFirst, (3, 4, 6, 3))
v1_summary = summarize(resnet50_v1, (1, 3, 224, 224))
print(f"stride on the 1x1 (paper): {v1_summary.total_params:,} parameters, {v1_summary.total_macs / 1e9:.2f} G mult-adds")

# %% [markdown]
# ## 8. Inception: several filter sizes side by side (the concept)
#
# GoogLeNet (Szegedy et al., 2015) asked a different question: which filter size should a
# layer use? Its answer was "all of them". An **Inception module** runs four branches on the
# same input and concatenates their outputs along the channels: a 1 × 1 convolution, a 3 × 3,
# a 5 × 5, and a 3 × 3 max pool. Done naively, the 3 × 3 and 5 × 5 branches on a wide input
# are expensive, and the pool branch passes all input channels through, so the output grows
# from module to module. The trick that made it practical is a 1 × 1 "reduction" convolution
# before the 3 × 3 and 5 × 5 branches and after the pool: it shrinks the channels first.
# Module "3a" of GoogLeNet (192 input channels at 28 × 28, outputs 64 + 128 + 32 + 32):

# %%
module_3a = InceptionModule(192, c1=64, c3r=96, c3=128, c5r=16, c5=32, pool_proj=32)
summary_3a = summarize(module_3a, (1, 192, 28, 28))
naive_3a = nn.ModuleList([nn.Conv2d(192, 64, 1), nn.Conv2d(192, 128, 3, padding=1), nn.Conv2d(192, 32, 5, padding=2)])
naive_macs = sum(summarize(conv, (1, 192, 28, 28)).total_macs for conv in naive_3a)
print(f"Inception 3a with 1x1 reductions: {summary_3a.total_params:,} parameters, "
      f"{summary_3a.total_macs / 1e6:.0f} M mult-adds, output channels {module_3a.out_channels}")
print(f"naive module (no reductions): {sum(count_parameters(c) for c in naive_3a):,} parameters, "
      f"{naive_macs / 1e6:.0f} M mult-adds, output channels {64 + 128 + 32 + 192}")

# %% [markdown]
# The reductions cut the cost by more than half and keep the output at 256 channels instead
# of 416. The 1 × 1 convolution, a per-pixel fully connected layer across channels, is the
# workhorse of every efficient architecture since, including the next one.
#
# ## 9. Group and depthwise-separable convolutions, and MobileNet
#
# An ordinary convolution connects every output channel to every input channel. A **grouped
# convolution** splits the $C_\text{in}$ input channels into $G$ groups and the filters into
# $G$ groups too; each filter sees only the $C_\text{in}/G$ channels of its own group. The
# weight tensor shrinks from $C_\text{out} \times C_\text{in} \times k \times k$ to
# $C_\text{out} \times (C_\text{in}/G) \times k \times k$, and the multiply-adds shrink by
# $G$ as well. AlexNet's two towers were $G = 2$.
#
# The extreme case $G = C_\text{in}$ is a **depthwise convolution**: one $k \times k$ filter
# per channel, mixing space but not channels. MobileNet (Howard et al., 2017) pairs it with a
# **pointwise** (1 × 1) convolution that mixes channels but not space. Together they replace
# a standard convolution: a *depthwise-separable* convolution.
#
# The computer-vision lecture's example: 3 input channels, a 3 × 3 kernel, 8 output channels,
# no bias. A standard convolution has $3 \cdot 3 \cdot 3 \cdot 8 = 216$ weights; the
# separable version has $3 \cdot 3 \cdot 3 = 27$ depthwise plus $3 \cdot 8 = 24$ pointwise
# weights, 51 in total. (The slide writes these as "C·H·W·K" and "C·H·W + C·K", using H and
# W for the *kernel's* height and width, not the image's: easy to misread.) Let PyTorch check:

# %%
standard = nn.Conv2d(3, 8, 3, bias=False)
depthwise = nn.Conv2d(3, 3, 3, groups=3, bias=False)
pointwise = nn.Conv2d(3, 8, 1, bias=False)
print(f"standard 3x3, 3 -> 8: {count_parameters(standard)} weights, shape {tuple(standard.weight.shape)}")
print(f"depthwise {tuple(depthwise.weight.shape)} + pointwise {tuple(pointwise.weight.shape)}: "
      f"{count_parameters(depthwise)} + {count_parameters(pointwise)} = "
      f"{count_parameters(depthwise) + count_parameters(pointwise)} weights")
grouped = nn.Conv2d(8, 8, 3, groups=2, bias=False)
print(f"grouped 3x3, 8 -> 8, G=2: {count_parameters(grouped)} weights instead of "
      f"{count_parameters(nn.Conv2d(8, 8, 3, bias=False))}")

# %% [markdown]
# The lecture's 216 and 51 are right. For the cost, take $C$ channels in and out, a 3 × 3
# kernel and an $H \times W$ output: the standard convolution needs $9C^2HW$ multiply-adds,
# the separable one $9CHW$ (depthwise) $+ C^2HW$ (pointwise) $= (9C + C^2)HW$. The ratio is
#
# $$
# \frac{9C^2}{9C + C^2} = \frac{9C}{9 + C} \;\longrightarrow\; 9 \quad (C \to \infty),
# $$
#
# so wide layers get close to a 9× saving, and narrow ones much less (at $C = 3$ only
# 2.25×). The figure compares the formula with the multiply-adds that `summarize` counts on
# real layers.

# %%
widths = [3, 8, 16, 32, 64, 128, 256, 512, 1024]
measured = []
for c in widths:
    with torch.device("meta"):
        std_layer = nn.Conv2d(c, c, 3, padding=1, bias=False)
        sep_layer = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False))
    measured.append(summarize(std_layer, (1, c, 14, 14)).total_macs / summarize(sep_layer, (1, c, 14, 14)).total_macs)
fig = plot_curves(widths, {"9C / (9 + C)": [9 * c / (9 + c) for c in widths], "measured with summarize": measured},
                  xlabel="channels C", ylabel="standard / separable mult-adds", logx=True,
                  title="Saving of a depthwise-separable 3x3 convolution")
fig.axes[0].axhline(9, color="gray", ls=":", lw=1)
fig.axes[0].lines[1].set_linestyle("none")
fig.axes[0].lines[1].set_marker("o")
plt.show()

# %% [markdown]
# ### Exercise 5: the cost of a depthwise-separable convolution (3 points)
#
# Write `separable_conv_cost(c_in, c_out, kernel_size, out_h, out_w)` for a square
# `kernel_size` convolution **without bias** from `c_in` to `c_out` channels whose output is
# `out_h × out_w`. Return four ints (a tuple or a list): the weights of the standard convolution, the weights of
# its depthwise-separable replacement (depthwise `kernel_size × kernel_size` on `c_in`
# channels, then pointwise `c_in → c_out`), and the multiply-adds of each. Then use it to find
# `min_channels_for_8x`: the smallest $C$ for which a 3 × 3 separable convolution with $C$
# channels in and out needs at most one eighth of the standard one's multiply-adds.

# %% nbgrader={"grade": false, "grade_id": "separable_conv_cost", "locked": false, "schema_version": 3, "solution": true}
def separable_conv_cost(c_in, c_out, kernel_size, out_h, out_w):
    """Weights and multiply-adds of a standard conv vs its depthwise-separable version (no biases).

    Args:
        c_in, c_out: input and output channels (ints).
        kernel_size: side k of the square kernel.
        out_h, out_w: height and width of the output (the same for both versions).

    Returns:
        (standard_params, separable_params, standard_macs, separable_macs), four ints.
    """
    ### BEGIN SOLUTION
    positions = out_h * out_w
    standard_params = kernel_size * kernel_size * c_in * c_out
    separable_params = kernel_size * kernel_size * c_in + c_in * c_out  # depthwise + pointwise
    return standard_params, separable_params, standard_params * positions, separable_params * positions
    ### END SOLUTION


# Assign min_channels_for_8x (an int), found with separable_conv_cost.
### BEGIN SOLUTION
min_channels_for_8x = next(c for c in range(1, 10_000)
                           if separable_conv_cost(c, c, 3, 1, 1)[2] >= 8 * separable_conv_cost(c, c, 3, 1, 1)[3])
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_separable_conv_cost", "locked": true, "points": 2, "schema_version": 3, "solution": false}
cost = as_numbers(separable_conv_cost(3, 8, 3, 5, 5), "separable_conv_cost(3, 8, 3, 5, 5)", length=4, integer=True)
lecture_standard = nn.Conv2d(3, 8, 3, bias=False)
lecture_separable = nn.Sequential(nn.Conv2d(3, 3, 3, groups=3, bias=False), nn.Conv2d(3, 8, 1, bias=False))
expect_equal(cost[0], count_parameters(lecture_standard), "standard weights for 3 -> 8 channels, 3x3")
expect_equal(cost[1], count_parameters(lecture_separable), "separable weights for 3 -> 8 channels, 3x3")
expect_equal(cost[2], summarize(lecture_standard, (1, 3, 7, 7)).total_macs, "standard mult-adds for a 5x5 output")
expect_equal(cost[3], summarize(lecture_separable, (1, 3, 7, 7)).total_macs, "separable mult-adds for a 5x5 output")
### BEGIN HIDDEN TESTS
for _h_cin, _h_cout, _h_k, _h_h, _h_w in [(512, 512, 3, 14, 14), (16, 40, 5, 9, 4), (7, 2, 1, 3, 3), (1, 1, 3, 1, 1)]:
    _h_std = nn.Conv2d(_h_cin, _h_cout, _h_k, bias=False, device="meta")
    _h_sep = nn.Sequential(nn.Conv2d(_h_cin, _h_cin, _h_k, groups=_h_cin, bias=False, device="meta"),
                           nn.Conv2d(_h_cin, _h_cout, 1, bias=False, device="meta"))
    _h_in = (1, _h_cin, _h_h + _h_k - 1, _h_w + _h_k - 1)
    _h_exp = (count_parameters(_h_std), count_parameters(_h_sep), summarize(_h_std, _h_in).total_macs,
              summarize(_h_sep, _h_in).total_macs)
    with forbid("course_utils.summary.summarize", "course_utils.summary.count_parameters",
                "course_utils.summary.module_macs", layers_ref.depthwise_separable_cost,
                exercise="separable_conv_cost"):
        _h_got = separable_conv_cost(_h_cin, _h_cout, _h_k, _h_h, _h_w)
    expect_equal(_h_got, _h_exp, f"separable_conv_cost({_h_cin}, {_h_cout}, {_h_k}, {_h_h}, {_h_w})", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_min_channels_for_8x", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# validity: generic-answer
assert 9 < as_number(min_channels_for_8x, "min_channels_for_8x", integer=True) < 1000, \
    f"the saving 9C/(9+C) is 4.5 at C = 9 and close to 9 at C = 1000; {min_channels_for_8x} is out of range"
### BEGIN HIDDEN TESTS
_h_saving = lambda c: 9 * c * c / (9 * c + c * c)  # 3x3 standard / separable mult-adds with C channels in and out
_h_smallest = min(c for c in range(1, 10_000) if _h_saving(c) >= 8)
expect_answer(min_channels_for_8x, _h_smallest, "min_channels_for_8x", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# **MobileNet.** MobileNet v1 is a 3 × 3 standard convolution followed by 13
# depthwise-separable blocks (each depthwise and pointwise convolution followed by batch norm
# and ReLU), global average pooling and one fully connected layer. The paper illustrates the
# saving on one layer, a 3 × 3 convolution from 512 to 512 channels at 14 × 14 (462 M vs
# 52.3 M multiply-adds, 2.36 M vs 0.27 M parameters), and reports 4.2 M parameters and 569 M
# multiply-adds for the whole network at 224 × 224. It also says that 95 % of the
# computation and 75 % of the parameters sit in the 1 × 1 convolutions. All checked below
# with the course's reference `layers_ref.depthwise_separable_cost` and `summarize`:

# %%
example = layers_ref.depthwise_separable_cost(C=512, H=14, W=14)
print(f"512 -> 512 at 14x14: standard {example['standard'] / 1e6:.1f} M mult-adds and "
      f"{example['standard_params'] / 1e6:.2f} M weights; separable {example['separable'] / 1e6:.1f} M and "
      f"{example['separable_params'] / 1e6:.2f} M")
with torch.device("meta"):
    mobilenet = MobileNetV1()
mobilenet_summary = summarize(mobilenet, (1, 3, 224, 224))
print(f"MobileNet-224: {mobilenet_summary.total_params:,} parameters, {mobilenet_summary.total_macs / 1e6:.1f} M mult-adds")
pointwise_rows = [r for r in mobilenet_summary.rows if r.name.endswith("pointwise")]
bn_params = sum(r.params for r in mobilenet_summary.rows if r.type == "BatchNorm2d")
pointwise_params = sum(r.params for r in pointwise_rows)
print(f"1x1 convolutions: {sum(r.macs for r in pointwise_rows) / mobilenet_summary.total_macs:.1%} of the mult-adds, "
      f"{pointwise_params / mobilenet_summary.total_params:.1%} of all parameters, "
      f"{pointwise_params / (mobilenet_summary.total_params - bn_params):.1%} of the conv and fc weights")
comparison = {"AlexNet (2 towers)": grouped_summary, "VGG-16": vgg_summary, "ResNet-50": resnet_summaries["ResNet-50"],
              "MobileNet-224": mobilenet_summary}
for name, s in comparison.items():
    print(f"{name:>20}: {s.total_params / 1e6:7.2f} M parameters, {s.total_macs / 1e6:8.0f} M mult-adds")
# (million mult-adds, million parameters) from the MobileNet paper's Tables 8 and 10, as copied in the lecture
paper_table = {"MobileNet-224": (569, 4.2), "GoogLeNet": (1550, 6.8), "VGG 16": (15300, 138),
               "Inception V3 (dogs)": (5000, 23.2), "MobileNet-224 (dogs)": (569, 3.3)}
for other, mine in (("VGG 16", "MobileNet-224"), ("GoogLeNet", "MobileNet-224"),
                    ("Inception V3 (dogs)", "MobileNet-224 (dogs)")):
    print(f"{other} vs {mine}: {paper_table[other][0] / paper_table[mine][0]:.1f}x the mult-adds, "
          f"{paper_table[other][1] / paper_table[mine][1]:.1f}x the parameters")

# %% [markdown]
# Every published figure is reproduced: 4.23 M parameters and 568.7 M multiply-adds. The
# 1 × 1 convolutions do 95 % of the multiply-adds and hold 74.6 % of the convolution and
# fully connected weights, the paper's own table (which leaves out the batch-norm scales and
# shifts) to the decimal; the rest is mostly the final fully connected layer.
#
# The lecture summarizes MobileNet as "accuracy close to Inception V3, ten times faster,
# a tenth of the parameters". Its own Table 10 (Stanford Dogs) gives Inception V3 5,000 M
# multiply-adds and 23.2 M parameters against MobileNet's 569 M and 3.3 M: 8.8 times fewer
# operations and 7 times fewer parameters, so "about an order of magnitude" is fair. Against
# VGG-16 the factors are 27 and 33; against GoogLeNet (1,550 M, 6.8 M in its Table 8) only
# 2.7 and 1.6.

# %% [markdown]
# ## 10. Measuring accuracy: top-1 and top-5
#
# ImageNet has 1,000 classes, some of them nearly indistinguishable (dozens of dog breeds),
# and many photos contain several objects. So besides the usual **top-1 accuracy** (the
# highest-scoring class is the label), ImageNet results report **top-5 accuracy**: a
# prediction counts as correct if the label is among the five highest-scoring classes. The
# lecture's table of ImageNet errors (AlexNet 20.9 % top-5 error, ResNet-152 5.9 %, and so
# on) mixes numbers from different sources and evaluation protocols (single or multiple crops
# per image, re-trained re-implementations), so treat them as ballpark figures. For example
# its AlexNet row (43.5 % / 20.9 %) matches torchvision's re-trained single-tower variant,
# while the AlexNet paper's abstract reports 37.5 % / 17.0 % on a different test set
# (ILSVRC-2010).
#
# ### Exercise 6: top-k accuracy (3 points)
#
# Write `topk_accuracy(scores, targets, k)`: the fraction of rows of `scores`
# (`[N, C]`, one score per class) whose target class is among the `k` highest scores.
# **Ties** must not depend on luck: a row counts as a hit if *fewer than k* classes have a
# score strictly higher than the target's score (so a target tied with other classes at the
# boundary counts as a hit). Return a number (a Python float, or a 0-d tensor); raise a
# `ValueError` unless `1 <= k <= C`. An empty batch returns `nan`.

# %% nbgrader={"grade": false, "grade_id": "topk_accuracy", "locked": false, "schema_version": 3, "solution": true}
def topk_accuracy(scores, targets, k):
    """Top-k accuracy with ties counted as hits.

    Args:
        scores: Tensor[N, C] float, one score per class.
        targets: Tensor[N] int64 class indices.
        k: int, 1 <= k <= C.

    Returns:
        a number in [0, 1]: fraction of rows where fewer than k classes score strictly higher
        than the target class (nan for N = 0).

    Raises:
        ValueError: if k < 1 or k > C.
    """
    ### BEGIN SOLUTION
    num_classes = scores.shape[1]
    if not 1 <= k <= num_classes:
        raise ValueError(f"k must be in 1..{num_classes}, got {k}")
    target_scores = scores.gather(1, targets.long()[:, None])  # [N, 1]
    higher = (scores > target_scores).sum(dim=1)  # [N] classes that beat the target
    return float((higher < k).double().mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_topk_values", "locked": true, "points": 2, "schema_version": 3, "solution": false}
g_topk = torch.Generator().manual_seed(0)
scores_topk = torch.randn(50, 6, generator=g_topk)
targets_topk = torch.randint(0, 6, (50,), generator=g_topk)
for k in range(1, 7):
    expect_equal(topk_accuracy(scores_topk, targets_topk, k), topk_accuracy_ref(scores_topk, targets_topk, k=k),
                 f"top-{k} accuracy on 50 rows of random scores (no ties)")
expect_equal(topk_accuracy(scores_topk, targets_topk, 6), 1.0, "top-C accuracy (every class is in the top C)")
# Ties: a target tied with other classes counts as a hit if fewer than k classes score strictly higher.
tie_scores = torch.tensor([[1.0, 1.0, 1.0], [3.0, 2.0, 2.0], [0.5, 0.7, 0.7]])
expect_equal(topk_accuracy(tie_scores, torch.tensor([2, 2, 1]), 1), 2 / 3,
             "top-1 with ties [[1, 1, 1], [3, 2, 2], [0.5, 0.7, 0.7]], targets [2, 2, 1] "
             "(rows 0 and 2: the target ties for the top score, a hit; row 1: class 0 beats it)")
expect_equal(topk_accuracy(tie_scores, torch.tensor([2, 2, 0]), 2), 2 / 3,
             "top-2 with ties at the boundary, targets [2, 2, 0] (row 1: only class 0 beats the target, a hit)")
expect_equal(topk_accuracy(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 2), float("nan"),
             "topk_accuracy of an empty batch (N = 0)")
### BEGIN HIDDEN TESTS
def _h_topk_loop(scores, targets, k):
    hits = 0
    for row, t in zip(scores.tolist(), targets.tolist()):
        hits += sum(v > row[t] for v in row) < k
    return hits / len(targets)


_h_g = torch.Generator().manual_seed(1)
_h_int_scores = torch.randint(0, 4, (200, 10), generator=_h_g).double()  # many ties
_h_int_targets = torch.randint(0, 10, (200,), generator=_h_g)
with forbid(topk_accuracy_ref, exercise="topk_accuracy"):
    _h_res = {k: topk_accuracy(_h_int_scores, _h_int_targets, k) for k in (1, 2, 3, 5, 10)}
for _h_k, _h_v in _h_res.items():
    expect_equal(_h_v, _h_topk_loop(_h_int_scores, _h_int_targets, _h_k),
                 f"top-{_h_k} accuracy of 200 rows of integer scores (many ties)")
_h_tie = torch.tensor([[2.0, 2.0, 2.0, 2.0], [1.0, 5.0, 5.0, 0.0]])
expect_equal(topk_accuracy(_h_tie, torch.tensor([3, 0]), 1), 0.5, "top-1 with a four-way tie")
_h_big = torch.randn(1000, 100, generator=_h_g)
_h_bt = torch.randint(0, 100, (1000,), generator=_h_g)
expect_equal(topk_accuracy(_h_big, _h_bt, 5), topk_accuracy_ref(_h_big, _h_bt, k=5), "top-5 on 100 classes")
expect_equal(topk_accuracy(torch.zeros(0, 7), torch.zeros(0, dtype=torch.long), 7), float("nan"),
             "topk_accuracy of an empty batch with k = C")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_topk_errors", "locked": true, "points": 1, "schema_version": 3, "solution": false}
scores_small = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
targets_small = torch.tensor([1, 2])
as_number(topk_accuracy(scores_small, targets_small, 3), "topk_accuracy with k = C")
_ = expect_raises(lambda: topk_accuracy(scores_small, targets_small, 4), ValueError, "topk_accuracy with k > number of classes")
_ = expect_raises(lambda: topk_accuracy(scores_small, targets_small, 0), ValueError, "topk_accuracy with k = 0")
### BEGIN HIDDEN TESTS
_ = expect_raises(lambda: topk_accuracy(torch.zeros(5, 2), torch.zeros(5, dtype=torch.long), 3), ValueError,
              "topk_accuracy with k = 3 on 2 classes")
### END HIDDEN TESTS

# %% [markdown]
# On the ten digit classes top-5 is a generous measure; here it is for the residual network
# trained in section 6, with the course's `topk_accuracy`:

# %%
resnet_digits.eval()
with torch.no_grad():
    test_scores = torch.cat([resnet_digits(x.to(device)).cpu() for x, _ in test_loader])
test_labels = torch.cat([y for _, y in test_loader])
for k in (1, 2, 5):
    print(f"top-{k} test accuracy: {topk_accuracy_ref(test_scores, test_labels, k=k):.3f}")

# %% [markdown]
# ## 11. Training recipes: initialization and data augmentation
#
# Section 4 covered initialization. The other half of the classic recipe is **data
# augmentation**: apply random transformations that do not change the label to every
# training image, every time it is used, so the network effectively sees many more images.
# For photographs the standard ones are random crops and rescaling, horizontal flips and
# colour jitter. The lecture adds the essential caveat: the transformation must not change
# the meaning of the image. A horizontally flipped cat is still a cat; a flipped "2" or "7"
# is not a digit any more, and a rotated "6" becomes a "9".
#
# `torchvision.transforms.v2` provides the transforms as modules that work directly on
# tensors. The figure applies a few of them to digits (unnormalized, upsampled to 32 × 32 so
# the effect is visible); the last row is the flip that is wrong for digits.

# %%
from torchvision.transforms import v2

digits_32 = DigitsDataset("train", size=32, normalize=False)
originals = digits_32.images[:8]  # [8, 1, 32, 32] in [0, 1]
augmentations = {
    "original": nn.Identity(),
    "RandomAffine (rotate ±15°, shift, scale)": v2.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.85, 1.1)),
    "RandomResizedCrop (70-100 % area)": v2.RandomResizedCrop(32, scale=(0.7, 1.0), antialias=True),
    "ColorJitter (brightness, contrast)": v2.ColorJitter(brightness=0.5, contrast=0.5),
    "RandomErasing (cut out a patch)": v2.RandomErasing(p=1.0, scale=(0.05, 0.15), value=0.0),
    "RandomHorizontalFlip: wrong for digits!": v2.RandomHorizontalFlip(p=1.0),
}
torch.manual_seed(0)
rows = [torch.stack([transform(img) for img in originals]) for transform in augmentations.values()]
fig = show_images(torch.cat(rows), ncols=8, cmap="gray", rescale=False, figsize=(10, 8))
for row, name in enumerate(augmentations):
    fig.axes[row * 8].set_title(name, fontsize=8, loc="left")
plt.show()

# %% [markdown]
# Augmentations go into the training data pipeline (a `transform` of the dataset, composed
# with `v2.Compose`), never into the validation or test data. How much they help depends on
# how much data there is and on how well the transformations match the variation of the real
# images. Augmentation is a regularizer: it makes the training set harder to memorize, and
# like any regularizer it costs training accuracy and helps only where the model would
# otherwise overfit.

# %% [markdown]
# ### Dropout
#
# **Dropout** (Srivastava et al., 2014) is another regularizer, applied inside the network
# instead of to the data. During training every activation is set to zero independently
# with probability $p$, a new random pattern at every step, so no unit can rely on one
# particular other unit being present: the network behaves like a large ensemble of thinned
# networks that share their weights. At test time nothing is dropped, and the network uses
# all its units.
#
# That creates a mismatch: with $p = 0.5$ a unit of the next layer receives on average half
# its usual input during training and all of it at test time. **Inverted dropout**, what
# `nn.Dropout` does, fixes it during training: the kept activations are multiplied by
# $1/(1-p)$, so the expected value of every output equals its input,
# $\mathbb{E}[\text{out}] = (1-p) \cdot \frac{x}{1-p} + p \cdot 0 = x$, and evaluation
# is simply the identity. (The original paper instead scaled the weights by $1 - p$ at test
# time; the two agree in expectation.) This is why `model.train()` and `model.eval()` matter:
# they switch dropout, like batch norm, between its two behaviours.
#
# ### Exercise 7: inverted dropout (4 points)
#
# Write `dropout_forward(x, p, training, generator=None)`:
#
# * `training=False`: return a tensor equal to `x` (whatever `p` is);
# * `training=True`: set each entry to 0 independently with probability `p` and multiply the
#   kept entries by $1/(1-p)$; `p = 0` keeps everything unchanged and `p = 1` returns zeros
#   (no division by zero, no NaN);
# * draw all randomness from `generator` (for example
#   `torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)`), so the same
#   seed gives the same output; do not modify `x` in place;
# * raise `ValueError` if `p` is not in $[0, 1]$.
#
# The output has the shape and dtype of `x`. The tests check the rules above and, on large
# tensors, that the share of zeros is close to `p` (within 0.01 for 100,000 entries).

# %% nbgrader={"grade": false, "grade_id": "dropout_forward", "locked": false, "schema_version": 3, "solution": true}
def dropout_forward(x, p, training, generator=None):
    """Inverted dropout, like torch.nn.functional.dropout(x, p, training).

    Args:
        x: Tensor of any shape (floating).
        p: probability of zeroing an entry, a float in [0, 1].
        training: bool; False returns x unchanged.
        generator: a torch.Generator (or None) for all randomness.

    Returns:
        Tensor of the shape and dtype of x: 0 where dropped, x / (1 - p) where kept.

    Raises:
        ValueError: if p < 0 or p > 1.
    """
    ### BEGIN SOLUTION
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x.clone()
    if p == 1.0:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device) >= p  # kept with prob 1 - p
    return x * keep / (1.0 - p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dropout_train", "locked": true, "points": 3, "schema_version": 3, "solution": false}
_x = torch.rand(200, 500, generator=torch.Generator().manual_seed(0)) + 0.5  # all entries in [0.5, 1.5)
_x_before = _x.clone()
_out = dropout_forward(_x, 0.3, True, torch.Generator().manual_seed(1))
expect_tensor(_out, "dropout_forward(x, 0.3, training=True)", shape=(200, 500), dtype=torch.float32)
assert torch.equal(_x, _x_before), "dropout_forward must not modify its input x in place"
_dropped = _out == 0
_kept_ok = torch.isclose(_out, _x / 0.7, rtol=1e-5, atol=0.0)
assert bool((_dropped | _kept_ok).all()), (
    "in training mode every output must be 0 (dropped) or x / (1 - p) (kept, inverted scaling); "
    f"{int((~(_dropped | _kept_ok)).sum())} entries are neither")
_share = float(_dropped.double().mean())
assert abs(_share - 0.3) < 0.01, f"with p = 0.3 about 30% of the entries should be dropped, got {100 * _share:.2f}%"
_again = dropout_forward(_x, 0.3, True, torch.Generator().manual_seed(1))
assert torch.equal(_out, _again), "two generators with the same seed must give the same output: draw with generator="
expect_close(dropout_forward(_x, 0.0, True, torch.Generator().manual_seed(2)), _x, "p = 0 in training mode (nothing dropped)")
_ones = dropout_forward(_x, 1.0, True, torch.Generator().manual_seed(3))
expect_close(_ones, torch.zeros_like(_x), "p = 1 in training mode (everything dropped, no NaN)")
print("dropout_forward: visible training-mode tests passed")
### BEGIN HIDDEN TESTS
with forbid("torch.nn.functional.dropout", "torch.nn.Dropout.forward", "torch.dropout", "torch.nn.functional.dropout2d",
            exercise="dropout_forward"):
    for _h_p, _h_shape, _h_dtype in [(0.5, (50, 40, 50), torch.float64), (0.9, (4, 5, 100, 50), torch.float32),
                                     (0.1, (100_000,), torch.float64)]:
        _h_x = torch.rand(_h_shape, generator=torch.Generator().manual_seed(5), dtype=_h_dtype) + 0.5
        _h_out = dropout_forward(_h_x, _h_p, True, torch.Generator().manual_seed(6))
        expect_tensor(_h_out, f"hidden: dropout_forward with p={_h_p} on {list(_h_shape)}", shape=_h_shape, dtype=_h_dtype)
        _h_drop = _h_out == 0
        assert bool((_h_drop | torch.isclose(_h_out, _h_x / (1 - _h_p), rtol=1e-5, atol=0.0)).all()), (
            f"hidden: p={_h_p}: outputs must be 0 or x / (1 - p)")
        _h_share = float(_h_drop.double().mean())
        assert abs(_h_share - _h_p) < 0.01, f"hidden: p={_h_p}: share of zeros {_h_share:.3f}"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_dropout_eval", "locked": true, "points": 1, "schema_version": 3, "solution": false}
_x = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0))
expect_close(dropout_forward(_x, 0.5, False, torch.Generator().manual_seed(1)), _x,
             "dropout_forward(x, 0.5, training=False) must return x unchanged")
expect_raises(lambda: dropout_forward(_x, -0.1, True), ValueError, "dropout_forward with p = -0.1")
expect_raises(lambda: dropout_forward(_x, 1.5, True), ValueError, "dropout_forward with p = 1.5")
print("dropout_forward: visible evaluation-mode tests passed")
### BEGIN HIDDEN TESTS
_h_x = torch.randn(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
with forbid("torch.nn.functional.dropout", "torch.nn.Dropout.forward", exercise="dropout_forward"):
    _h_eval = dropout_forward(_h_x, 0.9, False)
expect_close(_h_eval, _h_x, "hidden: evaluation mode with p = 0.9 in float64")
expect_raises(lambda: dropout_forward(_h_x, 1.0001, False), ValueError, "hidden: p = 1.0001 in evaluation mode")
### END HIDDEN TESTS

# %% [markdown]
# The same statistics from PyTorch's `nn.Dropout`, whose mode follows `train()` and
# `eval()`: in training the kept entries are scaled by $1/(1-p)$ and the mean is preserved;
# in evaluation the layer is the identity.

# %%
drop_layer = nn.Dropout(p=0.5)
ones = torch.ones(10_000)
torch.manual_seed(0)
drop_layer.train()
in_training = drop_layer(ones)
drop_layer.eval()
in_eval = drop_layer(ones)
print(f"training: share of zeros {float((in_training == 0).double().mean()):.3f}, kept values "
      f"{sorted(set(in_training[in_training != 0].tolist()))}, mean {float(in_training.mean()):.3f}; "
      f"evaluation: identity {torch.equal(in_eval, ones)}")

# %% [markdown]
# ### Augmentation, dropout and ensembles, measured
#
# Time to measure instead of visualizing. A small MLP (64 → 128 → 10) on the 8 × 8 digits is
# cheap enough to train many times, so we compare, with the same seed, optimizer and number
# of epochs:
#
# * **augmentation**: every training image is shifted by a random $-1$, $0$ or $+1$ pixel in
#   each direction, each time it is used (a new shift at every epoch);
# * **dropout** with $p = 0.2$ after the hidden layer;
# * a **model ensemble**: five networks trained from different random initializations, whose
#   predicted probabilities are averaged;
# * a **snapshot ensemble** (Huang et al., 2017): *one* training run whose learning rate
#   follows a cosine restarted three times (`course_utils.optim.schedules.cosine_restarts`); the
#   weights at the end of each cycle, where the rate is near zero, are three models for the
#   price of one training.
#
# Besides the test accuracy we report the accuracy on the test digits shifted by one pixel
# to the right, the change that broke k-NN in chapter 01.

# %%
def random_shifts(images, generator, fill):
    """Shift each image of [B, 1, H, W] by its own random (dy, dx) in {-1, 0, 1}^2, filling with `fill`."""
    padded = F.pad(images, (1, 1, 1, 1), value=fill)  # [B, 1, H + 2, W + 2]
    offsets = torch.randint(0, 3, (len(images), 2), generator=generator)  # crop corner per image
    shifted = torch.empty_like(images)
    h, w = images.shape[-2:]
    for dy in range(3):
        for dx in range(3):
            chosen = (offsets[:, 0] == dy) & (offsets[:, 1] == dx)
            shifted[chosen] = padded[chosen, :, dy:dy + h, dx:dx + w]
    return shifted


def train_small_mlp(seed, epochs, augment=False, dropout=0.0, restarts=0):
    """Adam-trained 64-128-10 MLP on the 8x8 training digits; returns the model (and snapshots if restarts)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    steps_per_epoch = math.ceil(len(small_x) / 64)
    snapshots, step = [], 0
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(len(small_x), generator=gen).split(64):
            xb = small_x[batch]
            if augment:
                xb = random_shifts(xb, gen, fill=background)
            if restarts:
                for group in optimizer.param_groups:
                    group["lr"] = cosine_restarts(step, epochs * steps_per_epoch // restarts, 3e-3)
            optimizer.zero_grad()
            F.cross_entropy(model(xb), small_y[batch]).backward()
            optimizer.step()
            step += 1
        if restarts and (epoch + 1) % (epochs // restarts) == 0:
            snapshots.append(copy.deepcopy(model).eval())
    return model.eval(), snapshots


def probabilities(models, images):
    with torch.no_grad():
        return torch.stack([m(images).softmax(dim=1) for m in models]).mean(0)  # [M, 10], averaged over models


def acc(probs, labels):
    return float((probs.argmax(1) == labels).double().mean())


small_train, small_test = DigitsDataset("train"), DigitsDataset("test")
small_x, small_y = small_train.images, small_train.labels  # [N, 1, 8, 8], [N]
background = float(small_x.min())  # the standardized value of a blank pixel
test_x, test_y = small_test.images, small_test.labels
shifted_x = F.pad(test_x, (1, 0, 0, 0), value=background)[..., :-1]  # every test digit one pixel to the right
small_epochs = budget(full=30, quick=3)
variants = {"baseline": {}, "augmentation (random 1-pixel shifts)": {"augment": True}, "dropout p = 0.2": {"dropout": 0.2}}
rows = {}
for name, options in variants.items():
    model, _ = train_small_mlp(0, small_epochs, **options)
    rows[name] = [model]
ensemble = rows["baseline"] + [train_small_mlp(seed, small_epochs)[0] for seed in range(1, 5)]
rows["ensemble of 5 (different seeds)"] = ensemble
_, snapshots = train_small_mlp(0, small_epochs - small_epochs % 3, restarts=3)
rows["snapshot ensemble (3 cycles, one run)"] = snapshots
print(f"{small_epochs} epochs each; accuracy on the test digits / on the same digits shifted by one pixel")
for name, models in rows.items():
    print(f"{name:>40}: {acc(probabilities(models, test_x), test_y):.3f} / {acc(probabilities(models, shifted_x), test_y):.3f}")
singles = [acc(probabilities([m], test_x), test_y) for m in ensemble]
print(f"{'the 5 ensemble members alone':>40}: {min(singles):.3f} to {max(singles):.3f} on the test digits")
print(f"{'each snapshot alone':>40}: " + ", ".join(f"{acc(probabilities([m], test_x), test_y):.3f}" for m in snapshots))
report("augmented_mlp_shifted_test_accuracy", acc(probabilities(rows["augmentation (random 1-pixel shifts)"], shifted_x), test_y),
       target=0.85)

# %% [markdown]
# Read the table from the numbers it prints (in quick mode the networks train only a few
# epochs and the differences are small or noisy). Shift augmentation changes little on the
# test digits, which are centred like the training ones, but much on the shifted digits:
# the network has learned the invariance we showed it, and only that one. Dropout is a milder
# regularizer on a model this small. An average of several networks is usually as good as
# its best member and better than a typical one, because their errors are partly
# independent and cancel in the average; on digits that a single MLP already classifies
# almost perfectly, the gain is small (compare the rows). An ensemble costs one training and
# one forward pass per member; the snapshot ensemble saves the training cost, but its
# members come from one run and are less diverse than independently initialized networks,
# so it gains less.
#
# ### Layer, instance and group normalization
#
# Batch norm computes its statistics over the batch, so it behaves differently in training
# and evaluation and fails with batches of one or two images (detection and segmentation
# networks often train with such batches). Three relatives normalize each sample on its own,
# and differ only in the axes they average over. For a tensor `[N, C, H, W]`:
#
# * **batch norm**: one mean and variance per channel, over N, H and W;
# * **layer norm** (Ba et al., 2016): one per sample, over C, H and W (transformers use it);
# * **instance norm** (Ulyanov et al., 2016): one per sample and channel, over H and W
#   (style transfer: it removes each image's contrast);
# * **group norm** (Wu and He, 2018): one per sample and *group* of channels; one group is
#   layer norm, C groups are instance norm.
#
# Each keeps a learned scale and shift per channel, and none needs running statistics: it
# computes the same thing in training and evaluation. In the figure, each grid has one row
# per sample and one column per channel (H and W are folded into every cell); the cells that
# share one mean and variance are coloured. The cell after it checks that each is batch norm
# in disguise: reshape the tensor so that the "channel" axis holds the groups to be
# normalized separately, and apply batch norm in training mode (the function of Exercise 3).

# %%
norm_n, norm_c, groups = 6, 8, 4
fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
shared = {
    "batch norm\n(over N, H, W)": lambda n, c: c == 2,
    "layer norm\n(over C, H, W)": lambda n, c: n == 2,
    "instance norm\n(over H, W)": lambda n, c: n == 2 and c == 2,
    f"group norm, {groups} groups\n(over C/{groups}, H, W)": lambda n, c: n == 2 and c // (norm_c // groups) == 1,
}
for ax, (title, member) in zip(axes, shared.items()):
    grid = np.array([[1.0 if member(n, c) else 0.0 for c in range(norm_c)] for n in range(norm_n)])
    ax.imshow(grid, cmap="Blues", vmin=-0.3, vmax=1.2)
    ax.set_xticks(np.arange(-0.5, norm_c), minor=True)
    ax.set_yticks(np.arange(-0.5, norm_n), minor=True)
    ax.grid(which="minor", color="gray", linewidth=0.8)
    ax.tick_params(which="both", length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(f"channel C ({norm_c})")
    ax.set_ylabel(f"sample N ({norm_n})")
    ax.set_title(title, fontsize=10)
fig.suptitle("one normalization group (blue): the values that share a mean and a variance", fontsize=10)
fig.tight_layout()
plt.show()

x_norm = torch.randn(norm_n, norm_c, 5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def batch_norm_over(x, channels):
    """Batch norm (training mode, no scale/shift) of x viewed as [1, channels, rest]: one group per 'channel'."""
    return layers_ref.batch_norm_forward(x.reshape(1, channels, -1), None, None, None, None, training=True).reshape(x.shape)


checks = {
    "layer norm": (batch_norm_over(x_norm, norm_n), F.layer_norm(x_norm, x_norm.shape[1:])),
    "instance norm": (batch_norm_over(x_norm, norm_n * norm_c), F.instance_norm(x_norm)),
    f"group norm ({groups} groups)": (batch_norm_over(x_norm, norm_n * groups), F.group_norm(x_norm, groups)),
}
for name, (ours, theirs) in checks.items():
    print(f"{name:>22} as batch norm of a reshaped tensor: max difference from PyTorch {float((ours - theirs).abs().max()):.1e}")

# %% [markdown]
# ## 12. Transfer learning
#
# What if there is little labelled data? The lecture's advice: start from a network trained
# on a large dataset and reuse what it learned, either as a fixed **feature extractor**
# (train only a new linear classifier on its features: a *linear probe*) or by **fine-tuning**
# (continue training all weights, from the pretrained values, with a small learning rate).
# Its rules of thumb: below about 10,000 images use pretrained features, always try
# fine-tuning, and with more than 100,000 images training from scratch becomes competitive.
#
# We can run the whole experiment offline. The "large" source task is classifying digits 0-4
# (all 540 training images of those classes); the target task is classifying digits 5-9 from
# only a few labelled examples per class. A small ResNet (8 layers) is pretrained on the
# source task; on the target task we compare a linear probe on its frozen features,
# fine-tuning, and training the same network from scratch, for several numbers of labelled
# examples, always evaluating on all test images of digits 5-9.

# %%
digits_test = DigitsDataset("test")
source = digits_train.labels < 5
seed_everything(0)
pretrained = SmallResNet(depth=8, width=8, num_classes=5)
source_loader = DataLoader(TensorDataset(digits_train.images[source], digits_train.labels[source]), batch_size=32,
                           shuffle=True, generator=torch.Generator().manual_seed(0))
history_source = fit(pretrained, F.cross_entropy, source_loader, epochs=budget(full=5, quick=1),
                     optimizer=torch.optim.SGD(pretrained.parameters(), lr=0.05, momentum=0.9),
                     metrics={"accuracy": accuracy}, device=device, progress=False)
print(f"source task (digits 0-4): final training accuracy {history_source.train_accuracy[-1]:.3f}")

target_test = digits_test.labels >= 5
target_x, target_y = digits_test.images[target_test], digits_test.labels[target_test] - 5  # labels 5-9 -> 0-4


def few_shot_split(shots, seed=0):
    """`shots` training images of each digit 5-9: (Tensor[5 shots, 1, 8, 8], labels 0-4)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat([torch.nonzero(digits_train.labels == d).flatten()[torch.randperm(int((digits_train.labels == d).sum()),
                                                                                      generator=g)[:shots]]
                     for d in range(5, 10)])
    return digits_train.images[idx], digits_train.labels[idx] - 5


def train_on_target(model, params, x, y, steps, lr, freeze_bn=False):
    """Full-batch Adam on the few target examples; returns test accuracy on digits 5-9.

    Model (the pretrained body, which `fit` left on `device`, and the new head, created on
    the CPU) and data all go to `device` first: one device for everything.
    """
    model.to(device)  # moves the parameters in place, so `params` still names them
    x, y = x.to(device), y.to(device)
    optimizer = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        model.train(not freeze_bn)  # a linear probe keeps the pretrained batch-norm statistics
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        predictions = model(target_x.to(device)).argmax(dim=1).cpu()
    return float((predictions == target_y).float().mean())


def with_new_head(model):
    """A copy of the pretrained network with a fresh 5-class classifier."""
    model = copy.deepcopy(model)
    model.fc = nn.Linear(model.fc.in_features, 5)
    return model


SHOTS = budget(full=[2, 5, 20], quick=[5])
STEPS = budget(full=40, quick=5)
transfer = {"from scratch": [], "linear probe": [], "fine-tune": []}
for shots in SHOTS:
    x_few, y_few = few_shot_split(shots)
    seed_everything(1)
    scratch = SmallResNet(depth=8, width=8, num_classes=5)
    transfer["from scratch"].append(train_on_target(scratch, scratch.parameters(), x_few, y_few, STEPS, 1e-2))
    seed_everything(1)
    probe = with_new_head(pretrained)
    transfer["linear probe"].append(train_on_target(probe, probe.fc.parameters(), x_few, y_few, STEPS, 1e-2,
                                                    freeze_bn=True))
    seed_everything(1)
    tuned = with_new_head(pretrained)
    transfer["fine-tune"].append(train_on_target(tuned, tuned.parameters(), x_few, y_few, STEPS, 3e-3))
    print(f"{shots:>3} examples per class: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in transfer.items()))

fig, ax = plt.subplots(figsize=(6, 3.4))
width_bar = 0.25
for i, (name, accs) in enumerate(transfer.items()):
    ax.bar(np.arange(len(SHOTS)) + (i - 1) * width_bar, accs, width=width_bar, label=name)
ax.set_xticks(range(len(SHOTS)), [f"{s} per class" for s in SHOTS])
ax.set_ylabel("test accuracy on digits 5-9")
ax.set_ylim(0, 1)
ax.set_title("Transfer from digits 0-4 to digits 5-9")
ax.legend(fontsize=8, loc="lower right")
ax.grid(alpha=0.3, axis="y")
plt.show()
report("transfer_finetune_5shot_accuracy", transfer["fine-tune"][SHOTS.index(5)], target=0.85)
report("transfer_scratch_5shot_accuracy", transfer["from scratch"][SHOTS.index(5)])

# %% [markdown]
# With a handful of labelled examples, fine-tuning the pretrained network beats training
# from scratch, and the gap closes as the number of examples grows, just as the rules of
# thumb predict. The linear probe falls behind as soon as there are more than a couple of
# examples per class: features learned to tell 0-4 apart are useful for 5-9 but not
# linearly sufficient, and a network pretrained on five digit
# classes is a far cry from one pretrained on ImageNet's million images in a thousand classes,
# whose features transfer much better. (These are single runs on a small test set of 180
# images, so differences of a few points are noise.)
#
# ## 13. Faster training: large batches and data parallelism
#
# Training ImageNet models for 90 epochs once took days. The scribe notes list the standard
# remedies: use larger batches, scale the learning rate linearly with the batch size, and
# when one device cannot hold the batch, split it over several (data-parallel training).
#
# **Why scale the learning rate?** With batch size $B$ and learning rate $\eta$, one SGD step
# moves the weights by $-\eta \cdot \frac{1}{B}\sum_{i \in \text{batch}} \nabla \ell_i$. Take
# $k$ small steps with batches $B$, or one step with the $kB$ examples together: if the
# gradient hardly changes over those $k$ steps, the small steps move the weights by about
# $k\eta$ times the average gradient, so the big step needs learning rate $k\eta$ to go as
# far. This is the **linear scaling rule** of Goyal et al. (2017), who trained ResNet-50
# with batches of 8,192 images in one hour: $\eta = 0.1 \cdot B / 256$. The assumption
# "the gradient hardly changes" fails at the start of training, when the weights move fast,
# so they also used a **warm-up**: the learning rate grows linearly from small to its target
# over the first few epochs.
#
# ### Exercise 8: linear learning-rate scaling and warm-up (2 points)
#
# Write `scaled_learning_rate(base_lr, base_batch_size, batch_size)` (the linear scaling rule;
# raise a `ValueError` unless the learning rate is positive and the batch sizes are positive
# integers), and `warmup_factor(step, warmup_steps)`: the factor by which the learning rate
# is multiplied at optimizer step `step` (counting from 0). During the first `warmup_steps`
# steps it grows linearly and reaches 1 at step `warmup_steps - 1`, i.e.
# `(step + 1) / warmup_steps`; afterwards it is 1. With `warmup_steps = 0` it is always 1.
# Both return numbers.

# %% nbgrader={"grade": false, "grade_id": "linear_lr_scaling", "locked": false, "schema_version": 3, "solution": true}
def scaled_learning_rate(base_lr, base_batch_size, batch_size):
    """Learning rate for batch_size by the linear scaling rule, given base_lr at base_batch_size."""
    ### BEGIN SOLUTION
    if not base_lr > 0:
        raise ValueError(f"base_lr must be positive, got {base_lr}")
    for name, value in (("base_batch_size", base_batch_size), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return float(base_lr * batch_size / base_batch_size)
    ### END SOLUTION


def warmup_factor(step, warmup_steps):
    """Multiplier of the learning rate at optimizer step `step` (0-based) with linear warm-up."""
    ### BEGIN SOLUTION
    if warmup_steps <= 0:
        return 1.0
    return float(min(1.0, (step + 1) / warmup_steps))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_scaled_learning_rate", "locked": true, "points": 1, "schema_version": 3, "solution": false}
expect_equal(scaled_learning_rate(0.05, 32, 32), 0.05, "scaled_learning_rate(0.05, 32, 32) (an unchanged batch size)")
expect_equal(scaled_learning_rate(0.05, 32, 64), 0.1,
             "scaled_learning_rate(0.05, 32, 64) (doubling the batch doubles the learning rate)")
_ = expect_raises(lambda: scaled_learning_rate(0.1, 0, 32), ValueError, "scaled_learning_rate with base batch size 0")
### BEGIN HIDDEN TESTS
for _h_lr, _h_b0, _h_b in [(0.1, 256, 8192), (0.1, 256, 32), (3e-4, 64, 96), (1.0, 1, 1)]:
    expect_equal(scaled_learning_rate(_h_lr, _h_b0, _h_b), _h_lr / _h_b0 * _h_b,
                 f"scaled_learning_rate({_h_lr}, {_h_b0}, {_h_b})")
_ = expect_raises(lambda: scaled_learning_rate(-0.1, 32, 64), ValueError, "scaled_learning_rate with a negative lr")
_ = expect_raises(lambda: scaled_learning_rate(0.1, 32, 0), ValueError, "scaled_learning_rate with batch size 0")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_warmup_factor", "locked": true, "points": 1, "schema_version": 3, "solution": false}
factors = [as_number(warmup_factor(s, 5), f"warmup_factor({s}, 5)") for s in range(8)]
assert factors[0] > 0, "the very first step must not have learning rate 0 (it would be a wasted step)"
assert all(a < b for a, b in zip(factors[:5], factors[1:5])), f"the factor should grow during warm-up, got {factors}"
expect_equal(factors[4:], [1.0] * 4, "factors from the last warm-up step on")
### BEGIN HIDDEN TESTS
for _h_w in (1, 3, 10):
    for _h_s in range(15):
        expect_equal(warmup_factor(_h_s, _h_w), min(1.0, (_h_s + 1) / _h_w), f"warmup_factor({_h_s}, {_h_w})")
expect_equal(warmup_factor(0, 0), 1.0, "warmup_factor(0, 0) (no warm-up)")
### END HIDDEN TESTS

# %% [markdown]
# The experiment trains LeNet (16 × 16 digits) for the same number of epochs, i.e. on the
# same number of images, with a small batch of 16 at learning rate 0.01, and with larger
# batches with and without the scaled learning rate. A batch of 128 takes eight times fewer
# steps per epoch; without scaling it moves eight times less far and learns far less in the
# same number of epochs; with the scaled rate it catches up most of the way. Each batch
# costs a bit more, but an epoch costs much less, which is where the speed-up comes from
# (the epoch times are measured, so they vary with the machine's load).

# %%
digits_16 = {split: DigitsDataset(split, size=16) for split in ("train", "val")}
BASE_LR, BASE_BATCH = 0.01, 16
LB_EPOCHS = budget(full=10, quick=1)
runs = {"batch 16, lr 0.01": (16, BASE_LR), "batch 128, lr 0.01 (not scaled)": (128, BASE_LR),
        "batch 128, lr 0.08 (scaled x8)": (128, 8 * BASE_LR)}
large_batch = {}
for name, (batch_size, lr) in runs.items():
    seed_everything(0)
    model = LeNet(in_channels=1, num_classes=10, image_size=16)
    loader = DataLoader(digits_16["train"], batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    large_batch[name] = fit(model, F.cross_entropy, loader, DataLoader(digits_16["val"], batch_size=512),
                            epochs=LB_EPOCHS, optimizer=torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                            metrics={"accuracy": accuracy}, device=device, progress=False)
fig = plot_curves(np.arange(1, LB_EPOCHS + 1), {k: h.val_accuracy for k, h in large_batch.items()}, xlabel="epoch",
                  ylabel="validation accuracy", title="Same epochs, different batch sizes")
plt.show()
for name, h in large_batch.items():
    print(f"{name:>32}: final val accuracy {h.val_accuracy[-1]:.3f}, {sum(h.epoch_time) / len(h.epoch_time):.2f} s/epoch")

# %% [markdown]
# The rule is not unlimited: at a factor of 8 the scaled run is still behind the small
# batch (only 90 optimizer steps in 10 epochs, and a learning rate close to what this small
# network tolerates), which is why Goyal et al. needed warm-up and why their rule stops
# working beyond a batch of about 8,000 on ImageNet.
#
# ### Data-parallel training with torchrun
#
# When a batch is too big for one device, or to use several devices at once, **distributed
# data parallelism** (DDP) runs one process per device. Each process holds a complete copy of
# the model and reads a different slice of every global batch; after `backward()` the
# processes average their gradients (an *all-reduce*), so every copy takes exactly the same
# optimizer step and the copies stay identical. With $P$ processes and a per-process batch
# $B$, the global batch is $PB$, and the linear scaling rule sets the learning rate.
#
# PyTorch's launcher `torchrun` starts the processes and tells each one its rank (0..P-1) and
# the world size through environment variables. `course_utils.ddp_demo` is a complete
# training script (LeNet on the digits, through `course_utils.train.fit`, which wraps the
# model in `DistributedDataParallel` and shards the data with a `DistributedSampler` when it
# runs under torchrun). The cell below launches it with two CPU processes that talk over the
# loopback network (the Gloo backend), exactly as you would from a terminal with
# `torchrun --nproc_per_node=2 -m course_utils.ddp_demo --epochs 3`. Starting two extra
# Python interpreters with PyTorch takes several seconds, so in quick mode the cell runs the
# same script in this process instead (one process, world size 1).

# %%
def free_port():
    """A free TCP port on the loopback interface, for the processes to meet."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ddp_args = ["--epochs", str(budget(full=3, quick=1)), "--no-progress", "--out", ""]
if is_quick():
    from course_utils.ddp_demo import main as ddp_main

    ddp_summary = ddp_main(ddp_args + ["--train-subset", "128"])
else:
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "course_utils.ddp_demo", *ddp_args]
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="", DLCV_DEVICE="cpu")
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        raise RuntimeError(f"torchrun failed:\n{completed.stderr[-2000:]}")
    print("$ torchrun --nproc_per_node=2 -m course_utils.ddp_demo " + " ".join(ddp_args))
    print(completed.stdout.strip())
    print(f"(wall time including the start of both processes: {time.perf_counter() - start:.1f} s)")

# %% [markdown]
# Only rank 0 prints. The global batch is twice the per-process batch of 32, and the script
# doubled the learning rate accordingly. On one machine with two cores this is a
# demonstration, not a speed-up: the two processes share the cores, and the gradient
# all-reduce after every step costs time. On several GPUs (with the NCCL backend instead of
# Gloo) the same script runs unchanged, and that is how large models are trained.

# %% [markdown]
# ## 14. Which examples are difficult? C-score and prediction depth
#
# Accuracy treats all test images alike, but some images are typical and easy, others are
# unusual, ambiguous or mislabeled. Two measures from recent research, discussed in the
# scribe notes, make this precise.
#
# **The C-score** (Jiang et al., 2021) of a labelled example $(x, y)$ is the expected
# accuracy on it of a model trained on $n$ examples drawn from the same distribution, *without*
# $(x, y)$ itself:
#
# $$
# C_n(x, y) = \mathbb{E}_{D \sim P^n}\big[\, P(f(x; D \setminus \{(x, y)\}) = y) \,\big].
# $$
#
# It measures how well the rest of the data supports this example: a typical "3" is
# predicted correctly by models that never saw it, an odd-looking one is not. It can be
# estimated by **holdout retraining**: train many models on random subsets of the data, and
# for every example average the correctness of the models that did not train on it.
# `course_utils.difficulty.c_scores` does this for several subset sizes and averages them;
# the models are small MLPs on the 64 pixels, trained full-batch (milliseconds each), on the
# union of the training and test digits. To see what the score does with label errors, we
# deliberately give 20 of the 1,437 examples a wrong label first.

# %%
pool_x = torch.cat([digits_train.images, digits_test.images]).reshape(-1, 64)  # [1437, 64]
pool_y = torch.cat([digits_train.labels, digits_test.labels])  # [1437]
n_train_pool = len(digits_train)
g_noise = torch.Generator().manual_seed(0)
flipped = torch.randperm(len(pool_y), generator=g_noise)[:20]
noisy_y = pool_y.clone()
noisy_y[flipped] = (pool_y[flipped] + torch.randint(1, 10, (20,), generator=g_noise)) % 10  # always a wrong label
clean = torch.ones(len(pool_y), dtype=torch.bool)
clean[flipped] = False

C_RUNS = budget(full=6, quick=2)
C_FRACTIONS = budget(full=[0.1, 0.25, 0.5, 0.75], quick=[0.25, 0.5])
fit_predict = mlp_fit_predict(hidden=32, steps=budget(full=60, quick=20), seed=0)
start = time.perf_counter()
per_fraction = {f: c_scores(pool_x, noisy_y, fit_predict, subset_fractions=f, runs=C_RUNS, seed=1) for f in C_FRACTIONS}
scores_c = torch.stack(list(per_fraction.values())).nanmean(dim=0)  # [1437] the average over subset sizes
print(f"{len(C_FRACTIONS) * C_RUNS} models trained in {time.perf_counter() - start:.1f} s")
for f, s in per_fraction.items():
    print(f"trained on {f:.0%} of the data: mean C-score of correctly labelled examples {float(s[clean].nanmean()):.3f}, "
          f"of mislabeled examples {float(s[~clean].nanmean()):.3f}")

# %% [markdown]
# As the models see more data, the C-score of the correctly labelled examples rises, as the
# scribe notes say. But their claim that "C-score converges to 1 as n goes to infinity"
# fails for exactly the examples the score is meant to find: the deliberately mislabeled
# digits sit near 0 at every training size, because more data only makes the models more
# confident about the *true* class. A genuinely ambiguous image (a "1" that could be a "7")
# also stays below 1, since an optimal model can only be right about it part of the time.
# Here are the lowest- and highest-scoring images, with their (possibly flipped) labels:

# %%
order = torch.argsort(scores_c)
lowest, highest = order[:10], order[-10:]
images = torch.cat([pool_x[lowest], pool_x[highest]]).reshape(-1, 1, 8, 8)
titles = [f"y={int(noisy_y[i])}{'*' if not clean[i] else ''} C={float(scores_c[i]):.2f}" for i in torch.cat([lowest, highest])]
fig = show_images(images, titles=titles, ncols=10, cmap="gray", figsize=(12, 3.2),
                  suptitle="lowest (top) and highest (bottom) C-scores; * = label flipped on purpose")
plt.show()
print(f"{int((~clean[lowest]).sum())} of the 10 lowest C-scores are among the 20 flipped labels")

# %% [markdown]
# **Prediction depth** (Baldock et al., 2021) looks inside one trained network instead. Take
# the representation of every training image after each layer (the input itself, the stem,
# every residual block, the final pooling), and put a k-nearest-neighbour classifier, a
# *probe*, on each. For a test image, each probe predicts a class from the training images
# nearest to it in that layer's representation. The **prediction depth** is the earliest
# layer from which on *all* probes agree with the network's final prediction. An image whose
# class is obvious from the raw pixels has depth 0; a hard image is only sorted out near the
# output.
#
# The scribe notes define it as "the earliest layer that classifies the sample correctly by
# KNN", and write the formula as $\arg\min_l f(x, \theta_l) = f(x, \theta_{>l})$. Both are
# garbled: what matters is agreement with the network's final prediction (right or wrong),
# and agreement *from that layer on*, not at one layer. The difference is easy to measure:
# the cell computes both for the 32-layer residual network of section 6 on the test digits.

# %%
probe_layers = [resnet_digits.relu] + [blk for stage in (resnet_digits.layer1, resnet_digits.layer2,
                                                         resnet_digits.layer3) for blk in stage] + [resnet_digits.avgpool]
train_feats = layer_features(resnet_digits, probe_layers, digits_train.images)
test_feats = layer_features(resnet_digits, probe_layers, digits_test.images)
resnet_digits.eval()
with torch.no_grad():
    final_pred = resnet_digits(digits_test.images.to(device)).argmax(dim=1).cpu()
probes = probe_predictions(train_feats, digits_train.labels, test_feats, k=15, num_classes=10)  # [P, 359]
depth = prediction_depth(probes, final_pred)  # [359]
correct_somewhere = (probes == digits_test.labels[None, :])  # [P, 359]
first_correct = torch.where(correct_somewhere.any(0), correct_somewhere.float().argmax(0), len(probes))
print(f"{len(probes)} probes (input, stem, {len(probe_layers) - 2} blocks, pooled features)")
print(f"probe accuracy, first to last: " + " ".join(f"{float((p == digits_test.labels).float().mean()):.2f}" for p in probes))
print(f"the lecture's 'earliest correct layer' differs from the prediction depth for "
      f"{int((first_correct != depth).sum())} of {len(depth)} test images")

# %%
test_c = scores_c[n_train_pool:]  # C-scores of the test digits (their labels were flipped for some)
test_clean = clean[n_train_pool:]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
axes[0].hist(depth.numpy(), bins=np.arange(len(probes) + 2) - 0.5, color="tab:blue")
axes[0].set_xlabel("prediction depth (probe index)")
axes[0].set_ylabel("test images")
axes[0].set_title("When does the residual network settle on its answer?")
depths_present = sorted(set(depth[test_clean].tolist()))
mean_c = [float(test_c[test_clean & (depth == d)].nanmean()) for d in depths_present]
counts = [int((test_clean & (depth == d)).sum()) for d in depths_present]
axes[1].scatter(depths_present, mean_c, s=[8 + 2 * c for c in counts])
axes[1].set_xlabel("prediction depth")
axes[1].set_ylabel("mean C-score")
axes[1].set_title("Easy examples (high C-score) are predicted early")
axes[1].grid(alpha=0.3)
fig.tight_layout()
plt.show()
shallow, deep = test_clean & (depth <= 2), test_clean & (depth > 2)
print(f"mean C-score of correctly labelled test digits with prediction depth <= 2: {float(test_c[shallow].nanmean()):.3f} "
      f"({int(shallow.sum())} images); deeper: {float(test_c[deep].nanmean()):.3f} ({int(deep.sum())} images)")

# %% [markdown]
# On these small digits many images are settled in the first probes already (the raw pixels
# of a typical digit are close to other images of the same class), and the images that need
# the deeper layers have lower C-scores on average: two very different measurements, one
# retraining many small models without the image and one looking inside a single network,
# agree on which examples are hard. That is the main finding of Baldock et al. on ImageNet
# and CIFAR-10. (In quick mode the network is trained for one epoch only, so these numbers
# mean little.)
#
# ## Summary
#
# * A network is a table of layers; `summarize` computes output shapes, parameters and
#   multiply-adds. AlexNet's 62.4 M parameters sit 94 % in the fully connected layers while
#   the convolutions do 95 % of the work; its "60 M" and "720 M mult-adds" describe the
#   two-GPU grouped variant. VGG-16 has 138.4 M parameters (74 % in the first FC layer) and
#   15.5 G multiply-adds; ResNet-50 has 25.6 M and 4.1 G (3.9 G with the paper's stride
#   placement); MobileNet-224 has 4.2 M and 569 M.
# * Three stacked 3 × 3 convolutions see as far as one 7 × 7 with 27 instead of 49 weights
#   per channel pair and three nonlinearities, and concentrate on the centre of their
#   receptive field.
# * Gradients are products of Jacobians, and vanish or explode exponentially with depth
#   unless each layer preserves the scale: Kaiming initialization ($\mathcal{N}(0, 2/n)$) does
#   at the start; batch normalization does throughout training (and it standardizes each
#   channel, it does not decorrelate them). In training mode batch norm uses batch statistics
#   and updates running averages (unbiased variance); in test mode it uses the averages.
# * Residual connections ($H = F(x) + x$, $\partial H / \partial x = \partial F / \partial x +
#   I$) keep a direct gradient path through every block and make very deep networks
#   trainable: at equal depth and budget, the residual network learns, the plain one barely.
# * Bottlenecks, Inception's 1 × 1 reductions, and depthwise-separable convolutions
#   ($9C^2$ vs $9C + C^2$ per position, a saving of $9C/(9 + C)$) cut the cost of convolution.
# * Top-k accuracy counts a hit if the label is among the k best-scoring classes.
# * Augment the training data with label-preserving transforms; with little data, fine-tune a
#   pretrained network.
# * Larger batches need proportionally larger learning rates (and a warm-up); data-parallel
#   training averages gradients across processes so that all model copies stay identical.
# * Example difficulty can be measured: the C-score (held-out accuracy over retrained models)
#   and the prediction depth (the layer from which k-NN probes agree with the output) agree
#   that typical examples are easy and predicted early.
