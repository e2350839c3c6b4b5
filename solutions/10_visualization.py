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
# # Chapter 10 — Visualizing and understanding networks
#
# Every chapter so far ended with a number: an accuracy, an mIoU, a PCK. A number says
# *how often* a network is right. It does not say *why*, and the why matters. A network
# that recognizes wolves because it has learned what wolves look like will keep working
# next winter; a network that recognizes wolves because the training photographs of
# wolves happened to have snow in them will call the first husky in the snow a wolf, and
# its test accuracy, measured on photographs from the same collection, will not have
# warned anyone. A pneumonia detector that reads the name of the hospital printed in the
# corner of an X-ray, a tank detector that learned the weather of the day the tank photos
# were taken: the stories are told so often because the failure is so easy to commit and
# so hard to see from the outside.
#
# This chapter opens the box. A trained convolutional network is a few hundred thousand
# numbers, far too many to read, but there are many ways to *ask* it questions and look
# at the answers:
#
# * **What did it learn?** The weights of a linear classifier are pictures (*templates*);
#   the filters of a first convolution layer are pictures too. Deeper layers are not,
#   but their *features* can be compared: which training images does the network think
#   are closest to a test image, and how do its features arrange the classes when
#   squeezed into two dimensions?
# * **Where does it look?** Hide part of the image and watch the score (*occlusion*);
#   ask which pixels the score is most sensitive to (*gradient saliency*); split the
#   score over the positions of the last feature map (*CAM*, *Grad-CAM*). These maps are
#   good enough to segment objects the network was never taught to segment, and to catch
#   a network that looks at the wrong thing.
# * **What does it want to see?** Start from a grey image and change the pixels until the
#   network is certain it sees a "3" (*class visualization*), or until its features match
#   those of a real image (*feature inversion*), or amplify whatever it already sees
#   (*DeepDream*).
# * **How can it be fooled?** A change of every pixel by a few percent, invisible to us,
#   chosen along the gradient, makes the network wrong almost every time (*adversarial
#   examples*); training on such images makes it harder, at a price.
#
# Everything runs on the course's own small networks, trained at the start of the
# chapter in well under a minute: LeNet on the digits, and a small ResNet with global
# average pooling on scenes of single shapes. They are tiny, but every method of this
# chapter works the same way on a ResNet-50 trained on ImageNet; where the pictures would
# look different on such a network, the text says how.
#
# **How this notebook works.** Exercise cells contain a function signature and a
# docstring; replace the `raise NotImplementedError(...)` line with your code. The cell
# after each exercise holds tests: the visible ones tell you what is wrong, and more
# (hidden) tests run when the notebook is graded. Implementation exercises must do the
# work themselves: calling the course's reference versions (in `course_utils.explain`)
# inside them scores no points, and each exercise names the library functions it asks you
# not to use. Set the environment variable `DLCV_QUICK=1` to run everything with tiny
# training budgets; grading does that too, and nothing graded depends on how long you
# train. Numbers that the text quotes "in full mode" are those of a normal run; in quick
# mode the networks are barely trained and the printed numbers differ.
#
# A note on the sources. Topics and examples come from the visualization lecture of a
# computer-vision course (and the chapters before this one); the numbers are computed
# here. Where the slides and this chapter differ, the chapter says so and shows why.

# %%
import copy
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.data import SHAPE_CLASSES, DigitsDataset, ShapesScenes, load_photo
from course_utils.data.biased import BACKGROUND_NAMES, BIASED_CLASSES, UNBIASED, BiasedShapes
from course_utils.explain import adversarial as ref_adversarial  # the course's reference attacks
from course_utils.explain import bias as ref_bias
from course_utils.explain import cam as ref_cam
from course_utils.explain import features as ref_features
from course_utils.explain import occlusion as ref_occlusion
from course_utils.explain import saliency as ref_saliency
from course_utils.explain.ascent import class_visualization, deep_dream, gram_matrix, invert_features, style_transfer
from course_utils.explain.features import crop_patches, feature_function, layer_outputs, receptive_field, top_activations
from course_utils.grading import expect_close, expect_equal, expect_raises, expect_tensor, forbid
from course_utils.models import AlexNet, LeNet, SmallResNet
from course_utils.runtime import budget, get_device, report
from course_utils.train import fit, seed_everything
from course_utils.viz import show_filters, show_images
from course_utils.viz.explain import draw_heatmap, draw_outline, image_grid, show_explanations

torch.set_num_threads(1)  # the models are tiny: one thread is as fast and leaves the other core free
seed_everything(0)
device = get_device()
CHAPTER_START = time.perf_counter()
print("device:", device)

# %% [markdown]
# ## 1. The networks we will look inside
#
# Two data sets and two networks carry the whole chapter.
#
# **Digits and LeNet.** scikit-learn's 1,797 handwritten digits, upsampled from 8 × 8 to
# 16 × 16 pixels, with values kept in $[0, 1]$ (no standardization this time: adversarial
# examples in section 12 must stay valid images, and "valid" is easiest to state as
# "every pixel in $[0, 1]$"). The network is the course's LeNet (chapter 02): two
# convolution + pooling stages and three fully connected layers.
#
# **Single shapes and a small ResNet.** Scenes of the course's `ShapesScenes` with
# exactly one object, 32 × 32 pixels: a circle, square, triangle, star or ring of a
# random colour, size, position and rotation on a blotchy background. The label is the
# shape, so colour and position carry no information about the class, and every scene
# comes with the object's mask, which lets us *measure* whether an explanation points at
# the object. The network is the course's `SmallResNet` (chapter 03) with the smallest
# depth, 8 (a stem convolution and three stages of one residual block each), and width 8:
# 8, 16 and 32 channels at full, half and quarter resolution. Its head is exactly what
# class activation maps (section 9) need: **global average pooling** of the last 8 × 8
# feature maps, then one linear layer.

# %%
DIGIT_SIZE = 16
SHAPE_SIZE = 32
SHAPE_NAMES = SHAPE_CLASSES[1:]  # ("circle", "square", "triangle", "star", "ring"); label 0 is "circle"
NUM_SHAPES_TRAIN = budget(full=2000, quick=160)
NUM_SHAPES_TEST = budget(full=400, quick=64)

digits_train = DigitsDataset("train", size=DIGIT_SIZE, normalize=False)
digits_test = DigitsDataset("test", size=DIGIT_SIZE, normalize=False)


def single_shapes(n, seed):
    """n one-object shapes scenes as tensors: images [n, 3, 32, 32], labels [n] (0..4), masks [n, 32, 32], boxes [n, 4]."""
    scenes = ShapesScenes(n, image_size=SHAPE_SIZE, min_objects=1, max_objects=1, seed=seed, size_range=(0.2, 0.35))
    items = [scenes[i] for i in range(n)]
    images = torch.stack([image for image, _ in items])
    labels = torch.stack([target["labels"][0] - 1 for _, target in items])  # drop "background": 0..4
    masks = torch.stack([target["masks"][0] for _, target in items])
    boxes = torch.stack([target["boxes"][0] for _, target in items])
    return images, labels, masks, boxes


start = time.perf_counter()
shapes_train, shapes_train_labels, shapes_train_masks, _ = single_shapes(NUM_SHAPES_TRAIN, seed=1)
shapes_test, shapes_test_labels, shapes_test_masks, shapes_test_boxes = single_shapes(NUM_SHAPES_TEST, seed=2)
print(f"digits: {len(digits_train)} training and {len(digits_test)} test images of {DIGIT_SIZE} x {DIGIT_SIZE}")
print(f"shapes: {len(shapes_train)} training and {len(shapes_test)} test scenes of {SHAPE_SIZE} x {SHAPE_SIZE} "
      f"(generated in {time.perf_counter() - start:.1f} s)")
print(f"the object covers {shapes_train_masks.float().mean():.1%} of a shapes scene on average")

fig, axes = plt.subplots(2, 1, figsize=(12, 3.6))
axes[0].imshow(image_grid(F.interpolate(digits_train.images[:12], scale_factor=2), ncols=12, pad=2))
axes[0].set_title("digits: " + "  ".join(str(int(k)) for k in digits_train.labels[:12]), fontsize=9)
axes[1].imshow(image_grid(shapes_train[:12], ncols=12, pad=2))
axes[1].set_title("shapes: " + ", ".join(SHAPE_NAMES[int(k)] for k in shapes_train_labels[:12]), fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.suptitle("the two data sets: digits (16 x 16, grey, drawn twice as large) and single shapes (32 x 32, colour)",
             fontsize=10)
plt.show()

# %% [markdown]
# Both networks are trained in the next cell, with the course's training loop, AdamW and
# a one-cycle learning-rate schedule. In full mode this takes about ten seconds of
# CPU time in total; the progress bars show the loss. Afterwards both networks move to
# the CPU and are switched to evaluation mode for good: every method in this chapter
# assumes a network in eval mode, where batch norm uses its running statistics and each
# image's output depends on that image alone.

# %%
DIGIT_EPOCHS = budget(full=15, quick=1)
SHAPE_EPOCHS = budget(full=4, quick=1)
NUM_DIGITS_TRAIN = budget(full=len(digits_train), quick=256)  # quick mode trains on a subset


def train_classifier(model, images, labels, epochs, max_lr, progress=True):
    """Cross-entropy training with AdamW and a one-cycle schedule; returns the model on the CPU, in eval mode."""
    loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * len(loader))
    fit(model, F.cross_entropy, loader, epochs=epochs, optimizer=optimizer, scheduler=scheduler,
        scheduler_step="batch", device=device, progress=progress)
    return model.cpu().eval()


def accuracy(model, images, labels):
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


start = time.process_time()
seed_everything(0)
lenet = train_classifier(LeNet(image_size=DIGIT_SIZE), digits_train.images[:NUM_DIGITS_TRAIN],
                         digits_train.labels[:NUM_DIGITS_TRAIN], DIGIT_EPOCHS, 1e-2)
seed_everything(0)
resnet = train_classifier(SmallResNet(depth=8, width=8, in_channels=3, num_classes=len(SHAPE_NAMES)),
                          shapes_train, shapes_train_labels, SHAPE_EPOCHS, 2e-2)
print(f"both networks trained in {time.process_time() - start:.1f} s of CPU time")
for network in (lenet, resnet):
    for p in network.parameters():
        p.requires_grad_(False)  # from now on only images are optimized; the weights stay as they are
print(f"LeNet: {sum(p.numel() for p in lenet.parameters()):,} parameters; "
      f"SmallResNet-8: {sum(p.numel() for p in resnet.parameters()):,} parameters")
report("digits_lenet_test_accuracy", accuracy(lenet, digits_test.images, digits_test.labels), target=0.95)
report("shapes_resnet_test_accuracy", accuracy(resnet, shapes_test, shapes_test_labels), target=0.8)

# %% [markdown]
# ## 2. What a linear classifier learns: one template per class
#
# Start with the simplest network there is. A linear classifier computes one score per
# class, $s_k = \mathbf{w}_k \cdot \mathbf{x} + b_k$, a dot product between the image
# $\mathbf{x}$ (flattened to a vector of 256 pixels) and a weight vector $\mathbf{w}_k$ of
# the same length. A dot product is large when the two vectors point the same way, so
# each $\mathbf{w}_k$ is a **template**: reshaped to 16 × 16, it is a picture of what an
# image of class $k$ should look like, with positive weights where the class wants ink
# and negative weights where ink argues against it. Classification is template matching:
# the class whose template best matches the image wins.
#
# The cell trains one (a softmax classifier, full batch) on the digits and draws the ten
# templates, red for positive weights and blue for negative.

# %%
seed_everything(0)
linear = nn.Linear(DIGIT_SIZE * DIGIT_SIZE, 10)
optimizer = torch.optim.Adam(linear.parameters(), lr=0.05, weight_decay=1e-3)
flat_train = digits_train.images.flatten(1)  # [N, 256]
for step in range(budget(full=300, quick=30)):
    loss = F.cross_entropy(linear(flat_train), digits_train.labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_accuracy = accuracy(linear, digits_test.images.flatten(1), digits_test.labels)
print(f"linear classifier: test accuracy {linear_accuracy:.1%} (LeNet: "
      f"{accuracy(lenet, digits_test.images, digits_test.labels):.1%})")

templates = linear.weight.detach().reshape(10, DIGIT_SIZE, DIGIT_SIZE)
class_means = torch.stack([digits_train.images[digits_train.labels == k, 0].mean(0) for k in range(10)])
scaled_templates = templates / templates.flatten(1).abs().amax(dim=1)[:, None, None]  # each in [-1, 1]
fig, axes = plt.subplots(2, 1, figsize=(12, 3.4))
axes[0].imshow(np.concatenate([np.pad(t.numpy(), 1, constant_values=np.nan) for t in scaled_templates], axis=1),
               cmap="RdBu_r", vmin=-1, vmax=1)
axes[0].set_title("templates 0 to 9: the weights of a linear classifier (red +, blue -)", fontsize=9)
axes[1].imshow(image_grid(class_means[:, None], ncols=10, pad=1, pad_value=1.0))
axes[1].set_title("the mean training image of each class", fontsize=9)
for ax in axes:
    ax.set_axis_off()
plt.show()
centred = class_means - class_means.mean(0)  # what distinguishes each class from the average digit
similarity = F.cosine_similarity(templates.flatten(1), centred.flatten(1), dim=1)
print("cosine similarity of each template with its class mean minus the mean of all classes:",
      " ".join(f"{v:.2f}" for v in similarity.tolist()))

# %% [markdown]
# Some templates are recognizable: the 0 is a positive ring around a negative centre, the
# 6 keeps its loop at the bottom left, the 7 its bar at the top. Others, like the 1 and
# the 8, are patchworks that only make sense next to the other nine. A template is not a
# copy of the average digit: it is closer to what *distinguishes* its class from the
# others (the class mean minus the mean of all classes, with which every template has a
# clearly positive cosine similarity, printed above). The 0's centre is negative because
# a 0 has no ink where an 8 or a 1 has some; the 1 needs little positive weight at all,
# since almost any ink outside a thin central column argues against it.
#
# The limitation is visible too. One template per class means one picture per class. A
# class that comes in several forms (a 7 with and without a crossbar; in the lecture's
# CIFAR-10 example, horses facing left and horses facing right) gets a single template
# that blends them, and the blend matches neither form well: the CIFAR horse template
# famously has a head on each side. A network with hidden layers can have many
# templates for one class and combine them, which is the first way to see why depth
# helps. But then its weights are no longer pictures of classes, and the rest of this
# chapter is about the other ways to look inside.
#
# ## 3. The filters of the first layer
#
# The first convolution layer is still template matching, with *small* templates: each
# filter is a $C \times k \times k$ patch that is compared (by a dot product) with every
# $k \times k$ patch of the image. Because its input is the image itself, a first-layer
# filter can be drawn as a little image, exactly as the linear templates above. The cell
# draws the six 5 × 5 filters of LeNet's first layer and the eight 3 × 3 RGB filters of
# the ResNet's stem, each rescaled to its own range.

# %%
def rescaled(w):
    """A filter (or anything) min-max rescaled to [0, 1] for display."""
    return (w - w.min()) / (w.max() - w.min()).clamp_min(1e-12)


lenet_conv1 = lenet.features[0].weight.detach()  # [6, 1, 5, 5]
resnet_conv1 = resnet.conv1.weight.detach()  # [8, 3, 3, 3]
lenet_conv2 = lenet.features[3].weight.detach()  # [16, 6, 5, 5]
print("LeNet conv1", tuple(lenet_conv1.shape), "| ResNet stem", tuple(resnet_conv1.shape),
      "| LeNet conv2", tuple(lenet_conv2.shape))
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1.2, 1.2, 2.6]})
axes[0].imshow(image_grid(torch.stack([rescaled(w) for w in lenet_conv1]), ncols=3, pad=1))
axes[0].set_title("LeNet conv1: 6 filters, 5 x 5", fontsize=9)
axes[1].imshow(image_grid(torch.stack([rescaled(w) for w in resnet_conv1]), ncols=4, pad=1))
axes[1].set_title("ResNet stem: 8 filters, 3 x 3 RGB", fontsize=9)
axes[2].imshow(image_grid(torch.stack([rescaled(w) for w in lenet_conv2.transpose(0, 1).reshape(-1, 1, 5, 5)]),
                          ncols=16, pad=1))
