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
# # Chapter 8 — Video understanding
#
# An image classifier recognises *objects*: a dog, a cup, a truck. Most of what we care
# about in a video is not which objects are present but what they *do*: a person who
# runs, jumps, swims, falls, opens a door. Those are *actions*, and an action is a change
# over time. A photograph of a door half open does not tell you whether it is opening or
# closing; two frames do.
#
# This chapter is about networks that read time. We start with the practical problem
# that shapes every video model (videos are enormous), then follow the designs the
# field tried, each a different answer to one question: *where* in the network should
# the frames meet? Never (a single-frame CNN whose scores are averaged), at the very end
# (late fusion), at the very beginning (early fusion), or everywhere (3D convolutions).
# A second family adds motion explicitly: we derive optical flow from the brightness
# constancy assumption, implement the Lucas–Kanade method, compare it with
# scikit-image's implementations, and feed flow to a two-stream network. Recurrent
# networks and space-time attention close the tour, with the parameter counts of
# C3D, ViViT and SlowFast computed from their published configurations.
#
# Everything is tested on one data set built for the purpose: short clips in which a
# shape moves in one of eight ways. The shape, its colour, its size and the background
# are random and **carry no information about the class: only the motion does.** A
# model that looks at one frame at a time cannot beat chance on it, however large it is,
# and we will see exactly that. At the end we train six models side by side on a CPU in
# about a minute and compare them in one table.
#
# **How this notebook works.** Exercise cells contain a signature and a docstring;
# replace the `raise NotImplementedError(...)` line with your code. The test cell after
# each exercise runs visible tests that say what is wrong; more (hidden) tests run at
# grading. Implementation exercises must do the work themselves: calling scikit-image's
# `optical_flow_ilk`, `torch.nn.Conv3d` to read off a shape, or the course's reference
# versions in `course_utils.ops.flow`, `course_utils.data.video` and
# `course_utils.models.video` inside them scores no points. With the environment
# variable `DLCV_QUICK=1` the training cells use tiny budgets; grading does that, and
# nothing graded depends on how long you train.
#
# The facts and the quiz ideas come from the video lecture of a computer vision course
# (in Chinese) and from the papers it cites. Lecture notes contain small mistakes;
# wherever this chapter disagrees with them it says so and shows the computation.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from skimage.registration import optical_flow_ilk, optical_flow_tvl1
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.data.clips import ACTION_CLASSES, ActionClips
from course_utils.data import video as ref_video  # the course's reference versions (used after the exercises)
from course_utils.grading import expect_close, expect_equal, expect_raises, expect_tensor, forbid
from course_utils.models import video as ref_models
from course_utils.models.video import (CNNGRU, EarlyFusionCNN, LateFusionFC, LateFusionPool, NonLocalBlock,
                                       SingleFrameCNN, SlowFast, Small3DCNN, TwoStreamNet, ViViT, c3d)
from course_utils.ops import flow as ref_flow
from course_utils.runtime import budget, get_device, report
from course_utils.summary import count_parameters, summarize
from course_utils.train import fit, seed_everything
from course_utils.viz import show_clips
from course_utils.viz.flow import color_wheel, draw_flow, flow_to_color, show_filters3d

NOTEBOOK_START = time.time()
# The networks here are tiny; a second CPU thread barely helps them, and on a busy
# machine it slows them down. One thread keeps timings predictable; remove it if you like.
torch.set_num_threads(1)
seed_everything(0)
device = get_device()
print("device:", device)

# %% [markdown]
# ## 1. Images recognise objects; videos recognise actions
#
# A video is a sequence of images, so a video classifier takes a tensor with one more
# axis than an image classifier. PyTorch's 3D layers (and this course) use the layout
# `[C, T, H, W]` for one clip: channels, frames, height, width; a batch is
# `[B, C, T, H, W]`. Real benchmarks label clips of a few seconds with actions ("playing
# basketball", "opening a bottle", "pushing something from left to right"); we come back
# to them and to their biases at the end of the chapter.
#
# Our clips come from `course_utils.data.ActionClips`. Each clip shows one elongated
# shape (a triangle, an L, a T, an arrow or a flag, so that a rotation is always visible)
# in a random colour on a textured, noisy background. The shape does one of eight
# things, and that is the label: it moves left, right, up or down, rotates clockwise or
# counter-clockwise, grows or shrinks. Everything else is drawn at random for every
# clip. The eight rows below are one clip of each class; read each row from left to
# right.

# %%
FRAMES, SIZE = 8, 24  # every clip: 8 frames of 24 x 24 pixels
gallery = ActionClips(8, frames=FRAMES, image_size=SIZE, seed=11)  # item i has label i % 8: one of each
gallery_clips = torch.stack([gallery[i][0] for i in range(8)])  # [8, C, T, H, W]
fig = show_clips(gallery_clips, titles=[ACTION_CLASSES[gallery[i][1]] for i in range(8)])
plt.show()
print("one clip:", tuple(gallery_clips[0].shape), "(C, T, H, W), values in [0, 1]")

# %% [markdown]
# Look at any single frame of that figure and try to name the class. You cannot, and
# not because the pictures are small. The data set is built so that the distribution of
# *one* frame is the same for every class. The trick, in one sentence: a parameter that
# moves (say the x position of a shape moving left) sweeps from a random start over the
# clip, and a parameter that does not move is frozen at the value a moving one would have
# at a random frame; seen one frame at a time, the two cannot be told apart. The angle
# starts uniformly on the circle, so every orientation is equally likely in every frame
# of every class. The class lives only in the *change* between frames.

# %% [markdown]
# ## 2. The size problem
#
# Before any architecture, a budget. Video is recorded at about 30 frames per second
# and, once decoded for a network, every pixel of every frame takes three bytes (one per
# colour channel, 8 bits each). The lecture gives the sizes of one minute of uncompressed
# video as about 1.5 GB for standard definition (640 × 480) and about 10 GB for HD
# (1920 × 1080), and proposes the way out that nearly every video network uses: work on
# **short clips at a low frame rate and a low resolution**, for example 16 frames of
# 112 × 112 pixels (C3D's input: 3.2 seconds at 5 frames per second), which the lecture
# says take 588 KB.
#
# These are multiplications, but they are easy to get wrong by a factor of 3 (the
# channels), 4 (a network reads `float32`, not bytes) or 1.07 (a GB is $10^9$ bytes, a
# GiB $2^{30}$). Let us check them.
#
# ### Exercise 1: the size of a video (2 points)
#
# Write `video_bytes(frames, height, width, channels=3, bytes_per_value=1)`: the number
# of bytes of an uncompressed video tensor `[channels, frames, height, width]` in which
# every value takes `bytes_per_value` bytes (1 for 8-bit pixels as stored, 4 for `float32`
# as a network reads them). Return an `int` (a count of bytes, not GiB).

# %% nbgrader={"grade": false, "grade_id": "video_bytes", "locked": false, "schema_version": 3, "solution": true}
def video_bytes(frames, height, width, channels=3, bytes_per_value=1):
    """Bytes of an uncompressed video Tensor[channels, frames, height, width].

    Args:
        frames, height, width, channels: ints >= 1.
        bytes_per_value: bytes of one value (1 for uint8, 2 for float16, 4 for float32).

    Returns:
        int: the number of bytes.
    """
    ### BEGIN SOLUTION
    return frames * height * width * channels * bytes_per_value
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_video_bytes", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The expected sizes are those of real tensors: .nbytes of an empty tensor of that shape and dtype.
expect_equal(video_bytes(16, 112, 112), torch.empty(3, 16, 112, 112, dtype=torch.uint8).nbytes,
             "video_bytes(16, 112, 112): a C3D clip, 8-bit RGB", integer=True)
expect_equal(video_bytes(16, 112, 112, bytes_per_value=4), torch.empty(3, 16, 112, 112, dtype=torch.float32).nbytes,
             "video_bytes(16, 112, 112, bytes_per_value=4): the same clip in float32", integer=True)
expect_equal(video_bytes(8, 24, 32, channels=1), torch.empty(1, 8, 24, 32, dtype=torch.uint8).nbytes,
             "video_bytes(8, 24, 32, channels=1): a grey clip, height 24 and width 32", integer=True)
expect_equal(video_bytes(30 * 60, 480, 640), torch.empty(3, 30 * 60, 480, 640, dtype=torch.uint8, device="meta").nbytes,
             "video_bytes(30 * 60, 480, 640): one minute of SD video at 30 fps", integer=True)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(8)
_h_cases = [(int(_h_f), int(_h_h), int(_h_w), int(_h_c), int(_h_b)) for _h_f, _h_h, _h_w, _h_c, _h_b in zip(
    torch.randint(1, 400, (12,), generator=_h_g), torch.randint(1, 1100, (12,), generator=_h_g),
    torch.randint(1, 2000, (12,), generator=_h_g), torch.tensor([1, 3, 4] * 4), torch.tensor([1, 2, 4, 8] * 3))]
_h_cases += [(1, 1, 1, 1, 1), (30 * 60, 1080, 1920, 3, 1), (32, 224, 224, 3, 4)]
_h_dtypes = {1: torch.uint8, 2: torch.float16, 4: torch.float32, 8: torch.float64}
_h_expected = [torch.empty(_h_c, _h_f, _h_h, _h_w, dtype=_h_dtypes[_h_b], device="meta").nbytes
               for _h_f, _h_h, _h_w, _h_c, _h_b in _h_cases]
with forbid(ref_video.video_bytes, exercise="video_bytes"):
    _h_got = [video_bytes(_h_f, _h_h, _h_w, channels=_h_c, bytes_per_value=_h_b) for _h_f, _h_h, _h_w, _h_c, _h_b in _h_cases]
    _h_positional = video_bytes(5, 6, 7, 1, 2)
