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
# # Chapter 7 — Self-supervised learning
#
# Every network in the previous chapters learned from labels: a digit class for each
# image, a box for each object, a class for each pixel. Labels are what made those
# networks good, and labels are also what makes them expensive. ImageNet's 1.2 million
# training images were each looked at by several paid annotators; a segmentation mask takes
# minutes per image; for medical or satellite images the annotator must be an expert. Yet
# unlabelled images cost almost nothing. Self-supervised learning asks whether a network
# can learn useful features from the images alone, by inventing a task whose answer is
# already in the data, and then reuse those features where the labels are few.
#
# This chapter works through the three families of such tasks that the computer vision
# lecture covers, on data small enough for a CPU. **Context prediction**: cut two patches
# out of an image and ask where one sits relative to the other (and, as a cousin, solve a
# jigsaw puzzle or guess a rotation). **Colorization**: remove the colour and ask for it
# back. **Contrastive learning**: show the network two distorted versions of the same
# image and teach it that they belong together while everything else in the batch does
# not (SimCLR). On the way you will implement the pieces (the patch sampler with gaps and
# jitter, the Lab colour space and its quantization, the NT-Xent loss, the projection head
# and a training step, a checker for augmentation pairs, and the k-nearest-neighbour
# classifier used to judge frozen features) and we will catch a network cheating on its
# pretext task, see why colour regression comes out grey, watch a contrastive model
# collapse, and measure how many labels self-supervision saves.
#
# **How this notebook works.** Exercise cells contain a signature and a docstring; replace
# the `raise NotImplementedError(...)` line with your code. The test cell after each
# exercise runs visible tests that say what is wrong; more (hidden) tests run at grading.
# Implementation exercises must do the work themselves: calling the course's reference
# versions (`course_utils.losses.contrastive`, `course_utils.ops.color`,
# `course_utils.data.pretext`, `course_utils.metrics.probe`), `skimage.color` or
# scikit-learn's neighbour search inside them scores no points. With the environment
# variable `DLCV_QUICK=1` the training cells use tiny budgets; grading does that, and
# nothing graded depends on how long you train.
#
# The facts come from the self-supervised part of a computer vision course (in Chinese)
# and from the original papers. The lecture notes contain a few mistakes; wherever this
# chapter disagrees with them it says so and shows the computation.

# %%
import copy
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from torch import nn
from tqdm.auto import tqdm

from course_utils.data import PHOTO_NAMES, DigitsDataset, load_photo
from course_utils.data import pretext as ref_pretext  # the course's reference versions
from course_utils.data.views import Augment, two_views
from course_utils.grading import expect_close, expect_equal, expect_tensor, forbid
from course_utils.losses import contrastive as ref_contrastive
from course_utils.metrics import probe as ref_probe
from course_utils.models import SmallResNet
from course_utils.models import ssl as ref_ssl
from course_utils.ops import color as ref_color
from course_utils.runtime import budget, get_device, report
from course_utils.train import seed_everything
from course_utils.viz import show_images

torch.set_num_threads(1)  # the models are tiny: one thread is as fast and leaves the other core free
seed_everything(0)
device = get_device()
CHAPTER_START = time.perf_counter()
print("device:", device)

# %% [markdown]
# ## 1. What labels buy, and what they cost
#
# Why pretrain at all? Because features learned on one labelled task carry over to others.
# A network trained to classify ImageNet has, in its later layers, a description of an
# image that is good for much more than the 1,000 classes: retrieving similar images,
# detecting objects (R-CNN started from ImageNet weights), segmenting them (FCN did too),
# estimating depth. The lecture's example is a photo of a beagle whose nearest neighbours
# in that feature space are other beagles, in other poses and other places.
#
# Chapter 3 measured this on a small scale, and we run its experiment again here with the
# course's models so that the numbers are fresh: a small ResNet is trained on the digits
# 0–4 (the "large labelled source task"), and the digits 5–9 are the new task with only a
# few labelled examples per class. We compare training from scratch, a linear probe on the
# frozen pretrained features, and fine-tuning everything.

# %%
digits_train_norm, digits_test_norm = DigitsDataset("train"), DigitsDataset("test")
source = digits_train_norm.labels < 5
seed_everything(0)
pretrained = SmallResNet(depth=8, width=8, num_classes=5).to(device)
source_x, source_y = digits_train_norm.images[source].to(device), digits_train_norm.labels[source].to(device)
opt = torch.optim.SGD(pretrained.parameters(), lr=0.05, momentum=0.9)
batch_generator = torch.Generator().manual_seed(0)
for epoch in range(budget(full=5, quick=1)):
    pretrained.train()
    for idx in torch.randperm(len(source_y), generator=batch_generator).split(32):
        opt.zero_grad()
        F.cross_entropy(pretrained(source_x[idx]), source_y[idx]).backward()
        opt.step()

target_test = digits_test_norm.labels >= 5
target_x = digits_test_norm.images[target_test].to(device)
target_y = (digits_test_norm.labels[target_test] - 5).to(device)
target_pool = digits_train_norm.labels >= 5


def train_on_target(model, params, x, y, steps, lr, freeze_bn=False):
    """Full-batch Adam on the few target examples; returns the test accuracy on digits 5-9."""
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        model.train(not freeze_bn)  # a linear probe keeps the pretrained batch-norm statistics
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return float((model(target_x).argmax(dim=1) == target_y).float().mean())


def with_new_head(model):
    """A copy of the pretrained network with a fresh 5-class classifier."""
    model = copy.deepcopy(model)
    model.fc = nn.Linear(model.fc.in_features, 5).to(device)
    return model