axes[2].set_title("LeNet conv2: 16 filters (columns) x 6 input channels (rows), 5 x 5 each", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.suptitle("first-layer filters can be drawn as images; second-layer filters are 6-channel objects", fontsize=10)
plt.show()

# %% [markdown]
# Our filters are small and blurry, because our images are tiny and simple: a 5 × 5
# filter on a 16 × 16 digit covers a third of it, and the six filters of LeNet respond to
# strokes of a few orientations and to their ends. The 3 × 3 stem filters of the ResNet
# mostly measure colour (a flat patch of one hue) and the direction of a colour change.
#
# On a network trained on ImageNet the first layer is one of the most reproducible
# pictures in deep learning. AlexNet's first layer (96 filters of 3 × 11 × 11 in the
# paper, 64 in torchvision's later variant that the lecture shows), and the 7 × 7 stems of
# ResNet-18, ResNet-101 and DenseNet-121, all learn the same two families: **oriented
# edge and bar detectors** at several orientations and frequencies, grey-scale and
# strikingly similar to Gabor filters, the model of simple cells in the visual cortex
# that neuroscience proposed decades earlier; and **colour-opponent blobs** (red against
# green, blue against yellow). Different architectures, different initializations, the
# same filters: the statistics of natural images, not the details of the network, decide
# what the first layer should detect. In the original two-GPU AlexNet the families even
# separated by GPU, one tower learning the grey edges and the other the colour blobs.
#
# **Why deeper filters are not pictures.** A second-layer filter is also a stack of
# numbers, but its input channels are not red, green and blue: they are the *outputs of
# the first-layer filters*. LeNet's conv2 filter number 0 is six 5 × 5 slices, one per
# first-layer map, and the figure's right half draws all 16 × 6 of them; nothing in those
# grey squares says what they detect, because what each input channel means depends on
# another filter. The lecture asks how many channels the second AlexNet layer sees. The
# cell reads it off the course's AlexNet, built on PyTorch's `meta` device (shapes only),
# in the single-tower form and in the paper's grouped two-GPU form.

# %%
with torch.device("meta"):
    single_tower, two_towers = AlexNet(), AlexNet(grouped=True)
for name, net in (("single tower", single_tower), ("paper, groups=2", two_towers)):
    conv1, conv2 = net.features[0].weight, net.features[4].weight
    print(f"AlexNet ({name}): conv1 weight {tuple(conv1.shape)}, conv2 weight {tuple(conv2.shape)}: "
          f"each conv2 filter sees {conv2.shape[1]} channels of {conv1.shape[0]}")

# %% [markdown]
# The lecture's answer, 96, holds for a single-tower AlexNet: conv1 produces 96 maps and
# every conv2 filter reads all of them. In the paper's own network each conv2 filter read
# only the 48 maps on its GPU. Either way, a 48- or 96-channel 5 × 5 filter has no
# picture, and beyond the first layer we need other tools: look at what the layers
# *compute* on real images rather than at their weights.
#
# ## 4. The last layer: nearest neighbours in feature space
#
# Just before its classifier, a network summarizes an image in a vector of features: for
# our ResNet, the 32 numbers that global average pooling produces; for AlexNet, the 4,096
# numbers of its last hidden layer. The classifier on top is linear, so images whose
# feature vectors are close get similar scores: the network must have learned to put
# images of the same class close together. We can check that without looking at a single
# weight, with the oldest classifier of the course: **nearest neighbours**. Take a test
# image, find the training images whose features are closest, and look at them. Then do
# the same with raw pixels, the $k$-NN of chapter 01.
#
# ### Exercise 1: nearest neighbours in feature space (2 points)
#
# Write `nearest_neighbors(queries, gallery, k)`:
#
# * `queries` is a `Tensor[M, D]` and `gallery` a `Tensor[G, D]` of floats (feature
#   vectors, or flattened images), and $1 \le k \le G$;
# * return a `Tensor[M, k]` of `int64`: row $i$ holds the indices of the $k$ gallery rows
#   at the smallest **Euclidean distance** from query $i$, nearest first;
# * when two gallery rows are at exactly the same distance, the one with the smaller
#   index comes first (`torch.argsort(..., stable=True)` keeps that order; `torch.topk`
#   does not promise it);
# * with $M = 0$ queries, return an empty `Tensor[0, k]` of `int64`.
#
# Do not call `torch.cdist`, scikit-learn's `NearestNeighbors`, or the course's
# `course_utils.explain.features.nearest_neighbors`.

# %% nbgrader={"grade": false, "grade_id": "nearest_neighbors", "locked": false, "schema_version": 3, "solution": true}
def nearest_neighbors(queries, gallery, k):
    """Indices of the k gallery rows nearest to each query (Euclidean), nearest first.

    Args:
        queries: Tensor[M, D] float.
        gallery: Tensor[G, D] float.
        k: int, 1 <= k <= G.

    Returns:
        Tensor[M, k] int64; equal distances: smaller gallery index first.
    """
    ### BEGIN SOLUTION
    differences = queries[:, None, :] - gallery[None, :, :]  # [M, G, D]
    squared = (differences**2).sum(dim=2)  # [M, G]; the square root would not change the order
    return torch.argsort(squared, dim=1, stable=True)[:, :k]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_nearest_neighbors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def neighbors_by_hand(queries, gallery, k):
    """Every distance in float64 Python arithmetic, sorted by (distance, index) (slow, obviously right)."""
    rows = []
    for q in queries.tolist():
        distances = [sum((a - b) ** 2 for a, b in zip(q, g)) for g in gallery.tolist()]
        rows.append(sorted(range(len(distances)), key=lambda j: (distances[j], j))[:k])
    return rows


line = torch.tensor([[0.0], [3.0], [1.0], [-1.0]])  # four gallery points on a line
found = nearest_neighbors(torch.tensor([[0.0], [2.0]]), line, 3)
_ = expect_tensor(found, "nearest_neighbors of 2 queries, k=3", shape=(2, 3), dtype=torch.int64)
expect_equal(found[0].tolist(), [0, 2, 3], "the 3 neighbours of 0.0 among [0, 3, 1, -1] (nearest first)")
expect_equal(found[1].tolist(), [1, 2, 0],
             "the 3 neighbours of 2.0 among [0, 3, 1, -1] (3 and 1 are both at distance 1: the smaller index first)")
g = torch.Generator().manual_seed(0)
gallery_points = torch.randint(-8, 9, (12, 3), generator=g).float() / 4  # quarter steps: exact distances, real ties
query_points = torch.randint(-8, 9, (5, 3), generator=g).float() / 4
for k in (1, 4, 12):
    expect_equal(nearest_neighbors(query_points, gallery_points, k).tolist(),
                 neighbors_by_hand(query_points, gallery_points, k),
                 f"nearest_neighbors of 5 queries among 12 points in 3-D, k={k}")
expect_equal(nearest_neighbors(query_points.double(), gallery_points.double(), 2).tolist(),
             neighbors_by_hand(query_points, gallery_points, 2), "nearest_neighbors on float64 features")
_ = expect_tensor(nearest_neighbors(torch.zeros(0, 3), gallery_points, 2), "nearest_neighbors of no query",
                  shape=(0, 2), dtype=torch.int64)
### BEGIN HIDDEN TESTS
_h_forbidden = (ref_features.nearest_neighbors, ref_features.nearest_neighbors_loop, "torch.cdist",
                "sklearn.neighbors.NearestNeighbors.kneighbors")
_h_g = torch.Generator().manual_seed(101)
_h_cases = []
for _h_m, _h_n, _h_d, _h_k, _h_dtype in ((20, 60, 8, 5, torch.float32), (7, 30, 1, 30, torch.float64),
                                         (1, 1, 4, 1, torch.float32), (33, 100, 16, 10, torch.float32),
                                         (6, 40, 2, 7, torch.float64)):
    _h_q = (torch.randint(-12, 13, (_h_m, _h_d), generator=_h_g).to(_h_dtype) / 4)
    _h_gal = (torch.randint(-12, 13, (_h_n, _h_d), generator=_h_g).to(_h_dtype) / 4)
    _h_cases.append((_h_q, _h_gal, _h_k))
_h_expected = [neighbors_by_hand(*c) for c in _h_cases]
with forbid(*_h_forbidden, exercise="nearest_neighbors"):
    _h_got = [nearest_neighbors(*c) for c in _h_cases]
    _h_empty = nearest_neighbors(torch.zeros(0, 2, dtype=torch.float64), torch.ones(3, 2, dtype=torch.float64), 3)
for (_h_q, _h_gal, _h_k), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"nearest_neighbors of {len(_h_q)} queries among {len(_h_gal)} ({_h_q.dtype})",
                      shape=(len(_h_q), _h_k), dtype=torch.int64)
    expect_equal(_h_r.tolist(), _h_e, f"nearest_neighbors of {len(_h_q)} queries among {len(_h_gal)} points in "
                 f"{_h_q.shape[1]}-D, k={_h_k}")
_ = expect_tensor(_h_empty, "nearest_neighbors of no float64 query", shape=(0, 3), dtype=torch.int64)
### END HIDDEN TESTS

# %% [markdown]
# The cell computes the ResNet's 32 pooled features of every training and test scene
# (`layer_outputs` runs the network once with a forward hook on the pooling layer), then
# finds the five nearest training scenes of six test scenes twice: by the distance
# between their 3,072 raw pixel values, and by the distance between their features. It
# uses the course's `nearest_neighbors` (the same rules as yours). It also counts, over
# all test scenes, how many of the five neighbours have the query's class.

# %%
train_features = layer_outputs(resnet, resnet.avgpool, shapes_train, flatten=True)  # [N, 32]
test_features = layer_outputs(resnet, resnet.avgpool, shapes_test, flatten=True)
print("pooled features:", tuple(train_features.shape))
NEIGHBOURS = 5
by_pixels = ref_features.nearest_neighbors(shapes_test.flatten(1), shapes_train.flatten(1), NEIGHBOURS)  # [M, 5]
by_features = ref_features.nearest_neighbors(test_features, train_features, NEIGHBOURS)
for name, found in (("pixel space", by_pixels), ("feature space", by_features)):
    same_class = (shapes_train_labels[found] == shapes_test_labels[:, None]).float().mean()
    print(f"{name:>13}: {same_class:.1%} of the {NEIGHBOURS} nearest training scenes share the query's class")

queries = [0, 1, 2, 3, 4, 5]
GREEN, RED = (0.1, 0.7, 0.1), (0.85, 0.1, 0.1)
fig, axes = plt.subplots(1, 3, figsize=(13, 4.0), gridspec_kw={"width_ratios": [1, NEIGHBOURS, NEIGHBOURS]})
axes[0].imshow(image_grid(shapes_test[queries], ncols=1, pad=2, frames=[None] * len(queries)))
axes[0].set_title("query", fontsize=9)
for ax, found, name in ((axes[1], by_pixels, "pixel space"), (axes[2], by_features, "feature space")):
    tiles = found[queries].flatten()  # [6 * 5] training indices, row by row
    same = shapes_train_labels[tiles] == shapes_test_labels[queries].repeat_interleave(NEIGHBOURS)
    ax.imshow(image_grid(shapes_train[tiles], ncols=NEIGHBOURS, pad=2, frames=[GREEN if ok else RED for ok in same]))
    ax.set_title(f"the {NEIGHBOURS} nearest training scenes in {name}", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.suptitle("nearest neighbours of six test scenes; green frame: same class as the query, red: another class",
             fontsize=10)
plt.show()

# %% [markdown]
# In pixel space, "close" means "the same colours in the same places": the neighbours of
# a magenta ring are magenta shapes of any kind at about the same place, and where the
# object is small the background, which fills most of the pixels, decides. The pixel distance has no idea
# what a shape is. In feature space the neighbours share the *class*, whatever their
# colour, size, position or background: the network has learned to ignore everything
# the label does not depend on. This is the lecture's AlexNet picture at our scale: there,
# the 4,096-dimensional features of a test image of an elephant find other elephants,
# seen from other sides and in other places, that no pixel distance would have matched.
#
# ## 5. Dimensionality reduction: PCA and t-SNE
#
# Neighbours show a handful of images at a time. To see the whole test set at once we
# need to draw vectors of 84 or 256 numbers in two dimensions, and any such drawing must
# throw information away. The two classic choices throw away different things.
#
# **PCA** (principal component analysis) projects the vectors linearly onto the two
# directions along which they vary most. It is fast, deterministic, and faithful to
# large distances, but a linear projection cannot unfold a curved arrangement: clusters
# that are well separated in 84 dimensions may land on top of each other.
#
# **t-SNE** (van der Maaten and Hinton, 2008) instead tries to keep *neighbourhoods*: it
# turns distances into probabilities that two points are neighbours (with a Gaussian in
# the original space and a heavy-tailed Student-t in the plane) and moves the points in
# the plane until the two sets of probabilities agree. Points that are neighbours stay
# neighbours; large distances are not preserved at all, so the gaps between clusters and
# the sizes of clusters in a t-SNE plot mean little. Its one important setting, the
# *perplexity* (about 30), is roughly the number of neighbours each point cares about.
# **UMAP** (McInnes et al., 2018) is a newer method in the same spirit (a neighbourhood
# graph laid out in the plane), faster on large sets and somewhat better at keeping the
# global arrangement; it is a separate package that the course does not install.
#
# The cell embeds the 360 test digits four ways: PCA and t-SNE of the raw pixels, and of
# LeNet's last hidden layer (84 features, the input of its classifier), both from
# scikit-learn. Each panel's title gives the *silhouette* of the classes in the plane
# (from $-1$ to $1$: how much closer each point is to its own class than to the nearest
# other class).

# %%
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

NUM_EMBEDDED = budget(full=len(digits_test), quick=120)
embedded_images = digits_test.images[:NUM_EMBEDDED]
embedded_labels = digits_test.labels[:NUM_EMBEDDED].numpy()
hidden = layer_outputs(lenet, lenet.classifier[3], embedded_images)  # [N, 84], after the second ReLU
spaces = {"pixels (256-D)": embedded_images.flatten(1).numpy(), "LeNet features (84-D)": hidden.numpy()}
start = time.process_time()
fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for col, (space, vectors) in enumerate(spaces.items()):
    for row, method in enumerate(("PCA", "t-SNE")):
        if method == "PCA":
            points = PCA(n_components=2, random_state=0).fit_transform(vectors)
        else:
            points = TSNE(n_components=2, perplexity=30, init="pca", random_state=0,
                          max_iter=budget(full=1000, quick=250)).fit_transform(vectors)
        ax = axes[row, col]
        for digit in range(10):
            chosen = embedded_labels == digit
            ax.scatter(points[chosen, 0], points[chosen, 1], s=7, color=plt.cm.tab10(digit), label=str(digit))
            centre = np.median(points[chosen], axis=0)
            ax.text(centre[0], centre[1], str(digit), fontsize=13, weight="bold", ha="center", va="center")
        ax.set_title(f"{method} of {space}: silhouette {silhouette_score(points, embedded_labels):.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].legend(fontsize=7, ncols=5, loc="lower left")
fig.tight_layout()
plt.show()
print(f"four embeddings in {time.process_time() - start:.1f} s of CPU time")

# %% [markdown]
# Two things change between the panels. Going from pixels to features, the classes pull
# apart: LeNet's features separate the ten digits (that is what the last linear layer
# needs), while in pixel space several digits overlap, in both projections. Going from
# PCA to t-SNE, the same vectors look far more clustered, because t-SNE spends its
# whole plane on neighbourhoods: even raw pixels form recognizable groups (handwritten
# digits of one class do look alike), and the features give ten clean islands, with the
# occasional test digit sitting among the islands of a class it resembles (and often the
# class the network wrongly predicts for it). Remember when reading such pictures that the
# *positions* of the islands and the gaps between them carry little meaning in t-SNE; the
# silhouettes in the titles are measured in the plane, so they say how well each
# *drawing* separates the classes, not the features themselves.
#
# ## 6. Activation maps and maximally activating patches
#
# A layer's output on one image is a stack of *activation maps*, one per channel, each an
# image itself at the layer's resolution. For the lecture's AlexNet, conv5 gives 128 maps
# of 13 × 13 per image (per GPU); our ResNet's three stages give 8 maps of 32 × 32, 16 of
# 16 × 16 and 32 of 8 × 8. Drawn as grey images they show *where* each channel responds,
# though not *to what*.

# %%
stages = {"layer1": resnet.layer1, "layer2": resnet.layer2, "layer3": resnet.layer3}
shown_scene = 3
activations = dict(zip(stages, layer_outputs(resnet, list(stages.values()), shapes_test[shown_scene:shown_scene + 1])))
for name, act in activations.items():
    print(f"{name}: {tuple(act.shape[1:])}")
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), gridspec_kw={"width_ratios": [1, 2, 4, 4]})
axes[0].imshow(shapes_test[shown_scene].permute(1, 2, 0))
axes[0].set_title(SHAPE_NAMES[int(shapes_test_labels[shown_scene])], fontsize=9)
for ax, (name, act), ncols in zip(axes[1:], activations.items(), (2, 4, 8)):
    maps = F.interpolate(act[0][:, None], size=(SHAPE_SIZE, SHAPE_SIZE), mode="nearest")  # [C, 1, 32, 32]
    ax.imshow(image_grid(maps / maps.max().clamp_min(1e-12), ncols=ncols, pad=2, pad_value=0.6))
    ax.set_title(f"{name}: {act.shape[1]} maps of {act.shape[2]} x {act.shape[3]}", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.suptitle("activation maps of one scene (white: the largest activation of the stage)", fontsize=10)
plt.show()

# %% [markdown]
# The first stage is still almost a picture: channels that copy the object, the
# background, or one of their colours, and channels that light up on edges of one
# orientation. By the third stage the maps are 8 × 8 and each unit sees most of the
# object; several channels are dark everywhere (the ReLU has cut them off on this image)
# and the others have become hard to name.
#
# To learn *what* a channel responds to, turn the question around (Zeiler and Fergus,
# 2014; Girshick et al., 2014): over many images, find the units of the channel with the
# largest activations and show the *image patches they see*. The patch a unit sees is
# its **receptive field** (chapter 02). Rather than derive it layer by layer, the course's
# `receptive_field` measures it: on a copy of the network whose weights are all positive
# (so that no two paths cancel), the gradient of one unit with respect to the input is
# non-zero exactly on the pixels the unit can see.

# %%
for name, layer in stages.items():
    print(f"{name}: {receptive_field(resnet, layer, (3, 64, 64))}")
field = receptive_field(resnet, resnet.layer2, (3, 64, 64))
layer2_all = layer_outputs(resnet, resnet.layer2, shapes_test)  # [N, 16, 16, 16]
CHANNELS_SHOWN, PATCHES = 8, 7
rows_of_patches = []
for channel in range(CHANNELS_SHOWN):
    values, which, rows, cols = top_activations(layer2_all, channel=channel, k=PATCHES)
    rows_of_patches.append(crop_patches(shapes_test, which, rows, cols, field, fill=0.0))  # [k, 3, 13, 13]
fig, ax = plt.subplots(figsize=(PATCHES * 1.0, CHANNELS_SHOWN * 1.0))
ax.imshow(image_grid(torch.cat(rows_of_patches), ncols=PATCHES, pad=1))
tile = field.size + 1
ax.set_yticks([1 + tile * c + field.size / 2 for c in range(CHANNELS_SHOWN)],
              [f"channel {c}" for c in range(CHANNELS_SHOWN)], fontsize=8)
ax.set_xticks([])
ax.set_title(f"layer2: the {PATCHES} test patches ({field.size} x {field.size} pixels) that excite each\n"
             "of 8 channels most, one per scene, strongest first", fontsize=9)
plt.show()

# %% [markdown]
# Each row is one channel, and the patches that drive it share something the class does
# not decide: a colour against the background, an edge or corner of a particular
# orientation, the inside of a ring. (Black parts of a patch lie outside the image: units
# near the border see some zero padding. In full mode one channel fires only at the
# image's top-left corner: it has learned to detect the padding itself, a reminder that a
# network knows where the border is.) Channels of a trained ImageNet network give the
# same kind of rows, at every depth: early layers edges and colours, middle layers
# textures and object parts (wheels, eyes, text), late layers whole objects and faces.
#
# ## 7. Occlusion sensitivity
#
# The simplest way to ask where a network looks needs no gradient and no knowledge of
# its insides (Zeiler and Fergus, 2014): **hide part of the image and see whether the
# network notices**. Slide a grey (or black) square over the image; at every position,
# run the occluded image through the network and record the probability of the class.
# Where hiding the square makes the probability collapse, the network needed what was
# there. The lecture's elephant: the probability of "African elephant" is 0.95 on the
# photograph and falls to 0.75 when the square covers the animal's head.
#
# The method is expensive, one forward pass per position (a 32 × 32 image with an 8 ×
# 8 square moved by 2 pixels costs 169 passes), and its answer depends on the square: too
# small and no single position hides enough, too large and the map is blurred; the fill
# value matters too, since a square of zeros is itself a strong, unnatural pattern.
#
# ### Exercise 2: an occlusion map (3 points)
#
# Write `occlusion_map(model, image, label, patch, stride, fill=0.0)`:
#
# * `image` is a `Tensor[C, H, W]`; the square is `patch × patch` pixels; its top-left
#   corner visits rows $0, s, 2s, \dots$ and columns $0, s, 2s, \dots$ (with $s$ =
#   `stride`) **as long as the whole square fits in the image**, so the map has
#   `(H - patch) // stride + 1` rows and `(W - patch) // stride + 1` columns;
# * entry `[i, j]` is the softmax probability of class `label` that `model` gives to a
#   copy of the image whose square with top-left pixel `(i * stride, j * stride)` is set to
#   `fill` in **every** channel (the rest of the copy is the image);
# * return a `Tensor[rows, cols]`; do not modify `image`;
# * the model is in eval mode: call it under `torch.no_grad()`, on one copy at a time or
#   on a batch of copies, as you prefer.
#
# Do not call the course's `course_utils.explain.occlusion.occlusion_map`. The tests use
# small networks with fixed random weights, built by the helper in the next cell (the
# chapter's tests for saliency and the attacks use it too).

# %%
def tiny_classifier(seed, in_channels=3, num_classes=4, flat_size=None, batch_norm=False, dtype=torch.float32):
    """A small CNN with fixed pseudo-random weights, in eval mode (for the tests).

    conv3x3 - ReLU - conv3x3 [- BatchNorm] - ReLU, then global average pooling and a linear layer, or
    (with flat_size=(H, W)) a flatten and a linear layer that sees every position.
    """
    g = torch.Generator().manual_seed(seed)
    layers = [nn.Conv2d(in_channels, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(8))
    layers.append(nn.ReLU())
    if flat_size is None:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes)]
    else:
        layers += [nn.Flatten(), nn.Linear(8 * flat_size[0] * flat_size[1], num_classes)]
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.rand(tensor.shape, generator=g)
                if tensor.ndim > 1:  # weights: variance 1 / fan-in, so that activations neither vanish nor explode
                    tensor.copy_((2 * noise - 1) * math.sqrt(3 / tensor[0].numel()))
                else:  # biases and batch-norm statistics
                    tensor.copy_(noise + 0.5 if name.endswith("running_var") else noise - 0.5)
    return model.to(dtype).eval()