for _h_case, _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_equal(_h_r, _h_e, f"video_bytes{_h_case} (frames, height, width, channels, bytes_per_value)", integer=True)
expect_equal(_h_positional, 5 * 6 * 7 * 2, "video_bytes(5, 6, 7, 1, 2) with positional arguments", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# Now the lecture's numbers, with the course's reference `course_utils.data.video.video_bytes`
# (the same function as yours), in both kinds of units: decimal (kB, MB, GB: powers of
# 1000) and binary (KiB, MiB, GiB: powers of 1024).

# %%
FPS, MINUTE = 30, 60
sizes = {
    "1 min SD 640x480, 30 fps": ref_video.video_bytes(FPS * MINUTE, 480, 640),
    "1 min HD 1920x1080, 30 fps": ref_video.video_bytes(FPS * MINUTE, 1080, 1920),
    "C3D clip 16x112x112, uint8": ref_video.video_bytes(16, 112, 112),
    "C3D clip, float32": ref_video.video_bytes(16, 112, 112, bytes_per_value=4),
    "C3D conv1 output, float32": ref_video.video_bytes(16, 112, 112, channels=64, bytes_per_value=4),
    f"our clip {FRAMES}x{SIZE}x{SIZE}, float32": ref_video.video_bytes(FRAMES, SIZE, SIZE, bytes_per_value=4),
}
for name, n_bytes in sizes.items():
    print(f"{name:32s} {n_bytes:>15,} bytes = {n_bytes / 1e9:9.4f} GB = {n_bytes / ref_video.GIB:9.4f} GiB "
          f"= {n_bytes / ref_video.KIB:12,.0f} KiB")
print(f"16 frames at 5 fps last {16 / 5} s")

# %% [markdown]
# The lecture's figures hold, once the units are read right. A minute of SD video is
# 1.66 GB, which is the lecture's "1.5 GB" only in binary units (1.55 GiB); a minute of
# HD is 11.2 GB or 10.4 GiB, the lecture's "10 GB" again in GiB. The C3D clip is 602,112
# bytes: 588 KiB, or 602 kB. So the lecture silently uses binary units throughout.
#
# Two more lines of the table matter more for a network than the file sizes. The clip
# that a network actually reads is `float32`, four times larger (2.3 MiB). And the
# *first layer's output* dwarfs its input: C3D's first convolution keeps all 16 frames at
# 112 × 112 and has 64 channels, 49 MiB per clip in the forward pass, which training
# keeps in memory for the backward pass, for every clip of the batch and for every
# layer. This is why video networks shrink time and space early, why they are trained on
# a few seconds at a time, and why our clips are smaller still: 8 frames of 24 × 24.

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
names = list(sizes)
ax.barh(names, [sizes[n] for n in names], color=["tab:gray", "tab:gray", "tab:blue", "tab:blue", "tab:red", "tab:green"])
ax.set_xscale("log")
ax.invert_yaxis()
for tick, label in ((ref_video.KIB, "1 KiB"), (ref_video.MIB, "1 MiB"), (ref_video.GIB, "1 GiB")):
    ax.axvline(tick, color="black", lw=0.6, ls=":")
    ax.text(tick * 1.15, len(names) - 0.6, label, fontsize=8, ha="left", va="bottom")
ax.set_xlabel("bytes (log scale)")
ax.set_title("Uncompressed sizes: a minute of video, one clip, one layer's output", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Train on clips, test on windows
#
# The recipe follows from the sizes. **Training** never sees a whole video: each time a
# video is used, a short clip is cut from it at a random position, with a reduced frame
# rate (keeping every second or fourth frame is a *temporal stride*). A random start is
# also a free augmentation: every epoch sees a slightly different clip of each video.
# **Testing** cuts the video into windows, clips starting at frames $0, s, 2s, \ldots$ for
# as long as a whole clip fits, runs the network on every window and averages the
# predicted class probabilities.
#
# `course_utils.data.video` implements both: `clip_indices` lists the frames of one clip,
# `sample_clips` draws a random clip from each video of a batch, `window_starts` and
# `sliding_windows` give the test windows. A clip of $L$ frames at temporal stride $r$
# covers $(L - 1) r + 1$ frames of the video, so a video of $T$ frames has
# $\lfloor (T - (L-1)r - 1)/s \rfloor + 1$ windows of step $s$. The figure draws the frames a
# few random training clips and the test windows use, for a 30-frame video and clips of
# 6 frames at stride 2.

# %%
VIDEO_T, CLIP_L, CLIP_STRIDE, WINDOW_STEP = 30, 6, 2, 4
sampled, sample_starts = ref_video.sample_clips(torch.zeros(5, 1, VIDEO_T, 1, 1), CLIP_L, stride=CLIP_STRIDE,
                                                generator=torch.Generator().manual_seed(3))
test_starts = ref_video.window_starts(VIDEO_T, CLIP_L, step=WINDOW_STEP, stride=CLIP_STRIDE)
fig, ax = plt.subplots(figsize=(9, 3.4))
rows = [("training clip", int(s), "tab:blue") for s in sample_starts] + [("test window", s, "tab:orange") for s in test_starts]
for row, (kind, start, color) in enumerate(rows):
    frames_used = ref_video.clip_indices(VIDEO_T, CLIP_L, CLIP_STRIDE, start)
    ax.plot([start, frames_used[-1]], [row, row], color=color, lw=1, alpha=0.6)
    ax.scatter(frames_used, [row] * CLIP_L, color=color, s=22, zorder=3)
ax.set_yticks(range(len(rows)))
ax.set_yticklabels([f"{kind} (start {start})" for kind, start, _ in rows], fontsize=8)
ax.invert_yaxis()
ax.set_xlim(-0.5, VIDEO_T - 0.5)
ax.set_xlabel("frame of the video")
ax.set_title(f"{VIDEO_T}-frame video, clips of {CLIP_L} frames at stride {CLIP_STRIDE}: "
             f"{len(test_starts)} test windows of step {WINDOW_STEP}", fontsize=10)
ax.grid(axis="x", alpha=0.3)
fig.tight_layout()
plt.show()
print("test windows:", ref_video.num_windows(VIDEO_T, CLIP_L, WINDOW_STEP, CLIP_STRIDE),
      "starting at", test_starts)

# %% [markdown]
# Our own data needs no cutting for training: an `ActionClips` item is already a short,
# low-resolution clip, so the training and test sets below are sets of 8-frame clips,
# drawn with different seeds (every clip is a pure function of its seed and index, so the
# sets do not overlap). Section 11 makes longer videos and puts window averaging to the
# test. The budget goes through `budget(full=..., quick=...)`: in quick mode (grading)
# the sets are tiny.

# %%
NUM_TRAIN = budget(full=1000, quick=64)
NUM_TEST = budget(full=400, quick=48)
start = time.perf_counter()
train_clips, train_labels = ActionClips(NUM_TRAIN, frames=FRAMES, image_size=SIZE, seed=1).tensors()
test_clips, test_labels = ActionClips(NUM_TEST, frames=FRAMES, image_size=SIZE, seed=2).tensors()
print(f"{NUM_TRAIN} training and {NUM_TEST} test clips of shape {tuple(train_clips.shape[1:])} rendered in "
      f"{time.perf_counter() - start:.1f} s; the training set takes "
      f"{ref_video.video_bytes(FRAMES * NUM_TRAIN, SIZE, SIZE, bytes_per_value=4) / ref_video.MIB:.0f} MiB in float32")
print("test clips per class:", torch.bincount(test_labels, minlength=8).tolist())

# %% [markdown]
# ## 4. The single-frame baseline, and why it fails here
#
# The simplest video classifier ignores time altogether: train an ordinary 2D CNN to
# predict the clip's label from *one* frame, and at test time run it on every frame and
# average the class scores. On real benchmarks this is a strong baseline, often stronger
# than people expect, because most actions come with telling objects and places (a pool
# for swimming, a bow for archery). Karpathy et al. (2014), who trained CNNs on a million
# YouTube sports videos (Sports-1M), found that their best multi-frame model improved
# only a little on the single-frame one. Section 12 returns to what that says about the
# data sets.
#
# On our clips the single-frame model has nothing to work with. We can check the
# construction of the data set directly, without any network: measure where the shape
# is (the centroid of the bright pixels) and how big it is (their total weight) in each
# frame of the training clips. The left panel compares the x position of the shape in one
# random frame for clips that move left and clips that move right: the two histograms
# coincide. The middle panel uses two frames, the first and the last: the *change* in x
# separates the classes perfectly. The right panel does the same for the area of the
# shape in growing and shrinking clips.

# %%
def shape_moments(frames):
    """Weight (a proxy of area) and centroid x of the bright shape in frames Tensor[N, C, H, W]."""
    grey = frames.amax(dim=1)  # [N, H, W]: the shape is brighter than the background in some channel
    weight = (grey - grey.flatten(1).median(dim=1).values[:, None, None] - 0.2).clamp(min=0)  # [N, H, W]
    xs = torch.arange(frames.shape[-1]) + 0.5
    mass = weight.sum(dim=(1, 2)).clamp_min(1e-6)  # [N]
    return mass, (weight * xs).sum(dim=(1, 2)) / mass


random_frame = torch.randint(FRAMES, (NUM_TRAIN,), generator=torch.Generator().manual_seed(0))
mass_one, x_one = shape_moments(train_clips[torch.arange(NUM_TRAIN), :, random_frame])
mass_first, x_first = shape_moments(train_clips[:, :, 0])
mass_last, x_last = shape_moments(train_clips[:, :, -1])
panels = [("x of the shape in one random frame", x_one, ("move_left", "move_right")),
          ("x in the last frame - x in the first", x_last - x_first, ("move_left", "move_right")),
          ("log(area last / area first)", (mass_last / mass_first).log(), ("grow", "shrink"))]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, (title, values, pair) in zip(axes, panels):
    bins = np.linspace(float(values.min()), float(values.max()), 25)
    for name, color in zip(pair, ("tab:blue", "tab:orange")):
        ax.hist(values[train_labels == ACTION_CLASSES.index(name)].numpy(), bins=bins, alpha=0.6, color=color, label=name)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# A single frame is a draw from the same distribution whatever the class, so no function
# of it, learnt or not, can predict the class better than guessing: the expected accuracy
# of the single-frame CNN is the chance level, 1/8. Averaging its scores over the frames
# of a clip does not help either, because an average of scores computed frame by frame is
# still blind to the order of the frames, and (as we will see next) order is what
# separates the classes. We train the model in section 10 with the others; it reads
# `[B, C, T, H, W]` clips, so training on single frames is simply training on clips with
# `T = 1`.
#
# ## 5. Fusing the frames: late, early, and what each can see
#
# If one frame is not enough, the frames must meet somewhere inside the network. The
# lecture presents the choices as a question of *where* the fusion happens.
#
# * **Late fusion.** Run the same 2D CNN on each frame to get a feature vector per frame,
#   and combine the vectors at the top. Either concatenate them in time order and feed an
#   MLP ("late fusion with FC layers"), or average them over time and feed a linear
#   classifier ("late fusion with pooling"). The CNN never sees two frames at once; motion
#   can only be inferred from differences between per-frame summaries such as "the shape
#   is in the upper left, pointing up".
# * **Early fusion.** Stack the $T$ frames of a clip as $3T$ channels of one image and use
#   an ordinary 2D CNN. Its first convolution reads a $3T \times 3 \times 3$ block: all
#   frames at once, but only a 3 × 3 pixel neighbourhood. From the second layer on,
#   time is gone. Local motion (an edge that moved by a pixel) is easy to detect this way;
#   motion larger than the first layer's window is not.
# * **3D convolution** (next section) fuses a little at every layer: each layer looks at
#   3 neighbouring time steps, and the temporal receptive field grows with depth.
#
# Late fusion with pooling has a property that we can see without training anything:
# averaging over time throws away the order of the frames. Play a clip backwards and the
# per-frame features are the same vectors in reverse order, so their average and the
# scores are identical (up to the rounding of a sum taken in another order). Here is a
# freshly initialised network of each kind on four clips and on the same clips reversed:

# %%
torch.manual_seed(0)
some_clips = test_clips[:4]
backwards = some_clips.flip(2)  # reverse the time axis
for model in (LateFusionPool(), LateFusionFC(FRAMES), EarlyFusionCNN(FRAMES)):
    model.eval()
    with torch.no_grad():
        difference = (model(some_clips) - model(backwards)).abs().max().item()
    print(f"{type(model).__name__:15s} largest score change when the clips play backwards: {difference:.2e}")
reverse_of = {"move_left": "move_right", "move_up": "move_down", "rotate_cw": "rotate_ccw", "grow": "shrink"}
print("pairs that are each other's reversal:", ", ".join(f"{a} <-> {b}" for a, b in reverse_of.items()))

# %% [markdown]
# A clip of a shape moving left, played backwards, *is* a clip of a shape moving right,
# with exactly the probability the data set gives it: the starting point of the
# reversed motion is the end point of the original, and both are drawn from the same
# range. The same holds for up and down, clockwise and counter-clockwise, growing and
# shrinking. A model that cannot see order gives a clip and its mirror-in-time the same
# scores, so for each of the four pairs it can at best pick the right pair and then guess,
# and its accuracy cannot exceed 1/2 on this data, whatever it learns. (The single-frame
# model, which averages scores over frames, has the same blind spot plus a worse one.)
# Concatenation and early fusion keep the order: their scores change.
#
# How far each design sees in time is easy to measure: take a unit in the middle of the
# output of a layer, backpropagate from it, and count the input frames that receive a
# gradient. For the 3D CNN we use (built in the next section) this *temporal receptive
# field* grows layer by layer:

# %%
def temporal_receptive_field(layers, clip_shape=(1, 3, FRAMES, SIZE, SIZE)):
    """Number of input frames that influence the central unit of the output of `layers`."""
    clip = torch.randn(clip_shape, requires_grad=True)
    out = layers(clip)
    _, _, t, h, w = out.shape
    out[0, :, t // 2, h // 2, w // 2].sum().backward()
    return int((clip.grad.abs().sum(dim=(0, 1, 3, 4)) > 0).sum())


probe = Small3DCNN().eval()
for depth in range(1, len(probe.features) + 1):
    print(f"after 3D block {depth}: the central unit sees {temporal_receptive_field(probe.features[:depth])} "
          f"of the {FRAMES} frames")

# %% [markdown]
# ## 6. 3D convolution
#
# A 2D convolution slides a $C_\text{in} \times k_h \times k_w$ filter over the two spatial
# axes of an image. A **3D convolution** adds time to both: the input is a 3D grid with a
# $C_\text{in}$-dimensional feature at every point, `[C_in, T, H, W]`; each filter is a
# small clip, `[C_in, k_t, k_h, k_w]`; and the filter slides over time, height *and* width,
# producing a 3D grid of outputs `[C_out, T', H', W']`. In symbols, for output channel $o$
# at position $(t, i, j)$,
#
# $$y_{o,t,i,j} = b_o + \sum_{c=1}^{C_\text{in}} \sum_{a=0}^{k_t-1}\sum_{u=0}^{k_h-1}\sum_{v=0}^{k_w-1}
#   w_{o,c,a,u,v}\; x_{c,\; s_t t + a - p_t,\; s_h i + u - p_h,\; s_w j + v - p_w}.$$
#
# Every axis behaves like the single axis of chapter 2: with kernel $k$, stride $s$ and
# padding $p$ an axis of length $n$ becomes $\lfloor (n + 2p - k)/s \rfloor + 1$ long. The
# layer has $C_\text{out} \cdot C_\text{in} \cdot k_t k_h k_w$ weights plus $C_\text{out}$
# biases, and computing it costs one multiply-add per weight per output position:
# $C_\text{out} T' H' W' \cdot C_\text{in} k_t k_h k_w$.
#
# Early fusion is the special case of a 3D convolution whose kernel spans the whole clip,
# $k_t = T$, without temporal padding: the output has a single time step and the network
# continues in 2D. The lecture's slide of the "real" 3D convolution (weights
# $C_\text{out} \times C_\text{in} \times 3 \times 3 \times 3$, output
# $C_\text{out} \times T \times H \times W$) still says that the filter slides "over x and
# y", copied from the early-fusion slide; it slides over t as well, which is how the
# output keeps its time axis.
#
# ### Exercise 2: output shape and parameters of a 3D convolution (3 points)
#
# Write `conv3d_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0)`,
# which returns the output shape `(C_out, T', H', W')` for an input of shape
# `(C_in, T, H, W)` (no batch axis), and `conv3d_parameters(in_channels, out_channels,
# kernel_size, bias=True)`, the number of learnable values of the layer (weights, plus
# one bias per output channel when `bias` is true). `kernel_size`, `stride` and `padding`
# are each an int (the same for time, height and width) or a triple `(t, h, w)`. Divisions
# that do not come out even are rounded down, as in PyTorch. Return ints (the shape as a
# tuple or a list of 4 ints).

# %% nbgrader={"grade": false, "grade_id": "conv3d_arithmetic", "locked": false, "schema_version": 3, "solution": true}
def conv3d_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0):
    """Output shape (C_out, T', H', W') of a 3D convolution on an input of shape (C_in, T, H, W).

    kernel_size, stride, padding: an int, or a triple (t, h, w).
    """
    ### BEGIN SOLUTION
    def triple(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value, value, value)

    sizes = [(n + 2 * p - k) // s + 1
             for n, k, s, p in zip(input_shape[1:], triple(kernel_size), triple(stride), triple(padding))]
    return (out_channels, *sizes)
    ### END SOLUTION


def conv3d_parameters(in_channels, out_channels, kernel_size, bias=True):
    """Number of weights and biases of a 3D convolution (kernel_size: an int or a triple (t, h, w))."""
    ### BEGIN SOLUTION
    kt, kh, kw = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 3
    return out_channels * in_channels * kt * kh * kw + (out_channels if bias else 0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv3d_output_shape", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Expected shapes come from PyTorch: an nn.Conv3d applied to an empty tensor on the meta device.
def conv3d_shape_by_pytorch(input_shape, out_channels, kernel_size, stride=1, padding=0):
    layer = nn.Conv3d(input_shape[0], out_channels, kernel_size, stride=stride, padding=padding, device="meta")
    return tuple(layer(torch.empty(1, *input_shape, device="meta")).shape[1:])


for case in [((3, 16, 112, 112), 64, 3, 1, 1),                   # C3D's first layer
             ((3, 16, 112, 112), 64, 3, 1, 0),                   # no padding
             ((3, 32, 224, 224), 64, (5, 7, 7), (1, 2, 2), (2, 3, 3)),  # a stem with triples
             ((8, 7, 9, 11), 4, 2, 2, 0)]:                      # odd sizes: rounded down
    expect_equal(conv3d_output_shape(*case), conv3d_shape_by_pytorch(*case),
                 f"conv3d_output_shape{case} (input_shape, out_channels, kernel_size, stride, padding)", integer=True)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(3)
_h_cases = []
for _ in range(25):
    _h_k = tuple(int(v) for v in torch.randint(1, 6, (3,), generator=_h_g))
    _h_s = tuple(int(v) for v in torch.randint(1, 4, (3,), generator=_h_g))
    _h_p = tuple(int(v) for v in torch.randint(0, 3, (3,), generator=_h_g))
    _h_in = (int(torch.randint(1, 9, (1,), generator=_h_g)),) + tuple(int(v) for v in torch.randint(6, 40, (3,), generator=_h_g))
    _h_cases.append((_h_in, int(torch.randint(1, 70, (1,), generator=_h_g)), _h_k, _h_s, _h_p))
_h_cases += [((3, 16, 112, 112), 8, [3, 7, 7], [1, 2, 2], [1, 3, 3]), ((1, 5, 5, 5), 1, 5, 1, 0), ((2, 9, 9, 9), 3, 3, 4, 1)]
_h_expected = [conv3d_shape_by_pytorch(*c) for c in _h_cases]
with forbid(ref_models.conv3d_output_shape, "torch.nn.Conv3d.forward", "torch.nn.functional.conv3d",
            exercise="conv3d_output_shape"):
    _h_got = [conv3d_output_shape(*c) for c in _h_cases]
for _h_c, _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_equal(_h_r, _h_e, f"conv3d_output_shape{_h_c}", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_conv3d_parameters", "locked": true, "points": 1, "schema_version": 3, "solution": false}
for args, kwargs in [((3, 64, 3), {}), ((64, 128, 3), {}), ((3, 8, (5, 7, 7)), {}), ((16, 32, 3), {"bias": False})]:
    expected = sum(p.numel() for p in nn.Conv3d(*args, **kwargs, device="meta").parameters())
    expect_equal(conv3d_parameters(*args, **kwargs), expected, f"conv3d_parameters{args} {kwargs}", integer=True)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(4)
_h_cases = [(int(a), int(b), tuple(int(v) for v in k), bool(bb)) for a, b, k, bb in zip(
    torch.randint(1, 300, (15,), generator=_h_g), torch.randint(1, 300, (15,), generator=_h_g),
    torch.randint(1, 8, (15, 3), generator=_h_g), torch.randint(0, 2, (15,), generator=_h_g))]
_h_cases += [(512, 512, 3, True), (1, 1, 1, False), (3, 64, [3, 3, 3], True)]
_h_expected = [sum(p.numel() for p in nn.Conv3d(a, b, k, bias=bb, device="meta").parameters()) for a, b, k, bb in _h_cases]
with forbid(ref_models.conv3d_parameters, "torch.nn.Conv3d.__init__", exercise="conv3d_parameters"):
    _h_got = [conv3d_parameters(a, b, k, bias=bb) for a, b, k, bb in _h_cases]
for _h_c, _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_equal(_h_r, _h_e, f"conv3d_parameters{_h_c[:3]} bias={_h_c[3]}", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# ### C3D, counted
#
# C3D (Tran et al., 2015) is the classic 3D CNN and the lecture's example: the VGG idea
# (only 3 × 3 filters, channels doubling as resolution halves) in three dimensions.
# Its input is the 16 × 112 × 112 clip of section 2; eight 3 × 3 × 3 convolutions with
# 64, 128, 256, 256, 512, 512, 512 and 512 channels, five max-poolings (the first one
# 1 × 2 × 2, so that the first layers keep every frame, the others 2 × 2 × 2), two fully
# connected layers of 4096 units and a classifier over the 487 sports of Sports-1M.
# `course_utils.models.video.c3d` builds that published configuration; on the `meta`
# device nothing is allocated, so we can afford to count its parameters and, with
# `course_utils.summary.summarize`, its multiply-adds layer by layer. (One detail: Caffe,
# in which C3D was written, rounds pooled sizes up, so the last pooling turns 2 × 7 × 7
# into 1 × 4 × 4 and fc6 reads 8,192 numbers; in PyTorch that takes `padding=(0, 1, 1)`.)

# %%
with torch.device("meta"):
    c3d_model = c3d()
c3d_summary = summarize(c3d_model, (1, 3, 16, 112, 112))
c3d_layers = [(row.name, row.output_shape, row.params, row.macs) for row in c3d_summary.rows if row.params > 0]
for name, shape, params, macs in c3d_layers:
    print(f"layer {name:>2}: output {str(list(shape[1:])):22s} params {params:>11,}  mult-adds {macs / 1e9:7.3f} G")
conv_params = sum(params for _, shape, params, _ in c3d_layers if len(shape) == 5)
fc6_params = next(params for _, shape, params, _ in c3d_layers if len(shape) == 2)
conv_macs = sum(macs for _, shape, _, macs in c3d_layers if len(shape) == 5)
print(f"C3D total: {c3d_summary.total_params:,} parameters, {c3d_summary.total_macs / 1e9:.1f} G mult-adds per clip")
print(f"convolutions: {conv_params:,} parameters ({conv_params / c3d_summary.total_params:.0%}), "
      f"{conv_macs / c3d_summary.total_macs:.2%} of the mult-adds; fc6 alone: {fc6_params:,} parameters "
      f"({fc6_params / c3d_summary.total_params:.0%})")
print(f"as float32 the parameters take {c3d_summary.total_params * 4 / ref_video.MIB:.0f} MiB")
with torch.device("meta"):
    vgg16_macs = summarize(torchvision.models.vgg16(), (1, 3, 224, 224)).total_macs
print(f"for comparison, VGG-16 on one 224 x 224 image: {vgg16_macs / 1e9:.1f} G mult-adds "
      f"(one C3D clip = {c3d_summary.total_macs / vgg16_macs:.1f} images)")

# %%
conv_rows = [r for r in c3d_layers]
labels = [f"{'conv' if len(r[1]) == 5 else 'fc'} {i + 1}" for i, r in enumerate(conv_rows)]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
axes[0].bar(labels, [r[2] / 1e6 for r in conv_rows], color="tab:blue")
axes[0].set_title("parameters (millions)", fontsize=10)
axes[1].bar(labels, [r[3] / 1e9 for r in conv_rows], color="tab:red")
axes[1].set_title("multiply-adds per clip (billions)", fontsize=10)
axes[2].bar(labels, [math.prod(r[1][1:]) * 4 / ref_video.MIB for r in conv_rows], color="tab:green")
axes[2].set_title("output per clip, float32 (MiB)", fontsize=10)
for ax in axes:
    ax.tick_params(axis="x", labelsize=7, rotation=60)
fig.suptitle("C3D layer by layer: the parameters sit in the FC layers, the work and the memory in the early convolutions",
             fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The three panels tell three different stories. C3D has 80 million parameters; 42 %
# of them sit in one layer, fc6 (8192 × 4096), and the eight convolutions together hold
# about 28 million. The computation is the other way round: the fully connected layers
# cost next to nothing, while the convolutions, each applied at every one of thousands
# of space-time positions, do 99.9 % of the 38.5 billion multiply-adds per clip. The
# *memory* of the forward pass is dominated by the first two layers, which run at full
# resolution. One C3D clip, at a quarter of the pixels per frame of an ImageNet image,
# costs as much as two and a half images through VGG-16.
#
# ### (2+1)D: factorizing space and time
#
# A $k_t \times k \times k$ filter mixes space and time in one step. Tran et al. (2018)
# split it in two: a $1 \times k \times k$ convolution over space from $N_\text{in}$ to $M$
# channels, a batch norm and a ReLU, then a $k_t \times 1 \times 1$ convolution over time
# from $M$ to $N_\text{out}$ channels. With $M$ free, the factorization has
#
# $$M N_\text{in} k^2 + N_\text{out} M k_t$$
#
# weights instead of $N_\text{out} N_\text{in} k_t k^2$. With $M = N_\text{out}$ that is a
# real saving. The paper, however, chooses $M$ so that the two counts are (almost) equal,
#
# $$M = \left\lfloor \frac{k_t k^2 N_\text{in} N_\text{out}}{k^2 N_\text{in} + k_t N_\text{out}} \right\rfloor,$$
#
# to show that the gain in accuracy does not come from having more or fewer parameters
# but from the factorization itself: twice as many non-linearities for the same budget,
# and a network that the paper found easier to optimize.
#
# ### Exercise 3: the weights of a (2+1)D block (2 points)
#
# Write `conv2plus1d_parameters(in_channels, out_channels, kernel_t=3, kernel_s=3,
# mid_channels=None)`: the number of *weights* (no biases: batch norms follow both
# convolutions) of the $1 \times k_s \times k_s$ spatial convolution plus the
# $k_t \times 1 \times 1$ temporal convolution. When `mid_channels` is `None`, use the
# paper's $M$ above, rounded down. Return an int.

# %% nbgrader={"grade": false, "grade_id": "conv2plus1d_parameters", "locked": false, "schema_version": 3, "solution": true}
def conv2plus1d_parameters(in_channels, out_channels, kernel_t=3, kernel_s=3, mid_channels=None):
    """Weights of a (2+1)D block: 1 x ks x ks conv (in -> mid) then kt x 1 x 1 conv (mid -> out), no biases.

    mid_channels=None: M = floor(kt * ks^2 * in * out / (ks^2 * in + kt * out)).
    """
    ### BEGIN SOLUTION
    if mid_channels is None:
        mid_channels = (kernel_t * kernel_s ** 2 * in_channels * out_channels) // (
            kernel_s ** 2 * in_channels + kernel_t * out_channels)
    return mid_channels * in_channels * kernel_s ** 2 + out_channels * mid_channels * kernel_t
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv2plus1d_parameters", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def weights_of_factorized_block(in_channels, out_channels, kernel_t, kernel_s, mid_channels):
    """Count the weights of the two nn.Conv3d layers of a (2+1)D block (built on the meta device)."""
    spatial = nn.Conv3d(in_channels, mid_channels, (1, kernel_s, kernel_s), bias=False, device="meta")
    temporal = nn.Conv3d(mid_channels, out_channels, (kernel_t, 1, 1), bias=False, device="meta")
    return sum(p.numel() for p in (*spatial.parameters(), *temporal.parameters()))


expect_equal(conv2plus1d_parameters(64, 64, mid_channels=64), weights_of_factorized_block(64, 64, 3, 3, 64),
             "conv2plus1d_parameters(64, 64, mid_channels=64)", integer=True)
expect_equal(conv2plus1d_parameters(16, 32, kernel_t=5, kernel_s=3, mid_channels=10),
             weights_of_factorized_block(16, 32, 5, 3, 10), "conv2plus1d_parameters(16, 32, 5, 3, mid_channels=10)",
             integer=True)
# mid_channels=None: the paper's M, 144 for 64 -> 64 channels and 3 x 3 x 3 (so both counts are 110,592)
expect_equal(conv2plus1d_parameters(64, 64), weights_of_factorized_block(64, 64, 3, 3, 144),
             "conv2plus1d_parameters(64, 64) with the paper's M", integer=True)
# 3 -> 64 channels: M = floor(27 * 3 * 64 / (9 * 3 + 3 * 64)) = floor(23.67) = 23, rounded down
expect_equal(conv2plus1d_parameters(3, 64), weights_of_factorized_block(3, 64, 3, 3, 23),
             "conv2plus1d_parameters(3, 64) with the paper's M (rounded down)", integer=True)
### BEGIN HIDDEN TESTS
_h_g = torch.Generator().manual_seed(21)
_h_cases = []
for _ in range(20):
    _h_a, _h_b = (int(v) for v in torch.randint(1, 600, (2,), generator=_h_g))
    _h_t, _h_s = (int(v) for v in torch.randint(1, 8, (2,), generator=_h_g))
    _h_m = int(torch.randint(1, 300, (1,), generator=_h_g)) if len(_h_cases) % 2 else None
    _h_cases.append((_h_a, _h_b, _h_t, _h_s, _h_m))
_h_cases += [(128, 256, 3, 3, None), (512, 512, 3, 3, None), (1, 2, 1, 1, None), (3, 64, 1, 7, None)]
from fractions import Fraction as _h_Fraction  # exact rational arithmetic for the expected M

_h_expected = []
for _h_a, _h_b, _h_t, _h_s, _h_m in _h_cases:
    _h_mid = _h_m if _h_m is not None else math.floor(
        _h_Fraction(_h_t * _h_s ** 2 * _h_a * _h_b, _h_s ** 2 * _h_a + _h_t * _h_b))
    _h_expected.append(weights_of_factorized_block(_h_a, _h_b, _h_t, _h_s, _h_mid))
with forbid(ref_models.conv2plus1d_parameters, ref_models.r2plus1d_mid_channels, ref_models.conv2plus1d_block,
            exercise="conv2plus1d_parameters"):
    _h_got = [conv2plus1d_parameters(_h_a, _h_b, kernel_t=_h_t, kernel_s=_h_s, mid_channels=_h_m)
              for _h_a, _h_b, _h_t, _h_s, _h_m in _h_cases]
for _h_c, _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_equal(_h_r, _h_e, f"conv2plus1d_parameters(in, out, kernel_t, kernel_s, mid_channels) = {_h_c}", integer=True)
### END HIDDEN TESTS

# %% [markdown]
# With the course's reference (`course_utils.models.video.conv2plus1d_parameters`) we can
# now put numbers on both choices of $M$, for a layer of C3D and for a layer of our small
# network:

# %%
for n_in, n_out in ((256, 256), (512, 512), (8, 16), (3, 8)):
    full = ref_models.conv3d_parameters(n_in, n_out, 3, bias=False)
    cheap = ref_models.conv2plus1d_parameters(n_in, n_out, mid_channels=n_out)
    paper_m = ref_models.r2plus1d_mid_channels(n_in, n_out)
    paper = ref_models.conv2plus1d_parameters(n_in, n_out)
    print(f"{n_in:3d} -> {n_out:3d} channels: 3x3x3 conv {full:>9,} weights | (2+1)D with M = N_out "
          f"{cheap:>9,} ({cheap / full:.0%}) | with the paper's M = {paper_m:4d}: {paper:>9,} ({paper / full:.1%})")

# %% [markdown]
# With $M = N_\text{out}$ and equal channel counts a (2+1)D block has
# $(k^2 + k_t)/(k_t k^2) = 12/27$ of the weights, a saving of 56 %, and the same fraction
# of multiply-adds. With the paper's $M$ the count is the same to within the rounding of
# $M$ (it can only be a little smaller, since $M$ is rounded down). Which one to use
# depends on what is scarce: (2+1)D is a way to save computation *or* to buy depth and
# non-linearity at a fixed cost.
#
# ### Exercise 4: your 3D convolution block (3 points)
#
# The small 3D CNN we train in section 10 (`course_utils.models.video.Small3DCNN`) is a
# stack of three blocks, each a 3D convolution, a batch norm, a ReLU and a max pooling,
# followed by an average pool and a linear layer. It takes the block as an argument, so
# you can write it. Write `conv3d_block(in_channels, out_channels, pool)` returning an
# `nn.Module` that maps `[B, in_channels, T, H, W]` to the pooled output, made of, in this
# order:
#
# 1. `nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)` (the
#    batch norm's shift makes a bias redundant; padding 1 keeps T, H and W);
# 2. `nn.BatchNorm3d(out_channels)` with its default settings;
# 3. a ReLU;
# 4. `nn.MaxPool3d(pool)`, where `pool` is a triple `(t, h, w)` or an int, used as both
#    kernel and stride: `(1, 2, 2)` halves height and width and keeps every frame, as
#    C3D's first pooling does.
#
# The chapter trains the 3D CNN built from your block. Until you have written it, it
# falls back to the course's block and says so.

# %% nbgrader={"grade": false, "grade_id": "conv3d_block", "locked": false, "schema_version": 3, "solution": true}
def conv3d_block(in_channels, out_channels, pool):
    """Conv3d(3x3x3, padding 1, no bias) -> BatchNorm3d -> ReLU -> MaxPool3d(pool), as one nn.Module."""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(),
        nn.MaxPool3d(pool),
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conv3d_block_structure", "locked": true, "points": 1, "schema_version": 3, "solution": false}
torch.manual_seed(0)
block = conv3d_block(3, 8, (1, 2, 2))
assert isinstance(block, nn.Module), f"conv3d_block should return an nn.Module (an nn.Sequential, say), got {type(block)}"
clip_batch = torch.randn(2, 3, 8, 12, 12)
_ = expect_tensor(block(clip_batch), "conv3d_block(3, 8, (1, 2, 2)) applied to a [2, 3, 8, 12, 12] batch",
                  shape=(2, 8, 8, 6, 6))
_ = expect_tensor(conv3d_block(4, 6, 2)(torch.randn(1, 4, 8, 10, 10)),
                  "conv3d_block(4, 6, pool=2) applied to a [1, 4, 8, 10, 10] batch", shape=(1, 6, 4, 5, 5))
expect_equal(count_parameters(block), 27 * 3 * 8 + 2 * 8,
             "number of parameters of conv3d_block(3, 8, ...): 3x3x3x3 weights per filter, no conv bias, "
             "and the batch norm's weight and bias", integer=True)
### BEGIN HIDDEN TESTS
_FORBIDDEN_BLOCK = (ref_models.conv3d_block, ref_models.conv2plus1d_block, "torchvision.ops.Conv3dNormActivation.__init__")
with forbid(*_FORBIDDEN_BLOCK, exercise="conv3d_block"):
    _h_block = conv3d_block(5, 7, (2, 1, 1))
    _h_out = _h_block(torch.randn(3, 5, 6, 5, 7))
    _h_block2 = conv3d_block(16, 32, [2, 2, 2])
    _h_out2 = _h_block2(torch.randn(1, 16, 4, 6, 6))
_ = expect_tensor(_h_out, "conv3d_block(5, 7, (2, 1, 1)) on [3, 5, 6, 5, 7]", shape=(3, 7, 3, 5, 7))
_ = expect_tensor(_h_out2, "conv3d_block(16, 32, [2, 2, 2]) on [1, 16, 4, 6, 6]", shape=(1, 32, 2, 3, 3))
expect_equal(count_parameters(_h_block), 27 * 5 * 7 + 2 * 7, "parameters of conv3d_block(5, 7, ...)", integer=True)
expect_equal(count_parameters(_h_block2), 27 * 16 * 32 + 2 * 32, "parameters of conv3d_block(16, 32, ...)", integer=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_conv3d_block_values", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# Your block and the course's reference, given the same weights, must compute the same function
# (in training mode, in eval mode, and for the gradient of the input).
def reference_with_weights_of(block, in_channels, out_channels, pool):
    """The course's block, carrying the weights and running statistics of `block` (found by layer type)."""
    convs = [m for m in block.modules() if isinstance(m, nn.Conv3d)]
    norms = [m for m in block.modules() if isinstance(m, nn.BatchNorm3d)]
    assert len(convs) == 1 and len(norms) == 1, \
        f"conv3d_block should contain one nn.Conv3d and one nn.BatchNorm3d, found {len(convs)} and {len(norms)}"
    reference = ref_models.conv3d_block(in_channels, out_channels, pool)
    ref_conv = next(m for m in reference.modules() if isinstance(m, nn.Conv3d))
    ref_norm = next(m for m in reference.modules() if isinstance(m, nn.BatchNorm3d))
    assert convs[0].weight.shape == ref_conv.weight.shape, \
        f"the Conv3d of conv3d_block has weights of shape {list(convs[0].weight.shape)}, expected {list(ref_conv.weight.shape)}"
    with torch.no_grad():
        ref_conv.weight.copy_(convs[0].weight)
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(ref_norm, name).copy_(getattr(norms[0], name))
    return reference.to(convs[0].weight.dtype)


def randomize(block, seed):
    """Give every parameter and batch-norm statistic of `block` random values (so nothing is at its default)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in (*block.named_parameters(), *block.named_buffers()):
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=g, dtype=tensor.dtype)
                tensor.copy_(values + 0.5 if name.endswith("running_var") else 2 * values - 1)


def compare_with_reference(block, reference, clip_batch, what):
    for mode in ("train", "eval"):
        block.train(mode == "train")
        reference.train(mode == "train")
        x1 = clip_batch.clone().requires_grad_(True)
        x2 = clip_batch.clone().requires_grad_(True)
        out, expected = block(x1), reference(x2)
        expect_close(out, expected.detach(), f"{what} in {mode} mode", atol=1e-4, rtol=1e-4)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out).to(out.dtype)).sum().backward()
        (expected * torch.linspace(-1, 1, expected.numel()).view_as(expected).to(expected.dtype)).sum().backward()
        expect_close(x1.grad, x2.grad, f"gradient of the input of {what} in {mode} mode", atol=1e-4, rtol=1e-4)


block = conv3d_block(3, 8, (1, 2, 2))
randomize(block, 0)
compare_with_reference(block, reference_with_weights_of(block, 3, 8, (1, 2, 2)),
                       torch.randn(2, 3, 8, 12, 12, generator=torch.Generator().manual_seed(1)),
                       "conv3d_block(3, 8, (1, 2, 2)), compared with the reference block")
### BEGIN HIDDEN TESTS
for _h_args, _h_shape in [((5, 7, (2, 1, 1)), (3, 5, 6, 5, 7)), ((4, 4, 2), (2, 4, 4, 6, 8)), ((2, 3, (1, 3, 3)), (2, 2, 3, 9, 9))]:
    with forbid(*_FORBIDDEN_BLOCK, exercise="conv3d_block"):
        _h_block = conv3d_block(*_h_args)
    randomize(_h_block, sum(_h_args[:2]))
    _h_ref = reference_with_weights_of(_h_block, *_h_args)
    with forbid(*_FORBIDDEN_BLOCK, exercise="conv3d_block"):
        compare_with_reference(_h_block, _h_ref, torch.randn(*_h_shape, generator=torch.Generator().manual_seed(7)),
                               f"conv3d_block{_h_args} on {list(_h_shape)}")
_h_block = conv3d_block(3, 5, (1, 2, 2)).double()
randomize(_h_block, 3)
_h_ref = reference_with_weights_of(_h_block, 3, 5, (1, 2, 2))
compare_with_reference(_h_block, _h_ref, torch.randn(2, 3, 4, 6, 6, dtype=torch.float64), "conv3d_block in float64")
### END HIDDEN TESTS

# %% [markdown]
# The 3D CNN of section 10 is three such blocks: 3 → 8 → 16 → 32 channels, pooling
# 1 × 2 × 2 (as in C3D, the first block keeps every frame), then 2 × 2 × 2 twice. The
# cell below builds it from your block (or the course's, while yours is a stub) and
# prints its layers. Compare its size with C3D's.

# %%
def choose_block():
    """Your conv3d_block if it builds a working network, else the course's reference block."""
    try:
        Small3DCNN(block=conv3d_block)(torch.zeros(2, 3, FRAMES, SIZE, SIZE))
        print("The 3D CNN is built from your conv3d_block.")
        return conv3d_block
    except Exception as error:  # a stub raises NotImplementedError; a broken block may raise anything
        print(f"conv3d_block does not work yet ({type(error).__name__}), so the 3D CNN uses the course's "
              "reference block (course_utils.models.video.conv3d_block).")
        return ref_models.conv3d_block


block_for_training = choose_block()
print(summarize(Small3DCNN(block=block_for_training), (1, 3, FRAMES, SIZE, SIZE)))

# %% [markdown]
# ## 7. Optical flow
#
# The networks so far must discover motion on their own. A much older idea is to
# compute it first. **Optical flow** assigns to every pixel of frame $t$ a displacement
# $(u, v)$: where that bit of the image is in frame $t + 1$. The lecture states the
# assumption behind it, **brightness constancy**: a point keeps its brightness as it
# moves,
#
# $$I_{t+1}(x + u, y + v) = I_t(x, y).$$
#
# In this course $u$ is the motion along x (to the right) and $v$ along y (down, the
# direction of increasing row index), in pixels per frame.
#
# The equation is not linear in $(u, v)$. For a small motion, a first-order Taylor
# expansion of the left side around $(x, y)$ gives
# $I_{t+1}(x, y) + I_x u + I_y v \approx I_t(x, y)$, that is
#
# $$I_x u + I_y v + I_t = 0,$$
#
# with $I_x, I_y$ the spatial derivatives of the image and $I_t = I_{t+1} - I_t$ the
# change in time. One equation per pixel, two unknowns: the motion *along* an edge
# changes nothing in the image and cannot be measured. This is the **aperture problem**:
# a long bar seen through a small hole seems to move perpendicular to itself, whatever
# its true motion. Only where the image has structure in two directions (a corner, a
# texture) is the flow determined.
#
# **Lucas–Kanade** (1981) adds the missing equations by assuming that the flow is the
# same for all pixels of a small window around the pixel of interest. The window gives
# one equation per pixel, $n$ equations for 2 unknowns, solved in the least-squares
# sense: minimize $\sum_{\text{window}} (I_x u + I_y v + I_t)^2$. Setting the derivatives
# with respect to $u$ and $v$ to zero gives the 2 × 2 **normal equations**
#
# $$\begin{bmatrix} \sum I_x^2 & \sum I_x I_y \\ \sum I_x I_y & \sum I_y^2 \end{bmatrix}
# \begin{bmatrix} u \\ v \end{bmatrix} = -\begin{bmatrix} \sum I_x I_t \\ \sum I_y I_t \end{bmatrix}.$$
#
# The matrix on the left (the *structure tensor* of the window) says how well the flow
# is determined: two large eigenvalues for a corner or a texture, one large and one
# near zero for an edge (the aperture problem again: the matrix is singular), two near
# zero for a flat region.
#
# ### Exercise 5: Lucas–Kanade on one patch (3 points)
#
# Write `lucas_kanade_patch(patch0, patch1, eps=1e-9)`: the single flow vector `(u, v)`
# of a small patch seen in two frames, by the least squares above over *all* pixels of
# the patch. The details (they match scikit-image's `optical_flow_ilk`, which the tests
# compare you with):
#
# * the spatial gradients are those of the **second** patch, `patch1`, by central
#   differences inside the patch, $I_x[i, j] = (I[i, j+1] - I[i, j-1])/2$, and one-sided
#   differences on its border ($I[i, 1] - I[i, 0]$ in the first column, and so on); this is
#   exactly `torch.gradient` (or `numpy.gradient`), which you may use. Mind which axis
#   is x: columns;
# * $I_t$ = `patch1 - patch0`;
# * when the 2 × 2 matrix is singular, $|\det| \le$ `eps` (a flat patch, or a pure edge),
#   return `(0, 0)`;
# * return a tensor of shape `[2]`, `(u, v)`, with the dtype of the patches.

# %% nbgrader={"grade": false, "grade_id": "lucas_kanade_patch", "locked": false, "schema_version": 3, "solution": true}
def lucas_kanade_patch(patch0, patch1, eps=1e-9):
    """Flow (u, v) of a patch between two frames, by Lucas-Kanade least squares.

    Args:
        patch0, patch1: Tensor[H, W] float (H, W >= 2), the patch in frame t and in frame t + 1.
        eps: the 2 x 2 matrix is singular when |det| <= eps; then return zeros.

    Returns:
        Tensor[2] (u, v), u along x (columns), v along y (rows), dtype of the patches.
    """
    ### BEGIN SOLUTION
    grad_y, grad_x = torch.gradient(patch1, dim=(0, 1))  # rows first: d/dy, then d/dx
    grad_t = patch1 - patch0
    a, b, c = (grad_x * grad_x).sum(), (grad_x * grad_y).sum(), (grad_y * grad_y).sum()
    p, q = -(grad_x * grad_t).sum(), -(grad_y * grad_t).sum()
    det = a * c - b * b
    if abs(det) <= eps:
        return torch.zeros(2, dtype=patch0.dtype)
    return torch.stack([(c * p - b * q) / det, (a * q - b * p) / det])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_lucas_kanade_patch", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: dtype-stated
def moving_pattern(dx, dy, height=5, width=5, dtype=torch.float64):
    """A smooth pattern with texture in every direction, moved by (dx, dy) pixels."""
    x = torch.arange(width, dtype=dtype)[None, :] - dx
    y = torch.arange(height, dtype=dtype)[:, None] - dy
    return torch.sin(0.9 * x) + torch.cos(0.7 * y) + 0.5 * torch.sin(0.6 * x + 0.8 * y)


def flow_by_scikit_image(patch0, patch1):
    """scikit-image's iterative Lucas-Kanade, one step from zero flow, read at the centre of a square patch."""
    r = patch0.shape[0] // 2
    v_u = optical_flow_ilk(patch0.double().numpy(), patch1.double().numpy(), radius=r, num_warp=1, dtype=np.float64)
    return torch.tensor([v_u[1, r, r], v_u[0, r, r]], dtype=torch.float64)  # scikit-image gives (v, u)


for (dx, dy), side in [((0.3, 0.2), 5), ((-0.4, 0.1), 7), ((0.05, -0.6), 5)]:
    p0, p1 = moving_pattern(0.0, 0.0, side, side), moving_pattern(dx, dy, side, side)
    got = lucas_kanade_patch(p0, p1)
    _ = expect_tensor(got, f"lucas_kanade_patch on a {side} x {side} float64 patch", shape=(2,), dtype=torch.float64)
    expect_close(got, flow_by_scikit_image(p0, p1),
                 f"lucas_kanade_patch of a {side} x {side} pattern moved by ({dx}, {dy}), compared with scikit-image",
                 atol=1e-4, rtol=1e-4)
p0, p1 = moving_pattern(0.0, 0.0, 6, 6, torch.float32), moving_pattern(0.2, 0.3, 6, 6, torch.float32)
_ = expect_tensor(lucas_kanade_patch(p0, p1), "lucas_kanade_patch on float32 patches (keep their dtype)",
                  shape=(2,), dtype=torch.float32)
### BEGIN HIDDEN TESTS
_FORBIDDEN_LK = (ref_flow.lucas_kanade_patch, ref_flow.lucas_kanade, ref_flow.lucas_kanade_loop, ref_flow.clip_flows,
                 "skimage.registration.optical_flow_ilk", "skimage.registration.optical_flow_tvl1")
_h_g = torch.Generator().manual_seed(5)
_h_cases = []
for _h_side in (3, 5, 7, 9, 9, 11):
    _h_p0 = torch.rand(_h_side, _h_side, generator=_h_g, dtype=torch.float64)
    _h_p1 = _h_p0 + 0.2 * torch.rand(_h_side, _h_side, generator=_h_g, dtype=torch.float64)
    _h_cases.append((_h_p0, _h_p1))
_h_cases.append((moving_pattern(0, 0, 9, 9), moving_pattern(0.7, -0.5, 9, 9)))
_h_expected = [flow_by_scikit_image(a, b) for a, b in _h_cases]
_h_rect = (moving_pattern(0, 0, 4, 9), moving_pattern(0.25, 0.3, 4, 9))  # not square: compare with least squares
_h_gy, _h_gx = np.gradient(_h_rect[1].numpy())
_h_rect_expected = torch.from_numpy(np.linalg.lstsq(np.stack([_h_gx.ravel(), _h_gy.ravel()], 1),
                                                    -(_h_rect[1] - _h_rect[0]).numpy().ravel(), rcond=None)[0])
with forbid(*_FORBIDDEN_LK, exercise="lucas_kanade_patch"):
    _h_got = [lucas_kanade_patch(a, b) for a, b in _h_cases]
    _h_got32 = [lucas_kanade_patch(a.float(), b.float()) for a, b in _h_cases]
    _h_rect_got = lucas_kanade_patch(*_h_rect)
for _h_k, (_h_r, _h_r32, _h_e) in enumerate(zip(_h_got, _h_got32, _h_expected)):
    expect_close(_h_r, _h_e, f"lucas_kanade_patch on random patch {_h_k} (float64)", atol=1e-6, rtol=1e-6)
    _ = expect_tensor(_h_r32, f"lucas_kanade_patch on random patch {_h_k} (float32)", shape=(2,), dtype=torch.float32)
    expect_close(_h_r32, _h_e, f"lucas_kanade_patch on random patch {_h_k} (float32)", atol=1e-3, rtol=1e-3)
expect_close(_h_rect_got, _h_rect_expected, "lucas_kanade_patch on a 4 x 9 patch", atol=1e-6, rtol=1e-6)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_lucas_kanade_singular", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# The aperture problem: a flat patch, or stripes that are constant along y, give a singular matrix.
flat = torch.full((5, 5), 0.4, dtype=torch.float64)
expect_close(lucas_kanade_patch(flat, flat + 0.1), torch.zeros(2, dtype=torch.float64),
             "lucas_kanade_patch of a flat patch (singular: return zeros)")
stripes = torch.tensor([0.0, 1.0, 0.2, 0.9, 0.4], dtype=torch.float64).repeat(5, 1)  # every row the same
moved = stripes.roll(1, dims=1)
got = lucas_kanade_patch(stripes, moved)
assert not torch.isnan(got).any(), "lucas_kanade_patch must not return NaN when the matrix is singular"
expect_close(got, torch.zeros(2, dtype=torch.float64), "lucas_kanade_patch of vertical stripes (singular: return zeros)")
### BEGIN HIDDEN TESTS
with forbid(*_FORBIDDEN_LK, exercise="lucas_kanade_patch"):
    _h_rows = lucas_kanade_patch(stripes.T.contiguous(), moved.T.contiguous())
    _h_flat32 = lucas_kanade_patch(flat.float(), flat.float())
    _h_tiny = lucas_kanade_patch(moving_pattern(0, 0, 5, 5) * 1e-6, moving_pattern(0.2, 0.1, 5, 5) * 1e-6)
expect_close(_h_rows, torch.zeros(2, dtype=torch.float64), "lucas_kanade_patch of horizontal stripes")
_ = expect_tensor(_h_flat32, "lucas_kanade_patch of a flat float32 patch", shape=(2,), dtype=torch.float32)
expect_close(_h_flat32, torch.zeros(2), "lucas_kanade_patch of a flat float32 patch")
expect_close(_h_tiny, torch.zeros(2, dtype=torch.float64), "lucas_kanade_patch of a nearly flat patch (|det| <= eps)")
### END HIDDEN TESTS

# %% [markdown]
# ### Dense flow, loop and vectorized, against scikit-image
#
# A dense flow field applies the patch computation around *every* pixel: a window of
# $(2r + 1) \times (2r + 1)$ pixels centred on it, mirrored at the image border.
# `course_utils.ops.flow` has it twice: `lucas_kanade_loop` solves one 2 × 2 system per
# pixel in Python, and `lucas_kanade` computes all the window sums at once with a box
# filter (an average pooling) and solves all the systems with Cramer's rule. Both should
# agree with each other and with one step of scikit-image's `optical_flow_ilk`. We test
# them on a smooth random texture moved by a known fraction of a pixel
# (`ref_flow.shift_image`, which wraps around, so the true flow is the same everywhere).

# %%
def texture(size, seed=0, smooth=3):
    """A smooth random periodic texture in [0, 1]: white noise, blurred by repeated 3x3 averaging."""
    img = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    for _ in range(smooth):
        img = F.avg_pool2d(F.pad(img, (1, 1, 1, 1), mode="circular"), 3, stride=1)
    img = img[0, 0]
    return (img - img.min()) / (img.max() - img.min())


frame_a = texture(24)
frame_b = ref_flow.shift_image(frame_a, 0.4, -0.25)
start = time.process_time()
dense_loop = ref_flow.lucas_kanade_loop(frame_a, frame_b, radius=2)
loop_seconds = time.process_time() - start
start = time.process_time()
dense_fast = ref_flow.lucas_kanade(frame_a, frame_b, radius=2)
fast_seconds = time.process_time() - start
skimage_one_step = optical_flow_ilk(frame_a.numpy(), frame_b.numpy(), radius=2, num_warp=1, dtype=np.float64)
skimage_one_step = torch.from_numpy(skimage_one_step[::-1].copy())  # (v, u) -> (u, v)
print(f"loop vs vectorized: largest difference {(dense_loop - dense_fast).abs().max():.1e}; "
      f"CPU time {loop_seconds * 1000:.0f} ms vs {fast_seconds * 1000:.1f} ms")
print(f"vectorized vs scikit-image (one warp): largest difference {(dense_fast - skimage_one_step).abs().max():.1e}")
print(f"mean flow {dense_fast.mean(dim=(1, 2)).tolist()} (true flow (0.4, -0.25))")

# %% [markdown]
# Identical to rounding, and the mean flow is close to the truth but not on it: the
# Taylor expansion is only first order. How far does it carry? The next experiment moves
# the texture (now 64 × 64) by larger and larger amounts and measures the mean
# *end-point error*, the length of the difference between the estimated and the true
# flow vector. Three methods compete:
#
# * our **Lucas–Kanade**, one linearization, 5 × 5 windows;
# * scikit-image's **iterative Lucas–Kanade** (`optical_flow_ilk` with its defaults):
#   it repeats the linearization after *warping* the second frame back by the current
#   estimate (10 times), and it works **coarse to fine** on an image pyramid, so that a
#   large motion is a small one at a coarse scale;
# * scikit-image's **TV-L1** (`optical_flow_tvl1`, Zach, Pock and Bischof, 2007), a
#   *variational* method: it minimizes, over the whole image at once, the absolute
#   brightness-constancy error plus the total variation of the flow (a penalty on its
#   changes, which favours piecewise-smooth fields), also with warping and a pyramid.

# %%
big = texture(64, seed=1, smooth=4)
interior = (slice(8, -8), slice(8, -8))  # away from the wrap-around border
displacements = [0.25, 0.5, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 7.0]
VERTICAL = 0.37  # the vertical motion is 0.37 times the horizontal one (never a whole number of pixels here)
errors = {"our Lucas-Kanade (one step)": [], "iterative LK, pyramid (scikit-image)": [], "TV-L1 (scikit-image)": []}
start = time.process_time()
for d in displacements:
    moved = ref_flow.shift_image(big, d, VERTICAL * d)
    truth = torch.tensor([d, VERTICAL * d], dtype=torch.float64)[:, None, None].expand(2, 64, 64)
    estimates = [ref_flow.lucas_kanade(big, moved, radius=2),
                 torch.from_numpy(optical_flow_ilk(big.numpy(), moved.numpy(), radius=2, dtype=np.float64)[::-1].copy()),
                 torch.from_numpy(optical_flow_tvl1(big.numpy(), moved.numpy(), dtype=np.float64)[::-1].copy())]
    for name, estimate in zip(errors, estimates):
        errors[name].append(ref_flow.endpoint_error(estimate[:, interior[0], interior[1]],
                                                    truth[:, interior[0], interior[1]]).item())
print(f"flow for {len(displacements)} displacements by 3 methods in {time.process_time() - start:.1f} s CPU")
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, values in errors.items():
    ax.plot(displacements, values, "o-", label=name)
ax.plot(displacements, [math.hypot(d, VERTICAL * d) for d in displacements], "k:", label="error of predicting no motion")
ax.set_xlabel(f"true motion along x in pixels (along y: {VERTICAL} times as much)")
ax.set_ylabel("mean end-point error (pixels)")
ax.set_yscale("log")
ax.legend(fontsize=8)
ax.set_title("Flow error against the size of the motion (64 x 64 texture)", fontsize=10)
fig.tight_layout()
plt.show()
for name, values in errors.items():
    print(f"{name:38s}" + " ".join(f"{v:6.3f}" for v in values))

# %% [markdown]
# The plain linearization is accurate for motions of a fraction of a pixel; its error
# grows quickly beyond one pixel, and at three or four pixels it is hardly better than
# predicting no motion at all. The Taylor expansion describes the image only over the
# distance where its gradient stays roughly the same, and for this texture that is a
# pixel or two. Warping and the pyramid extend the range: the iterative version stays
# within a fifth of a pixel up to 3.5 pixels and TV-L1 within a twentieth up to 5, and
# both fail at 7, where the motion is too large even for the coarsest level of the
# pyramid (a 64-pixel image gets only two levels, of 64 and 32 pixels). Their remaining error of a few hundredths of
# a pixel comes mostly from the bilinear interpolation they use to warp the image.
# Every practical flow method uses some version of both tricks.
#
# ### Flow on our clips
#
# Our clips move by about a pixel per frame, on the edge of what a single linearization
# handles, which is good enough to *see* the motion. The figure computes the flow between
# the middle two frames of one clip per class with `ref_flow.lucas_kanade` (5 × 5
# windows) and draws it as arrows on the frame and, below, in colour: the hue gives the
# direction (the wheel on the right is the legend), the brightness the speed. Only
# windows where the flow is well determined are drawn: those where the smaller eigenvalue
# of the structure tensor (`ref_flow.min_eigenvalue`, Shi and Tomasi's criterion for
# "good features to track") is at least a quarter of its largest value in the frame;
# elsewhere the window is too flat, and the flow there is mostly fitted noise.

# %%
middle = FRAMES // 2 - 1
gallery_flows = ref_flow.clip_flows(gallery_clips, radius=2)[:, middle]  # [8, 2, H, W]: frames middle -> middle + 1
cornerness = ref_flow.min_eigenvalue(gallery_clips.mean(dim=1)[:, middle + 1], radius=2)  # [8, H, W]
reliable = cornerness > 0.25 * cornerness.amax(dim=(1, 2), keepdim=True)  # the best-determined windows of each frame
gallery_flows = gallery_flows * reliable[:, None]  # zero flow where the window is too flat to tell
print(f"windows with a reliable flow: {reliable.float().mean():.0%} of the pixels")
top_speed = float(gallery_flows.norm(dim=1).max())
fig, axes = plt.subplots(2, 9, figsize=(15, 3.8), gridspec_kw={"width_ratios": [1] * 8 + [0.8]})
for k in range(8):
    axes[0, k].imshow(gallery_clips[k, :, middle].permute(1, 2, 0).numpy())
    draw_flow(axes[0, k], gallery_flows[k], step=2, scale=2.0, min_magnitude=0.1)
    axes[0, k].set_title(ACTION_CLASSES[gallery[k][1]], fontsize=9)
    axes[1, k].imshow(flow_to_color(gallery_flows[k], max_magnitude=top_speed))
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 8].axis("off")
axes[1, 8].imshow(color_wheel())
axes[1, 8].set_title("direction", fontsize=8)
fig.suptitle("Lucas-Kanade flow between frames 3 and 4 (arrows drawn twice as long as the motion)", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The translations light up as arrows of one direction (one colour) along the shape's
# outline; rotations as arrows of opposite directions at its two ends; growth and
# shrinking as arrows pointing out of or into it. Almost all the background is left
# out: its texture is too smooth for reliable flow, and it does not move anyway. Notice
# also what is missing: inside a uniformly coloured shape there is no texture, hence no
# flow, and along a straight edge only the motion across the edge can be measured (the
# aperture problem). A network that reads these fields
# no longer has to discover motion: it receives it, and its task becomes recognizing
# *patterns of motion*, which is what the two-stream network of the next section does.

# %% [markdown]
# ## 8. Two-stream networks: appearance and motion
#
# Simonyan and Zisserman (2014) turned this into an architecture. A **two-stream
# network** has two ordinary 2D CNNs. The *spatial stream* sees one RGB frame,
# `[3, H, W]`, and recognizes the scene and the objects. The *temporal stream* sees the
# optical flow of the clip: the $T - 1$ flow fields between consecutive frames, each with
# a horizontal and a vertical component, stacked as $2(T - 1)$ channels of one image (the
# lecture's `[2(T-1), H, W]`). Its first convolution therefore fuses all the flow early,
# like the early-fusion network did with pixels, but what it fuses is already motion.
# The two streams' class scores are combined at the end (the paper averaged them or
# trained a linear SVM on them; we add the logits and train both streams together). In
# the paper the motion stream alone was more accurate than the appearance stream on
# UCF-101, and the combination better than either: flow, computed by a classical method
# outside the network, supplied something the CNNs of the time did not learn from raw
# frames.
#
# `course_utils.models.video.TwoStreamNet` is the small version. Its input is the pair
# `(middle frame, stacked flow)`; `TwoStreamNet.inputs_from_clips` makes it from clips,
# computing the Lucas–Kanade flow of every clip once, before training (flow is a fixed
# preprocessing, not a learned layer, so there is no reason to recompute it every epoch).
# On our data the spatial stream can only learn to output the same scores for every
# frame; the temporal stream has to do all the work.

# %%
start = time.process_time()
train_pairs = TwoStreamNet.inputs_from_clips(train_clips)
test_pairs = TwoStreamNet.inputs_from_clips(test_clips)
flow_seconds = time.process_time() - start
print(f"flow of {NUM_TRAIN + NUM_TEST} clips ({(NUM_TRAIN + NUM_TEST) * (FRAMES - 1)} frame pairs) in "
      f"{flow_seconds:.1f} s CPU")
print("spatial stream input:", tuple(train_pairs[0].shape), "| temporal stream input:", tuple(train_pairs[1].shape),
      f"= 2 x ({FRAMES} - 1) channels")

# %% [markdown]
# ## 9. Longer time: recurrence and attention
#
# All the models so far see one fixed, short clip. Two ideas extend their view.
#
# **A CNN followed by a recurrent network.** Run a 2D CNN on each frame to get a sequence
# of feature vectors, and let a recurrent network (here a GRU: $h_t = f_W(h_{t-1}, x_t)$,
# the recurrence of the lecture) read them in order; classify its last state (Donahue et
# al., 2015, "long-term recurrent convolutional networks"). The recurrence can, in
# principle, carry information over any number of frames, and it reads the frames in
# order, unlike late fusion by pooling. Backpropagating through a CNN at every time step
# is expensive, and the lecture notes that one often does not: the CNN is trained
# first (or taken from an image model) and then used as a fixed feature extractor, and
# only the recurrent network is trained on its features. We do exactly that in section
# 10 with the per-frame CNN of the late-fusion model: `CNNGRU` gets a copy of it, frozen,
# and we train the GRU and the classifier on the precomputed frame features.
#
# **Space-time self-attention.** A convolution, 2D or 3D, relates a position only to its
# neighbours; distant positions in space or time meet only after many layers. The
# **nonlocal block** (Wang et al., 2018) lets every position of a 3D feature map
# `[C, T, H, W]` look at every other one directly, with the self-attention of the
# transformer chapter. With $N = THW$ positions, three 1 × 1 × 1 convolutions make a
# query, a key and a value for each position, an $N \times N$ softmax of query–key products
# says where each position looks, and the weighted sum of values goes through one more
# 1 × 1 × 1 convolution and is *added* to the input. That last convolution starts at
# zero, so a fresh nonlocal block is the identity; this is how the paper inserts blocks
# into an already trained 3D CNN and fine-tunes. `course_utils.models.video.NonLocalBlock`
# is the small version:

# %%
torch.manual_seed(0)
nonlocal_block = NonLocalBlock(16)
features = torch.randn(2, 16, 4, 6, 6)  # [B, C, T, H, W]: a feature map like our 3D CNN's after two blocks
out, attention = nonlocal_block(features, return_attention=True)
print("input", tuple(features.shape), "-> output", tuple(out.shape), "| attention", tuple(attention.shape),
      f"| parameters {count_parameters(nonlocal_block):,}")
print(f"a new block is the identity: largest change {(out - features).abs().max().item():.1e}")
print(f"every row of the attention sums to 1: {torch.allclose(attention.sum(-1), torch.ones(2, 144))}")
for name, (t, h, w) in {"our 3D CNN after block 2": (4, 6, 6), "C3D after conv3 (8 x 28 x 28)": (8, 28, 28),
                        "C3D after conv4 (4 x 14 x 14)": (4, 14, 14)}.items():
    n = t * h * w
    print(f"{name:32s} N = {n:6,} positions, attention matrix {n * n:>13,} entries "
          f"({n * n * 4 / ref_video.MIB:8.1f} MiB in float32)")

# %% [markdown]
# The last three lines are the price. The attention matrix has $N^2$ entries: harmless
# for our tiny maps, 150 MiB per clip (per block, in the forward pass alone) on C3D's
# conv3 features, which is why the paper puts nonlocal blocks in the later, coarser
# stages.
#
# **Transformers for video** take the idea all the way: no convolutions, only attention
# over space-time tokens. ViViT (Arnab et al., 2021) cuts a clip into *tubelets*
# ($2 \times 16 \times 16$ voxels), embeds each one linearly (a 3D convolution whose
# stride equals its kernel) and runs a ViT encoder over all of them ("model 1", joint
# space-time attention), or first a spatial encoder over the tokens of each time step and
# then a temporal encoder over one summary vector per time step ("model 2", the
# factorized encoder). **SlowFast** (Feichtenhofer et al., 2019) stays convolutional and
# instead splits time: a *slow* pathway reads few frames (4) with many channels, for
# appearance, and a *fast* pathway reads 8 times as many frames (32) with 1/8 of the
# channels, for motion; lateral connections feed fast features into the slow pathway.
# `course_utils.models.video` builds both from their papers' configurations (ViT-Base
# sizes and 32 frames of 224 × 224 for ViViT, a ResNet-50 backbone and the 4 × 16
# setting for SlowFast). We count their parameters on the `meta` device, together with
# C3D and two video ResNets from torchvision, and work out where their computation goes.

# %%
with torch.device("meta"):
    context_models = {
        "C3D (Sports-1M, 16x112x112)": (c3d(), (1, 3, 16, 112, 112)),
        "R3D-18 (torchvision, 16x112x112)": (torchvision.models.video.r3d_18(), (1, 3, 16, 112, 112)),
        "R(2+1)D-18 (torchvision, 16x112x112)": (torchvision.models.video.r2plus1d_18(), (1, 3, 16, 112, 112)),
        "SlowFast R50 4x16 (Kinetics-400)": (SlowFast(), None),
        "ViViT-B model 1, joint (32x224x224)": (ViViT(), None),
        "ViViT-B model 2, factorized (32x224x224)": (ViViT(factorized=True), None),
    }
for name, (model, input_size) in context_models.items():
    print(f"{name:42s} {count_parameters(model):>12,} parameters")

slowfast = context_models["SlowFast R50 4x16 (Kinetics-400)"][0]
for side in (224, 256):
    slowfast_inputs = (torch.empty(1, 3, 4, side, side, device="meta"), torch.empty(1, 3, 32, side, side, device="meta"))
    slowfast_summary = summarize(slowfast, example_input=slowfast_inputs, depth=1)
    fast_macs = sum(r.macs for r in slowfast_summary.rows if r.name.startswith("fast"))
    fast_params = sum(count_parameters(m) for m in (slowfast.fast_stem, slowfast.fast_stages))
    print(f"SlowFast at {side} x {side}: {slowfast_summary.total_macs / 1e9:.1f} G mult-adds per view, "
          f"{fast_macs / slowfast_summary.total_macs:.0%} of them in the fast pathway, which has "
          f"{fast_params / count_parameters(slowfast):.1%} of the parameters")

# %% [markdown]
# SlowFast's fast pathway does about a fifth of the work with 1.5 % of the weights:
# many frames, few channels. (At the 256 × 256 crops used for testing in the
# paper, our count is 36.1 G multiply-adds per view, the figure the SlowFast paper lists
# for this model.) For the transformers the cost is dominated by attention, which we can
# count by hand. A ViT-Base layer on $N$ tokens of width $d = 768$ with an MLP of 3072
# units costs $4Nd^2$ multiply-adds for the query, key, value and output projections,
# $2N^2 d$ for the attention itself (query–key products and the weighted sum of
# values) and $2 N d \cdot 3072$ for the MLP:

# %%
def vit_layer_macs(tokens, dim=768, mlp=3072):
    """Multiply-adds of one transformer encoder layer on `tokens` tokens: projections, attention, MLP."""
    return {"projections": 4 * tokens * dim * dim, "attention": 2 * tokens * tokens * dim, "mlp": 2 * tokens * dim * mlp}


joint_tokens = (32 // 2) * (224 // 16) ** 2 + 1  # 16 x 14 x 14 tubelets + the class token
joint = {k: 12 * v for k, v in vit_layer_macs(joint_tokens).items()}
spatial = {k: 16 * 12 * v for k, v in vit_layer_macs((224 // 16) ** 2 + 1).items()}  # 12 layers for each of 16 steps
temporal = {k: 4 * v for k, v in vit_layer_macs(16 + 1).items()}
factorized = {k: spatial[k] + temporal[k] for k in joint}
for name, costs in (("model 1, joint", joint), ("model 2, factorized", factorized)):
    total = sum(costs.values())
    print(f"ViViT-B {name:20s} {total / 1e9:6.1f} G mult-adds in the encoder, "
          + ", ".join(f"{k} {v / total:.0%}" for k, v in costs.items()))

# %% [markdown]
# Joint attention over 3,137 tokens spends about 40 % of its encoder's work on the
# attention matrices alone; the factorized model has 30 % more parameters (a second,
# temporal encoder) and yet costs about 40 % less, because no attention matrix is
# larger than 197 × 197 and attention drops to a few percent of its work. Factorizing space and time is the recurring theme of this
# chapter: (2+1)D convolutions, SlowFast's two pathways and ViViT's two encoders are three
# versions of it.

# %% [markdown]
# ## 10. Six models, one comparison
#
# Time to train. Six models, all small enough for a CPU, all on the same clips
# (`NUM_TRAIN` training clips, `NUM_TEST` held-out clips, 8 frames of 24 × 24):
#
# | model | where the frames meet | trained on |
# |---|---|---|
# | single-frame CNN | nowhere (scores averaged over frames) | random single frames |
# | late fusion (FC) | after a 2D CNN per frame, features concatenated | clips |
# | early fusion | in the first 2D convolution (frames stacked as channels) | clips |
# | 3D CNN (your block) | in every layer (3D convolutions) | clips |
# | two-stream | flow stacked in the temporal stream's first convolution | (middle frame, flow) |
# | CNN + GRU | in a GRU over the frozen late-fusion CNN's frame features | frame features |
#
# Every model is trained with the same recipe: AdamW, a one-cycle learning-rate schedule,
# batches of 32, cross-entropy, a number of epochs chosen per model so that the whole
# cell runs in about a minute in full mode (the 3D CNN gets the most). The per-frame CNNs
# use 8 channels in their first layer (16 for the two streams). The training cell is the
# one long cell of the chapter.

# %%
BATCH_SIZE = 32
LEARNING_RATE = 3e-3
EPOCHS = {"single-frame": budget(full=4, quick=1), "late fusion (FC)": budget(full=4, quick=1),
          "early fusion": budget(full=5, quick=1), "3D CNN": budget(full=8, quick=1),
          "two-stream": budget(full=6, quick=1), "CNN + GRU": budget(full=10, quick=1)}
frame_sampler = torch.Generator().manual_seed(0)


def clip_batches(items):
    """Collate (clip, label) items into ([B, C, T, H, W], [B])."""
    clips, labels = zip(*items)
    return torch.stack(clips), torch.stack(labels)


def single_frame_batches(items):
    """Collate clips, then keep one random frame of each: ([B, C, 1, H, W], [B])."""
    clips, labels = clip_batches(items)
    t = torch.randint(clips.shape[2], (len(clips),), generator=frame_sampler)
    return clips[torch.arange(len(clips)), :, t][:, :, None], labels


def pair_batches(items):
    """Collate (frame, flows, label) items into ((frames, flows), labels) for the two-stream network."""
    frames, flows, labels = zip(*items)
    return (torch.stack(frames), torch.stack(flows)), torch.stack(labels)


def accuracy_of(outputs, targets):
    return (outputs.argmax(dim=1) == targets).float().mean()


@torch.no_grad()
def predict(model, inputs, batch_size=200):
    """Class probabilities of a trained model on `inputs` (a tensor, or a tuple of tensors), in batches."""
    model.eval()
    n = len(inputs[0]) if isinstance(inputs, tuple) else len(inputs)
    chunks = []
    for i in range(0, n, batch_size):
        batch = tuple(t[i:i + batch_size].to(device) for t in inputs) if isinstance(inputs, tuple) \
            else inputs[i:i + batch_size].to(device)
        chunks.append(model(batch).softmax(dim=1).cpu())
    return torch.cat(chunks)


def train(name, model, dataset, collate, forward_fn=None, parameters=None):
    """Train `model` on `dataset` for EPOCHS[name] epochs; return its training wall and CPU seconds."""
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate,
                        generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(parameters or model.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE,
                                                    total_steps=EPOCHS[name] * len(loader))
    wall, cpu = time.perf_counter(), time.process_time()
    fit(model, F.cross_entropy, loader, epochs=EPOCHS[name], optimizer=optimizer, scheduler=scheduler,
        scheduler_step="batch", device=device, metrics={"accuracy": accuracy_of}, forward_fn=forward_fn)
    return time.perf_counter() - wall, time.process_time() - cpu


clip_set = TensorDataset(train_clips, train_labels)
results = {}  # name -> dict(model, params, wall, cpu, probabilities)
seed_everything(0)
models = {
    "single-frame": (SingleFrameCNN(width=8), clip_set, single_frame_batches),
    "late fusion (FC)": (LateFusionFC(FRAMES, width=8), clip_set, clip_batches),
    "early fusion": (EarlyFusionCNN(FRAMES, width=8), clip_set, clip_batches),
    "3D CNN": (Small3DCNN(block=block_for_training), clip_set, clip_batches),
    "two-stream": (TwoStreamNet(FRAMES, width=16), TensorDataset(*train_pairs, train_labels), pair_batches),
}
for name, (model, dataset, collate) in models.items():
    wall, cpu = train(name, model, dataset, collate)
    test_inputs = test_pairs if name == "two-stream" else test_clips
    results[name] = {"model": model, "params": count_parameters(model), "wall": wall, "cpu": cpu,
                     "probabilities": predict(model, test_inputs)}

# CNN + GRU: the late-fusion model's frame CNN, frozen, as a feature extractor; only the GRU and its classifier learn.
late_fusion = results["late fusion (FC)"]["model"]
cnn_gru = CNNGRU(width=8).to(device)
cnn_gru.encoder.load_state_dict(late_fusion.encoder.state_dict())
cnn_gru.encoder.requires_grad_(False)
cnn_gru.encoder.eval()
with torch.no_grad():
    train_features = torch.cat([cnn_gru.frame_features(train_clips[i:i + 200].to(device)).cpu()
                                for i in range(0, NUM_TRAIN, 200)])  # [N, T, feature_dim]
wall, cpu = train("CNN + GRU", cnn_gru, TensorDataset(train_features, train_labels), clip_batches,
                  forward_fn=lambda model, features, targets: model.classify_features(features),
                  parameters=[*cnn_gru.gru.parameters(), *cnn_gru.classifier.parameters()])
results["CNN + GRU"] = {"model": cnn_gru, "params": count_parameters(cnn_gru), "wall": wall, "cpu": cpu,
                        "probabilities": predict(cnn_gru, test_clips)}
print("features of the frozen CNN:", tuple(train_features.shape))

# %% [markdown]
# The table gives each model's size, its training time (wall clock, and the CPU time of
# this process, which a busy machine inflates less), and two accuracies on the held-out
# clips: as they are, and played backwards. A clip played backwards shows the reverse
# action (left becomes right, growing becomes shrinking), so a model that reads the
# motion should get those right too when scored against the reversed label.

# %%
reverse_label = torch.tensor([ACTION_CLASSES.index(n) for n in
                              ("move_right", "move_left", "move_down", "move_up", "rotate_ccw", "rotate_cw",
                               "shrink", "grow")])
backwards_clips = test_clips.flip(2)
for name, result in results.items():
    inputs = TwoStreamNet.inputs_from_clips(backwards_clips) if name == "two-stream" else backwards_clips
    result["accuracy"] = (result["probabilities"].argmax(1) == test_labels).float().mean().item()
    result["backwards"] = (predict(result["model"], inputs).argmax(1) == reverse_label[test_labels]).float().mean().item()

print(f"{'model':18s} {'parameters':>10s} {'epochs':>6s} {'train s (wall / CPU)':>21s} {'test acc.':>9s} {'backwards':>9s}")
for name, r in results.items():
    print(f"{name:18s} {r['params']:>10,} {EPOCHS[name]:>6d} {r['wall']:>10.1f} / {r['cpu']:<8.1f} "
          f"{r['accuracy']:>9.3f} {r['backwards']:>9.3f}")
print(f"chance: {1 / len(ACTION_CLASSES):.3f}; the CNN + GRU row counts the frozen CNN in its parameters "
      f"({count_parameters(cnn_gru.gru) + count_parameters(cnn_gru.classifier):,} trained), not in its time")
report("single_frame_accuracy", results["single-frame"]["accuracy"], target=0.4, higher_is_better=False)
report("cnn3d_accuracy", results["3D CNN"]["accuracy"], target=0.9)
report("two_stream_accuracy", results["two-stream"]["accuracy"], target=0.9)
for key, name in (("late_fusion_accuracy", "late fusion (FC)"), ("early_fusion_accuracy", "early fusion"),
                  ("cnn_gru_accuracy", "CNN + GRU")):
    report(key, results[name]["accuracy"])

# %%
names = list(results)
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [2, 1]})
positions = np.arange(len(names))
axes[0].bar(positions - 0.2, [results[n]["accuracy"] for n in names], width=0.4, label="test clips")
axes[0].bar(positions + 0.2, [results[n]["backwards"] for n in names], width=0.4, label="played backwards")
axes[0].axhline(1 / len(ACTION_CLASSES), color="black", ls=":", lw=1, label="chance (1/8)")
axes[0].axhline(0.9, color="tab:green", ls="--", lw=1, label="target of the 3D CNN and two-stream (0.9)")
axes[0].set_xticks(positions)
axes[0].set_xticklabels(names, fontsize=8)
axes[0].set_ylim(0, 1.3)
axes[0].set_yticks(np.arange(0, 1.01, 0.2))
axes[0].set_ylabel("accuracy")
axes[0].legend(fontsize=7, loc="upper center", ncol=2)
axes[0].set_title("Held-out accuracy", fontsize=10)
axes[1].scatter([results[n]["params"] for n in names], [results[n]["accuracy"] for n in names])
label_offsets = {"late fusion (FC)": (3, -10), "CNN + GRU": (-30, 6), "3D CNN": (4, -4)}  # keep labels apart
for n in names:
    axes[1].annotate(n, (results[n]["params"], results[n]["accuracy"]), fontsize=7,
                     xytext=label_offsets.get(n, (3, 5)), textcoords="offset points")
axes[1].set_xlabel("parameters")
axes[1].set_ylabel("test accuracy")
axes[1].set_ylim(0, 1.05)
axes[1].set_title("Size does not buy accuracy here", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the table with the sections above in mind (the numbers quoted here are those of
# a full run; a quick run trains for one epoch on a handful of clips and proves nothing).
#
# * The **single-frame** model stays at chance, as section 4 predicted: no amount of
#   training extracts a class from one frame of this data. Its score on backwards clips
#   is chance too.
# * **Late fusion** with concatenated frame features does well: the per-frame CNN learns
#   to summarize each frame (where the shape is, how large, how it is oriented), and the
#   MLP compares the summaries across time. Late fusion by *pooling* was left out of the
#   race for the reason shown in section 5: it could not exceed 50 %.
# * **Early fusion** does as well with the fewest parameters of the models that beat
#   chance: on our clips the motion between neighbouring frames is about a pixel, small
#   enough for its first 3 × 3 convolution to see.
# * The **3D CNN**, built from your block, is the most accurate of the models that learn
#   from raw pixels, with fewer parameters than any of them except early fusion. Its
#   convolutions see 3 frames at a time and, stacked, the whole clip. It is also the
#   slowest to train: every layer works on all the frames.
# * The **two-stream** network gets the motion handed to it as flow, and it shows: it
#   is about as accurate as the 3D CNN at a fraction of the training time, although it
#   is the largest network here. The price is paid elsewhere: computing the flow (a
#   second or two of CPU for our clips, and for real videos often more than the network
#   itself).
# * The **CNN + GRU** trains only a small recurrent head on frozen features and reaches
#   about the accuracy of the late-fusion model it borrows them from, in a second or two.
#
# Every model that reads the order of the frames also handles the clips played
# backwards: they have learnt motion, not some accident of the data. Here is what the 3D
# CNN's first layer looks like: each row is one of its 3 × 3 × 3 filters, shown as 3 tiny
# RGB frames (one per time step, each filter min-max scaled over its three frames).
# Filters whose frames differ respond to change; in big networks trained on real video the
# first-layer filters look like moving edges and colour blobs.

# %%
first_conv = next(m for m in results["3D CNN"]["model"].modules() if isinstance(m, nn.Conv3d))
fig = show_filters3d(first_conv.weight, max_filters=8, title="3D CNN, first layer:\n8 filters x 3 time steps")
plt.show()
with torch.no_grad():
    weights = first_conv.weight.flatten(1)  # [O, C*3*3*3]
    temporal_change = (first_conv.weight[:, :, 1:] - first_conv.weight[:, :, :-1]).flatten(1).norm(dim=1)
print("how much each filter changes over its 3 frames, relative to its size:",
      [round(v, 2) for v in (temporal_change / weights.norm(dim=1)).tolist()])

# %% [markdown]
# ## 11. Test time: averaging over windows
#
# Our test clips are exactly as long as the training clips, and each one contains the
# whole action. Real test videos are longer than a clip, and the action may fill only
# part of them. Section 3's recipe handles that: cut the video into windows, classify
# every window, and average the predicted **probabilities** (not the logits: a single
# window with huge logits should not outvote all the others).
#
# ### Exercise 6: averaging over windows (2 points)
#
# Write `average_over_windows(model, video, clip_frames, step=1)`. The video is a tensor
# `[C, T, H, W]`. Cut windows of `clip_frames` consecutive frames starting at frames
# `0, step, 2 * step, ...`, as long as the *whole* window fits in the video (no shorter
# windows at the end). Call `model` on the windows stacked as a batch
# `[K, C, clip_frames, H, W]` (or on each window as a batch of one: both are fine); it
# returns logits `[K, num_classes]`. Return the average over the windows of the softmax
# probabilities, a tensor `[num_classes]`. Raise a `ValueError` if `clip_frames` is larger
# than `T`.

# %% nbgrader={"grade": false, "grade_id": "average_over_windows", "locked": false, "schema_version": 3, "solution": true}
def average_over_windows(model, video, clip_frames, step=1):
    """Mean class probabilities of `model` over the windows of `video`.

    Args:
        model: callable, Tensor[K, C, clip_frames, H, W] -> logits Tensor[K, num_classes].
        video: Tensor[C, T, H, W].
        clip_frames: frames per window (ValueError if larger than T).
        step: frames between the starts of consecutive windows.

    Returns:
        Tensor[num_classes], the softmax probabilities averaged over the windows.
    """
    ### BEGIN SOLUTION
    frames = video.shape[1]
    if clip_frames > frames:
        raise ValueError(f"a window of {clip_frames} frames does not fit in a video of {frames} frames")
    windows = torch.stack([video[:, s:s + clip_frames] for s in range(0, frames - clip_frames + 1, step)])
    return torch.softmax(model(windows), dim=1).mean(dim=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_average_over_windows", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# A video whose frame t holds the value t everywhere, and fake "models" that read the first frame of each window,
# so the result shows which windows were used and how their scores were combined.
numbered_video = torch.arange(10.0).view(1, 10, 1, 1).expand(2, 10, 3, 3).clone()  # [C=2, T=10, 3, 3]
score_table = torch.randn(10, 4, generator=torch.Generator().manual_seed(0)) * 3  # logits for each possible start


def start_model(windows):
    """Logits = score_table[first frame of the window]: a different 4-class score for every start."""
    assert windows.ndim == 5, f"the model expects a batch of windows [K, C, L, H, W], got shape {list(windows.shape)}"
    return score_table[windows[:, 0, 0, 0, 0].long()]


def expected_average(starts):
    return torch.softmax(score_table[starts], dim=1).mean(dim=0)


for clip_frames, step, starts in [(4, 3, [0, 3, 6]), (4, 2, [0, 2, 4, 6]), (3, 5, [0, 5]), (10, 1, [0]), (7, 4, [0])]:
    expect_close(average_over_windows(start_model, numbered_video, clip_frames, step), expected_average(starts),
                 f"average_over_windows on a 10-frame video, windows of {clip_frames} frames with step {step} "
                 f"(they start at frames {starts}; probabilities averaged)")
expect_raises(lambda: average_over_windows(start_model, numbered_video, 11, 1), ValueError,
              "average_over_windows with windows of 11 frames on a 10-frame video")
### BEGIN HIDDEN TESTS
_FORBIDDEN_WINDOWS = (ref_models.average_over_windows, ref_video.sliding_windows, ref_video.window_starts)
_h_g = torch.Generator().manual_seed(12)
_h_video = torch.rand(3, 13, 5, 5, generator=_h_g)
_h_net = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 6))
with torch.no_grad():  # random weights for the hidden model
    for _h_p in _h_net.parameters():
        _h_p.copy_(torch.randn(_h_p.shape, generator=_h_g))
_h_net.eval()
_h_cases = [(4, 1), (4, 3), (5, 4), (13, 2), (1, 6), (6, 7)]
with torch.no_grad():  # expected values and graded calls, without autograd
    _h_expected = [torch.softmax(_h_net(torch.stack([_h_video[:, _h_s:_h_s + _h_l] for _h_s in range(0, 13 - _h_l + 1, _h_st)])),
                                 dim=1).mean(dim=0) for _h_l, _h_st in _h_cases]
    with forbid(*_FORBIDDEN_WINDOWS, exercise="average_over_windows"):
        _h_got = [average_over_windows(_h_net, _h_video, _h_l, _h_st) for _h_l, _h_st in _h_cases]
        _h_got64 = average_over_windows(_h_net.double(), _h_video.double(), 4, 3)
for (_h_l, _h_st), _h_r, _h_e in zip(_h_cases, _h_got, _h_expected):
    expect_close(_h_r, _h_e, f"average_over_windows on a 13-frame video, windows of {_h_l} frames, step {_h_st}")
    expect_close(_h_r.sum(), torch.tensor(1.0), "the averaged probabilities should sum to 1")
_ = expect_tensor(_h_got64, "average_over_windows in float64", shape=(6,), dtype=torch.float64)
expect_close(_h_got64, _h_expected[1].double(), "average_over_windows in float64", atol=1e-5, rtol=1e-5)
with forbid(*_FORBIDDEN_WINDOWS, exercise="average_over_windows"):
    expect_raises(lambda: average_over_windows(start_model, numbered_video[:, :3], 4, 1), ValueError,
                  "average_over_windows with windows of 4 frames on a 3-frame video")
### END HIDDEN TESTS

# %% [markdown]
# Now a harder test set: **longer videos in which the action fills only part of the
# time**. `ActionClips(..., frames=16, action_frames=8)` makes 16-frame videos in which
# the shape holds still, then moves for 8 frames (each step as large as in our training
# clips), then holds still again; the start of the motion is random. Windows of 8 frames
# with a step of 2 give 5 windows per video, starting at frames 0, 2, 4, 6 and 8. Some
# windows catch the whole motion, some part of it, some (at the ends of a video whose
# action is early or late) hardly any. We compare, for the trained 3D CNN and the
# two-stream network:
#
# * each window position on its own (as if we only ever looked at frames 0–7, or 2–9, ...);
# * the average of the probabilities over the 5 windows (`course_utils.models.video.average_over_windows`,
#   the course's version of your function);
# * the window the model is most confident about, and, as an upper bound no test can
#   use, the window that best covers the true action.

# %%
LONG_FRAMES, STEP = 16, 2
NUM_LONG = budget(full=300, quick=24)
long_videos = ActionClips(NUM_LONG, frames=LONG_FRAMES, image_size=SIZE, seed=3, action_frames=FRAMES)
long_clips, long_labels = long_videos.tensors()
action_starts = torch.tensor([long_videos.action_start(i) for i in range(NUM_LONG)])
windows = ref_video.sliding_windows(long_clips, FRAMES, step=STEP)  # [N, K, C, L, H, W]
num_win = windows.shape[1]
window_results = {}
for name in ("3D CNN", "two-stream"):
    model = results[name]["model"]
    flat = windows.flatten(0, 1)  # [N*K, C, L, H, W]
    inputs = TwoStreamNet.inputs_from_clips(flat) if name == "two-stream" else flat
    probabilities = predict(model, inputs).view(NUM_LONG, num_win, -1)  # [N, K, classes]
    best_cover = (action_starts // STEP).clamp(max=num_win - 1)  # the window starting closest to the action
    window_results[name] = {
        "per window": [(probabilities[:, k].argmax(1) == long_labels).float().mean().item() for k in range(num_win)],
        "average": (probabilities.mean(1).argmax(1) == long_labels).float().mean().item(),
        "most confident window": (probabilities[torch.arange(NUM_LONG), probabilities.amax(2).argmax(1)].argmax(1)
                                  == long_labels).float().mean().item(),
        "best window (oracle)": (probabilities[torch.arange(NUM_LONG), best_cover].argmax(1)
                                 == long_labels).float().mean().item(),
        "probabilities": probabilities,
    }
    r = window_results[name]
    print(f"{name:10s} per window {[round(a, 3) for a in r['per window']]} | average {r['average']:.3f} | "
          f"most confident {r['most confident window']:.3f} | oracle {r['best window (oracle)']:.3f}")
model = results["3D CNN"]["model"].eval()
with torch.no_grad():
    check = torch.stack([ref_models.average_over_windows(model, long_clips[i].to(device), FRAMES, STEP).cpu()
                         for i in range(3)])
print("average_over_windows agrees with the batched computation:",
      torch.allclose(check, window_results["3D CNN"]["probabilities"][:3].mean(1), atol=1e-5))
report("window_average_accuracy_3d", window_results["3D CNN"]["average"])

# %%
fig, axes = plt.subplots(1, 2, figsize=(13.5, 3.6))
starts = ref_video.window_starts(LONG_FRAMES, FRAMES, STEP)
for name, color in (("3D CNN", "tab:blue"), ("two-stream", "tab:orange")):
    r = window_results[name]
    axes[0].plot(starts, r["per window"], "o-", color=color, label=f"{name}: one window")
    axes[0].axhline(r["average"], color=color, ls="--", label=f"{name}: average over the {num_win} windows")
axes[0].set_xticks(starts)
axes[0].set_xlabel("first frame of the window")
axes[0].set_ylabel("accuracy")
axes[0].set_ylim(0, 1)
axes[0].legend(fontsize=7, loc="lower center")
axes[0].set_title(f"{NUM_LONG} videos of {LONG_FRAMES} frames, action in {FRAMES} of them", fontsize=10)
example = int(torch.nonzero((action_starts >= 6) & (action_starts <= 8))[0]) if bool(
    ((action_starts >= 6) & (action_starts <= 8)).any()) else 0
true_class = int(long_labels[example])
for name, color, shift in (("3D CNN", "tab:blue", -0.15), ("two-stream", "tab:orange", 0.15)):
    for k, s in enumerate(starts):  # each window as a bar over the frames it covers, at the height of its probability
        p = float(window_results[name]["probabilities"][example, k, true_class])
        axes[1].plot([s, s + FRAMES - 1], [p + shift * 0.05, p + shift * 0.05], "-", color=color, lw=3, alpha=0.8,
                     label=name if k == 0 else None)
    average = float(window_results[name]["probabilities"][example, :, true_class].mean())
    axes[1].axhline(average, color=color, ls="--", lw=1, label=f"{name}: average over windows")
a0 = int(action_starts[example])
axes[1].axvspan(a0 - 0.5, a0 + FRAMES - 0.5, color="gray", alpha=0.2, label="frames with motion")
axes[1].set_xlim(-0.5, LONG_FRAMES - 0.5)
axes[1].set_ylim(-0.02, 1.02)
axes[1].set_xlabel("frame (each bar: one 8-frame window)")
axes[1].set_ylabel(f"probability of '{ACTION_CLASSES[true_class]}'")
axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
axes[1].set_title(f"one video: motion in frames {a0}-{a0 + FRAMES - 1}", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# On these videos any single, fixed window is a gamble: the first and last windows
# often miss most of the motion, and even the middle window misses part of it for a good
# share of the videos. Averaging the probabilities over all windows is better than every
# fixed window, with no knowledge of where the action is. For the 3D CNN, picking the
# single most confident window is better still, because our actions are short and it is
# rarely confident about a still window; for the two-stream network it is no better than
# the average. On real videos, where actions fill most of the time and a confidently
# wrong window is not rare, the plain average is the standard choice. The oracle line shows what is lost by not knowing where the action is: the
# models are not worse on these videos, they just have to find the action first.

# %% [markdown]
# ## 12. Action recognition data sets, and what they reward
#
# A short history of the benchmarks, because they shaped the models above as much as
# any idea did.
#
# * **KTH** (2004) and **Weizmann** (2005): six or ten actions such as walking, running,
#   boxing and hand waving, performed by a couple of dozen actors in front of plain
#   backgrounds. Small enough for hand-made features, and solved long ago.
# * **UCF101** (2012, 13,320 clips of 101 actions) and **HMDB51** (2011, about 7,000 clips
#   of 51 actions, cut from films and web videos): the benchmarks of the two-stream
#   era. Too small to train a large network from scratch, which is one reason why
#   two-stream networks started from ImageNet weights and why hand-computed flow helped
#   so much.
# * **Sports-1M** (2014): about a million YouTube videos labelled automatically (from
#   their metadata) with 487 sports, the data set of Karpathy et al. and of C3D. Large but
#   noisy, and the classes are fine-grained types of sport rather than movements.
# * **Kinetics** (2017): 400 human actions (later 600 and 700), at least 400 ten-second
#   YouTube clips per action, labelled by people. It played the role for video that
#   ImageNet played for images, and most models since I3D (Carreira and Zisserman, 2017,
#   3D CNNs whose filters are "inflated" from ImageNet 2D filters) report on it.
# * **Something-Something** (2017; about 220,000 clips of 174 classes in its second
#   version): people performing template actions on everyday objects, such as "pushing
#   something from left to right", "putting something into something", "pretending to
#   open something without actually opening it". The object is deliberately left out of
#   the label, so the class has to come from the motion.
#
# **What do they reward?** A recurring finding is that much of the accuracy on UCF101 and
# Kinetics can be had without modelling time: the single-frame baselines are strong, and
# models trained on the scene alone, or on frames in shuffled order, lose less than one
# would hope. "Playing basketball" happens on a basketball court, "surfing" on a wave;
# a network is rewarded for recognizing the court and the wave, and it does. This is a
# *bias* of the data set in the statistical sense: a cue that predicts the label in the
# data but is not the action. It shows up when the context changes: an action performed
# in an unusual place, or mimed without its object, is misclassified far more often.
# Something-Something and similar data sets were built to remove the shortcut: there,
# playing a clip backwards changes the label ("pushing left to right" becomes "pushing
# right to left"), just as in our clips.
#
# Our `ActionClips` are the extreme case of that design: appearance carries *no*
# information, so the single-frame model is at chance and every point of accuracy above
# 1/8 comes from time. Two checks from this chapter are worth running on any video
# model and data set: a single-frame baseline (how much of the task is appearance?) and
# the accuracy on clips played backwards or shuffled (does the model read the order of the
# frames at all?). And remember that a benchmark's numbers describe its videos: Kinetics
# is YouTube, with its choice of countries, activities and camera styles, and its clips
# disappear from YouTube over time, so that the "same" data set shrinks from year to year.
#
# ## Summary
#
# * Images are recognized by their objects, videos by their actions, and an action is a
#   change over time. A video is a `[C, T, H, W]` tensor (`[B, C, T, H, W]` for a batch).
# * Video is big: a minute of uncompressed SD video at 30 fps is 1.66 GB (1.55 GiB), of HD
#   11.2 GB (10.4 GiB); a 16 × 112 × 112 clip is 588 KiB as bytes and four times that as
#   float32, and the first layer's activations are larger still. Networks are therefore
#   trained on short, low-frame-rate, low-resolution clips cut at random from the videos,
#   and tested by averaging the probabilities of sliding windows.
# * Where the frames meet decides what a model can learn: never (single frame: chance on
#   our data), at the top (late fusion; by pooling it is blind to order, bounded by 1/2
#   here), at the bottom (early fusion: local motion only), or everywhere (3D CNN).
# * A 3D convolution slides a `[C_in, k_t, k_h, k_w]` filter over time and space; each
#   axis follows $\lfloor (n + 2p - k)/s \rfloor + 1$; it has $C_\text{out} C_\text{in} k_t k_h k_w$
#   weights (+ $C_\text{out}$ biases). C3D has 80 million parameters, most in fc6, and costs
#   38.5 G multiply-adds per clip, nearly all in the convolutions. (2+1)D splits the
#   filter into space then time, saving 56 % of the weights at equal widths, or spending
#   them on more non-linearity at equal cost (the paper's $M$).
# * Optical flow follows from brightness constancy; linearized, it gives one equation per
#   pixel for two unknowns (the aperture problem). Lucas–Kanade solves the least squares
#   over a window through a 2 × 2 system; a single linearization handles motions below a
#   pixel or two, warping and pyramids (iterative LK, TV-L1) handle larger ones.
# * Two-stream networks give a 2D CNN the stacked flow: motion as input, not something to
#   discover. CNN + RNN reads frame features in order; nonlocal blocks and video
#   transformers attend across space and time at a cost quadratic in the number of
#   positions, which factorized designs (ViViT's model 2, SlowFast's two pathways) cut down.
# * Benchmarks differ in how much they need time; a single-frame baseline and a
#   backwards-clips test tell you which kind you have.
#
# Where this chapter disagrees with the lecture notes: the sizes "1.5 GB" and "10 GB" per
# minute and "588 KB" per clip are right only in binary units (GiB, KiB), which the slides
# write as GB and KB (in decimal units they are 1.66 GB, 11.2 GB and 602 kB); and the slide
# of the full 3D convolution says that its filter slides "over x and y", copied from the
# early-fusion slide: it slides over time as well, which is why its output keeps a time
# axis.

# %%
print(f"whole notebook: {time.time() - NOTEBOOK_START:.0f} s wall")