TRANSFER_SHOTS = budget(full=[2, 5, 20], quick=[5])
transfer = {"from scratch": [], "linear probe": [], "fine-tune": []}
for shots in TRANSFER_SHOTS:
    few = ref_probe.few_shot_indices(digits_train_norm.labels[target_pool], shots, seed=0)
    x_few = digits_train_norm.images[target_pool][few].to(device)
    y_few = (digits_train_norm.labels[target_pool][few] - 5).to(device)
    steps = budget(full=40, quick=3)
    seed_everything(1)
    scratch = SmallResNet(depth=8, width=8, num_classes=5).to(device)
    transfer["from scratch"].append(train_on_target(scratch, scratch.parameters(), x_few, y_few, steps, 1e-2))
    seed_everything(1)
    probe_net = with_new_head(pretrained)
    transfer["linear probe"].append(train_on_target(probe_net, probe_net.fc.parameters(), x_few, y_few, steps, 1e-2,
                                                    freeze_bn=True))
    seed_everything(1)
    tuned = with_new_head(pretrained)
    transfer["fine-tune"].append(train_on_target(tuned, tuned.parameters(), x_few, y_few, steps, 3e-3))
    print(f"{shots:>3} labelled digits per class: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in transfer.items()))

# %% [markdown]
# With a handful of labels per class, fine-tuning the pretrained network beats training
# the same network from random weights, and the advantage shrinks as labels grow: features
# learned on one labelled task are worth labels on another. (The linear probe falls behind
# once there are more than a couple of examples per class: features that separate 0–4 are
# useful for 5–9 but not linearly sufficient. These are single runs on 180 test digits, so
# differences of a few points are noise.) The catch is the first step. Someone had to
# label the source task, and for real images that is the expensive part: ImageNet took
# years of crowdsourcing, and a pixel-accurate segmentation of one street scene takes over
# an hour. The lecture then asks a sharper question. Which of the things we would like a
# network to know are easy to label at all? Materials, object parts, pose, geometry,
# edges: few of them have labels, and nobody labels them for a billion images. Do we even
# need semantic labels to learn them?
#
# ## 2. Context as supervision
#
# Language showed the way. A word's meaning is largely determined by the company it
# keeps, so a model that learns to predict a word from its neighbours (Collobert and Weston
# 2008; word2vec, Mikolov et al. 2013) must learn something about meaning, and the text
# supplies its own answers: every position in a sentence is a training example, with no
# annotator in sight. The same idea, scaled up, is at the heart of BERT (predict a masked
# word) and GPT (predict the next word). The cell below counts how many (context, word)
# training pairs the lecture's example paragraph gives with a window of two words on each
# side.

# %%
paragraph = ("house, where the professor lived without his wife and child; or so he said jokingly sometimes: "
             "Here's where I live. My house. His daughter often added, without resentment, for the visitor's "
             "information, It started out to be for me, but it's really his.")
words = [w.strip(".,;:").lower() for w in paragraph.split()]
WINDOW = 2
pairs = [(tuple(words[max(0, i - WINDOW):i] + words[i + 1:i + 1 + WINDOW]), words[i]) for i in range(len(words))]
print(f"{len(words)} words -> {len(pairs)} (context -> word) examples, for free; e.g.")
for context, word in pairs[3:6]:
    print(f"   {' '.join(context[:2])} ___ {' '.join(context[2:])}  ->  {word}")

# %% [markdown]
# The visual version of "predict a word from its neighbours" is "predict a part of an
# image from the rest". An image is full of context: a wheel sits below a car door, an eye
# next to another eye, the sky above the ground. A task that can only be solved by knowing
# such regularities is called a **pretext task**: we do not care about its answers, only
# about the features the network has to develop to give them. After pretraining, the
# pretext head is thrown away and the encoder's features are reused, exactly as the
# ImageNet features were in section 1.

# %% [markdown]
# ## 3. Relative patch position
#
# Doersch, Gupta and Efros (2015) turned this into a classification problem. Take a patch
# from an image (the *centre*), and one of the eight patches around it in a 3 × 3 grid (the
# *neighbour*). Show the network both patches and ask: where is the neighbour, relative to
# the centre? The answer is one of eight classes, and the label costs nothing because we
# chose the patches ourselves. To answer "the second patch is above and to the left", a
# network must recognize what the patches show: an ear belongs above an eye, a wheel below
# a door. Doersch et al. found that the features learned this way, on ImageNet without its
# labels, gave a better R-CNN detector on PASCAL VOC than random initialization, and that
# their nearest neighbours retrieved matching object parts across different images.
#
# We label the eight positions in reading order, `NEIGHBOUR_OFFSETS` giving each as a step
# `(d_row, d_col)`:
#
# ```
#  0 (-1,-1)   1 (-1, 0)   2 (-1, 1)
#  3 ( 0,-1)    centre     4 ( 0, 1)
#  5 ( 1,-1)   6 ( 1, 0)   7 ( 1, 1)
# ```
#
# Two details of the paper matter as much as the idea. Between the patches there is a
# **gap** (about half a patch in the paper), and the neighbour is shifted by a random
# **jitter** of a few pixels. Without them, the network could find the answer without
# understanding anything: lines and textures continue across the border between touching
# patches, so matching the pixels along the edges tells where the neighbour belongs. Such a
# trivial solution is called a **shortcut**, and networks are very good at finding them.
# We will catch one in section 3.2. Doersch et al. found a subtler one too: lenses bend
# colours slightly differently (chromatic aberration), so the colour fringes of a patch
# reveal where it sits relative to the lens centre, and the network learned to read them.
# Their remedy was to drop or project away colour channels in the patches.
#
# Our images are the 8 × 8 digits, enlarged to 32 × 32, with patches of 8 × 8 pixels. The
# figure shows the 3 × 3 layout on one digit, with a gap of 2 pixels and the neighbours
# jittered.

# %%
REL_SIZE, PATCH, GAP, JITTER = 32, 8, 2, 1
rel_train = DigitsDataset("train", size=REL_SIZE, normalize=False)
rel_test = DigitsDataset("test", size=REL_SIZE, normalize=False)
offsets = torch.tensor(ref_pretext.NEIGHBOUR_OFFSETS)
layout_generator = torch.Generator().manual_seed(3)
centre_corner = torch.tensor([(REL_SIZE - PATCH) // 2] * 2)
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
for ax, (gap, jitter) in zip(axes, [(0, 0), (GAP, JITTER)]):
    ax.imshow(rel_train.images[7, 0], cmap="gray", extent=(0, REL_SIZE, REL_SIZE, 0))
    for label in range(9):
        if label == 8:
            corner, color = centre_corner, "tab:red"
        else:
            shift = torch.randint(-jitter, jitter + 1, (2,), generator=layout_generator)
            corner, color = centre_corner + offsets[label] * (PATCH + gap) + shift, "tab:cyan"
        row, col = corner.tolist()
        ax.add_patch(Rectangle((col, row), PATCH, PATCH, fill=False, edgecolor=color, lw=2))
        if label < 8:
            ax.text(col + 1, row + 3, str(label), color="yellow", fontsize=9)
    ax.set_title(f"gap {gap}, jitter {jitter}: centre (red) and its 8 neighbours", fontsize=9)
    ax.set_axis_off()
plt.show()

# %% [markdown]
# ### Exercise 1: sampling patch pairs with gap and jitter (4 points)
#
# Write `sample_patch_pairs(image_size, num_pairs, patch_size, gap, max_jitter, generator)`,
# which draws the training examples of the pretext task: for each pair, the top-left corner
# `(row, col)` of the centre patch, the top-left corner of the neighbour patch, and the
# label. The rules:
#
# * the label is uniform over `0..7`;
# * the neighbour's corner is `centre + NEIGHBOUR_OFFSETS[label] * (patch_size + gap) + jitter`,
#   where the jitter's row and column are each uniform over the integers
#   `-max_jitter..max_jitter` (both ends included), drawn independently;
# * the centre is uniform over all positions that keep *every* possible neighbour (any
#   label, any jitter) inside the image: with `m = patch_size + gap + max_jitter`, the row is
#   uniform over `m..H - patch_size - m` and the column over `m..W - patch_size - m`
#   (`image_size` is `(H, W)`, and images need not be square);
# * every random number comes from `generator` (so the same seed gives the same pairs); in
#   which order you draw them is up to you;
# * all three results are `int64` tensors.
#
# `torch.randint(low, high, size, generator=generator)` draws integers in `[low, high)`.

# %% nbgrader={"grade": false, "grade_id": "patch_pairs", "locked": false, "schema_version": 3, "solution": true}
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def sample_patch_pairs(image_size, num_pairs, patch_size, gap=0, max_jitter=0, generator=None):
    """Random (centre corner, neighbour corner, label) triples for relative position prediction.

    Args:
        image_size: (H, W), ints.
        num_pairs: N, the number of pairs.
        patch_size: side P of the square patches.
        gap: pixels between neighbouring patches (int >= 0).
        max_jitter: largest random shift of the neighbour along each axis (int >= 0).
        generator: torch.Generator, the only source of randomness.

    Returns:
        (centre Tensor[N, 2], neighbour Tensor[N, 2], labels Tensor[N]), all int64; corners
        are (row, col) of the top-left pixel, labels index NEIGHBOUR_OFFSETS.
    """
    ### BEGIN SOLUTION
    height, width = image_size
    margin = patch_size + gap + max_jitter
    rows = torch.randint(margin, height - patch_size - margin + 1, (num_pairs,), generator=generator)
    cols = torch.randint(margin, width - patch_size - margin + 1, (num_pairs,), generator=generator)
    centre = torch.stack([rows, cols], dim=1)  # [N, 2]
    labels = torch.randint(0, 8, (num_pairs,), generator=generator)  # [N]
    jitter = torch.randint(-max_jitter, max_jitter + 1, (num_pairs, 2), generator=generator)  # [N, 2]
    steps = torch.tensor(NEIGHBOUR_OFFSETS, dtype=torch.int64)[labels]  # [N, 2]
    return centre, centre + steps * (patch_size + gap) + jitter, labels
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_patch_pairs_layout", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The layout rules: shapes and dtypes, the offset of each label, the gap, the jitter range.
directions = torch.tensor([[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]])
centre, neighbour, labels = sample_patch_pairs((30, 30), 500, 6, gap=0, max_jitter=0,
                                               generator=torch.Generator().manual_seed(0))
for name, value, shape in (("centre", centre, (500, 2)), ("neighbour", neighbour, (500, 2)), ("labels", labels, (500,))):
    expect_tensor(value, f"sample_patch_pairs(...)[{name}] for 500 pairs", shape=shape, dtype=torch.int64)
assert bool(((labels >= 0) & (labels < 8)).all()), "labels must lie in 0..7"
expect_close(neighbour - centre, directions[labels] * 6,
             "neighbour - centre with gap 0 and no jitter (must be NEIGHBOUR_OFFSETS[label] * patch_size)")
centre, neighbour, labels = sample_patch_pairs((40, 36), 3000, 6, gap=3, max_jitter=2,
                                               generator=torch.Generator().manual_seed(1))
jitter = neighbour - centre - directions[labels] * (6 + 3)
assert int(jitter.abs().max()) <= 2, (
    f"with gap 3 and max_jitter 2, neighbour - centre - offset * (patch_size + gap) must lie in -2..2, "
    f"found {int(jitter.abs().max())}: is the gap in the step, and the jitter bounded?")
for axis, axis_name in ((0, "row"), (1, "column")):
    seen = sorted(set(jitter[:, axis].tolist()))
    assert seen == [-2, -1, 0, 1, 2], (
        f"over 3000 pairs with max_jitter 2 the {axis_name} jitter took the values {seen}; "
        "every integer from -2 to 2 should occur")
same_jitter = float((jitter[:, 0] == jitter[:, 1]).float().mean())
assert same_jitter < 0.5, (
    f"the row and column jitters were equal in {same_jitter:.0%} of the pairs; drawn independently, they agree "
    "about 1 time in 5")
### BEGIN HIDDEN TESTS
_h_dirs = torch.tensor(NEIGHBOUR_OFFSETS)
_FORBIDDEN_PAIRS = (ref_pretext.sample_patch_pairs, ref_pretext.relative_position_batch)
with forbid(*_FORBIDDEN_PAIRS, exercise="sample_patch_pairs"):
    _h_c, _h_n, _h_l = sample_patch_pairs((50, 70), 2000, 5, gap=4, max_jitter=3, generator=torch.Generator().manual_seed(7))
    _h_c0, _h_n0, _h_l0 = sample_patch_pairs((21, 33), 50, 7, generator=torch.Generator().manual_seed(8))
_h_j = _h_n - _h_c - _h_dirs[_h_l] * 9
assert int(_h_j.abs().max()) <= 3 and sorted(set(_h_j.flatten().tolist())) == list(range(-3, 4)), \
    "jitter must cover -max_jitter..max_jitter (checked with max_jitter 3)"
expect_close(_h_n0 - _h_c0, _h_dirs[_h_l0] * 7, "neighbour - centre with default gap and jitter (0)")
for _h_name, _h_v, _h_shape in (("centre", _h_c, (2000, 2)), ("labels", _h_l, (2000,)), ("labels", _h_l0, (50,))):
    expect_tensor(_h_v, f"sample_patch_pairs {_h_name}", shape=_h_shape, dtype=torch.int64)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_patch_pairs_sampling", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The sampling rules: every patch inside the image, the centre's full range, uniform labels, the generator.
H, W, P, gap, jit = 40, 34, 6, 2, 1
centre, neighbour, labels = sample_patch_pairs((H, W), 4000, P, gap=gap, max_jitter=jit,
                                               generator=torch.Generator().manual_seed(2))
for name, corners in (("centre", centre), ("neighbour", neighbour)):
    for axis, limit, axis_name in ((0, H - P, "row"), (1, W - P, "column")):
        low, high = int(corners[:, axis].min()), int(corners[:, axis].max())
        assert low >= 0 and high <= limit, (
            f"{name} patches leave a {H} x {W} image: {axis_name} corners span {low}..{high}, allowed 0..{limit}")
margin = P + gap + jit
for axis, size, axis_name in ((0, H, "row"), (1, W, "column")):
    span = (int(centre[:, axis].min()), int(centre[:, axis].max()))
    expect_equal(span, (margin, size - P - margin),
                 f"range of the centre's {axis_name} over 4000 pairs in a {H} x {W} image (patch {P}, gap {gap}, jitter {jit})")
frequencies = torch.bincount(labels, minlength=8).float() / len(labels)
assert bool((frequencies > 0.08).all()) and bool((frequencies < 0.17).all()), (
    f"label frequencies over 4000 pairs should all be near 1/8, got {[round(f, 3) for f in frequencies.tolist()]}")
again = sample_patch_pairs((H, W), 4000, P, gap=gap, max_jitter=jit, generator=torch.Generator().manual_seed(2))
for name, first, second in zip(("centre", "neighbour", "labels"), (centre, neighbour, labels), again):
    assert torch.equal(first, second), f"the same seed must give the same {name} (draw everything from generator)"
other = sample_patch_pairs((H, W), 4000, P, gap=gap, max_jitter=jit, generator=torch.Generator().manual_seed(3))
assert not torch.equal(labels, other[2]), "another seed gave the same labels: draw them from generator"
### BEGIN HIDDEN TESTS
_FORBIDDEN_PAIRS = (ref_pretext.sample_patch_pairs, ref_pretext.relative_position_batch)
with forbid(*_FORBIDDEN_PAIRS, exercise="sample_patch_pairs"):
    _h_c, _h_n, _h_l = sample_patch_pairs((45, 60), 5000, 7, gap=1, max_jitter=2, generator=torch.Generator().manual_seed(11))
expect_equal((int(_h_c[:, 0].min()), int(_h_c[:, 0].max())), (10, 45 - 7 - 10), "centre row range in a 45 x 60 image")
expect_equal((int(_h_c[:, 1].min()), int(_h_c[:, 1].max())), (10, 60 - 7 - 10), "centre column range in a 45 x 60 image")
assert int(_h_n.min()) >= 0 and int(_h_n[:, 0].max()) <= 45 - 7 and int(_h_n[:, 1].max()) <= 60 - 7, \
    "neighbours must stay inside a 45 x 60 image"
assert sorted(set(_h_l.tolist())) == list(range(8)), "all 8 labels must occur"
### END HIDDEN TESTS

# %% [markdown]
# ### 3.1 Training the pretext task
#
# The network follows the paper's *late fusion* design: one encoder, shared by both
# patches, turns each patch into a feature vector; only then are the two vectors
# concatenated and passed through a small MLP that outputs eight logits. The encoder never
# sees both patches at once, so whatever it learns must describe one patch on its own,
# which is what we want to reuse later. Its last stage flattens the 4 × 4 feature map
# through a linear layer instead of averaging it away, like the fully connected `fc6` of the
# AlexNet in the paper: to say where a stroke leaves a patch, the encoder must keep track of
# where things are inside it. The pairs come from the course's `relative_position_batch`
# (the reference version of your sampler), fresh ones at every step from the training
# digits; the accuracy is measured on pairs cut from the held-out test digits.

# %%
REL_STEPS = budget(full=200, quick=4)
REL_BATCH = 128


def new_relative_net(seed=0):
    seed_everything(seed)
    encoder = ref_ssl.ConvEncoder(width=16, pool="flatten", input_size=PATCH, feature_dim=64)
    return ref_ssl.RelativePositionNet(encoder, hidden_dim=64).to(device)


def train_relative(gap, jitter, steps=REL_STEPS, seed=0):
    """Train the relative-position net on pairs from the training digits; returns it in eval mode."""
    net = new_relative_net(seed)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc=f"relative position, gap {gap}, jitter {jitter}", leave=False):
        net.train()
        centre, neighbour, labels = ref_pretext.relative_position_batch(rel_train.images, REL_BATCH, PATCH, gap, jitter,
                                                                        generator)
        batch_loss = F.cross_entropy(net(centre.to(device), neighbour.to(device)), labels.to(device))
        opt.zero_grad()
        batch_loss.backward()
        opt.step()
    return net.eval()


def relative_accuracy(net, images, gap, jitter, num_pairs=4000, seed=123):
    """Accuracy of `net` (or of a function of the two patches) on fixed random pairs from `images`."""
    centre, neighbour, labels = ref_pretext.relative_position_batch(images, num_pairs, PATCH, gap, jitter,
                                                                    torch.Generator().manual_seed(seed))
    with torch.no_grad():
        if isinstance(net, nn.Module):
            guesses = net(centre.to(device), neighbour.to(device)).argmax(1).cpu()
        else:
            guesses = net(centre, neighbour)
    return float((guesses == labels).float().mean())


start = time.perf_counter()
relative_net = train_relative(GAP, JITTER)
relative_test_accuracy = relative_accuracy(relative_net, rel_test.images, GAP, JITTER)
print(f"trained in {time.perf_counter() - start:.1f} s; held-out accuracy {relative_test_accuracy:.3f} "
      f"(chance 1/8 = {1 / 8:.3f})")
report("relative_position_test_accuracy", relative_test_accuracy, target=0.375)

# %% [markdown]
# Several times chance, on digits the network has never seen. Which positions are easy?
# The confusion matrix tells: most mistakes are between directions that are next to each
# other in the grid (right and top-right, say), where the two patches can look alike, and
# the accuracy differs a lot from one position to another, because a digit has more
# recognizable structure in some directions from its centre than in others.

# %%
centre_t, neighbour_t, labels_t = ref_pretext.relative_position_batch(rel_test.images, 4000, PATCH, GAP, JITTER,
                                                                      torch.Generator().manual_seed(123))
with torch.no_grad():
    guesses_t = relative_net(centre_t.to(device), neighbour_t.to(device)).argmax(1).cpu()
confusion = torch.zeros(8, 8)
confusion.index_put_((labels_t, guesses_t), torch.ones(len(labels_t)), accumulate=True)
confusion = confusion / confusion.sum(1, keepdim=True)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
image = axes[0].imshow(confusion, cmap="Blues", vmin=0, vmax=1)
axes[0].set_xticks(range(8), ref_pretext.NEIGHBOUR_NAMES, rotation=60, fontsize=8)
axes[0].set_yticks(range(8), ref_pretext.NEIGHBOUR_NAMES, fontsize=8)
axes[0].set_xlabel("predicted position")
axes[0].set_ylabel("true position")
axes[0].set_title("relative position on held-out digits (rows sum to 1)", fontsize=9)
fig.colorbar(image, ax=axes[0], fraction=0.046)
per_label = confusion.diag()
grid_view = torch.full((3, 3), float("nan"))
for label, (d_row, d_col) in enumerate(ref_pretext.NEIGHBOUR_OFFSETS):
    grid_view[d_row + 1, d_col + 1] = per_label[label]
axes[1].imshow(grid_view, cmap="Greens", vmin=0, vmax=1)
for r in range(3):
    for c in range(3):
        text = "centre" if (r, c) == (1, 1) else f"{grid_view[r, c]:.2f}"
        axes[1].text(c, r, text, ha="center", va="center", fontsize=10)
axes[1].set_axis_off()
axes[1].set_title("accuracy of each position, laid out as the grid", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 3.2 Catching the shortcut
#
# What happens without the gap and the jitter? First, a shortcut written by hand:
# `edge_continuity_guess` learns nothing; for each of the eight directions it compares the
# rows or columns of pixels that would touch if the neighbour were there, and guesses the
# direction where they match best. If that rule works, a network can learn it too, and
# has no reason to learn anything else.
#
# Second, a trap for networks: images with nothing in them. Smoothed random noise has no
# "up" and no "left", no strokes, no objects; relative position on it can only be guessed
# from low-level continuity across the patch borders. A network that scores above chance
# on noise pairs is, by construction, using the shortcut. We train a second network on
# digits *without* gap and jitter, and test both networks, and the hand-made rule, on both
# kinds of image.

# %%
shortcut_net = train_relative(0, 0)
noise_images = ref_pretext.smooth_noise(2000, REL_SIZE, sigma=2.0, generator=torch.Generator().manual_seed(5))
shortcut_table = {
    "edge rule (no learning)": [relative_accuracy(ref_pretext.edge_continuity_guess, rel_test.images, 0, 0),
                                relative_accuracy(ref_pretext.edge_continuity_guess, rel_test.images, GAP, JITTER),
                                relative_accuracy(ref_pretext.edge_continuity_guess, noise_images, 0, 0)],
    "net trained without gap": [relative_accuracy(shortcut_net, rel_test.images, 0, 0),
                                relative_accuracy(shortcut_net, rel_test.images, GAP, JITTER),
                                relative_accuracy(shortcut_net, noise_images, 0, 0)],
    "net trained with gap + jitter": [relative_accuracy(relative_net, rel_test.images, 0, 0),
                                      relative_accuracy(relative_net, rel_test.images, GAP, JITTER),
                                      relative_accuracy(relative_net, noise_images, 0, 0)],
}
columns = ["digits, no gap", f"digits, gap {GAP} + jitter {JITTER}", "noise, no gap"]
print(f"{'':32s}" + "".join(f"{c:>24s}" for c in columns))
for name, values in shortcut_table.items():
    print(f"{name:32s}" + "".join(f"{v:24.3f}" for v in values))
fig, ax = plt.subplots(figsize=(8, 3.6))
bar_width = 0.26
for i, (name, values) in enumerate(shortcut_table.items()):
    ax.bar(np.arange(3) + (i - 1) * bar_width, values, width=bar_width, label=name)
ax.axhline(1 / 8, color="black", ls="--", lw=1, label="chance (1/8)")
ax.set_xticks(range(3), columns)
ax.set_ylabel("relative-position accuracy")
ax.legend(fontsize=8)
ax.set_title("held-out test pairs", fontsize=9)
plt.show()
report("shortcut_net_on_noise_accuracy", shortcut_table["net trained without gap"][2])
report("gap_net_on_noise_accuracy", shortcut_table["net trained with gap + jitter"][2])

# %% [markdown]
# Read the table row by row. The hand-made rule, which knows nothing about digits, already
# solves a large share of the touching pairs, several times chance; a gap and a pixel of
# jitter take much of its footing away. The network trained without a gap does score above
# chance on pure noise, where there is nothing to recognize: it has learned to match
# borders. The network trained with the gap scores at chance on noise, as it should, since
# on noise its task is impossible. This is the reason for the gap and the jitter: not to
# make the pretext task harder for its own sake, but to close the door on answers that do
# not require the features we want.
#
# Shortcuts are the central difficulty of pretext-task design. Doersch et al. found the
# chromatic-aberration one only because the network was suspiciously good at telling the
# *absolute* position of a single patch in the image, something it should not be able to
# do. Similar leaks were later found in other tasks: JPEG block boundaries, the vignetting
# of lenses, the black borders left by rotations. A good habit from this section: whenever a
# pretext task looks easy, test the network on inputs where the intended cue is missing.
#
# ### 3.3 Jigsaw puzzles, the same idea with nine patches
#
# Noroozi and Favaro (2016) pushed context prediction further. Cut the image into a 3 × 3
# grid of tiles (with gaps, for the same reason), shuffle them with one of a fixed set of
# permutations, and ask the network *which* permutation was applied: a classification over,
# say, 100 classes. Each tile goes through the shared encoder on its own (late fusion
# again), and the nine feature vectors are concatenated in the shuffled order. The set of
# permutations matters: if two permutations differ in only two tiles, the task degenerates
# into spotting one swapped pair; the authors chose permutations greedily so that the
# smallest Hamming distance (the number of tiles in different places) between any two is as
# large as possible. `jigsaw_permutations` does the same.

# %%
permutations = ref_pretext.jigsaw_permutations(budget(full=100, quick=10), num_tiles=9, seed=0)
hamming = (permutations[:, None, :] != permutations[None, :, :]).sum(-1)  # [P, P] tiles in different places
off_diagonal = hamming[~torch.eye(len(permutations), dtype=torch.bool)]
print(f"{len(permutations)} permutations of 9 tiles: Hamming distance between two of them from "
      f"{int(off_diagonal.min())} to {int(off_diagonal.max())}, mean {off_diagonal.float().mean():.2f}")
random_perms = torch.stack([torch.randperm(9, generator=torch.Generator().manual_seed(s)) for s in range(len(permutations))])
random_hamming = (random_perms[:, None, :] != random_perms[None, :, :]).sum(-1)
print(f"the same number of random permutations: smallest distance {int(random_hamming[~torch.eye(len(random_perms), dtype=torch.bool)].min())}")

photo = load_photo("chelsea", size=96)[:, :, 16:112]  # [3, 96, 96]
shown_perm = permutations[1]
tiles = ref_pretext.jigsaw_tiles(photo, shown_perm, grid=3)  # [9, 3, 32, 32]
fig = show_images(list(tiles), titles=[f"tile {int(t)}" for t in shown_perm], ncols=9, figsize=(12, 1.9),
                  suptitle=f"a shuffled puzzle: the network must name the permutation {shown_perm.tolist()}")
plt.show()

# %% [markdown]
# ## 4. Rotation prediction, briefly
#
# An even simpler pretext task (Gidaris, Singh and Komodakis 2018): rotate an image by 0,
# 90, 180 or 270 degrees and ask which. To know that a photo is upside down you must know
# where skies, heads and feet usually are, so the task needs a notion of objects, and it
# costs one `torch.rot90`. Its weak spot is symmetry: an object that looks the same after
# some rotation makes the label impossible to predict, and teaches nothing. Digits show
# both sides. The cell measures, for each digit class, how similar the average digit is to
# itself rotated by 180 degrees (the correlation of the pixels).

# %%
digits_plain = DigitsDataset("train", normalize=False)
rotation_similarity = []
for digit in range(10):
    mean_image = digits_plain.images[digits_plain.labels == digit].mean(0)[0]  # [8, 8]
    rotated = torch.rot90(mean_image, 2)
    rotation_similarity.append(float(torch.corrcoef(torch.stack([mean_image.flatten(), rotated.flatten()]))[0, 1]))
order = np.argsort(rotation_similarity)[::-1]
print("correlation of the mean digit with itself rotated by 180 degrees:")
print("  " + ", ".join(f"{d}: {rotation_similarity[d]:.2f}" for d in order))
rotated_examples, rotation_labels = ref_pretext.rotate_batch(digits_plain.images[:8], torch.Generator().manual_seed(0))
fig = show_images(rotated_examples, titles=[f"{90 * int(k)} deg" for k in rotation_labels], ncols=8, cmap="gray",
                  figsize=(10, 1.6), suptitle="rotation pretext task: the label is the angle")
plt.show()

# %% [markdown]
# The digits at the top of the list (0, 1 and 8 among them) look nearly the same upside
# down, so a rotation network can at best guess between 0 and 180 degrees for them, while
# 6 against 9 is subtler: a rotated 6 *is* a plausible 9, so the label is ambiguous there
# too. On natural photos, rotation prediction learns surprisingly good features, and it
# remains a common auxiliary task.

# %% [markdown]
# ## 5. Colorization
#
# The lecture's second family takes something away from the image and asks for it back.
# Colour is the most natural thing to remove: a black-and-white photograph such as Ansel
# Adams' *Yosemite Valley Bridge* is perfectly readable, and a person could colour it in
# (the sky blue, the trees green, the bridge grey stone) because they know what the things
# in it are. Zhang, Isola and Efros (2016) trained a network to do the same: the input is
# the lightness of an image, the target its colour, and every colour photo on the internet
# is a free training example.
#
# ### 5.1 The Lab colour space
#
# To separate lightness from colour we need a colour space that does. RGB does not: making
# a pixel brighter changes all three channels. CIE Lab does: **L** is the lightness (0 is
# black, 100 is white), **a** runs from green (negative) to red (positive) and **b** from
# blue (negative) to yellow (positive); a grey pixel has a = b = 0. Lab was also designed so
# that equal distances are roughly equally visible differences, which makes a squared error
# in ab a sensible colour error. The network gets L, of shape `[1, H, W]`, and predicts ab,
# of shape `[2, H, W]`; L and the predicted ab together give back a colour image.
#
# The conversion from sRGB (what a PNG stores, with the D65 white point) has three steps:
#
# 1. **Undo the gamma.** Stored values are not proportional to light. For each channel
#    value $c \in [0, 1]$, the linear value is $c / 12.92$ if $c \le 0.04045$ and
#    $((c + 0.055)/1.055)^{2.4}$ otherwise.
# 2. **Linear RGB to XYZ**, a fixed 3 × 3 matrix (the rows give X, Y and Z):
#
#    $$\begin{pmatrix} X \\ Y \\ Z\end{pmatrix} = \begin{pmatrix}
#    0.412453 & 0.357580 & 0.180423 \\ 0.212671 & 0.715160 & 0.072169 \\
#    0.019334 & 0.119193 & 0.950227 \end{pmatrix} \begin{pmatrix} R \\ G \\ B\end{pmatrix},$$
#
#    then divide by the white point, $X_n = 0.95047$, $Y_n = 1$, $Z_n = 1.08883$.
# 3. **Compress**: $f(t) = t^{1/3}$ if $t > 0.008856$, else $f(t) = 7.787\,t + 16/116$ (a
#    straight line near black, where the cube root is too steep), and
#    $L = 116 f(Y/Y_n) - 16$, $a = 500\,(f(X/X_n) - f(Y/Y_n))$, $b = 200\,(f(Y/Y_n) - f(Z/Z_n))$.
#
# These are exactly the constants of `skimage.color.rgb2lab`, which the tests compare with.
#
# ### Exercise 2: RGB to Lab (3 points)
#
# Implement `rgb_to_lab(rgb)` for a batch of images `Tensor[N, 3, H, W]` with values in
# [0, 1]. Vectorize it (`torch.where` for the two branches, a matrix product over the
# channel dimension); return a tensor of the same shape, with L, a, b as channels 0, 1, 2,
# in the dtype of the input. Do not call `skimage.color` or the course's
# `course_utils.ops.color`.

# %% nbgrader={"grade": false, "grade_id": "rgb_to_lab", "locked": false, "schema_version": 3, "solution": true}
def rgb_to_lab(rgb):
    """sRGB (D65) images to CIE Lab, as skimage.color.rgb2lab.

    Args:
        rgb: Tensor[N, 3, H, W] float, values in [0, 1].

    Returns:
        Tensor[N, 3, H, W] of the dtype of rgb: L in [0, 100], then a, then b.
    """
    ### BEGIN SOLUTION
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)  # [N, 3, H, W]
    matrix = torch.tensor([[0.412453, 0.357580, 0.180423],
                           [0.212671, 0.715160, 0.072169],
                           [0.019334, 0.119193, 0.950227]], dtype=rgb.dtype, device=rgb.device)
    white = torch.tensor([0.95047, 1.0, 1.08883], dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    xyz = torch.einsum("ij,njhw->nihw", matrix, linear) / white  # [N, 3, H, W]
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0) ** (1 / 3), 7.787 * xyz + 16 / 116)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]  # each [N, H, W]
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rgb_to_lab", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# validity: dtype-stated
from skimage.color import rgb2lab as skimage_rgb2lab