# %% nbgrader={"grade": false, "grade_id": "occlusion_map", "locked": false, "schema_version": 3, "solution": true}
def occlusion_map(model, image, label, patch, stride, fill=0.0):
    """Probability of class `label` with a patch x patch square of the image set to `fill`, at every position.

    Args:
        model: nn.Module in eval mode, logits Tensor[B, K].
        image: Tensor[C, H, W].
        label: int, the class.
        patch, stride: ints; the square's top-left corner visits multiples of stride while the square fits.
        fill: float, the value written into every channel of the square.

    Returns:
        Tensor[(H - patch) // stride + 1, (W - patch) // stride + 1].
    """
    ### BEGIN SOLUTION
    height, width = image.shape[1:]
    rows = (height - patch) // stride + 1
    cols = (width - patch) // stride + 1
    copies = []
    for i in range(rows):
        for j in range(cols):
            occluded = image.clone()
            occluded[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            copies.append(occluded)
    with torch.no_grad():  # probabilities only, no graph
        probabilities = torch.softmax(model(torch.stack(copies)), dim=1)[:, label]
    return probabilities.reshape(rows, cols)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_occlusion_map", "locked": true, "points": 3, "schema_version": 3, "solution": false}
reads_first_pixel = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
with torch.no_grad():
    reads_first_pixel[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
small = occlusion_map(reads_first_pixel, torch.ones(1, 2, 2), 0, 1, 1)
_ = expect_tensor(small, "occlusion_map of a 2 x 2 image, patch 1, stride 1", shape=(2, 2))
expect_close(small, torch.tensor([[0.5, 1 / (1 + math.exp(-1))], [1 / (1 + math.exp(-1))] * 2]),
             "occlusion_map of a 2 x 2 image of ones for a model whose class-0 score is the top-left pixel "
             "(hiding that pixel: probability 0.5; hiding another: sigmoid(1))")
g = torch.Generator().manual_seed(0)
cases = [
    (tiny_classifier(1, flat_size=(7, 9)), torch.rand(3, 7, 9, generator=g), 2, 3, 2, 0.0,
     "a 3 x 7 x 9 image, patch 3, stride 2 (a 3 x 4 map)"),
    (tiny_classifier(2, flat_size=(10, 10)), torch.rand(3, 10, 10, generator=g), 1, 4, 3, 0.5,
     "a 10 x 10 image, patch 4, stride 3, fill 0.5 (the last square covers rows 6 to 9)"),
    (tiny_classifier(3), torch.rand(3, 8, 5, generator=g), 0, 2, 1, 0.0, "an 8 x 5 image, patch 2, stride 1"),
    (tiny_classifier(4), torch.rand(3, 6, 6, generator=g), 3, 6, 2, 0.0, "a 6 x 6 image with a 6 x 6 square (a 1 x 1 map)"),
]
for model, image, label, patch, stride, fill, name in cases:
    before = image.clone()
    result = occlusion_map(model, image, label, patch, stride, fill)
    expected = ref_occlusion.occlusion_map(model, image, label, patch, stride, fill)  # the course's reference
    _ = expect_tensor(result, f"occlusion_map for {name}", shape=tuple(expected.shape))
    expect_close(result, expected.float(), f"occlusion_map for {name}", atol=1e-5)
    expect_close(image, before, f"the image after occlusion_map for {name} (it must not change)")
double_model = tiny_classifier(5, in_channels=2, dtype=torch.float64)
double_image = torch.rand(2, 6, 7, generator=g, dtype=torch.float64)
expect_close(occlusion_map(double_model, double_image, 1, 3, 2, 0.25),
             ref_occlusion.occlusion_map(double_model, double_image, 1, 3, 2, 0.25), "occlusion_map with a float64 model and image",
             atol=1e-6)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(102)
_h_cases = []
for _h_seed, (_h_c, _h_h, _h_w, _h_patch, _h_stride, _h_fill, _h_flat) in enumerate(
        ((3, 16, 16, 4, 2, 0.0, True), (1, 12, 20, 5, 3, 0.5, False), (3, 9, 9, 1, 4, 1.0, True),
         (2, 11, 7, 7, 1, -0.2, False), (3, 32, 32, 8, 4, 0.0, False))):
    _h_model = tiny_classifier(200 + _h_seed, in_channels=_h_c, num_classes=5,
                               flat_size=(_h_h, _h_w) if _h_flat else None, batch_norm=_h_seed % 2 == 1)
    _h_image = torch.rand(_h_c, _h_h, _h_w, generator=_h_g)
    _h_cases.append((_h_model, _h_image, _h_seed % 5, _h_patch, _h_stride, _h_fill))
_h_expected = [ref_occlusion.occlusion_map(*c) for c in _h_cases]
with forbid(ref_occlusion.occlusion_map, ref_occlusion._class_probability, exercise="occlusion_map"):
    _h_got = [occlusion_map(*c) for c in _h_cases]
for (_h_m, _h_i, _h_l, _h_p, _h_s, _h_f), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"occlusion_map of a {list(_h_i.shape)} image, patch {_h_p}, stride {_h_s}",
                      shape=tuple(_h_e.shape))
    expect_close(_h_r, _h_e, f"occlusion_map of a {list(_h_i.shape)} image, patch {_h_p}, stride {_h_s}, fill {_h_f}",
                 atol=1e-5, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# The cell draws the occlusion maps of the ResNet on four test scenes: an 8 × 8 square of
# mid-grey (0.5) moved by 2 pixels (13 × 13 positions), shown as the **drop** of the
# class probability, spread back over the pixels each square covered (a pixel gets the
# mean drop of the squares that hid it). The white outline is the object's true mask. It
# uses the course's `occlusion_map`, so it runs whether or not your exercise is done.

# %%
PATCH, STRIDE, FILL = 8, 2, 0.5


def occlusion_drop(model, image, label):
    """Per-pixel mean drop of the class probability when an 8 x 8 grey square hides it: Tensor[H, W]."""
    with torch.no_grad():
        clean = torch.softmax(model(image[None]), dim=1)[0, label]
    probabilities = ref_occlusion.occlusion_map(model, image, label, PATCH, STRIDE, FILL)
    return ref_occlusion.upsample_occlusion(clean - probabilities, *image.shape[1:], PATCH, STRIDE)


shown = [0, 1, 2, 6]
drops = torch.stack([occlusion_drop(resnet, shapes_test[i], int(shapes_test_labels[i])) for i in shown])
with torch.no_grad():
    clean_probabilities = torch.softmax(resnet(shapes_test[shown]), dim=1)
fig, axes = plt.subplots(2, len(shown), figsize=(2.6 * len(shown), 5.4))
for col, i in enumerate(shown):
    label = int(shapes_test_labels[i])
    axes[0, col].imshow(shapes_test[i].permute(1, 2, 0))
    axes[0, col].set_title(f"{SHAPE_NAMES[label]}: p = {clean_probabilities[col, label]:.2f}", fontsize=9)
    axes[0, col].set_axis_off()
    overlay = draw_heatmap(axes[1, col], shapes_test[i], drops[col], normalize=False, cmap="RdBu_r", alpha=0.75)
    overlay.set_clim(-drops.abs().max(), drops.abs().max())  # one symmetric scale for the four maps
    draw_outline(axes[1, col], shapes_test_masks[i])
    axes[1, col].set_title(f"largest drop {drops[col].max():.2f}", fontsize=9)
fig.colorbar(overlay, ax=axes[1].tolist(), shrink=0.8, label="p(class) - p(class | square hidden)")
fig.suptitle(f"occlusion sensitivity: a {PATCH} x {PATCH} grey square every {STRIDE} pixels", fontsize=10)
plt.show()

# %% [markdown]
# Red is where hiding the image costs probability; blue, where it *adds* some (hiding a
# part that argued for another class). The red sits on the object or right next to it: a
# grey square pasted beside the object changes its outline, which is information about
# its shape too. The background further away costs nothing: the network does look at the
# shape. A confident prediction (the large ring) can survive every single square: no
# 8 × 8 window holds all of the evidence. To turn "usually" into a number we need a
# measurement that works for every kind of map in this chapter, whatever its resolution
# and scale. We will use the **pointing game** (Zhang et al., 2016): a map *hits* if its
# single largest value lies inside the object's bounding box. Our boxes are large (an
# object spans a third to two thirds of the image) and objects never touch the border,
# so the game is lenient; we also play a strict version, where the largest value must
# lie on the object's mask itself (the hole of a ring does not count). The cell plays
# both with the occlusion maps of 24 test scenes, against a baseline that always points
# at the centre of the image.

# %%
def pointing_game(maps, boxes, masks):
    """Fractions of maps [N, H, W] whose largest value lies in the object's xyxy box [N, 4], and on its mask [N, H, W]."""
    n, _, width = maps.shape
    flat = maps.reshape(n, -1).argmax(dim=1)
    row, col = flat // width, flat % width
    in_box = (col >= boxes[:, 0]) & (col < boxes[:, 2]) & (row >= boxes[:, 1]) & (row < boxes[:, 3])
    on_mask = masks.reshape(n, -1)[torch.arange(n), flat]
    return in_box.float().mean().item(), on_mask.float().mean().item()


NUM_POINTING = budget(full=24, quick=6)
start = time.process_time()
occlusion_maps = torch.stack([occlusion_drop(resnet, shapes_test[i], int(shapes_test_labels[i]))
                              for i in range(NUM_POINTING)])
centre_map = torch.zeros(len(shapes_test), SHAPE_SIZE, SHAPE_SIZE)
centre_map[:, SHAPE_SIZE // 2, SHAPE_SIZE // 2] = 1.0
pointing = {"occlusion": pointing_game(occlusion_maps, shapes_test_boxes[:NUM_POINTING],
                                       shapes_test_masks[:NUM_POINTING]),
            "centre of the image": pointing_game(centre_map, shapes_test_boxes, shapes_test_masks)}
print(f"{NUM_POINTING} occlusion maps in {time.process_time() - start:.1f} s of CPU time")
for name, (in_box, on_mask) in pointing.items():
    print(f"pointing game, {name}: the largest value is in the box for {in_box:.0%} of the scenes, "
          f"on the object for {on_mask:.0%}")

# %% [markdown]
# ## 8. Gradient saliency
#
# Occlusion asks "what happens if this region disappears?" and needs a forward pass per
# region. The gradient answers a smaller question for every pixel at once, with one
# backward pass: **if this pixel changed a little, how much would the class score
# change?** For an image $I$ and the score $S_c(I)$ of class $c$, the first-order Taylor
# expansion around $I_0$,
#
# $$S_c(I) \approx S_c(I_0) + \nabla_I S_c(I_0) \cdot (I - I_0),$$
#
# says that the gradient $\nabla_I S_c$ is the linear template that the network uses *at
# this image*: for a linear classifier it is exactly the template of section 2; for a
# deep network it changes from image to image. Simonyan, Vedaldi and Zisserman (2014)
# turned it into a **saliency map**: take the absolute value of the gradient (a pixel
# matters whether brightening or darkening it raises the score) and, for colour images,
# the maximum over the three channels, giving one value per pixel.
#
# Two details matter. The score is the **unnormalized** class score (the logit), not the
# softmax probability: the probability of class $c$ can also be raised by *lowering*
# the other classes' scores, so its gradient mixes in evidence about the other classes.
# And the network must be in eval mode: then every image of a batch is processed
# independently, and the gradient of the *sum* of the batch's scores with respect to the
# batch gives every image its own gradient in one backward pass.
#
# ### Exercise 3: vanilla gradient saliency (3 points)
#
# Write `saliency_map(model, images, labels)`:
#
# * `images` is a `Tensor[N, C, H, W]`, `labels` a `Tensor[N]` of `int64`; the model
#   returns logits `Tensor[N, K]` and is in eval mode;
# * for each image $n$, compute the gradient of its logit for class `labels[n]` with
#   respect to its own pixels, take the absolute value, and the maximum over the $C$
#   channels;
# * return a `Tensor[N, H, W]` that does not require gradients (detach it);
# * do not modify `images`, not even its `requires_grad` flag: differentiate with respect
#   to a copy (`images.detach().clone().requires_grad_(True)`).
#
# Use autograd (`torch.autograd.grad` or `.backward()`); do not call the course's
# `course_utils.explain.saliency.saliency_map`.

# %% nbgrader={"grade": false, "grade_id": "saliency_map", "locked": false, "schema_version": 3, "solution": true}
def saliency_map(model, images, labels):
    """max over channels of |d score[labels[n]] / d images[n]|, for every image.

    Args:
        model: nn.Module in eval mode, logits Tensor[N, K].
        images: Tensor[N, C, H, W] float (not modified).
        labels: Tensor[N] int64.

    Returns:
        Tensor[N, H, W], detached.
    """
    ### BEGIN SOLUTION
    x = images.detach().clone().requires_grad_(True)
    scores = model(x)  # [N, K] logits
    chosen = scores[torch.arange(len(labels)), labels].sum()  # every image's own class score
    (grad,) = torch.autograd.grad(chosen, x)  # [N, C, H, W]
    return grad.abs().amax(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_saliency_map", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def saliency_by_hand(model, images, labels):
    """One image at a time: gradient of its logit, |.|, max over channels (float64 copy of the model)."""
    model64 = copy.deepcopy(model).double()
    maps = []
    for image, label in zip(images, labels.tolist()):
        x = image.detach().double()[None].requires_grad_(True)
        (grad,) = torch.autograd.grad(model64(x)[0, label], x)
        maps.append(grad[0].abs().max(dim=0).values)
    return torch.stack(maps)


linear_template = nn.Sequential(nn.Flatten(), nn.Linear(2 * 2 * 3, 3))
with torch.no_grad():
    linear_template[1].weight.copy_(torch.arange(-18.0, 18.0).reshape(3, 12) / 4)
    linear_template[1].bias.zero_()
flat_images = torch.rand(2, 2, 2, 3, generator=torch.Generator().manual_seed(0))
flat_result = saliency_map(linear_template, flat_images, torch.tensor([0, 2]))
_ = expect_tensor(flat_result, "saliency_map of 2 images of shape [2, 2, 3]", shape=(2, 2, 3))
expect_close(flat_result, linear_template[1].weight.detach().abs().reshape(3, 2, 2, 3).amax(dim=1)[[0, 2]],
             "saliency_map of a linear classifier (its template |w| for the label, max over the 2 channels; "
             "the logit, not the softmax probability)")
g = torch.Generator().manual_seed(1)
for seed, shape, labels in ((11, (3, 3, 8, 8), [0, 3, 1]), (12, (2, 1, 6, 9), [2, 2]), (13, (4, 3, 5, 5), [3, 0, 0, 1])):
    model = tiny_classifier(seed, in_channels=shape[1])
    images = torch.rand(shape, generator=g)
    before = images.clone()
    result = saliency_map(model, images, torch.tensor(labels))
    _ = expect_tensor(result, f"saliency_map of images {list(shape)}", shape=(shape[0], shape[2], shape[3]))
    expect_close(result, saliency_by_hand(model, images, torch.tensor(labels)),
                 f"saliency_map of a small CNN on images {list(shape)}, labels {labels}", atol=1e-5, rtol=1e-4)
    assert not result.requires_grad, "saliency_map should return a detached tensor (no requires_grad)"
    assert not images.requires_grad, "saliency_map must not turn on requires_grad of the caller's images"
    expect_close(images, before, f"the images {list(shape)} after saliency_map (they must not change)")
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(103)
_h_cases = []
for _h_seed, (_h_shape, _h_bn, _h_dtype) in enumerate((((8, 3, 16, 16), True, torch.float32),
                                                       ((5, 2, 12, 7), False, torch.float64),
                                                       ((1, 3, 32, 32), True, torch.float64),
                                                       ((6, 1, 9, 9), False, torch.float32))):
    _h_model = tiny_classifier(300 + _h_seed, in_channels=_h_shape[1], num_classes=6, batch_norm=_h_bn, dtype=_h_dtype)
    _h_images = torch.rand(_h_shape, generator=_h_g, dtype=_h_dtype)
    _h_labels = torch.randint(0, 6, (_h_shape[0],), generator=_h_g)
    _h_cases.append((_h_model, _h_images, _h_labels))
_h_expected = [ref_saliency.saliency_map(*c) for c in _h_cases]
with forbid(ref_saliency.saliency_map, ref_saliency._score_gradients, exercise="saliency_map"):
    _h_got = [saliency_map(*c) for c in _h_cases]
for (_h_m, _h_i, _h_l), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_close(_h_r, _h_e, f"saliency_map on images {list(_h_i.shape)} ({_h_i.dtype}), labels {_h_l.tolist()}",
                 atol=1e-5, rtol=1e-4)
    assert not _h_i.requires_grad, "saliency_map must not turn on requires_grad of the caller's images"
### END HIDDEN TESTS

# %% [markdown]
# A single gradient is noisy: the network's score is a piecewise-linear function of the
# pixels (ReLUs), and the gradient at one point can be dominated by features that flip
# on and off between neighbouring pixels. **SmoothGrad** (Smilkov et al., 2017) averages
# the saliency maps of many copies of the image with Gaussian noise added (a standard
# deviation of 10 to 20 % of the image's value range in the paper), smoothing the
# gradient over a small neighbourhood of the image. The cell draws, for four test scenes,
# the vanilla saliency of the predicted class, the same map blurred by a Gaussian of 2
# pixels, and SmoothGrad with two noise levels (16 noisy copies each), all from the
# course's versions (`course_utils.explain.saliency`).

# %%
with torch.no_grad():
    shapes_predicted = resnet(shapes_test).argmax(dim=1)
shapes_saliency = ref_saliency.saliency_map(resnet, shapes_test, shapes_predicted)  # [N, 32, 32]
shown = [0, 1, 2, 4]
noise_generator = torch.Generator().manual_seed(0)
smooth_small = ref_saliency.smoothgrad(resnet, shapes_test[shown], shapes_predicted[shown], samples=16, sigma=0.02,
                                       generator=noise_generator)
smooth_large = ref_saliency.smoothgrad(resnet, shapes_test[shown], shapes_predicted[shown], samples=16, sigma=0.15,
                                       generator=noise_generator)
fig = show_explanations(shapes_test[shown], {
    "vanilla saliency": shapes_saliency[shown],
    "blurred (2 px)": ref_saliency.gaussian_blur(shapes_saliency[shown], 2.0),
    "SmoothGrad, 2 %": smooth_small,
    "SmoothGrad, 15 %": smooth_large,
}, titles=[SHAPE_NAMES[int(p)] for p in shapes_predicted[shown]], masks=shapes_test_masks[shown], overlay=False,
    suptitle="gradient saliency of the predicted class (white: the object's true outline)")
plt.show()

# %% [markdown]
# Vanilla saliency is bright on the object and mostly on its *edges*: changing a pixel
# inside a flat region changes little, but moving an edge changes the shape. It is
# speckled, and it has a faint haze over the background. Blurring removes the speckle.
# SmoothGrad with a little noise looks like the vanilla map; with the paper's 15 % the
# map fills with background noise instead of getting cleaner. That is not a bug of the
# method but a fact about our network: it was trained on images with 2 % pixel noise,
# and copies with 15 % noise are images it has never seen, on which its gradients are
# large everywhere. On ImageNet networks, trained on photographs with all kinds of
# texture, the paper's noise level is in the range the network tolerates.
#
# ### Saliency as weak segmentation
#
# The lecture's most practical use of a saliency map: the network was trained only on
# image labels, yet its saliency map outlines the object, so it can produce a rough
# segmentation for free (the lecture hands the saliency map to GrabCut, an unsupervised
# segmentation method, to sharpen it). We can measure how rough. Every map below is
# turned into a mask by keeping its brightest pixels, as many as an object covers on
# average in the *training* scenes (a fixed prior: the method never sees a test mask),
# and the mask is compared with the true one by IoU. The baseline ignores the image: a
# centred square of the same area. The last line plays GrabCut's part with a rule that
# suits our flat-coloured objects: take the median colour of the 4 % most salient pixels
# as the object's colour, and keep the pixels of that colour (within an RGB distance of
# 0.2) among the 40 % most salient.

# %%
def colour_refined(images, maps, seed_fraction=0.04, region_fraction=0.4, tolerance=0.2):
    """Saliency + colour: the pixels close to the median colour of the most salient pixels, within the salient region."""
    seeds = ref_saliency.top_fraction_mask(maps, seed_fraction)
    region = ref_saliency.top_fraction_mask(maps, region_fraction)
    masks = []
    for image, seed, keep in zip(images, seeds, region):
        pixels = image.permute(1, 2, 0)  # [H, W, 3]
        colour = pixels[seed].median(dim=0).values  # [3]
        masks.append(((pixels - colour).norm(dim=-1) < tolerance) & keep)
    return torch.stack(masks)


object_fraction = shapes_train_masks.float().mean().item()
blurred_saliency = ref_saliency.gaussian_blur(shapes_saliency, 2.0)
NUM_SMOOTH = budget(full=48, quick=8)
segmentations = {
    "centre square (baseline)": ref_saliency.centre_box_mask(len(shapes_test), SHAPE_SIZE, SHAPE_SIZE, object_fraction),
    "vanilla saliency": ref_saliency.top_fraction_mask(shapes_saliency, object_fraction),
    "blurred saliency": ref_saliency.top_fraction_mask(blurred_saliency, object_fraction),
    "blurred saliency + colour": colour_refined(shapes_test, blurred_saliency),
}
ious = {name: ref_saliency.mask_iou(mask, shapes_test_masks).mean().item() for name, mask in segmentations.items()}
for sigma in (0.02, 0.15):
    smooth = ref_saliency.smoothgrad(resnet, shapes_test[:NUM_SMOOTH], shapes_predicted[:NUM_SMOOTH], samples=10,
                                     sigma=sigma, generator=torch.Generator().manual_seed(1))
    mask = ref_saliency.top_fraction_mask(ref_saliency.gaussian_blur(smooth, 2.0), object_fraction)
    ious[f"blurred SmoothGrad {sigma:.0%} (first {NUM_SMOOTH} scenes)"] = ref_saliency.mask_iou(
        mask, shapes_test_masks[:NUM_SMOOTH]).mean().item()
print(f"each mask keeps {object_fraction:.1%} of the pixels (the mean object area of the training scenes)")
for name, value in ious.items():
    print(f"  mean IoU with the true masks, {name:<42} {value:.3f}")
report("saliency_segmentation_iou", ious["blurred saliency"], target=round(ious["centre square (baseline)"], 3))

def outlined(predicted, truth):
    """A predicted mask in white on black, with the true mask's boundary pixels in red: Tensor[N, 3, H, W]."""
    inner = -F.max_pool2d(-truth.float()[:, None], 3, stride=1, padding=1)[:, 0]  # erosion by one pixel
    boundary = truth & (inner < 0.5)
    rgb = predicted.float()[:, None].repeat(1, 3, 1, 1)
    rgb[:, 0][boundary], rgb[:, 1][boundary], rgb[:, 2][boundary] = 1.0, 0.1, 0.1
    return rgb


SEGMENTED = 10
fig, ax = plt.subplots(figsize=(13, 4.4))
ax.imshow(image_grid(torch.cat([shapes_test[:SEGMENTED],
                                outlined(segmentations["blurred saliency"][:SEGMENTED], shapes_test_masks[:SEGMENTED]),
                                outlined(segmentations["blurred saliency + colour"][:SEGMENTED],
                                         shapes_test_masks[:SEGMENTED])]), ncols=SEGMENTED, pad=2, pad_value=0.5))
ax.set_yticks([2 + 34 * r + 16 for r in range(3)], ["scene", "blurred\nsaliency", "saliency\n+ colour"], fontsize=9)
ax.set_xticks([])
ax.set_title("weak segmentation from a classifier's saliency (red: the true outline)", fontsize=10)
plt.show()

# %% [markdown]
# Blurred saliency alone beats the centre square clearly, and with the colour rule the
# masks become nearly exact (the printed IoUs; in full mode about 0.5 against 0.3 for the
# square, and above 0.9 with colour). A classifier that never saw a mask has learned
# where its objects are.
#
# ## 9. Class activation maps: CAM and Grad-CAM
#
# Saliency looks at pixels; the network itself reasons on its last feature map, a grid of
# $h \times w$ positions each with $C$ features. For a network that ends, like our
# ResNet (and GoogLeNet, and every ResNet), with **global average pooling** and one linear
# layer, that last step can be split exactly over the grid. With features $A_c(y, x)$
# and the linear layer's weights $w_{k,c}$ and bias $b_k$, the score of class $k$ is
#
# $$S_k = b_k + \sum_c w_{k,c} \, \frac{1}{hw} \sum_{y,x} A_c(y, x)
#       = b_k + \frac{1}{hw} \sum_{y,x} M_k(y, x), \qquad
#       M_k(y, x) = \sum_c w_{k,c} \, A_c(y, x).$$
#
# The **class activation map** $M_k$ (Zhou et al., 2016) tells how much each position
# contributes to the score: averaged over the grid (plus the bias) it *is* the score.
# It costs one weighted sum, no gradient, and its resolution is the grid's: 8 × 8 for our
# 32 × 32 scenes, 7 × 7 for a ResNet-50 on 224 × 224 images, upsampled to the image for
# display.
#
# ### Exercise 4: CAM from the features and the weights (3 points)
#
# Write `class_activation_map(features, fc_weight, classes)`:
#
# * `features` is a `Tensor[N, C, h, w]` (the last feature maps, before the pooling),
#   `fc_weight` the `Tensor[K, C]` weight of the final linear layer, `classes` a
#   `Tensor[N]` of `int64` (the class to explain for each image);
# * return the `Tensor[N, h, w]` with $M[n, y, x] = \sum_c$ `fc_weight[classes[n], c]`
#   $\cdot$ `features[n, c, y, x]`, raw: no bias, no ReLU, no normalization or resizing
#   (those are for display);
# * keep the dtype of `features`; with $N = 0$ return an empty `Tensor[0, h, w]`.
#
# Do not call the course's `course_utils.explain.cam.class_activation_map` (or its
# `_loop` version).

# %% nbgrader={"grade": false, "grade_id": "class_activation_map", "locked": false, "schema_version": 3, "solution": true}
def class_activation_map(features, fc_weight, classes):
    """CAM: the weighted sum of the feature maps with the class's weights of the final linear layer.

    Args:
        features: Tensor[N, C, h, w].
        fc_weight: Tensor[K, C].
        classes: Tensor[N] int64.

    Returns:
        Tensor[N, h, w].
    """
    ### BEGIN SOLUTION
    weights = fc_weight[classes]  # [N, C]: the row of each image's class
    return (weights[:, :, None, None] * features).sum(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_class_activation_map", "locked": true, "points": 3, "schema_version": 3, "solution": false}
hand_features = torch.tensor([[[[1.0, 0.0], [2.0, 1.0]], [[0.0, 3.0], [1.0, 1.0]]]])  # N=1, C=2, 2 x 2
hand_weight = torch.tensor([[1.0, 1.0], [2.0, -1.0], [0.0, 0.5]])  # K=3 classes
hand = class_activation_map(hand_features, hand_weight, torch.tensor([1]))
_ = expect_tensor(hand, "class_activation_map of one image with 2 channels of 2 x 2", shape=(1, 2, 2))
expect_close(hand, torch.tensor([[[2.0, -3.0], [3.0, 1.0]]]),
             "class_activation_map for class 1 (weights 2 and -1): 2 * channel 0 - channel 1, no ReLU")
expect_close(class_activation_map(hand_features.repeat(3, 1, 1, 1), hand_weight, torch.tensor([0, 2, 1])),
             torch.tensor([[[1.0, 3.0], [3.0, 2.0]], [[0.0, 1.5], [0.5, 0.5]], [[2.0, -3.0], [3.0, 1.0]]]),
             "class_activation_map of three copies of the image for classes [0, 2, 1] (each image its own class)")
g = torch.Generator().manual_seed(2)
gap_net = tiny_classifier(21, num_classes=5)  # conv - ReLU - conv - ReLU - average pooling - linear
images = torch.rand(4, 3, 6, 7, generator=g)
with torch.no_grad():
    last_maps = gap_net[:4](images)  # [4, 8, 6, 7]: the features before the pooling
    scores = gap_net(images)  # [4, 5]
explained = torch.tensor([4, 0, 2, 2])
maps = class_activation_map(last_maps, gap_net[-1].weight.detach(), explained)
_ = expect_tensor(maps, "class_activation_map of 4 images with 8 channels of 6 x 7", shape=(4, 6, 7))
expect_close(maps.mean(dim=(1, 2)) + gap_net[-1].bias.detach()[explained], scores[torch.arange(4), explained],
             "the mean of each CAM over its 6 x 7 positions plus the class's bias (it should be the class score)",
             atol=1e-5)
_ = expect_tensor(class_activation_map(last_maps.double(), gap_net[-1].weight.detach().double(), explained),
                  "class_activation_map of float64 features", dtype=torch.float64)
_ = expect_tensor(class_activation_map(torch.zeros(0, 8, 3, 3), torch.zeros(5, 8), torch.zeros(0, dtype=torch.int64)),
                  "class_activation_map of no image", shape=(0, 3, 3))
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(104)
_h_cases = []
for _h_n, _h_c, _h_h, _h_w, _h_k, _h_dtype in ((6, 32, 8, 8, 5, torch.float32), (3, 16, 7, 7, 1000, torch.float64),
                                               (1, 1, 1, 1, 2, torch.float32), (9, 12, 4, 10, 3, torch.float64)):
    _h_feat = torch.rand(_h_n, _h_c, _h_h, _h_w, generator=_h_g, dtype=_h_dtype) * 4
    _h_wt = torch.randn(_h_k, _h_c, generator=_h_g, dtype=_h_dtype)
    _h_cls = torch.randint(0, _h_k, (_h_n,), generator=_h_g)
    _h_cases.append((_h_feat, _h_wt, _h_cls))
_h_expected = [ref_cam.class_activation_map(*c) for c in _h_cases]
with forbid(ref_cam.class_activation_map, ref_cam.class_activation_map_loop, ref_cam._weighted_channel_sum,
            exercise="class_activation_map"):
    _h_got = [class_activation_map(*c) for c in _h_cases]
for (_h_feat, _h_wt, _h_cls), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"class_activation_map of features {list(_h_feat.shape)} ({_h_feat.dtype})",
                      shape=tuple(_h_e.shape), dtype=_h_feat.dtype)
    expect_close(_h_r, _h_e, f"class_activation_map of features {list(_h_feat.shape)} with {len(_h_wt)} classes",
                 atol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# CAM needs the GAP + linear head. **Grad-CAM** (Selvaraju et al., 2017) drops that
# requirement: for any layer with feature maps $A_c$ and any score $S_k$, it weights each
# channel by the average gradient of the score over the grid,
# $\alpha_c = \frac{1}{hw}\sum_{y,x} \partial S_k / \partial A_c(y, x)$, sums, and keeps
# the positive part: $\mathrm{ReLU}(\sum_c \alpha_c A_c)$. The ReLU keeps only the
# evidence *for* the class. For a GAP + linear head, $\partial S_k / \partial A_c(y, x) =
# w_{k,c} / (hw)$ at every position, so Grad-CAM there is exactly $\mathrm{ReLU}(M_k) /
# (hw)$; the cell checks this on our ResNet with the course's versions, and confirms that
# the CAM averages to the score.

# %%
last_features = layer_outputs(resnet, resnet.layer3, shapes_test)  # [N, 32, 8, 8]
fc_weight, fc_bias = resnet.fc.weight.detach(), resnet.fc.bias.detach()
cams = ref_cam.class_activation_map(last_features, fc_weight, shapes_predicted)  # [N, 8, 8]
with torch.no_grad():
    scores = resnet(shapes_test)
grid_cells = cams.shape[1] * cams.shape[2]
print(f"CAM: {tuple(cams.shape[1:])} per scene; |mean(CAM) + bias - score| at most "
      f"{(cams.mean(dim=(1, 2)) + fc_bias[shapes_predicted] - scores.gather(1, shapes_predicted[:, None])[:, 0]).abs().max():.1e}")
gradcam_layer3 = ref_cam.grad_cam(resnet, resnet.layer3, shapes_test, shapes_predicted)
print(f"Grad-CAM at layer3 vs ReLU(CAM) / {grid_cells}: largest difference "
      f"{(gradcam_layer3 - F.relu(cams) / grid_cells).abs().max():.1e}")
gradcam_layer2 = ref_cam.grad_cam(resnet, resnet.layer2, shapes_test, shapes_predicted)  # [N, 16, 16]


def upsampled(maps, layer=None):
    """Maps brought to 32 x 32: plainly resized, or each cell placed at the centre of its receptive field."""
    field = None if layer is None else receptive_field(resnet, layer, (3, 64, 64))
    return ref_cam.upsample_maps(maps, (SHAPE_SIZE, SHAPE_SIZE), normalize=False, field=field)


shown = [0, 1, 2, 4]
fig = show_explanations(shapes_test[shown], {
    "blurred saliency": blurred_saliency[shown],
    "CAM (8 x 8)": upsampled(cams[shown], resnet.layer3),
    "Grad-CAM layer3": upsampled(gradcam_layer3[shown], resnet.layer3),
    "Grad-CAM layer2": upsampled(gradcam_layer2[shown], resnet.layer2),
}, titles=[SHAPE_NAMES[int(p)] for p in shapes_predicted[shown]], masks=shapes_test_masks[shown],
    suptitle="where the evidence for the predicted class lies (white: the true outline)")
plt.show()

# %% [markdown]
# The CAM is a blob on the object, coarse (each of its 8 × 8 cells covers 4 × 4 pixels,
# and each cell's features see a 25 × 25 window, section 6) and sometimes centred on the
# part that decides the class rather than on the whole object. Grad-CAM at the same layer
# is the same picture with the negative parts cut off. At `layer2`, a 16 × 16 grid,
# Grad-CAM is sharper and follows the outline, but the earlier a layer, the less its
# features are about the class, and the noisier the map (on deep networks Grad-CAM is
# usually taken at the last convolution layer for that reason).
#
# A detail hides in "upsampled to the image". The usual way, resizing the 8 × 8 map to
# 32 × 32 (bilinear, as an image), puts cell $i$ at the centre of the $i$-th block of 4
# pixels, pixel $4i + 1.5$. But the cell's features come from a receptive field centred
# on pixel $4i$: every stride-2 convolution with padding 1 centres its output $j$ on its
# input $2j$, not $2j + 0.5$ (section 6 measured the fields: size 25 from pixel
# $4i - 12$). Plain resizing therefore shifts the CAM by 1.5 pixels down and to the
# right, 5 % of the image. The figure above places every cell at the centre of its
# receptive field (`upsample_maps(..., field=...)`); the table below measures both.
#
# How do the maps compare? The two pointing games (now on all test scenes, except for
# occlusion), the IoU of each map as a weak segmentation (the brightest pixels of the
# upsampled map, as in section 8), and the correlation between each map and the blurred
# saliency, pixel by pixel, averaged over the scenes:

# %%
def correlation(a, b):
    """Pearson correlation of two stacks of maps [N, H, W], image by image: Tensor[N]."""
    a = a.flatten(1) - a.flatten(1).mean(dim=1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(dim=1, keepdim=True)
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)


maps_compared = {"vanilla saliency": shapes_saliency, "blurred saliency": blurred_saliency,
                 "CAM, resized": upsampled(cams), "CAM, aligned": upsampled(cams, resnet.layer3),
                 "Grad-CAM layer3": upsampled(gradcam_layer3, resnet.layer3),
                 "Grad-CAM layer2": upsampled(gradcam_layer2, resnet.layer2)}
print(f"{'map':<22}{'in the box':>11}{'on the object':>14}{'IoU as a mask':>15}{'corr. w. blurred saliency':>27}")
for name, maps in maps_compared.items():
    in_box, on_mask = pointing_game(maps, shapes_test_boxes, shapes_test_masks)
    iou = ref_saliency.mask_iou(ref_saliency.top_fraction_mask(maps, object_fraction), shapes_test_masks).mean().item()
    print(f"{name:<22}{in_box:>11.0%}{on_mask:>14.0%}{iou:>15.3f}"
          f"{correlation(maps, blurred_saliency).mean().item():>27.2f}")
for name, (in_box, on_mask) in pointing.items():
    print(f"{name:<22}{in_box:>11.0%}{on_mask:>14.0%}" + ("   (first 24 scenes)" if name == "occlusion" else ""))

# %% [markdown]
# Read the table from the bottom. The centre of the image is a strong baseline in the
# lenient game (about 80 % in full mode: objects are large and never touch the border),
# weaker in the strict one. Gradient saliency, the cheapest map with a single backward
# pass, is also the most precise here: blurred, its peak lies on the object itself in
# nearly nine scenes of ten, and occlusion, 169 forward passes per scene, does about as
# well. The last-layer CAM is the coarsest: each of its cells sees a 25 × 25 window, most
# of the image, and its peak marks where the class evidence concentrates (often one rim
# or point of the shape) rather than the object's middle; it beats the centre baseline
# on IoU but not in the pointing games. Placing its cells correctly is worth about ten
# points in both games: a misalignment of 1.5 pixels matters at this scale, and it is the
# one that plain resizing, the common way to draw a CAM, makes. Grad-CAM equals the
# positive part of the CAM at the same layer (same peak, same numbers up to the
# thresholded negative part), and one stage earlier, on a 16 × 16 grid, it is as good a
# pointer as saliency. Finally, the CAM and saliency agree only moderately (a
# correlation around 0.4): they answer different questions, "which positions of the last
# feature map add to the score" against "which pixels would change it".
#
# ## 10. Uncovering biases: the husky in the snow
#
# The lecture's example (Ribeiro et al., 2016, "Why should I trust you?"): a classifier of
# huskies and wolves, accurate on its test set, calls a husky a wolf, and the explanation
# of its decision highlights not the animal but the **snow** around it. The wolves of its
# training set had been photographed in snow, the huskies mostly not, and the network
# had found the easier rule. Its test set came from the same collection, with the same
# correlation, so the test accuracy could not reveal it; an explanation could.
#
# We can stage the same accident and watch it happen. `course_utils.data.biased`'s
# `BiasedShapes` draws one shape on a textured background of one of five colours, and
# gives every class a *habitat*: circles live on snow, squares on grass, triangles on
# sand, stars on sky, rings on brick. With `bias=0.95`, 95 % of the images of a class
# show its habitat, the other 5 % one of the other colours; with `bias=0.2` the
# background colour is independent of the class (one chance in five to match, like any
# other colour), which is the **unbiased** test set of a world where the shortcut does not
# hold. We train two copies of the same ResNet, with the same budget: one on biased data,
# one on unbiased data.

# %%
NUM_BIASED_TRAIN = budget(full=1500, quick=120)
NUM_BIASED_TEST = budget(full=400, quick=64)
BIASED_EPOCHS = budget(full=2, quick=1)
biased_train = BiasedShapes(NUM_BIASED_TRAIN, bias=0.95, image_size=SHAPE_SIZE, seed=3)
biased_val = BiasedShapes(NUM_BIASED_TEST, bias=0.95, image_size=SHAPE_SIZE, seed=4)  # same distribution as training
unbiased_train = BiasedShapes(NUM_BIASED_TRAIN, bias=UNBIASED, image_size=SHAPE_SIZE, seed=5)
unbiased_test = BiasedShapes(NUM_BIASED_TEST, bias=UNBIASED, image_size=SHAPE_SIZE, seed=6)
for name, data in (("biased training", biased_train), ("unbiased test", unbiased_test)):
    agree = (data.labels == data.backgrounds).float().mean().item()
    print(f"{name}: {len(data)} images, the background is the class's habitat in {agree:.0%} of them")

fig, axes = plt.subplots(2, 1, figsize=(13, 3.9))
for ax, data, name in ((axes[0], biased_train, "biased training set"), (axes[1], unbiased_test, "unbiased test set")):
    ax.imshow(image_grid(data.images[:10], ncols=10, pad=2))
    for col in range(10):
        ax.text(2 + 34 * col + 16, 36, f"{data.classes[int(data.labels[col])]} / "
                f"{BACKGROUND_NAMES[int(data.backgrounds[col])]}", fontsize=7, ha="center", va="top")
    ax.set_title(name, fontsize=9, loc="left")
    ax.set_axis_off()
fig.suptitle("BiasedShapes (shape / background): in training each shape has its own background colour", fontsize=10)
plt.show()

# %%
start = time.process_time()
seed_everything(0)
biased_model = train_classifier(SmallResNet(depth=8, width=8, in_channels=3, num_classes=len(BIASED_CLASSES)),
                                biased_train.images, biased_train.labels, BIASED_EPOCHS, 2e-2)
seed_everything(0)
unbiased_model = train_classifier(SmallResNet(depth=8, width=8, in_channels=3, num_classes=len(BIASED_CLASSES)),
                                  unbiased_train.images, unbiased_train.labels, BIASED_EPOCHS, 2e-2)
print(f"two networks trained in {time.process_time() - start:.1f} s of CPU time")
bias_accuracy = {(name, test): accuracy(model, data.images, data.labels)
                 for name, model in (("trained on biased data", biased_model),
                                     ("trained on unbiased data", unbiased_model))
                 for test, data in (("biased test", biased_val), ("unbiased test", unbiased_test))}
for (name, test), value in bias_accuracy.items():
    print(f"  {name:<26} {test:<14} accuracy {value:.1%}")
drop = bias_accuracy[("trained on biased data", "biased test")] - bias_accuracy[("trained on biased data", "unbiased test")]
report("biased_model_accuracy_drop_points", 100 * drop, target=30)

# %% [markdown]
# On test data drawn like its training data, the biased network looks excellent; on the
# unbiased test set it falls to about chance (one in five), a drop of some 70 points in
# full mode. The network trained on unbiased data, with the same number of steps, is
# much weaker on the same biased test (in full mode about 40 % against the biased
# network's 90 %), yet it is the one that has learned something about shapes: it scores
# about the same on both test sets. Without the shortcut, shapes are hard to learn in two
# epochs; with the shortcut, the network never needs to learn them. That is the whole
# mechanism of shortcut learning: gradient descent follows the easiest signal that
# lowers the loss, and the easiest signal is rarely the one we meant.
#
# Accuracy on the unbiased set says *that* something is wrong. To say *what*, look at
# images where the two cues disagree: a triangle on snow, where the shape says
# "triangle" and the background says "circle". A network that follows the shape answers
# triangle; one that follows the background answers circle.
#
# ### Exercise 5: which cue does the model follow? (3 points)
#
# Write `cue_reliance(model, images, labels, background_labels)`:
#
# * `images` is a `Tensor[N, C, H, W]`, `labels` a `Tensor[N]` of `int64` (the class of
#   each image's object) and `background_labels` a `Tensor[N]` of `int64` (the class
#   whose habitat each background is); the model returns logits and is in eval mode;
#   its prediction is the class with the largest logit (compute it under
#   `torch.no_grad()`);
# * consider only the **conflict images**, where `labels != background_labels`; if there
#   is none, raise a `ValueError`;
# * return a dict with three entries: `"object"`, the fraction of the conflict images
#   predicted as their `labels`; `"background"`, the fraction predicted as their
#   `background_labels`; and `"verdict"`: the string `"object"` or `"background"`,
#   whichever fraction is larger, or `"tie"` when they are equal. (The two fractions need
#   not add up to 1: a prediction can match neither.)
#
# Do not call the course's `course_utils.explain.bias.cue_reliance`.

# %% nbgrader={"grade": false, "grade_id": "cue_reliance", "locked": false, "schema_version": 3, "solution": true}
def cue_reliance(model, images, labels, background_labels):
    """On the images whose background disagrees with their label: how often the model follows each cue.

    Args:
        model: nn.Module in eval mode, logits Tensor[N, K].
        images: Tensor[N, C, H, W].
        labels, background_labels: Tensor[N] int64.

    Returns:
        dict {"object": float, "background": float, "verdict": "object" | "background" | "tie"}.

    Raises:
        ValueError: if labels == background_labels everywhere.
    """
    ### BEGIN SOLUTION
    conflict = labels != background_labels
    if not conflict.any():
        raise ValueError("no image has a background that disagrees with its label")
    with torch.no_grad():  # predictions only
        predicted = model(images[conflict]).argmax(dim=1)
    follows_object = (predicted == labels[conflict]).float().mean().item()
    follows_background = (predicted == background_labels[conflict]).float().mean().item()
    if follows_object > follows_background:
        verdict = "object"
    elif follows_background > follows_object:
        verdict = "background"
    else:
        verdict = "tie"
    return {"object": follows_object, "background": follows_background, "verdict": verdict}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cue_reliance", "locked": true, "points": 3, "schema_version": 3, "solution": false}
class ReadsPixel(nn.Module):
    """A 'model' that predicts the class number written in one pixel of channel 0 (as one-hot logits)."""

    def __init__(self, row, col, num_classes=5):
        super().__init__()
        self.row, self.col, self.num_classes = row, col, num_classes

    def forward(self, x):
        return F.one_hot(x[:, 0, self.row, self.col].round().long(), self.num_classes).float()


def cue_images(backgrounds, mixed, objects):
    """1 x 2 x 2 images: the background class at (0, 0), a third pixel at (0, 1), the object class at (1, 1)."""
    images = torch.zeros(len(objects), 1, 2, 2)
    images[:, 0, 0, 0] = torch.tensor(backgrounds, dtype=torch.float32)
    images[:, 0, 0, 1] = torch.tensor(mixed, dtype=torch.float32)
    images[:, 0, 1, 1] = torch.tensor(objects, dtype=torch.float32)
    return images


labels = torch.tensor([0, 1, 2, 3, 4, 0])
backgrounds = torch.tensor([0, 2, 2, 1, 4, 3])  # conflicts: images 1, 3 and 5
images = cue_images(backgrounds.tolist(), [0, 2, 2, 3, 4, 4], labels.tolist())
follows_background = cue_reliance(ReadsPixel(0, 0), images, labels, backgrounds)
assert isinstance(follows_background, dict), f"cue_reliance should return a dict, got {type(follows_background).__name__}"
assert set(follows_background) == {"object", "background", "verdict"}, (
    f"cue_reliance should return the keys 'object', 'background' and 'verdict', got {sorted(follows_background)}")
expect_equal(follows_background["object"], 0.0,
             "cue_reliance['object'] for a model that reads the background (only the 3 conflict images count)")
expect_equal(follows_background["background"], 1.0, "cue_reliance['background'] for a model that reads the background")
expect_equal(follows_background["verdict"], "background", "cue_reliance['verdict'] for a model that reads the background")
follows_object = cue_reliance(ReadsPixel(1, 1), images, labels, backgrounds)
expect_equal([follows_object["object"], follows_object["background"], follows_object["verdict"]], [1.0, 0.0, "object"],
             "cue_reliance (object, background, verdict) for a model that reads the object")
mixed = cue_reliance(ReadsPixel(0, 1), images, labels, backgrounds)  # conflicts: background, object, neither
expect_equal([mixed["object"], mixed["background"], mixed["verdict"]], [1 / 3, 1 / 3, "tie"],
             "cue_reliance (object, background, verdict) for a model that follows the background on one conflict image, "
             "the object on another and neither on the third")
_ = expect_raises(lambda: cue_reliance(ReadsPixel(0, 0), images[[0, 2, 4]], labels[[0, 2, 4]], backgrounds[[0, 2, 4]]),
                  ValueError, "cue_reliance on images that are all in their habitat (no conflict image)")
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(105)
_h_cases = []
for _h_n, _h_k in ((50, 5), (7, 3), (200, 10), (2, 2)):
    _h_lab = torch.randint(0, _h_k, (_h_n,), generator=_h_g)
    _h_bg = torch.randint(0, _h_k, (_h_n,), generator=_h_g)
    _h_bg[0] = (_h_lab[0] + 1) % _h_k  # at least one conflict
    _h_mix = torch.where(torch.rand(_h_n, generator=_h_g) < 0.5, _h_bg, torch.randint(0, _h_k, (_h_n,), generator=_h_g))
    _h_img = cue_images(_h_bg.tolist(), _h_mix.tolist(), _h_lab.tolist())
    for _h_pixel in ((0, 0), (0, 1), (1, 1)):
        _h_cases.append((ReadsPixel(*_h_pixel, num_classes=_h_k), _h_img, _h_lab, _h_bg))
_h_cnn_images = torch.rand(40, 3, 8, 8, generator=_h_g)
_h_cases.append((tiny_classifier(401, num_classes=4), _h_cnn_images, torch.randint(0, 4, (40,), generator=_h_g),
                 torch.randint(0, 4, (40,), generator=_h_g)))
_h_expected = [ref_bias.cue_reliance(*c) for c in _h_cases]
with forbid(ref_bias.cue_reliance, ref_bias._follow_fractions, exercise="cue_reliance"):
    _h_got = [cue_reliance(*c) for c in _h_cases]
for (_h_m, _h_i, _h_l, _h_b), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    assert isinstance(_h_r, dict), f"cue_reliance should return a dict, got {type(_h_r).__name__}"
    expect_equal([_h_r.get("object"), _h_r.get("background"), _h_r.get("verdict")],
                 [_h_e["object"], _h_e["background"], _h_e["verdict"]],
                 f"cue_reliance (object, background, verdict) on {len(_h_l)} images")
_ = expect_raises(lambda: cue_reliance(ReadsPixel(0, 0), _h_cnn_images[:3], torch.tensor([1, 2, 3]),
                                       torch.tensor([1, 2, 3])), ValueError, "cue_reliance without a conflict image")
### END HIDDEN TESTS

# %% [markdown]
# The cell asks both networks on the unbiased test set (where four images in five are
# conflict images), with the course's `cue_reliance`, and then looks at *where* each one
# looks: CAMs of the class it predicts, on conflict images, and the fraction of each
# CAM's positive mass that falls on the object (the object covers about 15 % of an image,
# so a map that ignored the object entirely would put 0 % there, and one that spread
# evenly, about 15 %).

# %%
for name, model in (("trained on biased data", biased_model), ("trained on unbiased data", unbiased_model)):
    verdict = ref_bias.cue_reliance(model, unbiased_test.images, unbiased_test.labels, unbiased_test.backgrounds)
    print(f"{name:<26} follows the object on {verdict['object']:.0%} of the conflict images, the background on "
          f"{verdict['background']:.0%}: {verdict['verdict']}")


def cam_of(model, images):
    """Upsampled positive CAM of the predicted class (no normalization) and the predictions."""
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    features = layer_outputs(model, model.layer3, images)
    maps = ref_cam.class_activation_map(features, model.fc.weight.detach(), predicted)
    field = receptive_field(model, model.layer3, (3, 64, 64))
    return ref_cam.upsample_maps(F.relu(maps), (SHAPE_SIZE, SHAPE_SIZE), normalize=False, field=field), predicted


masks = unbiased_test.masks.float()
for name, model in (("trained on biased data", biased_model), ("trained on unbiased data", unbiased_model)):
    maps, _ = cam_of(model, unbiased_test.images)
    on_object = ((maps * masks).sum(dim=(1, 2)) / maps.sum(dim=(1, 2)).clamp_min(1e-12)).mean().item()
    print(f"{name:<26} puts {on_object:.0%} of its CAM on the object (the object covers {masks.mean():.0%} of the image)")

conflicts = torch.nonzero(unbiased_test.labels != unbiased_test.backgrounds).flatten()[:6]
images_shown = unbiased_test.images[conflicts]
biased_maps, biased_predicted = cam_of(biased_model, images_shown)
unbiased_maps, unbiased_predicted = cam_of(unbiased_model, images_shown)
fig, axes = plt.subplots(3, len(conflicts), figsize=(2.2 * len(conflicts), 7.0))
for col, index in enumerate(conflicts.tolist()):
    truth, habitat = int(unbiased_test.labels[index]), int(unbiased_test.backgrounds[index])
    axes[0, col].imshow(images_shown[col].permute(1, 2, 0))
    axes[0, col].set_title(f"{BIASED_CLASSES[truth]} on {BACKGROUND_NAMES[habitat]}\n"
                           f"(the {BIASED_CLASSES[habitat]}s' habitat)", fontsize=8)
    axes[0, col].set_axis_off()
    for row, (maps, predicted, who) in enumerate(((biased_maps, biased_predicted, "biased"),
                                                 (unbiased_maps, unbiased_predicted, "unbiased")), start=1):
        draw_heatmap(axes[row, col], images_shown[col], maps[col])
        draw_outline(axes[row, col], unbiased_test.masks[index])
        axes[row, col].set_title(f"{who} net: {BIASED_CLASSES[int(predicted[col])]}", fontsize=8)
fig.suptitle("conflict images: CAM of the predicted class for the network trained on biased data (middle)\n"
             "and on unbiased data (bottom)", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The biased network answers with the background's habitat, and its CAM lies mostly on
# the background: on average it puts less of its mass on the object than the object's
# share of the image (printed above; in full mode about 7 % against 15 %, while the
# unbiased network puts about 37 % there). The evidence it uses is everywhere *except* on
# the shape. The unbiased network, right or wrong, looks at the shape. This is how the
# husky-and-wolf story is caught in practice: not by accuracy on data from the same
# source, but by an explanation that points at the wrong thing, or by a test set built to
# break the correlation. The fixes then come from the data (collect wolves without snow,
# or *augment* the shortcut away, here by recolouring backgrounds), from the training
# (reweight the rare conflict examples, as in "just train twice" or group-robust
# training), or from the architecture; none of them is automatic, and all of them start
# with noticing.
#
# ## 11. What does the network want to see? Class visualization by gradient ascent
#
# Saliency differentiates the score with respect to the pixels of a *given* image. Keep
# differentiating, and change the image along the gradient, step after step: the image
# becomes whatever maximizes the score (Simonyan et al., 2014; Yosinski et al., 2015):
#
# $$I^* = \arg\max_I \; S_c(I) - \lambda \lVert I - 0.5 \rVert_2^2 .$$
#
# Without the second term the answer is useless: the score of a network is unbounded in
# directions no natural image takes, and gradient ascent finds them, producing
# high-contrast noise that the network rates far above any real digit. The lecture's
# **L2 penalty** (here measured from mid-grey, our images' middle value) keeps the image's
# contrast down. Yosinski et al. added two more priors that make the results look like
# images: **blur** the image every few steps (natural images have little energy at high
# frequencies), and **jitter** it, shifting it by a random pixel or two before every step
# (a pattern that only works at one exact position is noise, a pattern that works at any
# position is a feature). The cell synthesizes one image per digit class from a grey
# start with LeNet, four times: no prior, L2, L2 + blur, and L2 + blur + jitter, 150 Adam
# steps each, with the pixels clipped to $[0, 1]$ after each step. Each title gives the
# probability LeNet assigns to the class.

# %%
ASCENT_STEPS = budget(full=150, quick=15)
priors = {
    "no prior": dict(),
    "L2": dict(l2=0.3),
    "L2 + blur": dict(l2=0.3, blur_every=4, blur_sigma=0.6),
    "L2 + blur + jitter": dict(l2=0.3, blur_every=4, blur_sigma=0.6, jitter_pixels=1),
}
digit_classes = torch.arange(10)
start = time.process_time()
synthesized = {name: class_visualization(lenet, digit_classes, (1, DIGIT_SIZE, DIGIT_SIZE), steps=ASCENT_STEPS, lr=0.03,
                                         generator=torch.Generator().manual_seed(0), **kwargs)
               for name, kwargs in priors.items()}
print(f"40 images synthesized in {time.process_time() - start:.1f} s of CPU time")
ZOOM = 2  # draw the 16 x 16 images twice as large
tile = ZOOM * DIGIT_SIZE + 2
fig, ax = plt.subplots(figsize=(12.5, 1.5 * len(priors) + 0.6))
ax.imshow(image_grid(F.interpolate(torch.cat(list(synthesized.values())), scale_factor=ZOOM), ncols=10, pad=2))
labels_left = []
for row, (name, images) in enumerate(synthesized.items()):
    with torch.no_grad():
        probability = torch.softmax(lenet(images), dim=1)[digit_classes, digit_classes]
    labels_left.append(f"{name}\nlowest p {probability.min():.2f}\nstd {images.std(dim=(1, 2, 3)).mean():.2f}")
ax.set_yticks([2 + tile * r + tile / 2 for r in range(len(priors))], labels_left, fontsize=8)
ax.set_xticks([])
ax.set_title("images that maximize the score of the digits 0 to 9 (left to right) under LeNet, with more and more\n"
             "priors (left: the lowest of the ten probabilities LeNet gives its class, and the images' contrast)",
             fontsize=10)
plt.show()

# %% [markdown]
# All forty images convince LeNet (in full mode the lowest of the probabilities is 1.00 in
# every row), and only the last two rows begin to convince us. Without a prior the image
# is saturated black and white blotches; the L2 prior lowers the contrast (the standard
# deviation printed on the left) but keeps the noise; the blur turns the noise into
# strokes; jitter makes them hold together. Even the best row is not a handwritten digit,
# only the parts of one that LeNet checks: a loop where a 0 or a 6 has one, bright strokes
# where the 2 and 3 bend. On ImageNet networks the same recipe
# (with more priors and a lot more tuning) produces the lecture's famous pictures of
# flamingos, pelicans and dumbbells; the dumbbells come with arms attached, because in
# the training photographs dumbbells always had arms, one more bias that a visualization
# uncovers.
#
# ## 12. Adversarial examples
#
# Class visualization changed a grey image a lot until LeNet saw a digit. The same
# gradient can change a real digit *a little* until LeNet sees *another* digit (Szegedy
# et al., 2014). Such **adversarial examples** exist for every network trained by
# gradient descent, they are easy to find, and the changes are often invisible. The
# explanation of Goodfellow, Shlens and Szegedy (2015) is linearity: for a linear score
# $\mathbf{w} \cdot \mathbf{x}$, changing every pixel by $\pm\epsilon$ in the direction of
# $\operatorname{sign}(\mathbf{w})$ changes the score by $\epsilon \lVert \mathbf{w}
# \rVert_1$, which grows with the number of pixels. In 256 or 150,528 dimensions, many
# tiny changes add up to a large one, and networks, built of ReLUs, are linear enough
# for this to work.
#
# We bound the change by its largest pixel, the $L_\infty$ norm: the adversarial image
# $\tilde{\mathbf{x}}$ must satisfy $|\tilde{x}_i - x_i| \le \epsilon$ for every pixel, and
# stay a valid image, $0 \le \tilde{x}_i \le 1$. The **fast gradient sign method** (FGSM)
# takes a single step that maximizes the linear approximation of the loss within that
# box:
#
# $$\tilde{\mathbf{x}} = \operatorname{clip}_{[0,1]}\big(\mathbf{x} + \epsilon \,
#   \operatorname{sign}(\nabla_{\mathbf{x}} L(f(\mathbf{x}), y))\big),$$
#
# with $L$ the cross-entropy and $y$ the true label: it climbs the loss of the right
# answer.
#
# ### Exercise 6: an FGSM step with clipping (3 points)
#
# Write `fgsm(model, images, labels, epsilon)`:
#
# * `images` is a `Tensor[N, C, H, W]` with values in $[0, 1]$, `labels` a `Tensor[N]` of
#   `int64`, `epsilon` a float $\ge 0$; the model returns logits and is in eval mode;
# * compute the gradient of the mean cross-entropy `F.cross_entropy(model(x), labels)`
#   with respect to the images (on a copy with `requires_grad`, as in Exercise 3);
# * return `clip(images + epsilon * sign(gradient), 0, 1)`, detached (`torch.clamp` or
#   `Tensor.clamp` do the clipping); do not modify `images`.
#
# Do not call the course's `course_utils.explain.adversarial.fgsm`.

# %% nbgrader={"grade": false, "grade_id": "fgsm", "locked": false, "schema_version": 3, "solution": true}
def fgsm(model, images, labels, epsilon):
    """One signed gradient step of size epsilon up the cross-entropy, clipped to [0, 1].

    Args:
        model: nn.Module in eval mode, logits Tensor[N, K].
        images: Tensor[N, C, H, W] in [0, 1] (not modified).
        labels: Tensor[N] int64, the true classes.
        epsilon: float >= 0.

    Returns:
        Tensor[N, C, H, W], detached.
    """
    ### BEGIN SOLUTION
    x = images.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), labels)
    (grad,) = torch.autograd.grad(loss, x)
    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fgsm", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def fgsm_by_hand(model, images, labels, epsilon):
    """Image by image: the gradient of its own cross-entropy, its sign, one step, clipped to [0, 1]."""
    out = []
    for image, label in zip(images, labels):
        x = image[None].detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), label[None]), x)
        out.append(torch.clamp(image + epsilon * torch.sign(grad[0]), 0, 1))
    return torch.stack(out)


two_pixels = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
with torch.no_grad():
    two_pixels[1].weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))  # class 0 likes pixel 0, class 1 pixel 1
pair = torch.tensor([[[[0.5, 0.95]]], [[[0.95, 0.5]]], [[[0.05, 0.5]]]])
stepped = fgsm(two_pixels, pair, torch.tensor([1, 1, 0]), 0.1)
_ = expect_tensor(stepped, "fgsm of three 1 x 1 x 2 images", shape=(3, 1, 1, 2))
expect_close(stepped[0], torch.tensor([[[0.6, 0.85]]]),
             "fgsm of (0.5, 0.95), label 1, epsilon 0.1 (away from class 1: pixel 0 up, pixel 1 down)")
expect_close(stepped[1], torch.tensor([[[1.0, 0.4]]]), "fgsm of (0.95, 0.5), label 1, epsilon 0.1 (1.05 is clipped to 1)")
expect_close(stepped[2], torch.tensor([[[0.0, 0.6]]]), "fgsm of (0.05, 0.5), label 0, epsilon 0.1 (-0.05 is clipped to 0)")
expect_close(fgsm(two_pixels, pair, torch.tensor([1, 1, 0]), 0.0), pair, "fgsm with epsilon 0 (the images themselves)")
g = torch.Generator().manual_seed(3)
for seed, shape in ((31, (5, 3, 8, 8)), (32, (3, 1, 6, 10))):
    model = tiny_classifier(seed, in_channels=shape[1])
    images = torch.rand(shape, generator=g)
    labels = torch.randint(0, 4, (shape[0],), generator=g)
    before = images.clone()
    for epsilon in (0.03, 0.2):
        result = fgsm(model, images, labels, epsilon)
        expect_close(result, fgsm_by_hand(model, images, labels, epsilon),
                     f"fgsm of a small CNN on images {list(shape)}, labels {labels.tolist()}, epsilon {epsilon}")
        assert not result.requires_grad, "fgsm should return a detached tensor"
    expect_close(images, before, f"the images {list(shape)} after fgsm (they must not change)")
    assert not images.requires_grad, "fgsm must not turn on requires_grad of the caller's images"
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(106)
_h_cases = []
for _h_seed, (_h_shape, _h_eps, _h_dtype, _h_bn) in enumerate((((16, 3, 12, 12), 0.05, torch.float32, True),
                                                              ((4, 2, 9, 5), 0.3, torch.float64, False),
                                                              ((1, 3, 16, 16), 1.0, torch.float32, False),
                                                              ((7, 1, 8, 8), 0.1, torch.float64, True))):
    _h_model = tiny_classifier(600 + _h_seed, in_channels=_h_shape[1], num_classes=5, batch_norm=_h_bn, dtype=_h_dtype)
    _h_images = torch.rand(_h_shape, generator=_h_g, dtype=_h_dtype)
    _h_labels = torch.randint(0, 5, (_h_shape[0],), generator=_h_g)
    _h_cases.append((_h_model, _h_images, _h_labels, _h_eps))