def skimage_lab(rgb):
    """skimage.color.rgb2lab on a [N, 3, H, W] tensor (channels-last numpy inside), as float64."""
    return torch.from_numpy(skimage_rgb2lab(rgb.double().permute(0, 2, 3, 1).numpy())).permute(0, 3, 1, 2)


named_colours = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0), "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0),
                 "blue": (0.0, 0.0, 1.0), "mid grey": (0.5, 0.5, 0.5), "very dark red (linear branches)": (0.03, 0.01, 0.02),
                 "dark blue-grey": (0.05, 0.06, 0.09)}
for name, colour in named_colours.items():
    pixel = torch.tensor(colour).view(1, 3, 1, 1)
    expect_close(rgb_to_lab(pixel), skimage_lab(pixel), f"rgb_to_lab of {name} {colour} (compared with skimage)",
                 atol=5e-3, rtol=0)
torch.manual_seed(0)
images = torch.rand(2, 3, 5, 7)
lab = rgb_to_lab(images)
expect_tensor(lab, "rgb_to_lab of a [2, 3, 5, 7] batch", shape=(2, 3, 5, 7), dtype=torch.float32)
expect_close(lab, skimage_lab(images), "rgb_to_lab of random images (compared with skimage)", atol=5e-3, rtol=0)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(4)
_h_imgs = torch.rand(3, 3, 9, 4, generator=_h_g) ** 3  # many dark values
_h_imgs64 = torch.rand(1, 3, 6, 6, generator=_h_g, dtype=torch.float64)
_FORBIDDEN_LAB = ("skimage.color.rgb2lab", "skimage.color.xyz2lab", "skimage.color.rgb2xyz", ref_color.rgb_to_lab,
                  ref_color.rgb_to_lab_pixel)
with forbid(*_FORBIDDEN_LAB, exercise="rgb_to_lab"):
    _h_lab = rgb_to_lab(_h_imgs)
    _h_lab64 = rgb_to_lab(_h_imgs64)
    _h_empty = rgb_to_lab(torch.zeros(0, 3, 4, 4))
expect_close(_h_lab, skimage_lab(_h_imgs), "rgb_to_lab of dark random images", atol=5e-3, rtol=0)
expect_tensor(_h_lab64, "rgb_to_lab of float64 images", shape=(1, 3, 6, 6), dtype=torch.float64)
expect_close(_h_lab64, skimage_lab(_h_imgs64), "rgb_to_lab in float64", atol=1e-4, rtol=0)
expect_tensor(_h_empty, "rgb_to_lab of an empty batch", shape=(0, 3, 4, 4))
### END HIDDEN TESTS

# %% [markdown]
# Here is a photo taken apart into its three Lab channels. The L channel is the grey
# picture the network receives; a and b hold what it must guess. Notice how little detail
# the colour channels have compared with L: colour varies slowly, which is one reason the
# network can predict it at a lower resolution.

# %%
astronaut = load_photo("astronaut", size=128)
astronaut_lab = ref_color.rgb_to_lab(astronaut)  # [3, 128, 128]
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
panels = [(astronaut.permute(1, 2, 0), None, "RGB"), (astronaut_lab[0], "gray", "L (lightness, 0..100)"),
          (astronaut_lab[1], "RdYlGn_r", "a (green - red)"), (astronaut_lab[2], "coolwarm", "b (blue - yellow)")]
for ax, (data, cmap, title) in zip(axes, panels):
    kwargs = {} if cmap is None else dict(cmap=cmap, vmin=(0 if title.startswith("L") else -80),
                                          vmax=(100 if title.startswith("L") else 80))
    ax.imshow(data.numpy(), **kwargs)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
plt.show()
print(f"a ranges over [{astronaut_lab[1].min():.1f}, {astronaut_lab[1].max():.1f}], "
      f"b over [{astronaut_lab[2].min():.1f}, {astronaut_lab[2].max():.1f}] in this photo")

# %% [markdown]
# ### 5.2 Why regression comes out grey
#
# The obvious loss is the squared error between predicted and true ab. It has a well-known
# flaw, which the lecture's figures show and which one line of algebra explains. The value
# that minimizes the *expected* squared error is the *mean* of the possible answers. A
# T-shirt at a given lightness may be red or blue or green; the network cannot know which,
# and the squared error pushes it to predict the average of red, blue and green, which is
# close to grey. Take a red and a blue of nearly the same lightness:

# %%
red_and_blue = torch.tensor([[0.85, 0.25, 0.25], [0.25, 0.45, 0.95]]).view(2, 3, 1, 1)  # two RGB colours
lab_pair = ref_color.rgb_to_lab(red_and_blue).flatten(1)  # [2, 3]
mean_ab = lab_pair[:, 1:].mean(0)
for name, value in zip(("red", "blue"), lab_pair):
    print(f"{name:>5}: L = {value[0]:5.1f}, ab = ({value[1]:6.1f}, {value[2]:6.1f}), chroma |ab| = {value[1:].norm():5.1f}")
print(f" L2-optimal guess when both are equally likely: ab = ({mean_ab[0]:5.1f}, {mean_ab[1]:5.1f}), "
      f"chroma {mean_ab.norm():4.1f}")
candidates = torch.linspace(-1, 1, 201)[:, None] * (lab_pair[0, 1:] - lab_pair[1, 1:]) / 2 + mean_ab  # [201, 2]
expected_error = ((candidates[:, None, :] - lab_pair[None, :, 1:]) ** 2).sum(-1).mean(1)  # [201]
print(f" expected squared error: {expected_error.min():.0f} at the mean, {expected_error[-1]:.0f} when guessing red")

# %% [markdown]
# The compromise is a dull colour with a fraction of the chroma (the distance from grey,
# $\sqrt{a^2 + b^2}$) of either real colour, and it has the *lower* expected error. A
# network trained with the squared error will do this for every object whose colour it is
# unsure about, and that is most objects.
#
# Zhang et al.'s remedy is to treat colour as **classification**. Cut the ab plane into
# square bins of side 10 and let the network output, at each pixel, a probability for every
# bin; the cross-entropy loss is happy with a distribution that puts half its mass on red
# and half on blue, and never has to average them. At test time the distribution is turned
# back into one colour with the *annealed mean*: sharpen it with a temperature
# $T = 0.38$ (between its mean, $T = 1$, which is grey again, and its mode, $T \to 0$,
# which is vivid but patchy), then average the bin centres.
#
# ### Exercise 3: quantizing ab into bins (3 points)
#
# The bins cover $[-110, 110)$ on both axes, with side `grid_size` = 10: $n = 22$ bins per
# axis, $22 \times 22 = 484$ in all. Write `ab_to_bin(ab, grid_size, ab_max)`, which maps
# every pixel's (a, b) to its bin number:
#
# * along a, the bin is $i = \lfloor (a + \text{ab\_max}) / \text{grid\_size} \rfloor$,
#   clamped to $[0, n - 1]$ (values outside the range go to the edge bin); the same for
#   b gives $j$; here $n = 2\,\text{ab\_max} / \text{grid\_size}$, which you may assume is a
#   whole number;
# * the bin number is $i \cdot n + j$ (rows of the grid are a, columns are b);
# * a value exactly on a bin edge belongs to the bin above it (that is what the floor gives);
# * the input is `Tensor[N, 2, H, W]` (channel 0 is a, channel 1 is b), the output
#   `Tensor[N, H, W]` of dtype `int64`.
#
# Mind the floor for negative numbers: $\lfloor -0.5 \rfloor = -1$, while converting to an
# integer type truncates towards zero.