_h_expected = [ref_adversarial.fgsm(*c) for c in _h_cases]
with forbid(ref_adversarial.fgsm, ref_adversarial.pgd_attack, ref_adversarial._input_gradient, exercise="fgsm"):
    _h_got = [fgsm(*c) for c in _h_cases]
for (_h_m, _h_i, _h_l, _h_e2), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"fgsm on images {list(_h_i.shape)} ({_h_i.dtype})", shape=tuple(_h_i.shape))
    expect_close(_h_r, _h_e, f"fgsm on images {list(_h_i.shape)} ({_h_i.dtype}), epsilon {_h_e2}")
### END HIDDEN TESTS

# %% [markdown]
# The cell attacks LeNet on eight test digits with the course's FGSM at
# $\epsilon = 0.15$ (every pixel moves by at most 15 % of the range) and draws the digit,
# the change, and the result, with LeNet's prediction and confidence on each.

# %%
EPSILON_SHOWN = 0.15
attacked = digits_test.images[:8]
attacked_labels = digits_test.labels[:8]
adversarial_shown = ref_adversarial.fgsm(lenet, attacked, attacked_labels, EPSILON_SHOWN)
with torch.no_grad():
    clean_probabilities = torch.softmax(lenet(attacked), dim=1)
    adversarial_probabilities = torch.softmax(lenet(adversarial_shown), dim=1)
change = adversarial_shown - attacked  # [8, 1, 16, 16], in [-epsilon, epsilon]
change_rgb = torch.from_numpy(plt.cm.RdBu_r(((change[:, 0] / EPSILON_SHOWN + 1) / 2).numpy())[..., :3]).permute(0, 3, 1, 2)
rows_shown = torch.cat([attacked.repeat(1, 3, 1, 1), change_rgb.float(), adversarial_shown.repeat(1, 3, 1, 1)])
tile = 2 * DIGIT_SIZE + 2
fig, ax = plt.subplots(figsize=(12, 5.0))
ax.imshow(image_grid(F.interpolate(rows_shown, scale_factor=2), ncols=8, pad=2))
for col in range(8):
    before, after = clean_probabilities[col], adversarial_probabilities[col]
    fooled = int(after.argmax()) != int(attacked_labels[col])
    ax.text(2 + tile * col + tile / 2, 1, f"{int(before.argmax())} ({before.max():.0%})", fontsize=9, ha="center",
            va="bottom")
    ax.text(2 + tile * col + tile / 2, 3 * tile + 2, f"{int(after.argmax())} ({after.max():.0%})", fontsize=9,
            ha="center", va="top", color="tab:red" if fooled else "black")
ax.set_yticks([2 + tile * r + tile / 2 for r in range(3)], ["test digit", "change\n(red +, blue -)", "after FGSM"],
              fontsize=9)