# %% nbgrader={"grade": false, "grade_id": "ab_to_bin", "locked": false, "schema_version": 3, "solution": true}
def ab_to_bin(ab, grid_size=10.0, ab_max=110.0):
    """Bin number of every pixel's (a, b).

    Args:
        ab: Tensor[N, 2, H, W] float; channel 0 is a, channel 1 is b.
        grid_size: side of a square bin.
        ab_max: the bins cover [-ab_max, ab_max) on both axes.

    Returns:
        Tensor[N, H, W] int64 in [0, n * n), n = 2 * ab_max / grid_size.
    """
    ### BEGIN SOLUTION
    n = round(2 * ab_max / grid_size)
    index = torch.floor((ab + ab_max) / grid_size).long().clamp(0, n - 1)  # [N, 2, H, W]
    return index[:, 0] * n + index[:, 1]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ab_to_bin", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def one_pixel(a, b):
    return torch.tensor([float(a), float(b)]).view(1, 2, 1, 1)


cases = [((0.0, 0.0), 11 * 22 + 11, "grey (0, 0), on a bin edge: the bin above"),
         ((-0.5, 0.0), 10 * 22 + 11, "a = -0.5 (floor of a negative number)"),
         ((-110.0, -110.0), 0, "the lowest corner"),
         ((109.9, -3.0), 21 * 22 + 10, "a just below ab_max"),
         ((110.0, 0.0), 21 * 22 + 11, "a = ab_max (clamped to the last bin)"),
         ((-250.0, 300.0), 0 * 22 + 21, "far outside the range (clamped)"),
         ((25.0, -47.5), 13 * 22 + 6, "a in bin 13, b in bin 6 (rows are a)")]
for (a, b), expected, description in cases:
    got = ab_to_bin(one_pixel(a, b))
    expect_tensor(got, f"ab_to_bin of one pixel", shape=(1, 1, 1), dtype=torch.int64)
    expect_equal(int(got.flatten()[0]), expected, f"ab_to_bin at (a, b) = ({a}, {b}): {description}")
expect_equal(int(ab_to_bin(one_pixel(-0.5, 45.0), grid_size=20.0, ab_max=100.0).flatten()[0]), 4 * 10 + 7,
             "ab_to_bin with grid_size 20 and ab_max 100 (10 bins per axis) at (-0.5, 45)")
torch.manual_seed(0)
ab = torch.randn(2, 2, 3, 4) * 60
expected = (torch.floor((ab + 110) / 10).clamp(0, 21)[:, 0] * 22 + torch.floor((ab + 110) / 10).clamp(0, 21)[:, 1]).long()
expect_close(ab_to_bin(ab), expected, "ab_to_bin of a random [2, 2, 3, 4] batch")
### BEGIN HIDDEN TESTS
_h_ab = torch.randn(3, 2, 5, 6, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 80
_FORBIDDEN_BINS = (ref_color.ab_to_bin, "torch.bucketize")
with forbid(*_FORBIDDEN_BINS, exercise="ab_to_bin"):
    _h_got = ab_to_bin(_h_ab)
    _h_got20 = ab_to_bin(_h_ab.float(), grid_size=20.0, ab_max=120.0)
    _h_empty = ab_to_bin(torch.zeros(0, 2, 3, 3))
expect_tensor(_h_got, "ab_to_bin of float64 ab", shape=(3, 5, 6), dtype=torch.int64)
expect_close(_h_got, ref_color.ab_to_bin(_h_ab), "ab_to_bin of random float64 ab")
expect_close(_h_got20, ref_color.ab_to_bin(_h_ab.float(), 20.0, 120.0), "ab_to_bin with grid 20 and ab_max 120")
expect_tensor(_h_empty, "ab_to_bin of an empty batch", shape=(0, 3, 3), dtype=torch.int64)
### END HIDDEN TESTS

# %% [markdown]
# ### 5.3 Training a colorization network
#
# Our photos are the colour pictures that ship with scikit-image (an astronaut, a cat, a
# coffee cup, a rocket, a motorcycle, a stained tissue sample), shrunk to a height of 128
# pixels. Training crops of 32 × 32 pixels come from the left 70 % of each photo, test crops
# from the right 30 %, so no test pixel was ever seen in training. The network
# (`ColorizationNet`) is fully convolutional: a stride-2 convolution, then dilated ones
# that let each output see a 31-pixel neighbourhood cheaply, and a 1 × 1 convolution to the
# outputs, at half resolution like Zhang et al.'s (the prediction is upsampled
# bilinearly).
#
# For classification, only bins that occur in the training pixels become classes; their
# frequencies are extremely uneven (greys and browns dominate natural photos), so a plain
# cross-entropy would again favour dull colours. Zhang et al. **rebalance** the loss: each
# pixel's term is weighted by $w \propto \big((1-\lambda)\,\tilde p + \lambda / Q\big)^{-1}$,
# where $\tilde p$ is the smoothed empirical frequency of its bin, $Q$ the number of bins and
# $\lambda = 1/2$, normalized so that the average weight is 1 (`rebalancing_weights`).

# %%
COLOR_PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "immunohistochemistry"]
CROP = 32
TRAIN_FRACTION = 0.7
photos_lab = [ref_color.rgb_to_lab(load_photo(name, size=128)) for name in COLOR_PHOTOS]  # each [3, 128, W]