ax.set_xticks([])
ax.set_title(f"FGSM on LeNet, epsilon = {EPSILON_SHOWN}: prediction (confidence) above and below; red: fooled\n\n",
             fontsize=10)
plt.show()

# %% [markdown]
# The change is a pattern of $\pm\epsilon$ on almost every pixel (pixels already at 0 or
# 1 cannot go further and stay put), and most of the digits are now confidently
# something else. On our 16 × 16 digits $\epsilon = 0.15$ is visible if you look for it;
# on a 224 × 224 photograph an $\epsilon$ of 2/255 (under 1 %) is enough to fool an
# undefended ImageNet classifier, because the effect grows with the number of pixels.
#
# FGSM trusts the linear approximation for one big step. **Projected gradient descent**
# (PGD, Madry et al., 2018) takes many small signed steps instead, and after each one
# *projects* back into the allowed set: every pixel is clipped to
# $[x_i - \epsilon, x_i + \epsilon]$ (the $L_\infty$ ball around the original), then to
# $[0, 1]$. Starting from a random point of the ball, rather than from the image itself,
# makes it harder for the network to hide behind a gradient that happens to be small
# exactly at the image. PGD is the standard way to measure robustness: the strongest
# simple first-order attack.
#
# ### Exercise 7: the PGD attack (5 points)
#
# Write `pgd_attack(model, images, labels, epsilon, step_size, steps, random_start=False,
# generator=None)`:
#
# * start from `x = images` or, with `random_start=True`, from
#   `x = clip(images + (2 * u - 1) * epsilon, 0, 1)` where
#   `u = torch.rand(images.shape, generator=generator, dtype=images.dtype,
#   device=images.device)` (uniform in the ball);
# * repeat `steps` times: compute the gradient $g$ of the mean cross-entropy
#   `F.cross_entropy(model(x), labels)` with respect to `x`; step
#   `x = x + step_size * sign(g)`; clip `x` to `[images - epsilon, images + epsilon]`
#   (elementwise: `torch.min` / `torch.max`, or `torch.clamp` with tensor bounds); clip
#   `x` to `[0, 1]`;
# * return `x`, detached, a `Tensor[N, C, H, W]` with `|x - images| <= epsilon` everywhere
#   and values in $[0, 1]$; do not modify `images`; with `steps=0` and no random start,
#   the result is the images themselves.
#
# Do not call the course's `course_utils.explain.adversarial.pgd_attack` or `fgsm`, nor
# your own `fgsm` (the two exercises are graded separately: write the step here). The chapter uses **your** `pgd_attack` to
# measure LeNet's robustness and to train a robust LeNet (or the course's version, while
# this exercise is still a stub).

# %% nbgrader={"grade": false, "grade_id": "pgd_attack", "locked": false, "schema_version": 3, "solution": true}
def pgd_attack(model, images, labels, epsilon, step_size, steps, random_start=False, generator=None):
    """Untargeted L-infinity PGD: signed gradient steps up the cross-entropy, projected into the epsilon-ball and [0, 1].

    Args:
        model: nn.Module in eval mode, logits Tensor[N, K].
        images: Tensor[N, C, H, W] in [0, 1] (not modified).
        labels: Tensor[N] int64, the true classes.
        epsilon: float >= 0, the radius of the ball.
        step_size: float >= 0.
        steps: int >= 0.
        random_start: start from a uniform random point of the ball (clipped to [0, 1]).
        generator: torch.Generator for the random start.

    Returns:
        Tensor[N, C, H, W], detached.
    """
    ### BEGIN SOLUTION
    original = images.detach()
    x = original.clone()
    if random_start:
        u = torch.rand(original.shape, generator=generator, dtype=original.dtype, device=original.device)
        x = (original + (2 * u - 1) * epsilon).clamp(0.0, 1.0)
    for _ in range(steps):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), labels), x)
        x = x.detach() + step_size * grad.sign()
        x = torch.min(torch.max(x, original - epsilon), original + epsilon)  # back into the ball
        x = x.clamp(0.0, 1.0)  # back into the valid range
    return x.detach()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pgd_attack_rules", "locked": true, "points": 2, "schema_version": 3, "solution": false}
g = torch.Generator().manual_seed(4)
model = tiny_classifier(41)
images = torch.rand(6, 3, 8, 8, generator=g)
labels = torch.randint(0, 4, (6,), generator=g)
before = images.clone()
attacked_images = pgd_attack(model, images, labels, 0.1, 0.03, 5)
_ = expect_tensor(attacked_images, "pgd_attack of 6 images [3, 8, 8]", shape=(6, 3, 8, 8), dtype=torch.float32)
assert not attacked_images.requires_grad, "pgd_attack should return a detached tensor"
assert float((attacked_images - images).abs().max()) <= 0.1 + 1e-6, (
    f"pgd_attack moved a pixel by {float((attacked_images - images).abs().max()):.4f}, more than epsilon = 0.1")
assert float(attacked_images.min()) >= 0 and float(attacked_images.max()) <= 1, (
    f"pgd_attack's result should stay in [0, 1], got values in [{float(attacked_images.min()):.3f}, "
    f"{float(attacked_images.max()):.3f}]")
expect_close(images, before, "the images after pgd_attack (they must not change)")
assert not images.requires_grad, "pgd_attack must not turn on requires_grad of the caller's images"
expect_close(pgd_attack(model, images, labels, 0.1, 0.03, 0), images, "pgd_attack with 0 steps and no random start")
x = images.clone().requires_grad_(True)
(first_grad,) = torch.autograd.grad(F.cross_entropy(model(x), labels), x)
expect_close(pgd_attack(model, images, labels, 0.05, 0.05, 1), torch.clamp(images + 0.05 * first_grad.sign(), 0, 1),
             "pgd_attack with one step of size epsilon = 0.05 (that is FGSM)")
u = torch.rand(images.shape, generator=torch.Generator().manual_seed(7))
expect_close(pgd_attack(model, images, labels, 0.2, 0.03, 0, random_start=True,
                        generator=torch.Generator().manual_seed(7)),
             torch.clamp(images + (2 * u - 1) * 0.2, 0, 1),
             "pgd_attack with 0 steps from a random start (clip(images + (2u - 1) epsilon, 0, 1), u from the generator)")
first = pgd_attack(model, images, labels, 0.1, 0.03, 4, random_start=True, generator=torch.Generator().manual_seed(8))
again = pgd_attack(model, images, labels, 0.1, 0.03, 4, random_start=True, generator=torch.Generator().manual_seed(8))
expect_close(first, again, "two pgd_attack runs from random starts drawn with the same seed")
assert float((first - images).abs().max()) <= 0.1 + 1e-6 and float(first.min()) >= 0 and float(first.max()) <= 1, (
    "pgd_attack from a random start should stay within epsilon of the images and in [0, 1]")
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(107)
for _h_seed, (_h_shape, _h_eps, _h_dtype) in enumerate((((5, 1, 10, 10), 0.3, torch.float64),
                                                        ((9, 3, 6, 6), 0.01, torch.float32))):
    _h_model = tiny_classifier(700 + _h_seed, in_channels=_h_shape[1], dtype=_h_dtype)
    _h_images = torch.rand(_h_shape, generator=_h_g, dtype=_h_dtype)
    _h_labels = torch.randint(0, 4, (_h_shape[0],), generator=_h_g)
    with forbid(ref_adversarial.pgd_attack, ref_adversarial.fgsm, ref_adversarial._input_gradient,
                exercise="pgd_attack"):
        _h_out = pgd_attack(_h_model, _h_images, _h_labels, _h_eps, _h_eps / 3, 6, random_start=True,
                            generator=torch.Generator().manual_seed(_h_seed))
        _h_zero = pgd_attack(_h_model, _h_images, _h_labels, 0.0, 0.1, 3)
    _ = expect_tensor(_h_out, f"pgd_attack on {_h_dtype} images", shape=_h_shape, dtype=_h_dtype)
    assert float((_h_out - _h_images).abs().max()) <= _h_eps * (1 + 1e-6), (
        f"pgd_attack with epsilon {_h_eps} moved a pixel by {float((_h_out - _h_images).abs().max()):.4g}")
    assert float(_h_out.min()) >= 0 and float(_h_out.max()) <= 1, "pgd_attack's result should stay in [0, 1]"
    expect_close(_h_zero, _h_images, f"pgd_attack with epsilon 0 on {_h_dtype} images (nothing may change)")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_pgd_attack_values", "locked": true, "points": 3, "schema_version": 3, "solution": false}
two_pixels = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
with torch.no_grad():
    two_pixels[1].weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
pair = torch.tensor([[[[0.5, 0.95]]], [[[0.98, 0.5]]]])
expect_close(pgd_attack(two_pixels, pair, torch.tensor([1, 1]), 0.1, 0.04, 4),
             torch.tensor([[[[0.6, 0.85]]], [[[1.0, 0.4]]]]),
             "pgd_attack of (0.5, 0.95) and (0.98, 0.5), label 1, epsilon 0.1, four steps of 0.04 (the ball stops "
             "the pixels at 0.1 from the start; pixel 0 of the second image also stops at 1)")
g = torch.Generator().manual_seed(5)
for seed, shape, epsilon, step_size, steps in ((51, (6, 3, 8, 8), 0.1, 0.025, 8), (52, (4, 1, 12, 9), 0.2, 0.08, 5),
                                               (53, (3, 3, 6, 6), 0.05, 0.05, 3)):
    model = tiny_classifier(seed, in_channels=shape[1], flat_size=shape[2:] if seed == 52 else None)
    images = torch.rand(shape, generator=g)
    labels = torch.randint(0, 4, (shape[0],), generator=g)
    expect_close(pgd_attack(model, images, labels, epsilon, step_size, steps),
                 ref_adversarial.pgd_attack(model, images, labels, epsilon, step_size, steps),  # the course's reference
                 f"pgd_attack of a small CNN on images {list(shape)}, epsilon {epsilon}, {steps} steps of {step_size}")
    expect_close(pgd_attack(model, images, labels, epsilon, step_size, steps, random_start=True,
                            generator=torch.Generator().manual_seed(seed)),
                 ref_adversarial.pgd_attack(model, images, labels, epsilon, step_size, steps, random_start=True,
                                            generator=torch.Generator().manual_seed(seed)),
                 f"pgd_attack from a random start on images {list(shape)}, epsilon {epsilon}, {steps} steps")
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(108)
_h_cases = []
for _h_seed, (_h_shape, _h_eps, _h_step, _h_steps, _h_dtype, _h_bn, _h_rs) in enumerate((
        ((8, 3, 16, 16), 0.03, 0.01, 10, torch.float32, True, False),
        ((5, 1, 16, 16), 0.15, 0.04, 7, torch.float64, False, True),
        ((2, 2, 7, 11), 0.5, 0.2, 4, torch.float32, False, True),
        ((10, 3, 8, 8), 0.08, 0.1, 2, torch.float64, True, False))):
    _h_model = tiny_classifier(800 + _h_seed, in_channels=_h_shape[1], num_classes=6, batch_norm=_h_bn, dtype=_h_dtype)
    _h_images = torch.rand(_h_shape, generator=_h_g, dtype=_h_dtype)
    _h_labels = torch.randint(0, 6, (_h_shape[0],), generator=_h_g)
    _h_cases.append((_h_model, _h_images, _h_labels, _h_eps, _h_step, _h_steps, _h_rs, _h_seed))
_h_expected = [ref_adversarial.pgd_attack(*c[:6], random_start=c[6], generator=torch.Generator().manual_seed(c[7]))
               for c in _h_cases]
with forbid(ref_adversarial.pgd_attack, ref_adversarial.fgsm, ref_adversarial._input_gradient,
            exercise="pgd_attack"):
    _h_got = [pgd_attack(*c[:6], random_start=c[6], generator=torch.Generator().manual_seed(c[7])) for c in _h_cases]
for _h_c, _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    _ = expect_tensor(_h_r, f"pgd_attack on images {list(_h_c[1].shape)} ({_h_c[1].dtype})", shape=tuple(_h_e.shape),
                      dtype=_h_e.dtype)
    expect_close(_h_r, _h_e, f"pgd_attack on images {list(_h_c[1].shape)} ({_h_c[1].dtype}), epsilon {_h_c[3]}, "
                 f"{_h_c[5]} steps of {_h_c[4]}, random start {_h_c[6]}")
### END HIDDEN TESTS

# %% [markdown]
# ### How large must the perturbation be?
#
# The cell measures LeNet's accuracy on the test digits under FGSM and under PGD (10
# steps of $\epsilon / 4$, no random start) for a range of $\epsilon$, with **your**
# `pgd_attack` (or the course's, while your exercise is still a stub). From the same runs
# it reads, for every test digit, the smallest $\epsilon$ of the grid at which PGD fools
# LeNet: the perturbation norm needed, digit by digit. The attack's *success rate* at a
# given $\epsilon$ is the fraction of the correctly classified digits that it turns into
# mistakes.

# %%
def choose_pgd():
    """Your pgd_attack if it runs and returns valid adversarial images, else the course's reference."""
    probe_model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3)).eval()
    probe_images = torch.rand(2, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    try:
        out = pgd_attack(probe_model, probe_images, torch.tensor([0, 2]), 0.1, 0.05, 2)
        ok = (isinstance(out, torch.Tensor) and out.shape == probe_images.shape
              and bool(((out - probe_images).abs() <= 0.1 + 1e-6).all()))
    except Exception as error:  # a stub raises NotImplementedError; a broken attack may raise anything
        ok, reason = False, type(error).__name__
    else:
        reason = "its result has the wrong shape or leaves the epsilon-ball"
    if ok:
        print("The attacks below use your pgd_attack.")
        return pgd_attack
    print(f"pgd_attack does not work yet ({reason}), so the chapter uses the course's reference "
          "(course_utils.explain.adversarial.pgd_attack).")
    return ref_adversarial.pgd_attack


pgd_for_chapter = choose_pgd()
EPSILONS = [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3]
PGD_STEPS = budget(full=10, quick=3)
NUM_ATTACKED = budget(full=len(digits_test), quick=120)
test_x, test_y = digits_test.images[:NUM_ATTACKED], digits_test.labels[:NUM_ATTACKED]


def robustness_curves(model, epsilons):
    """Accuracy under FGSM and PGD for each epsilon, and which test digits PGD fools at each: ([E, N] bool)."""
    curves = {"FGSM": [], "PGD": []}
    fooled = []
    for epsilon in epsilons:
        fgsm_images = ref_adversarial.fgsm(model, test_x, test_y, epsilon)
        pgd_images = pgd_for_chapter(model, test_x, test_y, epsilon, epsilon / 4, PGD_STEPS)
        with torch.no_grad():
            curves["FGSM"].append((model(fgsm_images).argmax(dim=1) == test_y).float().mean().item())
            fooled.append(model(pgd_images).argmax(dim=1) != test_y)
        curves["PGD"].append(1 - fooled[-1].float().mean().item())
    return curves, torch.stack(fooled)


start = time.process_time()
lenet_curves, lenet_fooled = robustness_curves(lenet, EPSILONS)
print(f"robustness curves in {time.process_time() - start:.1f} s of CPU time")
correct = ~lenet_fooled[0]  # epsilon 0: the digits LeNet gets right
EPSILON_TARGET = 0.15
report(f"pgd_success_rate_at_eps_{EPSILON_TARGET}", lenet_fooled[EPSILONS.index(EPSILON_TARGET), correct].float().mean().item(),
       target=0.9)
first_fooled = torch.tensor(EPSILONS)[lenet_fooled[:, correct].float().argmax(dim=0)]  # first epsilon that fools each
never = ~lenet_fooled[:, correct].any(dim=0)
if bool((~never).any()):
    print(f"smallest epsilon of the grid that fools LeNet on a correctly classified digit: median "
          f"{first_fooled[~never].median():.2f}; {int(never.sum())} of {int(correct.sum())} digits resist every "
          f"epsilon up to {EPSILONS[-1]}")

# %% [markdown]
# ### Adversarial training, briefly
#
# The best known defence is to train on the attack (Madry et al., 2018): at every step,
# replace the batch by its PGD adversarial version, so that the network learns to be
# right everywhere within $\epsilon$ of its training images. It is expensive (each
# training step now costs the attack's steps as well) and it is not free in accuracy:
# the network must give up features that are predictive but fragile. The cell trains a
# fresh LeNet this way, with **your** PGD (or the course's), $\epsilon = 0.1$, three steps
# of $2.5\,\epsilon / 3$ from a random start (Madry et al.'s rule of thumb: the steps add up
# to 2.5 times the radius), for the same number of epochs as the original LeNet, and
# measures both networks under attack.

# %%
ADV_EPSILON, ADV_STEPS = 0.1, 3
attack_generator = torch.Generator().manual_seed(0)


def adversarial_forward(model, images, labels):
    """Replace the batch by its PGD version (crafted on the current weights), then run the model on it."""
    adversarial_images = pgd_for_chapter(model, images, labels, ADV_EPSILON, 2.5 * ADV_EPSILON / ADV_STEPS, ADV_STEPS,
                                         random_start=True, generator=attack_generator)
    model.zero_grad(set_to_none=True)  # an attack written with .backward() leaves gradients on the weights
    return model(adversarial_images)


start = time.process_time()
seed_everything(0)
robust_lenet = LeNet(image_size=DIGIT_SIZE)
loader = DataLoader(TensorDataset(digits_train.images[:NUM_DIGITS_TRAIN], digits_train.labels[:NUM_DIGITS_TRAIN]),
                    batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
optimizer = torch.optim.AdamW(robust_lenet.parameters(), lr=1e-2, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=DIGIT_EPOCHS * len(loader))
fit(robust_lenet, F.cross_entropy, loader, epochs=DIGIT_EPOCHS, optimizer=optimizer, scheduler=scheduler,
    scheduler_step="batch", device=device, forward_fn=adversarial_forward)
robust_lenet = robust_lenet.cpu().eval()
print(f"adversarial training in {time.process_time() - start:.1f} s of CPU time")
robust_curves, robust_fooled = robustness_curves(robust_lenet, EPSILONS)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for curves, style, who in ((lenet_curves, "-", "LeNet"), (robust_curves, "--", "adversarially trained LeNet")):
    for attack, color in (("FGSM", "tab:orange"), ("PGD", "tab:red")):
        axes[0].plot(EPSILONS, curves[attack], style, marker="o", color=color, label=f"{who}, {attack}")
axes[0].axvline(ADV_EPSILON, color="0.7", lw=0.8)
axes[0].set_xlabel("epsilon (largest change of a pixel, image range [0, 1])")
axes[0].set_ylabel("test accuracy under attack")
axes[0].legend(fontsize=8)
axes[0].set_title("accuracy against the size of the perturbation", fontsize=10)
for fooled, who, color in ((lenet_fooled, "LeNet", "tab:red"), (robust_fooled, "adversarially trained", "tab:blue")):
    right = ~fooled[0]
    first = torch.tensor(EPSILONS)[fooled[:, right].float().argmax(dim=0)]
    first[~fooled[:, right].any(dim=0)] = EPSILONS[-1] + 0.05  # never fooled: drawn beyond the grid
    axes[1].hist(first.numpy(), bins=np.array(EPSILONS[1:] + [EPSILONS[-1] + 0.1]) - 0.01, alpha=0.6, color=color,
                 label=who)
axes[1].set_xlabel("smallest epsilon at which PGD fools the digit (last bar: never up to 0.3)")
axes[1].set_ylabel("correctly classified test digits")
axes[1].legend(fontsize=8)
axes[1].set_title("the perturbation each digit needs", fontsize=10)
fig.tight_layout()
plt.show()
for who, curves in (("LeNet", lenet_curves), ("adversarially trained LeNet", robust_curves)):
    print(f"{who:<28} clean accuracy {curves['PGD'][0]:.1%}, under PGD at epsilon {ADV_EPSILON}: "
          f"{curves['PGD'][EPSILONS.index(ADV_EPSILON)]:.1%}, at {EPSILON_TARGET}: "
          f"{curves['PGD'][EPSILONS.index(EPSILON_TARGET)]:.1%}")

# %% [markdown]
# Undefended, LeNet's accuracy under PGD falls steeply with $\epsilon$ and reaches zero
# well before $\epsilon = 0.3$; FGSM, a single step, is a weaker attack at every
# $\epsilon$, which is why robustness is measured with PGD. The histogram shows the same
# from the digits' side: most digits fall to a perturbation of 0.1 or less. (In full mode
# PGD's success rate at $\epsilon = 0.15$ is well above the 90 % target, reported above.)
# The adversarially trained LeNet keeps much more accuracy under attack at every
# $\epsilon$, at the price of some clean accuracy, the trade-off that every robust
# network pays (Tsipras et al., 2019). Note what the defence does *not* give: accuracy
# beyond its training $\epsilon$ still falls, and robustness to this attack says nothing
# about other kinds of change (rotations, a patch of stickers, a different $L_p$ ball).
#
# ## 13. Feature inversion: what a layer remembers of the image
#
# Class visualization asked what the network wants to see. **Feature inversion**
# (Mahendran and Vedaldi, 2015) asks what it *remembers*: given the features of an image
# at some layer, find an image with the same features,
#
# $$x^* = \arg\min_x \frac{\lVert \phi(x) - \phi(x_0) \rVert^2}{\lVert \phi(x_0) \rVert^2}
#   + \lambda \, \mathrm{TV}(x),$$
#
# where $\phi$ is the network up to that layer and TV, the *total variation* (the squared
# differences between neighbouring pixels), is a prior for smooth images. Whatever the
# reconstruction gets right, the layer has kept; whatever it gets wrong, the layer threw
# away as irrelevant to its task. The cell inverts three test scenes at five depths of the
# ResNet, from a grey start, with 150 Adam steps each: after the stem convolution, after
# each of the three stages, and after global average pooling (the 32 numbers the
# classifier sees).

# %%
INVERSION_STEPS = budget(full=150, quick=10)
inversion_layers = {"stem": resnet.relu, "layer1": resnet.layer1, "layer2": resnet.layer2, "layer3": resnet.layer3,
                    "pooled (32 numbers)": resnet.avgpool}
originals = shapes_test[[0, 1, 2]]
start = time.process_time()
inverted = {}
for name, layer in inversion_layers.items():
    phi = feature_function(resnet, layer)
    inverted[name] = invert_features(phi, phi(originals).detach(), (3, SHAPE_SIZE, SHAPE_SIZE), steps=INVERSION_STEPS,
                                     lr=0.05, tv_weight=0.05 if name == "stem" else 0.5,
                                     generator=torch.Generator().manual_seed(0))
print(f"15 inversions in {time.process_time() - start:.1f} s of CPU time")
columns = [originals] + list(inverted.values())  # each [3, 3, 32, 32]
tiles = torch.stack(columns, dim=1).flatten(0, 1)  # row by row: original, then each layer's reconstruction
fig, ax = plt.subplots(figsize=(2.0 * len(columns), 2.0 * len(originals) + 0.5))
ax.imshow(image_grid(tiles, ncols=len(columns), pad=2))
ax.set_xticks([2 + 34 * c + 16 for c in range(len(columns))], ["original"] + list(inverted), fontsize=9)
ax.xaxis.tick_top()
ax.set_yticks([])
ax.set_title("images whose features match those of the original at one layer", fontsize=10)
plt.show()
with torch.no_grad():
    agreement = {name: (resnet(images).argmax(dim=1) == resnet(originals).argmax(dim=1)).float().mean().item()
                 for name, images in inverted.items()}
print("reconstructions classified like their original:", ", ".join(f"{k} {v:.0%}" for k, v in agreement.items()))

# %% [markdown]
# After the stem the reconstruction is the image itself: eight 3 × 3 filters at full
# resolution keep nearly everything. Each stage loses more of what the task does not
# need: exact colours first, then the texture of the background, then exact outlines. At
# `layer3` what is left is a blur of colour fringes where the shape was, or a texture
# with no position at all, and the reconstructions are not always classified like their
# originals any more (printed above). After the pooling only 32 averages remain and the
# position is gone: fragments of the shape's colour and edges land anywhere. The lecture's reconstructions from VGG-16
# show the same progression on photographs (Johnson, Alahi and Fei-Fei's figure): the
# early layers reproduce the image, the late ones keep the objects' parts but lose their
# colours and exact arrangement.
#
# ## 14. DeepDream
#
# DeepDream (Mordvintsev, Olah and Tyka, 2015) runs the ascent of section 11 with a
# different objective: instead of one class score, *amplify whatever a layer already
# detects*, by maximizing the sum of its squared activations, starting from a real image.
# If a channel sees a hint of an edge, the edge is sharpened; if it sees a hint of a
# ring, a ring appears. To make structure appear at several sizes the ascent runs at
# several scales (*octaves*), from a shrunken copy of the image to the full size, and
# every step uses jitter. The cell dreams with the ResNet on a 64 × 64 scene of three
# shapes (the network is fully convolutional up to its pooling, so any size works), at
# each of its three stages.

# %%
dream_scene = ShapesScenes(1, image_size=64, min_objects=3, max_objects=3, seed=7)[0][0][None]  # [1, 3, 64, 64]
DREAM_STEPS = budget(full=12, quick=3)
start = time.process_time()
dreams = {name: deep_dream(feature_function(resnet, layer), dream_scene, steps=DREAM_STEPS, lr=0.006, octaves=3,
                           jitter_pixels=2, generator=torch.Generator().manual_seed(0))
          for name, layer in stages.items()}
print(f"three dreams in {time.process_time() - start:.1f} s of CPU time")
fig = show_images([dream_scene[0]] + [d[0] for d in dreams.values()],
                  titles=["scene"] + [f"dreaming at {name}" for name in dreams], ncols=4, figsize=(12, 3.4))
plt.show()

# %% [markdown]
# Dreaming at `layer1` sharpens and multiplies edges and colour fringes, the features
# of an early layer; at `layer2` and `layer3` the patterns grow and start repeating the
# pieces of shapes that the network was trained to recognize: arcs, corners and the
# colour contrasts at object boundaries, spreading into the background. On an ImageNet
# network the same procedure produces the lecture's famous pictures: dog faces and eyes
# everywhere (ImageNet has over a hundred dog classes), pagodas on mountain tops, and
# the "admiral dog" and "pig-snail" chimeras. It is a visualization with no measurement
# attached, but it shows, in a way that numbers do not, how strongly a network's
# features are tied to the data it saw.
#
# ## 15. Extension: style as Gram matrices
#
# A last use of features, which became a field of its own. Gatys, Ecker and Bethge
# (2016) observed that the **Gram matrix** of a layer's features, $G_{cd} =
# \frac{1}{CHW}\sum_{y,x} A_c(y,x) A_d(y,x)$, the correlations between channels averaged
# over all positions, describes the *texture* of an image and nothing of its layout (the
# sum over positions forgets where things are, like the pooling of section 13). Optimize
# an image to keep the *features* of one image at a deep layer (its content) and the
# *Gram matrices* of another image at several layers (its style), and the content is
# repainted in the style. With a VGG network trained on ImageNet this gives the familiar
# photographs "painted by" Van Gogh; our ResNet has seen only shapes, so its features
# know far less about texture. The cell transfers the style of one of scikit-image's
# bundled photographs (a cup of coffee) onto the 64 × 64 scene, matching Gram matrices
# after the stem, `layer1` and `layer2`, and the content at `layer2`.

# %%
style_image = F.interpolate(load_photo("coffee")[None], size=(64, 64), mode="bilinear", antialias=True).clamp(0, 1)
style_layers = [resnet.relu, resnet.layer1, resnet.layer2]
style_features = feature_function(resnet, style_layers)
start = time.process_time()
stylized = style_transfer(style_features, dream_scene, style_image, content_layer=2, steps=budget(full=150, quick=10),
                          lr=0.02, style_weight=3e4)
print(f"style transfer in {time.process_time() - start:.1f} s of CPU time")
with torch.no_grad():
    for name, image in (("the scene", dream_scene), ("the result", stylized)):
        distance = sum(((gram_matrix(a) - gram_matrix(b)) ** 2).sum().item()
                       for a, b in zip(style_features(image), style_features(style_image)))
        print(f"squared distance between the Gram matrices of {name} and of the style image: {distance:.3g}")
fig = show_images([dream_scene[0], style_image[0], stylized[0]], titles=["content", "style", "result"], ncols=3,
                  figsize=(9, 3.4))
plt.show()

# %% [markdown]
# The optimization does what it is asked (the Gram distance to the style falls by orders
# of magnitude), and the result keeps the shapes while taking the style's palette and
# some of its grain. It is a pale version of what a VGG network achieves: Gram matrices
# of features trained on 32 × 32 shapes describe colour statistics and edge densities,
# not brush strokes. The method is general; its quality is the quality of the features.
# Johnson, Alahi and Fei-Fei (2016) later trained a network to produce the stylized image
# in a single forward pass, using the same Gram-matrix loss (a "perceptual loss").
#
# ## Summary
#
# The chapter's measurements, collected (in full mode; the exact values are printed by
# the cells above):
#
# * Templates and filters are pictures only for the first layer; after that, features
#   are best read through what they do: neighbours in feature space share the class,
#   neighbours in pixel space share the colours; t-SNE of the last hidden layer shows the
#   classes as islands.
# * Occlusion, gradient saliency, CAM and Grad-CAM all point at the object most of the
#   time, each with its own resolution and cost; a saliency map thresholded at the
#   expected object area segments objects better than a centred box, and with a colour
#   rule nearly perfectly, although the network never saw a mask.
# * A network trained where the background predicts the class uses the background:
#   excellent on data like its training data, near chance without the shortcut, and its
#   class activation maps and its answers on conflict images say so.
# * Gradient ascent on the pixels needs priors (L2, blur, jitter) to produce images that
#   look like anything; the same ascent, bounded by a small $\epsilon$, produces
#   adversarial examples that fool LeNet almost always, and adversarial training buys
#   robustness with clean accuracy.
# * Inverting features shows what each layer keeps, DeepDream what it looks for, and Gram
#   matrices what it knows about texture.

# %%
print(f"chapter run time: {time.perf_counter() - CHAPTER_START:.0f} s wall clock, "
      f"{time.process_time():.0f} s of CPU time in this kernel")