def colour_crops(count, split, seed):
    """`count` random CROP x CROP Lab crops, from the left 70 % (train) or right 30 % (test) of the photos."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        lab = photos_lab[int(torch.randint(len(photos_lab), (1,), generator=g))]
        height, width = lab.shape[-2:]
        cut = int(width * TRAIN_FRACTION)
        low, high = (0, cut - CROP) if split == "train" else (cut, width - CROP)
        x0 = int(torch.randint(low, high + 1, (1,), generator=g))
        y0 = int(torch.randint(0, height - CROP + 1, (1,), generator=g))
        out.append(lab[:, y0:y0 + CROP, x0:x0 + CROP])
    return torch.stack(out)  # [count, 3, CROP, CROP]


colour_train = colour_crops(budget(full=2000, quick=200), "train", seed=0)
colour_test = colour_crops(budget(full=300, quick=60), "test", seed=1)
train_ab_half = F.avg_pool2d(colour_train[:, 1:], 2)  # targets at the network's half resolution
all_centers = ref_color.bin_centers()  # [484, 2]
bin_counts = torch.bincount(ref_color.ab_to_bin(train_ab_half).flatten(), minlength=len(all_centers)).float()
used_bins = bin_counts > 0
num_colour_classes = int(used_bins.sum())
class_of_bin = torch.full((len(all_centers),), -1, dtype=torch.int64)
class_of_bin[used_bins] = torch.arange(num_colour_classes)
class_centers = all_centers[used_bins]  # [Q, 2]
class_weights = ref_color.rebalancing_weights(bin_counts[used_bins], class_centers)
print(f"{len(colour_train)} training and {len(colour_test)} test crops; {num_colour_classes} of the 484 bins occur "
      f"in training; rebalancing weights from {class_weights.min():.2f} to {class_weights.max():.1f}")

grid_side = ref_color.num_bins_per_axis()
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, values, title in ((axes[0], torch.log10(bin_counts + 1), "log10(pixels + 1) per ab bin"),
                          (axes[1], torch.where(used_bins, torch.zeros_like(bin_counts).index_put((used_bins.nonzero().flatten(),), class_weights),
                                                torch.full_like(bin_counts, float("nan"))), "rebalancing weight")):
    shown = ax.imshow(values.view(grid_side, grid_side).numpy(), origin="lower", extent=(-110, 110, -110, 110),
                      cmap="viridis")
    ax.set_xlabel("b (blue - yellow)")
    ax.set_ylabel("a (green - red)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(shown, ax=ax, fraction=0.046)
fig.tight_layout()
plt.show()

# %% [markdown]
# The training photos fill only a small, grey-centred blob of the ab plane, and the
# weights turn the blob's rarely seen outer bins into the loudest ones. Now the two
# networks, trained the same number of steps on the same crops (randomly flipped left to
# right): one regresses ab (divided by 110) with the squared error, the other classifies
# into the bins with the rebalanced cross-entropy.

# %%
COLOR_STEPS = budget(full=150, quick=3)
COLOR_BATCH = 32


def lightness_input(lab):
    return lab[:, :1] / 50.0 - 1.0  # L in [0, 100] -> [-1, 1]


def train_colorizer(mode, steps=COLOR_STEPS, seed=0):
    seed_everything(seed)
    net = ref_ssl.ColorizationNet(2 if mode == "regression" else num_colour_classes).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    weights = class_weights.to(device)
    g = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc=f"colorization ({mode})", leave=False):
        net.train()
        batch = colour_train[torch.randint(len(colour_train), (COLOR_BATCH,), generator=g)]
        if bool(torch.rand(1, generator=g) < 0.5):
            batch = batch.flip(-1)
        batch = batch.to(device)
        output = net(lightness_input(batch))  # [B, 2 or Q, CROP/2, CROP/2]
        target_ab = F.avg_pool2d(batch[:, 1:], 2)
        if mode == "regression":
            batch_loss = F.mse_loss(output, target_ab / 110.0)
        else:
            batch_loss = F.cross_entropy(output, class_of_bin.to(device)[ref_color.ab_to_bin(target_ab)], weight=weights)
        opt.zero_grad()
        batch_loss.backward()
        opt.step()
    return net.eval()


def colorize(net, mode, lab):
    """Predicted ab at full resolution, Tensor[N, 2, H, W]."""
    with torch.no_grad():
        output = net(lightness_input(lab.to(device))).cpu()
    if mode == "regression":
        ab = output * 110.0
    else:
        ab = ref_color.annealed_mean(output.softmax(1), class_centers, temperature=0.38)
    return F.interpolate(ab, scale_factor=2, mode="bilinear", align_corners=False)


start = time.perf_counter()
colorizers = {mode: train_colorizer(mode) for mode in ("regression", "classification")}
print(f"two colorization networks trained in {time.perf_counter() - start:.1f} s")
true_ab = colour_test[:, 1:]
mean_colour = colour_train[:, 1:].mean(dim=(0, 2, 3))  # the "predict the mean colour" baseline
predictions = {"mean colour of the training pixels": mean_colour.view(1, 2, 1, 1).expand_as(true_ab),
               "grey (a = b = 0)": torch.zeros_like(true_ab)}
predictions.update({mode: colorize(net, mode, colour_test) for mode, net in colorizers.items()})
colour_errors = {}
print(f"mean chroma |ab| of the true colours: test crops {true_ab.norm(dim=1).mean():.1f}, "
      f"training crops {colour_train[:, 1:].norm(dim=1).mean():.1f}")
print(f"{'prediction':>36s}   mean ab error   mean chroma")
for name, ab in predictions.items():
    colour_errors[name] = float((ab - true_ab).norm(dim=1).mean())  # Euclidean distance in ab, per pixel
    print(f"{name:>36s}   {colour_errors[name]:13.2f}   {float(ab.norm(dim=1).mean()):11.1f}")
report("colorization_regression_ab_error", colour_errors["regression"],
       target=round(colour_errors["mean colour of the training pixels"], 2), higher_is_better=False)
report("colorization_classification_ab_error", colour_errors["classification"])

# %% [markdown]
# Both networks beat the baseline that paints every pixel in the average colour of the
# training photos, on crops they have never seen: from lightness alone they have learned
# something about which textures come in which colours. The chroma column is the one to
# compare with the argument of section 5.2: the classification network with the annealed
# mean commits to stronger colours than the regression network. (Neither is greyer than the
# truth on average here: our test crops are less colourful than the training crops, and a
# six-photo training set teaches strong priors, such as "textures like this are orange".)
# Whether that helps the
# per-pixel error depends on the test crop: a confident wrong colour costs more than a
# cautious grey, which is why Zhang et al. judged colorization by asking people whether the
# colours looked real, not by its per-pixel error.

# %%
shown = torch.arange(0, len(colour_test), max(1, len(colour_test) // 6))[:6]
rows = {"grey input": None, "regression": predictions["regression"], "classification": predictions["classification"],
        "truth": true_ab}
fig, axes = plt.subplots(len(rows), len(shown), figsize=(1.9 * len(shown), 1.9 * len(rows) + 0.3))
for r, (name, ab) in enumerate(rows.items()):
    for c, i in enumerate(shown.tolist()):
        L = colour_test[i:i + 1, :1]
        lab = torch.cat([L, torch.zeros_like(true_ab[i:i + 1]) if ab is None else ab[i:i + 1]], dim=1)
        axes[r, c].imshow(ref_color.lab_to_rgb(lab)[0].permute(1, 2, 0).numpy())
        axes[r, c].set_axis_off()
    axes[r, 0].set_title(name, fontsize=9, loc="left")
fig.suptitle("held-out crops: grey input, the two networks' colours, the truth", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# As a pretext task, what did the network learn? To colour a crop it must tell the cat's
# fur from the rocket's paint and the sky from the coffee, so its features carry some
# semantics; Zhang et al. found that their colorization features, fine-tuned, did well on
# PASCAL classification, detection and segmentation. A limitation is visible in the design
# itself: the network's input is a grey image, so its first layers never learn to look at
# colour, and the features are used on colour images later.
#
# **Split-brain autoencoders** (Zhang, Isola and Efros 2017) fix exactly that. Split the
# network into two halves: one predicts ab from L, the other predicts L from ab, and the
# features of both halves are concatenated. Each half solves a cross-channel prediction
# problem, and together they see every channel of the input. The same idea works for other
# pairs of channels, such as colour and depth.

# %% [markdown]
# ## 6. Contrastive learning
#
# Pretext tasks are ingenious but brittle: each needs its own trick, each has its own
# shortcuts, and the features are only as good as the task happens to make them.
# Contrastive learning replaces the hand-made task with a general principle. Take an
# image, make two differently distorted copies of it (a crop here, a colour change there):
# these two **views** form a *positive pair*, and a good representation should map them to
# nearby points. Views of *other* images are *negatives* and should land far away. The
# network is never told what is in an image; it only learns what stays the same under the
# distortions we chose, and what tells one image from another.
#
# ### 6.1 From the lecture's formula to InfoNCE
#
# The lecture writes the objective, for a sample with feature $z$ and other samples $x_i$,
# as "minimize $\exp(z^\top z) / \exp(z^\top z + \sum_i z^\top x_i)$", and then replaces the
# first $z$ by an augmented view $z'$. Taken literally, this has three problems. The fraction
# is the probability that the positive wins, so it must be *maximized* (or its negative
# logarithm minimized); the denominator must be a *sum of exponentials*,
# $\exp(z^\top z') + \sum_i \exp(z^\top x_i)$, not the exponential of a sum; and with the
# exponential of a sum, the fraction simplifies to $\exp(-\sum_i z^\top x_i)$, which does not
# depend on the positive at all. The cell checks that last claim numerically, and that
# minimizing it as written pulls the negatives *closer* to $z$.

# %%
g = torch.Generator().manual_seed(0)
z = F.normalize(torch.randn(8, generator=g), dim=0)
others = F.normalize(torch.randn(5, 8, generator=g), dim=1)  # the x_i
for name, positive in (("a view close to z", F.normalize(z + 0.1 * torch.randn(8, generator=g), dim=0)),
                       ("an unrelated vector", F.normalize(torch.randn(8, generator=g), dim=0))):
    s_pos, s_neg = positive @ z, others @ z
    lecture = torch.exp(s_pos) / torch.exp(s_pos + s_neg.sum())
    correct = torch.exp(s_pos) / (torch.exp(s_pos) + torch.exp(s_neg).sum())
    print(f"positive = {name:20s}: lecture's fraction {lecture:.4f} (= exp(-sum z.x_i) = {torch.exp(-s_neg.sum()):.4f}), "
          f"InfoNCE probability {correct:.4f}")
z_var = z.clone().requires_grad_(True)
(torch.exp(z_var @ z_var) / torch.exp(z_var @ z_var + (others @ z_var).sum())).backward()
step = -z_var.grad  # the direction gradient descent would move z
print(f"gradient descent on the lecture's expression moves z towards the negatives: "
      f"d(sum z.x_i) = {float(others.sum(0) @ step):+.4f} > 0")

# %% [markdown]
# The corrected objective is **InfoNCE** (van den Oord et al. 2018): with similarities
# divided by a temperature $\tau$,
#
# $$\ell = -\log \frac{\exp(s(z, z')/\tau)}{\exp(s(z, z')/\tau) + \sum_{i} \exp(s(z, x_i)/\tau)},$$
#
# which is exactly the cross-entropy of a classifier that must pick the positive out of the
# candidates. SimCLR (Chen et al. 2020) uses the batch itself as the negatives. A batch of
# $N$ images gives $2N$ views; for view $a$ with positive $p$, the other $2N - 2$ views are
# its negatives, and the similarity is the cosine $s(u, v) = u^\top v / (\lVert u\rVert\,\lVert v\rVert)$:
#
# $$\ell(a, p) = -\log \frac{\exp(s(z_a, z_p)/\tau)}{\sum_{k \ne a} \exp(s(z_a, z_k)/\tau)}.$$
#
# The loss, called **NT-Xent** (normalized temperature-scaled cross-entropy), averages
# $\ell$ over all $2N$ views as anchors, so each positive pair counts twice, once in each
# direction. The sum in the denominator runs over all views except the anchor itself
# (whose similarity with itself is always 1, which would teach nothing).
#
# ### Exercise 4: the NT-Xent loss (5 points)
#
# Implement `nt_xent_loss(z1, z2, temperature)`, where `z1[i]` and `z2[i]` are the
# embeddings of the two views of image `i`. Vectorize it: stack the views into a
# `[2N, D]` matrix, normalize the rows, compute all cosine similarities with one matrix
# product, remove each view's similarity with itself (setting it to $-\infty$ before a
# softmax removes it from the sum), and pick each view's positive: in the stacked order,
# the positive of view $a$ is view $(a + N) \bmod 2N$. Return the mean over the $2N$
# anchors as a 0-d tensor. `torch.nn.functional.cross_entropy` and `log_softmax` are allowed;
# the course's `course_utils.losses.contrastive` is not. The embeddings are never zero
# vectors, and $N \ge 1$ (with $N = 1$ the positive is the only other view, and the loss is 0).

# %% nbgrader={"grade": false, "grade_id": "nt_xent_loss", "locked": false, "schema_version": 3, "solution": true}
def nt_xent_loss(z1, z2, temperature=0.5):
    """NT-Xent (SimCLR), the mean over the 2N anchors.

    Args:
        z1: Tensor[N, D] float, first views' embeddings.
        z2: Tensor[N, D] float, second views' embeddings (z2[i] is the positive of z1[i]).
        temperature: tau > 0.

    Returns:
        0-d tensor, the loss.
    """
    ### BEGIN SOLUTION
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # [2N, D]
    logits = z @ z.T / temperature  # [2N, 2N]
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    positives = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # [2N]
    return F.cross_entropy(logits, positives)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_nt_xent_cases", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Hand-made cases, computed from the formula.
one = torch.tensor([[1.0, 0.0]])
expect_close(nt_xent_loss(one, one.clone(), 0.5), torch.tensor(0.0),
             "nt_xent_loss with N = 1 (the positive is the only other view: loss 0)")
basis = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
# anchor (1, 0): positive similarity 1, the two others 0 -> -log(e / (e + 1 + 1)) for every anchor
expect_close(nt_xent_loss(basis, basis.clone(), 1.0), torch.tensor(math.log(math.e + 2) - 1),
             "nt_xent_loss of two orthogonal images with identical views, temperature 1")
expect_close(nt_xent_loss(basis, basis.clone(), 0.25), torch.tensor(math.log(math.e ** 4 + 2) - 4),
             "the same with temperature 0.25 (similarities are divided by the temperature)")
expect_close(nt_xent_loss(3.0 * basis, 0.5 * basis, 1.0), torch.tensor(math.log(math.e + 2) - 1),
             "nt_xent_loss must use cosine similarity: scaling the embeddings changes nothing")
swapped = torch.tensor([[0.0, 1.0], [1.0, 0.0]])  # each second view is orthogonal to its first view
# anchor z1[0] = (1, 0): z1[1] = (0, 1) sim 0, z2[0] = (0, 1) sim 0 (its positive), z2[1] = (1, 0) sim 1
expect_close(nt_xent_loss(basis, swapped, 1.0), torch.tensor(math.log(1 + 1 + math.e)),
             "nt_xent_loss when each positive is orthogonal to its anchor and a negative is identical")


def nt_xent_by_the_formula(z1, z2, tau):
    """The SimCLR formula, one anchor at a time."""
    views = torch.cat([z1, z2])
    n2 = len(views)
    total = 0.0
    for a in range(n2):
        sims = [float(views[a] @ views[k] / (views[a].norm() * views[k].norm())) / tau for k in range(n2)]
        denominator = sum(math.exp(sims[k]) for k in range(n2) if k != a)
        total += -(sims[(a + n2 // 2) % n2] - math.log(denominator))
    return total / n2


torch.manual_seed(0)
z1, z2 = torch.randn(5, 3), torch.randn(5, 3)
got = nt_xent_loss(z1, z2, 0.5)
expect_tensor(got, "nt_xent_loss of [5, 3] embeddings (a 0-d tensor)", shape=())
expect_close(got, torch.tensor(nt_xent_by_the_formula(z1, z2, 0.5)), "nt_xent_loss of random [5, 3] embeddings, tau 0.5",
             atol=1e-5, rtol=1e-5)
### BEGIN HIDDEN TESTS
_FORBIDDEN_NTXENT = (ref_contrastive.nt_xent, ref_contrastive.nt_xent_loop, ref_contrastive.info_nce)
_h_g = torch.Generator().manual_seed(12)
_h_a, _h_b = torch.randn(7, 4, generator=_h_g), torch.randn(7, 4, generator=_h_g)
_h_expected = ref_contrastive.nt_xent_loop(_h_a, _h_b, 0.3)
_h_expected_t = ref_contrastive.nt_xent_loop(_h_b, _h_a, 0.3)
with forbid(*_FORBIDDEN_NTXENT, exercise="nt_xent_loss"):
    _h_got = nt_xent_loss(_h_a, _h_b, 0.3)
    _h_got_t = nt_xent_loss(_h_b, _h_a, 0.3)
expect_close(_h_got, _h_expected, "nt_xent_loss of random [7, 4] embeddings, tau 0.3")
expect_close(_h_got_t, _h_expected_t, "nt_xent_loss with the views swapped")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_nt_xent_random", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Other sizes, temperatures and float64 inputs, against the course's loop version of the formula.
for n, d, tau in ((1, 4, 0.1), (3, 2, 1.0), (6, 8, 0.07)):
    torch.manual_seed(n)
    z1, z2 = torch.randn(n, d, dtype=torch.float64), torch.randn(n, d, dtype=torch.float64)
    got = nt_xent_loss(z1, z2, tau)
    expect_tensor(got, f"nt_xent_loss of float64 [{n}, {d}] embeddings (a 0-d tensor)", shape=())
    expect_close(got, ref_contrastive.nt_xent_loop(z1, z2, tau),
                 f"nt_xent_loss of float64 [{n}, {d}] embeddings, tau {tau} (compared with the course's loop version)",
                 atol=1e-5, rtol=1e-5)
### BEGIN HIDDEN TESTS
_FORBIDDEN_NTXENT = (ref_contrastive.nt_xent, ref_contrastive.nt_xent_loop, ref_contrastive.info_nce)
for _h_seed, (_h_n, _h_d, _h_tau) in enumerate([(2, 3, 0.5), (11, 16, 0.2), (32, 5, 0.05), (4, 1, 2.0)]):
    _h_g = torch.Generator().manual_seed(100 + _h_seed)
    _h_a, _h_b = torch.randn(_h_n, _h_d, generator=_h_g), torch.randn(_h_n, _h_d, generator=_h_g)
    _h_expected = ref_contrastive.nt_xent_loop(_h_a.double(), _h_b.double(), _h_tau)
    with forbid(*_FORBIDDEN_NTXENT, exercise="nt_xent_loss"):
        _h_got = nt_xent_loss(_h_a, _h_b, _h_tau)
    expect_close(_h_got, _h_expected.float(), f"nt_xent_loss of random [{_h_n}, {_h_d}] embeddings, tau {_h_tau}",
                 atol=1e-4, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### 6.2 The views: augmentations decide what is learned
#
# The positive pairs are where all the knowledge enters. Whatever differs between two
# views of one image, the network is taught to ignore; whatever stays the same, it may use.
# SimCLR's study of augmentations found that two matter most: **random cropping** (with
# resizing back to full size), which forces the network to relate a part to the whole and
# two parts to each other, and **colour distortion**, without which two crops of one image
# can be matched by their colour histograms alone, another shortcut. Blur helps a little.
#
# For our grey 8 × 8 digits, `course_utils.data.views.Augment` composes the same families:
# a random resized crop covering 30–100 % of the image (here with a rotation of up to
# ±0.3 rad, which digits tolerate), a random change of brightness and contrast instead of
# colour, and a blur. We leave out the horizontal flip: a mirrored 2 is not a digit. Each
# row below shows one digit and eight random views of it.

# %%
digits_train = DigitsDataset("train", normalize=False)  # pixels in [0, 1], what the augmentations expect
digits_val = DigitsDataset("val", normalize=False)
digits_test = DigitsDataset("test", normalize=False)
unlabelled = torch.cat([digits_train.images, digits_val.images])  # SimCLR sees these without labels
AUGMENT = Augment(crop=True, flip=False, jitter=True, blur=True, crop_scale=(0.3, 1.0), max_rotation=0.3)
view_generator = torch.Generator().manual_seed(0)
examples = digits_train.images[[0, 5, 9]]
grid = torch.cat([torch.cat([x[None], AUGMENT(x[None].expand(8, -1, -1, -1).clone(), view_generator)]) for x in examples])
fig = show_images(grid, ncols=9, cmap="gray", rescale=False, figsize=(9, 3.3),
                  suptitle="first column: a training digit; then 8 random views of it")
plt.show()

# %% [markdown]
# ### Exercise 5: checking a pair generator (4 points)
#
# Augmentation code is easy to get subtly wrong, and a wrong positive pair does not crash
# anything: training runs, the loss goes down, and the features are useless. A pair whose
# two views are identical makes the task trivial; views that leave the valid range of pixel
# values are images the encoder will never see at test time; a generator that ignores its
# seed makes experiments impossible to repeat. So before training, we test the generator.
#
# Write `audit_view_pairs(make_pair, images, seed)`. `make_pair(images, generator)` returns
# two views `(view1, view2)` of a batch `images` (`Tensor[N, C, H, W]`); it should draw its
# randomness from `generator`. Call it with fresh generators,
# `torch.Generator().manual_seed(...)`, and return a dict of five bools:
#
# * `"same_shape"`: both views have exactly the shape of `images`;
# * `"in_range"`: every value of both views lies in [0, 1] (no tolerance);
# * `"views_differ"`: for **every** image `i`, `view1[i]` and `view2[i]` differ somewhere by
#   more than `1e-6` (one identical pair is already a bug);
# * `"reproducible"`: two calls, each with a new generator seeded with `seed`, give exactly
#   equal `view1`s and exactly equal `view2`s;
# * `"seed_matters"`: a call with a generator seeded with `seed + 1` gives a `view1` that
#   differs from the one of `seed` somewhere by more than `1e-6`.
#
# If `"same_shape"` is False, the other four are False too (views of the wrong shape are not
# worth checking further, and comparing them could fail).

# %% nbgrader={"grade": false, "grade_id": "audit_view_pairs", "locked": false, "schema_version": 3, "solution": true}
def audit_view_pairs(make_pair, images, seed=0):
    """Check the properties a positive-pair generator must have.

    Args:
        make_pair: function (images, generator) -> (view1, view2).
        images: Tensor[N, C, H, W] in [0, 1].
        seed: int, the seed of the generators.

    Returns:
        dict with bool values for "same_shape", "in_range", "views_differ", "reproducible",
        "seed_matters".
    """
    ### BEGIN SOLUTION
    keys = ("same_shape", "in_range", "views_differ", "reproducible", "seed_matters")
    view1, view2 = make_pair(images, torch.Generator().manual_seed(seed))
    if view1.shape != images.shape or view2.shape != images.shape:
        return {key: False for key in keys}
    again1, again2 = make_pair(images, torch.Generator().manual_seed(seed))
    other1, _ = make_pair(images, torch.Generator().manual_seed(seed + 1))
    per_image_gap = (view1 - view2).abs().flatten(1).max(dim=1).values  # [N]
    return {
        "same_shape": True,
        "in_range": bool(view1.min() >= 0 and view1.max() <= 1 and view2.min() >= 0 and view2.max() <= 1),
        "views_differ": bool((per_image_gap > 1e-6).all()),
        "reproducible": bool(torch.equal(view1, again1) and torch.equal(view2, again2)),
        "seed_matters": bool((view1 - other1).abs().max() > 1e-6),
    }
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_audit_view_pairs", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Generators with known faults; the audit must find exactly the faults each one has.
KEYS = ("same_shape", "in_range", "views_differ", "reproducible", "seed_matters")
torch.manual_seed(0)
batch = torch.rand(6, 1, 8, 8) * 0.8 + 0.1


def noisy_views(images, generator):  # correct: two independent noisy, clipped views
    noise = torch.randn(2, *images.shape, generator=generator) * 0.05
    return (images + noise[0]).clamp(0, 1), (images + noise[1]).clamp(0, 1)


def identical_views(images, generator):  # both views the same
    view = (images + torch.randn(images.shape, generator=generator) * 0.05).clamp(0, 1)
    return view, view.clone()


def one_identical_pair(images, generator):  # views differ, except for the third image
    view1, view2 = noisy_views(images, generator)
    view2[2] = view1[2]
    return view1, view2


def unclipped_views(images, generator):  # brightness shift without clipping
    shift = torch.rand(2, images.shape[0], 1, 1, 1, generator=generator) * 0.4
    return images + shift[0], images + shift[1]


def second_view_unclipped(images, generator):  # only the second view leaves [0, 1]
    view1, view2 = noisy_views(images, generator)
    return view1, view2 + 0.5


def global_random_views(images, generator):  # ignores the generator
    return (images + torch.randn(images.shape) * 0.05).clamp(0, 1), (images + torch.randn(images.shape) * 0.05).clamp(0, 1)


def fixed_views(images, generator):  # deterministic: a shift and the original
    return images.roll(1, dims=-1), images.clone()


def smaller_views(images, generator):  # crops without resizing back
    view1, view2 = noisy_views(images, generator)
    return view1[..., 1:, 1:], view2[..., 1:, 1:]


def only_second_wrong_shape(images, generator):
    view1, view2 = noisy_views(images, generator)
    return view1, view2[:, :, :-1]


expected_audits = {
    "a correct generator": (noisy_views, (True, True, True, True, True)),
    "identical views": (identical_views, (True, True, False, True, True)),
    "one identical pair among six": (one_identical_pair, (True, True, False, True, True)),
    "views out of [0, 1]": (unclipped_views, (True, False, True, True, True)),
    "a second view out of [0, 1]": (second_view_unclipped, (True, False, True, True, True)),
    "a generator that ignores its seed": (global_random_views, (True, True, True, False, True)),
    "deterministic views": (fixed_views, (True, True, True, True, False)),
    "views of the wrong shape": (smaller_views, (False,) * 5),
    "a second view of the wrong shape": (only_second_wrong_shape, (False,) * 5),
}
for description, (make_pair, expected) in expected_audits.items():
    audit = audit_view_pairs(make_pair, batch, seed=3)
    assert isinstance(audit, dict), f"audit_view_pairs should return a dict, got {type(audit).__name__}"
    expect_equal(sorted(audit), sorted(KEYS), f"the keys of audit_view_pairs' result (for {description})")
    for key, value in zip(KEYS, expected):
        expect_equal(audit[key], value, f"audit_view_pairs(...)['{key}'] for {description}")
### BEGIN HIDDEN TESTS
_h_batch = torch.rand(4, 3, 5, 5, generator=torch.Generator().manual_seed(1)) * 0.5 + 0.25


def _h_exact_edges(images, generator):  # values exactly 0 and 1 are in range
    _h_a, _h_b = noisy_views(images, generator)
    _h_a[0, 0, 0, 0], _h_b[1, 0, 0, 0] = 0.0, 1.0
    return _h_a, _h_b


def _h_tiny_difference(images, generator):  # one pair differs by only 1e-8
    _h_a, _h_b = noisy_views(images, generator)
    _h_b[3] = _h_a[3] + 1e-8
    return _h_a, _h_b


def _h_seed_in_view2_only(images, generator):  # view1 fixed, view2 random: seed does not change view1
    return images.flip(-1), noisy_views(images, generator)[1]


for _h_fn, _h_expected, _h_name in ((_h_exact_edges, (True,) * 5, "views touching 0 and 1"),
                                    (_h_tiny_difference, (True, True, False, True, True), "a pair 1e-8 apart"),
                                    (_h_seed_in_view2_only, (True, True, True, True, False), "a view1 that ignores the seed"),
                                    (noisy_views, (True,) * 5, "a correct generator on RGB images")):
    _h_audit = audit_view_pairs(_h_fn, _h_batch, seed=11)
    for _h_key, _h_value in zip(KEYS, _h_expected):
        expect_equal(_h_audit[_h_key], _h_value, f"audit_view_pairs(...)['{_h_key}'] for {_h_name}")
### END HIDDEN TESTS

# %% [markdown]
# The generator this chapter trains with passes the audit:

# %%
try:
    print({key: bool(value) for key, value in
           audit_view_pairs(lambda x, g: two_views(x, AUGMENT, g), digits_train.images[:64]).items()})
except NotImplementedError:
    print("(write audit_view_pairs in Exercise 5 to see the audit of the chapter's generator)")

# %% [markdown]
# ### 6.3 The projection head and the training step
#
# SimCLR's network has two parts. The **encoder** $f$ turns an image into a representation
# $h = f(x)$; it is what we keep. The **projection head** $g$, a small MLP, maps $h$ to the
# embedding $z = g(h)$ on which the loss is computed, and is thrown away after training.
# Why not apply the loss to $h$ directly? Because the loss asks $z$ to be *invariant* to
# the augmentations: the crop's position, the brightness, the blur must not change it.
# Information that the loss throws away in $z$ may still be useful downstream (the
# brightness of a digit says nothing about its class, but the position of a stroke
# might), and the head gives the network a place to throw it away without destroying it in
# $h$. Chen et al. measured a linear probe on $h$ more than 10 points better than on $z$.
#
# One training step is then: embed both views (one batch of $2N$ images through encoder
# and head, so that batch normalization sees all of them), compute the loss, and take an
# optimizer step.
#
# ### Exercise 6: projection head and training step (5 points)
#
# 1. `ProjectionHead(in_dim, hidden_dim, out_dim)`: an `nn.Module` computing
#    `fc2(relu(fc1(h)))`, where `fc1 = nn.Linear(in_dim, hidden_dim)` and
#    `fc2 = nn.Linear(hidden_dim, out_dim)` are attributes with exactly these names (the
#    tests copy weights by name), and no other parameters.
# 2. `simclr_step(encoder, head, view1, view2, optimizer, loss_fn, temperature)`: put
#    `encoder` and `head` in training mode, compute `z1 = head(encoder(view1))` and
#    `z2 = head(encoder(view2))` (one concatenated batch or two calls: both are fine), the loss
#    `loss_fn(z1, z2, temperature)`, then clear the old gradients, backpropagate and take one
#    `optimizer` step. Return the loss value (computed before the step) as a Python float.
#
# The chapter trains with your two pieces (and your `nt_xent_loss` as `loss_fn`) once they
# work; until then it falls back to the course's versions and says so.

# %% nbgrader={"grade": false, "grade_id": "projection_head", "locked": false, "schema_version": 3, "solution": true}
class ProjectionHead(nn.Module):
    """SimCLR's projection head: z = fc2(relu(fc1(h))).

    Args:
        in_dim: size of the encoder's representation h.
        hidden_dim: size of the hidden layer.
        out_dim: size of the embedding z.
    """

    def __init__(self, in_dim, hidden_dim, out_dim):
        super().__init__()
        ### BEGIN SOLUTION
        self.fc1 = nn.Linear(in_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, out_dim)
        ### END SOLUTION

    def forward(self, h):
        ### BEGIN SOLUTION
        return self.fc2(torch.relu(self.fc1(h)))
        ### END SOLUTION


def simclr_step(encoder, head, view1, view2, optimizer, loss_fn, temperature=0.5):
    """One SimCLR training step; returns the loss (before the update) as a float."""
    ### BEGIN SOLUTION
    encoder.train()
    head.train()
    n = view1.shape[0]
    z = head(encoder(torch.cat([view1, view2])))  # [2N, out_dim]
    loss = loss_fn(z[:n], z[n:], temperature)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_projection_head", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Shapes, parameters, and the output and gradients against the course's head with the same weights.
torch.manual_seed(0)
head = ProjectionHead(12, 10, 6)
expect_equal(sorted(name for name, _ in head.named_parameters()), ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"],
             "the parameters of ProjectionHead(12, 10, 6)")
expect_equal(sum(p.numel() for p in head.parameters()), 12 * 10 + 10 + 10 * 6 + 6,
             "the number of parameters of ProjectionHead(12, 10, 6)")
reference_head = ref_ssl.ProjectionHead(12, 10, 6)
reference_head.load_state_dict(head.state_dict())
h = torch.randn(5, 12, requires_grad=True)
h_ref = h.detach().clone().requires_grad_(True)
out = head(h)
expect_tensor(out, "ProjectionHead(12, 10, 6) on a [5, 12] batch", shape=(5, 6))
expect_close(out, reference_head(h_ref), "ProjectionHead's output (same weights as the reference)")
(out ** 2).sum().backward()
(reference_head(h_ref) ** 2).sum().backward()
expect_close(h.grad, h_ref.grad, "the gradient of ProjectionHead's output with respect to its input")
### BEGIN HIDDEN TESTS
_FORBIDDEN_HEAD = (ref_ssl.ProjectionHead.__init__, ref_ssl.ProjectionHead.forward, ref_ssl.simclr_step)
with forbid(*_FORBIDDEN_HEAD, exercise="ProjectionHead"):
    _h_head = ProjectionHead(3, 7, 2)
    _h_x = torch.randn(9, 3, generator=torch.Generator().manual_seed(5))
    _h_out = _h_head(_h_x)
_h_ref = ref_ssl.ProjectionHead(3, 7, 2)
_h_ref.load_state_dict(_h_head.state_dict())
expect_close(_h_out, _h_ref(_h_x), "ProjectionHead(3, 7, 2) against the reference")
expect_equal(sum(p.numel() for p in _h_head.parameters()), 3 * 7 + 7 + 7 * 2 + 2, "parameters of ProjectionHead(3, 7, 2)")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_simclr_step", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Two steps of simclr_step against the course's reference on copies of the same tiny networks.
def tiny_networks(seed):
    torch.manual_seed(seed)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh())
    head = ref_ssl.ProjectionHead(8, 8, 4)
    return encoder, head


def cosine_gap_loss(z1, z2, temperature):  # a simple stand-in loss: which argument is which matters
    return (1 - F.cosine_similarity(z1, z2 + 0.1 * z1.roll(1, 0), dim=1)).mean() * temperature + z1.mean()


torch.manual_seed(1)
views = [(torch.rand(6, 1, 4, 4), torch.rand(6, 1, 4, 4)) for _ in range(2)]
for loss_name, loss_fn in (("a stand-in loss", cosine_gap_loss), ("the course's NT-Xent", ref_contrastive.nt_xent)):
    encoder, head = tiny_networks(0)
    encoder_ref, head_ref = copy.deepcopy(encoder), copy.deepcopy(head)
    optimizer = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.5, momentum=0.9)
    optimizer_ref = torch.optim.SGD(list(encoder_ref.parameters()) + list(head_ref.parameters()), lr=0.5, momentum=0.9)
    encoder.eval(), head.eval()
    for step, (v1, v2) in enumerate(views):
        got = simclr_step(encoder, head, v1, v2, optimizer, loss_fn, 0.7)
        expected = ref_ssl.simclr_step(encoder_ref, head_ref, v1, v2, optimizer_ref, loss_fn, 0.7)
        assert type(got) is float, f"simclr_step should return a Python float, got {type(got).__name__}"
        expect_equal(got, expected, f"the loss returned by simclr_step at step {step + 1} with {loss_name}", rel_tol=1e-5)
        for (name, p), p_ref in zip(list(encoder.named_parameters()) + list(head.named_parameters()),
                                    list(encoder_ref.parameters()) + list(head_ref.parameters())):
            expect_close(p.detach(), p_ref.detach(), f"parameter {name} after step {step + 1} with {loss_name}")
    assert encoder.training and head.training, "simclr_step must put encoder and head in training mode"
### BEGIN HIDDEN TESTS
_h_enc, _h_head = tiny_networks(3)
_h_enc_ref, _h_head_ref = copy.deepcopy(_h_enc), copy.deepcopy(_h_head)
_h_opt = torch.optim.Adam(list(_h_enc.parameters()) + list(_h_head.parameters()), lr=0.01)
_h_opt_ref = torch.optim.Adam(list(_h_enc_ref.parameters()) + list(_h_head_ref.parameters()), lr=0.01)
_h_g = torch.Generator().manual_seed(4)
for _h_step in range(3):
    _h_v1, _h_v2 = torch.rand(5, 1, 4, 4, generator=_h_g), torch.rand(5, 1, 4, 4, generator=_h_g)
    with forbid(ref_ssl.simclr_step, exercise="simclr_step"):
        _h_got = simclr_step(_h_enc, _h_head, _h_v1, _h_v2, _h_opt, ref_contrastive.nt_xent, 0.2)
    _h_expected = ref_ssl.simclr_step(_h_enc_ref, _h_head_ref, _h_v1, _h_v2, _h_opt_ref, ref_contrastive.nt_xent, 0.2)
    expect_equal(_h_got, _h_expected, f"simclr_step's loss at Adam step {_h_step + 1}", rel_tol=1e-5)
for _h_p, _h_q in zip(_h_enc.parameters(), _h_enc_ref.parameters()):
    expect_close(_h_p.detach(), _h_q.detach(), "encoder parameters after three Adam steps")
### END HIDDEN TESTS

# %% [markdown]
# ### 6.4 Training SimCLR on digits, without labels
#
# The unlabelled data are the 1,437 training and validation digits (their labels are
# never read); the test digits stay aside for evaluation. The encoder is the course's
# `ConvEncoder` (three 3 × 3 convolutions with batch norm, global average pooling, a
# 64-dimensional representation $h$), the head maps it to a 32-dimensional $z$. Batches of 256
# images give 510 negatives per anchor, and the temperature is 0.5. One budgeted cell,
# with a progress bar; in quick mode it runs for a couple of epochs only.

# %%
SIMCLR_EPOCHS = budget(full=30, quick=2)
SIMCLR_BATCH = 256
TEMPERATURE = 0.5
SNAPSHOT_EPOCH = budget(full=12, quick=1)  # the ablations of section 6.6 train this long


def pick_training_pieces():
    """The student's head, step and loss if they work on a tiny batch, else the course's."""
    tiny_encoder = ref_ssl.ConvEncoder(width=4)
    tiny = torch.rand(4, 1, 8, 8)
    try:
        tiny_head = ProjectionHead(tiny_encoder.feature_dim, 8, 4)
        optimizer = torch.optim.SGD(list(tiny_encoder.parameters()) + list(tiny_head.parameters()), lr=0.0)
        simclr_step(tiny_encoder, tiny_head, tiny, tiny.flip(-1), optimizer, ref_contrastive.nt_xent, 0.5)
        pieces = (ProjectionHead, simclr_step)
        print("training with your ProjectionHead and simclr_step", end="")
    except NotImplementedError:
        pieces = (ref_ssl.ProjectionHead, ref_ssl.simclr_step)
        print("Exercise 6 is not done yet: training with the course's ProjectionHead and simclr_step", end="")
    except Exception as error:  # a bug: say so, and keep the chapter running
        pieces = (ref_ssl.ProjectionHead, ref_ssl.simclr_step)
        print(f"your ProjectionHead / simclr_step raised {type(error).__name__}: {error}; "
              "training with the course's versions instead", end="")
    try:
        nt_xent_loss(torch.randn(3, 4), torch.randn(3, 4), 0.5)
        print(", and your nt_xent_loss.")
        return (*pieces, nt_xent_loss)
    except NotImplementedError:
        print(", and the course's NT-Xent (Exercise 4 is not done yet).")
    except Exception as error:
        print(f"; your nt_xent_loss raised {type(error).__name__}: {error}, so the course's NT-Xent is used.")
    return (*pieces, ref_contrastive.nt_xent)


def train_simclr(augment, epochs, loss=None, seed=0, snapshot_epoch=None, label="SimCLR", pieces=None):
    """SimCLR on the unlabelled digits; returns (encoder, head, losses per epoch, encoder snapshot or None)."""
    head_class, step_fn, loss_fn = pieces
    loss_fn = loss or loss_fn
    seed_everything(seed)
    encoder = ref_ssl.ConvEncoder(width=32).to(device)
    head = head_class(encoder.feature_dim, 64, 32).to(device)
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    losses, snapshot = [], None
    for epoch in tqdm(range(epochs), desc=label, leave=False):
        order = torch.randperm(len(unlabelled), generator=generator)
        epoch_losses = []
        for start in range(0, len(order) - SIMCLR_BATCH + 1, SIMCLR_BATCH):  # drop the last, smaller batch
            view1, view2 = two_views(unlabelled[order[start:start + SIMCLR_BATCH]], augment, generator)
            epoch_losses.append(step_fn(encoder, head, view1.to(device), view2.to(device), optimizer, loss_fn,
                                        TEMPERATURE))
        losses.append(sum(epoch_losses) / len(epoch_losses))
        if snapshot_epoch == epoch + 1:
            snapshot = copy.deepcopy(encoder).eval()
    return encoder.eval(), head.eval(), losses, snapshot


training_pieces = pick_training_pieces()
start = time.perf_counter()
simclr_encoder, simclr_head, simclr_losses, simclr_snapshot = train_simclr(AUGMENT, SIMCLR_EPOCHS,
                                                                            snapshot_epoch=SNAPSHOT_EPOCH,
                                                                            pieces=training_pieces)
print(f"{SIMCLR_EPOCHS} epochs in {time.perf_counter() - start:.1f} s; NT-Xent per epoch: "
      + " ".join(f"{v:.2f}" for v in simclr_losses[:: max(1, len(simclr_losses) // 8)]))
print(f"for comparison, log(2N - 1) = log({2 * SIMCLR_BATCH - 1}) = {math.log(2 * SIMCLR_BATCH - 1):.2f} is the loss "
      "of embeddings that tell nothing apart")

# %% [markdown]
# ### 6.5 What the temperature and the negatives do
#
# Two numbers frame the loss. If every similarity were equal, each anchor's softmax would
# be uniform over its $2N - 1$ candidates and the loss would be $\log(2N - 1)$, printed above;
# a trained network gets well below it. The gap between the two is a lower bound on the
# mutual information between the views (van den Oord et al.): $I \ge \log(2N - 1) - \ell$
# roughly, so a loss with more negatives can certify more information.
# That is one reason SimCLR wanted batches of 4,096 images; MoCo gets many negatives
# without huge batches from a queue of embeddings of earlier batches, computed by a slowly
# updated copy of the encoder.
#
# The temperature decides how the loss spends its effort among the negatives. The gradient
# with respect to the similarity of negative $k$ is proportional to its softmax weight
# $e^{s_k/\tau} / \sum_j e^{s_j/\tau}$: with a small $\tau$ almost all of it goes to the few
# *hardest* negatives, the ones most similar to the anchor; with a large $\tau$ it is spread
# evenly. The figure shows, for the trained encoder on the test digits, the distribution of
# cosine similarities between the two views of one digit and between views of different
# digits (split into same class and different class, which the network was never told),
# and the share of the gradient taken by the hardest 1 % of negatives at several
# temperatures.

# %%
eval_generator = torch.Generator().manual_seed(42)
test_view1, test_view2 = two_views(digits_test.images, AUGMENT, eval_generator)
with torch.no_grad():
    z_test1 = F.normalize(simclr_head(simclr_encoder(test_view1.to(device))), dim=1).cpu()
    z_test2 = F.normalize(simclr_head(simclr_encoder(test_view2.to(device))), dim=1).cpu()
similarity = z_test1 @ z_test2.T  # [M, M], diagonal = positive pairs
same_class = digits_test.labels[:, None] == digits_test.labels[None, :]
off_diagonal = ~torch.eye(len(similarity), dtype=torch.bool)
positives_sim = similarity.diag()
negatives_same = similarity[same_class & off_diagonal]
negatives_other = similarity[~same_class]
temperatures = [0.05, 0.1, 0.2, 0.5, 1.0]
hardest_share = []
for tau in temperatures:
    negatives = similarity.masked_fill(~off_diagonal, float("-inf")) / tau  # each row: anchor vs its negatives
    weights = torch.softmax(negatives, dim=1)
    top = max(1, int(0.01 * (len(similarity) - 1)))
    hardest_share.append(float(weights.topk(top, dim=1).values.sum(1).mean()))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
bins = np.linspace(-1, 1, 61)
axes[0].hist(negatives_other.numpy(), bins=bins, density=True, alpha=0.6, label="views of different digits, other class")
axes[0].hist(negatives_same.numpy(), bins=bins, density=True, alpha=0.6, label="views of different digits, same class")
axes[0].hist(positives_sim.numpy(), bins=bins, density=True, alpha=0.6, label="the two views of one digit (positive)")
axes[0].set_xlabel("cosine similarity of the embeddings z")
axes[0].legend(fontsize=8)
axes[0].set_title("held-out digits", fontsize=9)
axes[1].plot(temperatures, hardest_share, "o-")
axes[1].set_xscale("log")
axes[1].set_xlabel("temperature")
axes[1].set_ylabel("share of the negatives' gradient")
axes[1].set_title("taken by the hardest 1 % of negatives", fontsize=9)
fig.tight_layout()
plt.show()
print(f"mean cosine similarity: positives {positives_sim.mean():.2f}, same-class negatives {negatives_same.mean():.2f}, "
      f"other-class negatives {negatives_other.mean():.2f}")
print("hardest 1 % of negatives' share of the gradient: "
      + ", ".join(f"tau {t}: {s:.2f}" for t, s in zip(temperatures, hardest_share)))

# %% [markdown]
# Without ever seeing a label, the network puts two different 3s closer together than a 3
# and a 7: the class structure emerges because what stays the same under crops and
# brightness changes is, for digits, mostly the shape. The hardest negatives are
# often digits of the same class, which is a known weakness of the method: the loss pushes
# them apart even though, for us, they belong together. A moderate temperature keeps
# this push spread out.
#
# The number of negatives can be varied without retraining: evaluate the trained
# network's loss on test batches of different sizes. More negatives make the task harder
# (more candidates to beat), and the loss grows with the batch, roughly like
# $\log(2N - 1)$ minus what the network has learned.

# %%
for n in (4, 16, 64, 256):
    values = []
    for start in range(0, len(z_test1) - n + 1, n):
        values.append(float(ref_contrastive.nt_xent(z_test1[start:start + n], z_test2[start:start + n], TEMPERATURE)))
    print(f"batch of {n:3d} test digits ({2 * n - 2:3d} negatives per anchor): NT-Xent {np.mean(values):.2f}, "
          f"log(2N - 1) = {math.log(2 * n - 1):.2f}")

# %% [markdown]
# ## 7. Judging frozen features
#
# A self-supervised encoder is judged by what a *simple* classifier can do with its frozen
# features, using labels that the encoder never saw. Two classifiers are standard:
#
# * a **linear probe**: a logistic regression on the features (the encoder stays fixed);
#   if the classes are linearly separable in feature space, the features have done the
#   work;
# * **k-nearest neighbours**: label a test image by a vote of the $k$ training images whose
#   features are most similar to its own, by cosine similarity (the same similarity the
#   contrastive loss uses). It has no training at all and no hyper-parameter besides $k$,
#   which makes it a quick, honest check during training (Wu et al. 2018, and DINO).
#
# ### Exercise 7: k-nearest-neighbour classification (4 points)
#
# Write `knn_predict(train_features, train_labels, test_features, k)`:
#
# * the similarity of a test feature and a training feature is their cosine similarity
#   (normalize both; the features are never zero vectors);
# * each test feature gets the label that occurs most often among the `k` training
#   features most similar to it; if several labels tie for most votes, the **smallest**
#   label wins;
# * you may assume that no two training features are equally similar to a test feature;
# * return an `int64` tensor `[M]`; an empty test set (`M = 0`) gives an empty result.
#
# `torch.topk` and `torch.bincount` or `F.one_hot` help. Do not call scikit-learn or the
# course's `course_utils.metrics.probe`.

# %% nbgrader={"grade": false, "grade_id": "knn_predict", "locked": false, "schema_version": 3, "solution": true}
def knn_predict(train_features, train_labels, test_features, k=5):
    """k-nearest-neighbour labels by cosine similarity; vote ties go to the smallest label.

    Args:
        train_features: Tensor[N, D] float.
        train_labels: Tensor[N] int64, labels 0..C-1.
        test_features: Tensor[M, D] float.
        k: number of neighbours, 1 <= k <= N.

    Returns:
        Tensor[M] int64.
    """
    ### BEGIN SOLUTION
    similarity = F.normalize(test_features, dim=1) @ F.normalize(train_features, dim=1).T  # [M, N]
    nearest = similarity.topk(k, dim=1).indices  # [M, k]
    votes = F.one_hot(train_labels[nearest], int(train_labels.max()) + 1).sum(dim=1)  # [M, C]
    return votes.argmax(dim=1)  # the first maximum: the smallest label among ties
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_knn_predict", "locked": true, "points": 4, "schema_version": 3, "solution": false}
train_x = torch.tensor([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [0.2, 3.0], [-1.0, 0.1]])
train_y = torch.tensor([0, 0, 1, 1, 2])
got = knn_predict(train_x, train_y, torch.tensor([[5.0, 0.2], [0.1, 0.5]]), k=1)
expect_tensor(got, "knn_predict of 2 test features", shape=(2,), dtype=torch.int64)
expect_equal(got.tolist(), [0, 1], "knn_predict with k = 1")
# cosine, not Euclidean: (3, 3.1) is far from (0.2, 3) in distance but has almost the direction of (1, 1)
expect_equal(knn_predict(torch.tensor([[1.0, 1.0], [3.0, 3.0], [0.2, 3.0]]), torch.tensor([0, 0, 1]),
                         torch.tensor([[0.3, 0.31]]), k=1).tolist(), [0],
             "knn_predict must rank by cosine similarity (the nearest direction), not by distance")
# a tie: k = 2 neighbours with labels 1 and 0 -> the smallest label, 0
expect_equal(knn_predict(torch.tensor([[1.0, 0.1], [1.0, -0.2], [-1.0, 0.0]]), torch.tensor([1, 0, 0]),
                         torch.tensor([[1.0, 0.0]]), k=2).tolist(), [0],
             "knn_predict with a tie in the vote (labels 1 and 0, one vote each)")
expect_equal(knn_predict(torch.tensor([[1.0, 0.1], [1.0, -0.2], [-1.0, 0.0]]), torch.tensor([2, 1, 1]),
                         torch.tensor([[1.0, 0.0]]), k=2).tolist(), [1],
             "knn_predict with a tie between labels 2 and 1")
expect_equal(knn_predict(train_x, train_y, torch.tensor([[1.0, 0.3]]), k=3).tolist(), [0],
             "knn_predict with k = 3 (a majority of 2 votes)")
torch.manual_seed(0)
features, labels, queries = torch.randn(30, 4), torch.randint(0, 3, (30,)), torch.randn(8, 4)
cosine = F.normalize(queries, dim=1) @ F.normalize(features, dim=1).T
expected = torch.stack([torch.bincount(labels[row.argsort(descending=True)[:5]], minlength=3).argmax() for row in cosine])
expect_close(knn_predict(features, labels, queries, k=5), expected, "knn_predict of 8 random queries, k = 5")
expect_tensor(knn_predict(features, labels, torch.zeros(0, 4), k=3), "knn_predict of an empty test set", shape=(0,),
              dtype=torch.int64)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(21)
_h_train = torch.randn(60, 7, generator=_h_g, dtype=torch.float64)
_h_labels = torch.randint(0, 6, (60,), generator=_h_g)
_h_test = torch.randn(25, 7, generator=_h_g, dtype=torch.float64)
_FORBIDDEN_KNN = (ref_probe.knn_predict, ref_probe.knn_predict_loop, ref_probe.knn_accuracy,
                  "sklearn.neighbors.KNeighborsClassifier.predict", "sklearn.neighbors.NearestNeighbors.kneighbors")
with forbid(*_FORBIDDEN_KNN, exercise="knn_predict"):
    _h_results = {k: knn_predict(_h_train, _h_labels, _h_test, k=k) for k in (1, 4, 7, 60)}
for _h_k, _h_got in _h_results.items():
    expect_close(_h_got, ref_probe.knn_predict_loop(_h_train, _h_labels, _h_test, k=_h_k),
                 f"knn_predict of 25 random float64 queries, k = {_h_k}")
    expect_tensor(_h_got, f"knn_predict with k = {_h_k}", shape=(25,), dtype=torch.int64)
with forbid(*_FORBIDDEN_KNN, exercise="knn_predict"):
    _h_sparse = knn_predict(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([4, 2]), torch.tensor([[0.1, 1.0]]), k=2)
expect_equal(_h_sparse.tolist(), [2], "knn_predict with labels 2 and 4 only (a tie: the smaller label)")
### END HIDDEN TESTS

# %% [markdown]
# ### 7.1 Encoders to compare
#
# To know whether SimCLR's features are good, we need two reference points with the same
# architecture. Below: a **random-init** encoder, never trained (what the architecture alone
# gives), and a **supervised** encoder trained with all 1,078 training labels and the same
# augmentations (what labels buy). The relative-position encoder of section 3 takes 8 × 8
# inputs too, so we probe it as well, on whole digits rather than the patches it was
# trained on. And raw pixels, the features of no encoder at all.

# %%
SUPERVISED_EPOCHS = budget(full=15, quick=1)
seed_everything(0)
supervised = nn.Sequential(ref_ssl.ConvEncoder(width=32), nn.Linear(64, 10)).to(device)
opt = torch.optim.Adam(supervised.parameters(), lr=3e-3)
generator = torch.Generator().manual_seed(0)
start = time.perf_counter()
for epoch in tqdm(range(SUPERVISED_EPOCHS), desc="supervised baseline", leave=False):
    supervised.train()
    for idx in torch.randperm(len(digits_train.labels), generator=generator).split(64):
        inputs = AUGMENT(digits_train.images[idx], generator).to(device)
        batch_loss = F.cross_entropy(supervised(inputs), digits_train.labels[idx].to(device))
        opt.zero_grad()
        batch_loss.backward()
        opt.step()
supervised_encoder = supervised[0].eval()
with torch.no_grad():
    supervised_test_accuracy = float((supervised(digits_test.images.to(device)).argmax(1).cpu() == digits_test.labels)
                                     .float().mean())
print(f"supervised training: {time.perf_counter() - start:.1f} s, test accuracy of the network itself "
      f"{supervised_test_accuracy:.3f}")
seed_everything(1)
random_encoder = ref_ssl.ConvEncoder(width=32).to(device).eval()

encoders = {"random init": random_encoder, "relative position": relative_net.encoder, "SimCLR": simclr_encoder,
            "supervised (all labels)": supervised_encoder}
train_features = {name: ref_probe.extract_features(enc, digits_train.images) for name, enc in encoders.items()}
test_features = {name: ref_probe.extract_features(enc, digits_test.images) for name, enc in encoders.items()}
train_features["raw pixels"] = digits_train.images.flatten(1)
test_features["raw pixels"] = digits_test.images.flatten(1)
print(f"{'features':>26s}  dim  linear probe  k-NN (k = 5)   (all {len(digits_train.labels)} training labels)")
full_label_scores = {}
for name in train_features:
    probe_acc = ref_probe.linear_probe_accuracy(train_features[name], digits_train.labels, test_features[name],
                                                digits_test.labels)
    knn_acc = ref_probe.knn_accuracy(train_features[name], digits_train.labels, test_features[name], digits_test.labels, 5)
    full_label_scores[name] = (probe_acc, knn_acc)
    print(f"{name:>26s} {train_features[name].shape[1]:4d}  {probe_acc:12.3f}  {knn_acc:12.3f}")

# %% [markdown]
# With all labels, everything looks decent: digits are easy, and even random convolutional
# features, or raw pixels, carry most of the information a linear classifier needs. The
# k-NN column is harsher, because k-NN only works if similar digits are *close* in feature
# space, with no classifier to reweight the dimensions. The relative-position encoder does
# worse than a random one here, and the reason is instructive: it was trained on 8 × 8
# patches of digits enlarged four times, pieces of strokes, and a whole 8 × 8 digit looks
# nothing like them. Features transfer to data that resembles what they were learned on;
# Doersch et al. pretrained on the same kind of photos they tested on. Self-supervision
# earns its keep when labels are scarce, which is the next experiment.
#
# ### 7.2 The label-efficiency curve
#
# We give the linear probe 1, 5, 10 and 50 labelled digits per class, drawn at random from
# the training set, and average the test accuracy over several draws (with one label per
# class the draw matters a lot). The encoders stay frozen; only the probe sees labels.

# %%
SHOTS = [1, 5, 10, 50]
SEEDS = budget(full=5, quick=1)
start = time.perf_counter()
curves = {name: ref_probe.label_efficiency(train_features[name], digits_train.labels, test_features[name],
                                           digits_test.labels, shots=SHOTS, seeds=SEEDS)
          for name in train_features}
print(f"{len(curves) * len(SHOTS) * SEEDS} probes in {time.perf_counter() - start:.1f} s")
print(f"{'features':>26s}" + "".join(f"{s:>10d}/class" for s in SHOTS))
for name, curve in curves.items():
    print(f"{name:>26s}" + "".join(f"{curve[s][0]:16.3f}" for s in SHOTS))
fig, ax = plt.subplots(figsize=(7, 4.2))
for name, curve in curves.items():
    means = [curve[s][0] for s in SHOTS]
    stds = [curve[s][1] for s in SHOTS]
    ax.errorbar(SHOTS, means, yerr=stds, marker="o", capsize=3, label=name,
                ls="--" if name in ("raw pixels", "random init") else "-")
ax.set_xscale("log")
ax.set_xticks(SHOTS, [str(s) for s in SHOTS])
ax.set_xlabel("labelled training digits per class")
ax.set_ylabel("test accuracy of a linear probe")
ax.set_ylim(0, 1)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
ax.set_title(f"label efficiency (mean and std over {SEEDS} draws of the labelled set)", fontsize=9)
plt.show()
simclr_10, random_10, supervised_10 = (curves[name][10][0] for name in ("SimCLR", "random init", "supervised (all labels)"))
print(f"room between the random-init and the supervised probe at 10 labels per class: {supervised_10 - random_10:.3f}")
report("simclr_probe_10_per_class", simclr_10)
report("simclr_minus_random_probe_10_per_class", simclr_10 - random_10)
if 5 in SHOTS:
    report("simclr_minus_random_probe_5_per_class", curves["SimCLR"][5][0] - curves["random init"][5][0], target=0.15)
report("supervised_minus_simclr_probe_10_per_class", supervised_10 - simclr_10, target=0.10, higher_is_better=False)

# %% [markdown]
# This is the picture self-supervised learning is about. With one label per class, the
# random-init and raw-pixel probes get only about half of the test digits right, while
# the SimCLR features, learned without a single label, already separate most classes; with ten labels they come within a point or two of the supervised encoder,
# which was trained with all 1,078 labels. As labels grow, every curve approaches the same
# ceiling, and the advantage of pretraining fades, as in section 1.
#
# How large is "much better"? Our target was a lead of at least 15 points over the
# random-init encoder. On digits, the random-init encoder is a strong baseline (a linear
# probe on random convolutional features is not far from one on raw pixels), so at 10
# labels per class the whole room between it and the supervised encoder is only about 15
# points, as printed above: a 15-point lead there would mean matching supervised
# pretraining exactly. We therefore check the 15-point lead at 5 labels per class, where
# the room is larger, and the closeness to the supervised encoder at 10 labels per class;
# the lead at 10 labels per class is reported too.
#
# Section 6.3 claimed that the representation $h$ *before* the projection head is the one
# to keep. We can check it: the same probes on the head's output $z$.

# %%
with torch.no_grad():
    z_train = simclr_head(simclr_encoder(digits_train.images.to(device))).cpu()
    z_test = simclr_head(simclr_encoder(digits_test.images.to(device))).cpu()
head_probe = {"h (encoder output, 64-d)": (train_features["SimCLR"], test_features["SimCLR"]), "z (head output, 32-d)": (z_train, z_test)}
for name, (train_x, test_x) in head_probe.items():
    probe10 = ref_probe.label_efficiency(train_x, digits_train.labels, test_x, digits_test.labels, shots=[10],
                                         seeds=SEEDS)[10][0]
    knn = ref_probe.knn_accuracy(train_x, digits_train.labels, test_x, digits_test.labels, 5)
    print(f"{name:>26s}: linear probe at 10 labels/class {probe10:.3f}, k-NN with all labels {knn:.3f}")

# %% [markdown]
# The representation before the head is the better one on both measures, though by far
# less than the ten points of the SimCLR paper: our head is small, our augmentations are
# mild, and the digits' classes depend on little of what the augmentations change, so
# there is less information for $z$ to throw away.

# %% [markdown]
# ## 8. What SimCLR needs: augmentations, negatives
#
# ### 8.1 Two ablations
#
# Which augmentations matter? We retrain SimCLR twice with one family removed, for the
# same number of epochs as the snapshot of the main run taken at that point, and compare the
# three encoders with the label-efficiency probe at 10 labels per class and with k-NN on
# all labels. The two removals are the two families SimCLR found most important: the
# random crop, and the colour (here: intensity) distortion together with the blur.

# %%
def quick_scores(encoder):
    """(linear probe at 10 labels per class, mean over the draws; k-NN with all labels) on the test digits."""
    train_x = ref_probe.extract_features(encoder, digits_train.images)
    test_x = ref_probe.extract_features(encoder, digits_test.images)
    probe10 = ref_probe.label_efficiency(train_x, digits_train.labels, test_x, digits_test.labels, shots=[10],
                                         seeds=SEEDS)[10][0]
    return probe10, ref_probe.knn_accuracy(train_x, digits_train.labels, test_x, digits_test.labels, 5)


ablations = {"all augmentations": AUGMENT,
             "no crop": Augment(crop=False, flip=False, jitter=True, blur=True),
             "no intensity jitter, no blur": Augment(crop=True, flip=False, jitter=False, blur=False, max_rotation=0.3)}
ablation_scores = {"all augmentations": quick_scores(simclr_snapshot)}
start = time.perf_counter()
for name, augment in list(ablations.items())[1:]:
    encoder, _, _, _ = train_simclr(augment, SNAPSHOT_EPOCH, label=name, pieces=training_pieces)
    ablation_scores[name] = quick_scores(encoder)
print(f"ablations trained in {time.perf_counter() - start:.1f} s ({SNAPSHOT_EPOCH} epochs each)")
for name, (probe10, knn) in ablation_scores.items():
    print(f"{name:>30s}: probe at 10 labels/class {probe10:.3f}, k-NN {knn:.3f}")
fig, ax = plt.subplots(figsize=(7, 3.2))
names = list(ablation_scores)
ax.bar(np.arange(len(names)) - 0.2, [ablation_scores[n][0] for n in names], width=0.4, label="linear probe, 10 labels/class")
ax.bar(np.arange(len(names)) + 0.2, [ablation_scores[n][1] for n in names], width=0.4, label="k-NN, all labels")
ax.axhline(curves["random init"][10][0], color="gray", ls="--", lw=1, label="random-init probe, 10 labels/class")
ax.set_xticks(range(len(names)), names, fontsize=8)
ax.set_ylim(0, 1)
ax.set_ylabel("test accuracy")
ax.legend(fontsize=8, loc="lower right")
ax.set_title(f"SimCLR after {SNAPSHOT_EPOCH} epochs, with and without augmentation families", fontsize=9)
plt.show()

# %% [markdown]
# Removing the crop hurts most: without it, the two views of a digit differ only in
# brightness and blur, and telling images apart needs nothing more than a few pixel
# intensities, so the features learn little about shape. Removing the intensity changes
# and the blur costs less here, on grey digits with a plain background, than colour
# distortion does on photos; SimCLR found the *combination* of crop and colour distortion
# to be what makes the task hard enough to need good features.
#
# ### 8.2 Collapse
#
# Why negatives at all? Wouldn't it suffice to pull the two views of every image together?
# Try it: replace NT-Xent by the negative cosine similarity of the positive pairs only.
# There is a perfect solution that needs no learning: map *every* image to the same
# embedding. All pairs then agree perfectly, the loss reaches its minimum of −1, and the
# representation is worthless. This is **collapse**. The negatives of the contrastive loss
# are what forbid it, since identical embeddings make every negative as similar as the
# positive.

# %%
def positives_only(z1, z2, temperature):
    """Pull the views together, with no negatives: a loss that collapse minimizes."""
    return -F.cosine_similarity(z1, z2, dim=1).mean()


collapsed_encoder, collapsed_head, collapsed_losses, _ = train_simclr(AUGMENT, SNAPSHOT_EPOCH, loss=positives_only,
                                                                     label="positives only", pieces=training_pieces)
print("loss per epoch (positives only): " + " ".join(f"{v:.3f}" for v in collapsed_losses))


def embedding_spectrum(encoder, head):
    """Singular values (largest first) of the centred unit-length test embeddings z, and their mean spread."""
    with torch.no_grad():
        z = F.normalize(head(encoder(digits_test.images.to(device))), dim=1).cpu()
    singular = torch.linalg.svdvals(z - z.mean(0)) / math.sqrt(len(z))  # root of the variance along each axis
    return singular, float(z.std(0).mean())


spectra = {"SimCLR": embedding_spectrum(simclr_encoder, simclr_head),
           "positives only": embedding_spectrum(collapsed_encoder, collapsed_head)}
collapse_scores = quick_scores(collapsed_encoder)
for name, (spectrum, spread) in spectra.items():
    print(f"{name:>15s}: spread of z across images (mean std per dimension) {spread:.4f}; "
          f"largest singular value {spectrum[0]:.4f}")
print(f"positives only: probe at 10 labels/class {collapse_scores[0]:.3f}, k-NN {collapse_scores[1]:.3f}")
fig, ax = plt.subplots(figsize=(6, 3.4))
for name, (spectrum, _) in spectra.items():
    ax.semilogy(np.arange(1, len(spectrum) + 1), spectrum.clamp(min=1e-8).numpy(), "o-", ms=3, label=name)
ax.set_xlabel("singular value index")
ax.set_ylabel("std of z along each principal axis")
ax.legend(fontsize=8)
ax.set_title("how far apart the test embeddings z are, axis by axis", fontsize=9)
fig.tight_layout()
plt.show()
report("collapsed_embedding_spread", spectra["positives only"][1])

# %% [markdown]
# The positives-only loss races to its minimum of −1 within an epoch or two, and the
# embeddings of all test digits end up squeezed together, along every axis, by orders of
# magnitude compared with SimCLR's: the network has found the constant solution, or nearly.
# The encoder's features $h$ keep some information (the head alone can do the
# collapsing, and the probe on $h$ printed above is still above the random-init encoder's),
# but nothing pushes the network to make them any better, and the embeddings themselves
# are useless for telling images apart.
#
# Are negatives the only way out? Surprisingly not. **BYOL** (Grill et al. 2020) and
# **SimSiam** (Chen and He 2021) use positive pairs only, yet do not collapse, thanks to an
# *asymmetry* between the two branches: one branch has an extra small MLP, the *predictor*,
# and the other branch's output is treated as a constant target (a stop-gradient; in BYOL
# the target comes from a slowly moving average of the network). Why this avoids the
# constant solution is still debated; SimSiam's experiments show that removing the
# stop-gradient brings collapse right back. Other methods (Barlow Twins, VICReg) instead add
# a term that keeps the embedding dimensions decorrelated and their variance up, which rules
# out collapse directly.
#
# ## 9. Nearest-neighbour retrieval
#
# The lecture's last use of learned features is retrieval: given a query image, find the
# most similar images in a collection. With SimCLR features and cosine similarity, the
# query's nearest neighbours among the training digits are shown below, next to those
# found with raw pixels. Green titles are neighbours of the query's class, red ones are
# not; the precision of the 5 nearest neighbours over all test queries is printed for both.
# Most queries are easy for both, so the grid shows the three test digits where SimCLR's
# neighbours gain most over the pixels' and the three where they lose most.

# %%
retrieval = {}
for name in ("SimCLR", "raw pixels"):
    indices, _ = ref_probe.retrieve(test_features[name], train_features[name], k=5)
    hits = digits_train.labels[indices] == digits_test.labels[:, None]  # [M, 5]
    retrieval[name] = (indices, float(hits.float().mean()))
    print(f"{name:>10s}: precision of the 5 nearest training digits, over all {len(hits)} test queries: "
          f"{retrieval[name][1]:.3f}")
    retrieval[name] += (hits.sum(1),)
advantage = retrieval["SimCLR"][2] - retrieval["raw pixels"][2]  # [M] correct neighbours gained with SimCLR
query_ids = torch.cat([advantage.argsort(descending=True, stable=True)[:3], advantage.argsort(stable=True)[:3]])
fig, axes = plt.subplots(len(query_ids), 11, figsize=(11, 1.15 * len(query_ids) + 0.4))
for row, q in enumerate(query_ids.tolist()):
    axes[row, 0].imshow(digits_test.images[q, 0], cmap="gray")
    axes[row, 0].set_title("query", fontsize=8)
    for block, name in enumerate(("SimCLR", "raw pixels")):
        for j in range(5):
            ax = axes[row, 1 + block * 5 + j]
            neighbour = int(retrieval[name][0][q, j])
            ax.imshow(digits_train.images[neighbour, 0], cmap="gray")
            correct = digits_train.labels[neighbour] == digits_test.labels[q]
            ax.set_title(f"{name.split()[0]} {int(digits_train.labels[neighbour])}", fontsize=7,
                         color="green" if correct else "red")
for ax in axes.flat:
    ax.set_axis_off()
fig.suptitle("test queries and their 5 nearest training digits: SimCLR features (left), raw pixels (right);\n"
             "top three rows: where SimCLR gains most, bottom three: where it loses most",
             fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * Labels are the expensive part of supervised pretraining; self-supervised learning
#   invents a task whose answers come from the data, as word2vec predicts a word from its
#   context.
# * **Relative patch position** is an 8-way classification of where a neighbour patch sits.
#   Gaps and jitter between the patches are essential: without them, matching the pixels
#   along the touching edges solves much of the task, and a network trained that way scores
#   above chance even on images with no content. Jigsaw puzzles extend the idea to nine
#   tiles and a set of far-apart permutations; rotation prediction is a four-way cousin that
#   fails on symmetric objects.
# * **Colorization** predicts ab from L in the Lab colour space. Regression with the squared
#   error predicts the mean of the plausible colours, which is greyish; classification over
#   quantized ab bins with class rebalancing and the annealed mean gives stronger colours.
#   Split-brain autoencoders predict in both directions so that all channels are seen.
# * **Contrastive learning** pulls two augmented views of an image together and pushes the
#   other images of the batch away, with the InfoNCE / NT-Xent loss, a cross-entropy over
#   $2N - 1$ candidates at temperature $\tau$. Cropping is the augmentation that matters most
#   here; the projection head protects the representation from the invariances of the
#   loss; without negatives (or an asymmetric design such as BYOL and SimSiam) the
#   representation collapses.
# * Frozen features are judged by a linear probe and by k-NN. The label-efficiency curve
#   shows where self-supervision pays: with a few labels per class, SimCLR features are far
#   better than random ones and close to supervised features.
#
# A correction to the lecture notes: the contrastive objective written as "minimize
# $\exp(z^\top z') / \exp(z^\top z' + \sum_i z^\top x_i)$" should be "maximize
# $\exp(z^\top z') / (\exp(z^\top z') + \sum_i \exp(z^\top x_i))$" (or minimize its negative
# logarithm); as written, the fraction equals $\exp(-\sum_i z^\top x_i)$, which ignores the
# positive and, minimized, pulls $z$ towards the negatives (section 6.1).

# %%
print(f"whole chapter: {time.perf_counter() - CHAPTER_START:.0f} s since the imports")
