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
# # Chapter 6 — Sequences, attention and Transformers
#
# Every network so far has answered with a fixed number of numbers: ten class scores, a
# box, a label per pixel. Many questions about images do not fit that mould. "Describe
# this picture" wants a sentence, whose length depends on the picture. "How many circles
# are there?" wants an answer that depends on a question, which is itself a sequence of
# words. This chapter is about networks that read and write sequences, and about the one
# idea, *attention*, that grew out of them and then took over computer vision as well.
#
# We start with recurrent networks: a cell that reads a sequence one step at a time,
# carrying a memory along, and the reason its gradients vanish or explode. We then train
# a captioner that writes sentences about synthetic scenes of coloured shapes, decode
# its sentences in three ways (greedy, sampling with a temperature, beam search) and
# score them with BLEU. Attention lets the captioner look at the part of the image that
# the next word is about; self-attention, with queries, keys and values, is the core of
# the Transformer, which you will build block by block: scaled dot-product attention,
# masks, multiple heads, positional encodings, layer norm and residuals. The Vision
# Transformer turns an image into a sequence of patches and classifies it with those
# blocks; we train one on digits and compare it with a CNN of the same size. At the end a
# small visual question answering model answers questions about the scenes, and we
# check the lecture's numbers about GPT-3.
#
# **How this notebook works.** Exercise cells contain a function signature and a
# docstring; replace the `raise NotImplementedError(...)` line with your code. The cell
# after each exercise holds tests: the visible ones tell you what is wrong, and more
# (hidden) tests run when the notebook is graded. Implementation exercises must do the
# work themselves: calling the PyTorch function they ask you to write
# (`nn.RNN`, `torch.softmax`, `F.scaled_dot_product_attention`, `nn.MultiheadAttention`,
# `F.unfold`, ...) or the course's reference versions in `course_utils` inside them scores
# no points. Set the environment variable `DLCV_QUICK=1` to run everything with tiny
# training budgets; grading does that too, and nothing graded depends on how long you
# train.
#
# A note on the sources. Facts and quiz ideas come from the lecture notes of a computer
# vision course (its chapter on RNNs, Transformers and ViT). Lecture slides contain small
# mistakes; wherever this chapter disagrees with them it says so and shows the
# computation, so you can decide for yourself.

# %%
import itertools
import math
import random
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from matplotlib.patches import FancyArrowPatch, Rectangle
from torch import nn

from course_utils.data import CAPTION_VOCAB, COLOR_NAMES, SHAPE_CLASSES, DigitsDataset, ShapesScenes, load_photo
from course_utils.data import questions as ref_questions
from course_utils.grading import expect_close, expect_equal, expect_raises, expect_tensor, forbid
from course_utils.metrics import text as ref_text  # the course's reference versions (used after the exercises)
from course_utils.models import LeNet
from course_utils.models import captioning as ref_captioning
from course_utils.models import decoding as ref_decoding
from course_utils.models import transformer as ref_transformer
from course_utils.models import vit as ref_vit
from course_utils.models.vqa import VQANet
from course_utils.ops import attention as ref_attention
from course_utils.ops import patches as ref_patches
from course_utils.ops import positional as ref_positional
from course_utils.ops import rnn as ref_rnn
from course_utils.runtime import budget, get_device, report
from course_utils.train import fit, seed_everything
from course_utils.viz.attention import draw_attention, show_attention_maps, show_caption_attention

torch.set_num_threads(1)  # the models are tiny: one thread is as fast and leaves the other core free
seed_everything(0)
device = get_device()
print("device:", device)
CHAPTER_START = time.process_time()

# %% [markdown]
# ## 1. When one label is not enough
#
# A classifier ends in a softmax: scores become probabilities that sum to one, so the
# classes compete. That is right when exactly one answer is true, and wrong as soon as
# several are. The lecture's example is a photograph of a dog wearing a hat: is it
# "dog" or "hat"? Both. With a **sigmoid** per class instead, every class gets its own
# yes/no probability, and nothing forces them to share. The lecture shows sigmoid
# outputs of 77 % dog, 71 % hat and 13 % cat; below are the scores that produce them,
# and what a softmax makes of the same scores.

# %%
sigmoid_outputs = torch.tensor([0.77, 0.71, 0.13])  # dog, hat, cat (the lecture's figure)
scores = torch.log(sigmoid_outputs / (1 - sigmoid_outputs))  # the inverse of the sigmoid
for name, s, sig, soft in zip(["dog", "hat", "cat"], scores, torch.sigmoid(scores), torch.softmax(scores, 0)):
    print(f"{name}: score {s:+.2f}   sigmoid {sig:.0%}   softmax {soft:.0%}")

# %% [markdown]
# The softmax splits the belief between dog and hat (they must add up to at most one),
# while the sigmoids say yes to both. This is **multi-label** classification, trained with
# one binary cross-entropy per class.
#
# It still is not a description. "A husky wearing a hat" says how the labels relate. Could
# we make every sentence a class? The lecture counts: with a dictionary of $N = 10{,}000$
# words and sentences of up to $C = 5$ words, it arrives at $10^{20}$ classes, far too many
# to train a classifier on. Let us count both ways of reading that sentence.

# %%
N_WORDS, C_WORDS = 10_000, 5
subsets = sum(math.comb(N_WORDS, c) for c in range(C_WORDS + 1))
sequences = N_WORDS ** C_WORDS
print(f"sets of at most {C_WORDS} different words:      {subsets:.3e}")
print(f"ordered sequences of exactly {C_WORDS} words:   {sequences:.3e}")
print(f"ordered sequences of 1 to {C_WORDS} words:      {sum(N_WORDS ** L for L in range(1, C_WORDS + 1)):.6e}")
print(f"20-word sentences over the same dictionary: 10^{20 * math.log10(N_WORDS):.0f}")

# %% [markdown]
# The slide says "choose at most C of the N words", which is the first line, about
# $8.3 \times 10^{17}$. Its $10^{20}$ is the second line: ordered sequences of exactly five
# words, repetitions allowed, which is the better model of a sentence anyway (word order
# matters: "a dog in a hat" is not "a hat in a dog"). Adding the shorter sentences changes
# nothing visible. The lecture then asks whether $(10^4)^{20}$ counts the possible 20-word
# sentences; it does not, because almost none of those word strings are sentences. We can
# see how few are, exactly, on our own data. `ShapesScenes` (used in chapters 4 and 5)
# writes a caption for every scene from a small grammar: one object is "a red circle.",
# two objects are related by "above", "below", "to the left of" or "to the right of", and
# three or more are listed as groups in the order they were drawn ("two green squares and
# a yellow ring."). The cell counts every caption that grammar can produce for scenes of
# up to four objects, and compares it with the number of word strings of the same lengths.

# %%
def count_captions(max_objects, colours=len(COLOR_NAMES), shapes=len(SHAPE_CLASSES) - 1, relations=4):
    """Number of different captions ShapesScenes can write for 0..max_objects objects."""
    kinds = colours * shapes  # a (colour, shape) pair
    total = 1  # "an empty scene."
    for n in range(1, max_objects + 1):
        if n == 1:
            total += kinds
        elif n == 2:
            total += kinds * relations * kinds
        else:  # groups of equal (colour, shape) in order of first appearance, with counts summing to n
            for k in range(1, n + 1):
                compositions = math.comb(n - 1, k - 1)  # ordered ways to split n objects into k counts
                total += compositions * math.perm(kinds, k)
    return total


scenes_demo = ShapesScenes(2000, image_size=64, max_objects=4, seed=0)
lengths = [len(ref_captioning.encode_captions([scenes_demo[i][1]["caption"]])[0]) - 2 for i in range(300)]
vocabulary = len(CAPTION_VOCAB)
print(f"caption vocabulary: {vocabulary} tokens (words, ',' and '.')")
print(f"captions the grammar can write (up to 4 objects): {count_captions(4):,}")
print(f"caption lengths seen: {min(lengths)} to {max(lengths)} tokens")
print(f"word strings of those lengths: {sum(vocabulary ** L for L in range(min(lengths), max(lengths) + 1)):.2e}")

# %% [markdown]
# Over two million captions, already too many classes for our few thousand training
# scenes, but a vanishing fraction of the $10^{24}$ word strings. A model that writes
# one word at a time, each word a classification over 44 tokens, needs only to learn
# the grammar and what is in the picture. That is the plan for the whole chapter: a
# sequence is a series of classifications, each one conditioned on what came before.
# Two special tokens frame it: `<start>` is given as the first input, and the model
# emits `<end>` to say that the sentence is complete, which is how the length is
# decided.
#
# Sequence models come in a few shapes, depending on which side is a sequence:
#
# * **one to one**: an ordinary classifier (image in, label out);
# * **one to many**: one input, a sequence out, as in *captioning* (image in, words out);
# * **many to one**: a sequence in, one output, as in classifying the action in a video
#   or the sentiment of a review;
# * **many to many**, delayed: read all of a sequence, then write another, as in video
#   captioning or translation;
# * **many to many**, aligned: one output per input step, as in labelling every frame of
#   a video.

# %%
def draw_pattern(ax, inputs, outputs, title, delay=0):
    """Boxes for inputs (bottom, red), hidden states (middle, green) and outputs (top, blue)."""
    steps = max(len(inputs), len(outputs) + delay, 1)
    for t in range(steps):
        ax.add_patch(Rectangle((t, 1), 0.7, 0.5, color="tab:green", alpha=0.8))
        if t > 0:
            ax.add_patch(FancyArrowPatch((t - 0.3, 1.25), (t, 1.25), arrowstyle="-|>", mutation_scale=8))
        if t in inputs:
            ax.add_patch(Rectangle((t, 0), 0.7, 0.5, color="tab:red", alpha=0.8))
            ax.add_patch(FancyArrowPatch((t + 0.35, 0.5), (t + 0.35, 1.0), arrowstyle="-|>", mutation_scale=8))
        if t in outputs:
            ax.add_patch(Rectangle((t, 2), 0.7, 0.5, color="tab:blue", alpha=0.8))
            ax.add_patch(FancyArrowPatch((t + 0.35, 1.5), (t + 0.35, 2.0), arrowstyle="-|>", mutation_scale=8))
    ax.set_xlim(-0.3, 5)
    ax.set_ylim(-0.2, 2.7)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


fig, axes = plt.subplots(1, 5, figsize=(15, 2.6))
patterns = [([0], [0], "one to one\n(classification)"),
            ([0], [0, 1, 2, 3], "one to many\n(captioning)"),
            ([0, 1, 2, 3], [3], "many to one\n(action, sentiment)"),
            ([0, 1, 2], [3, 4], "many to many, delayed\n(video captioning)"),
            ([0, 1, 2, 3], [0, 1, 2, 3], "many to many, aligned\n(per-frame labels)")]
for ax, (ins, outs, title) in zip(axes, patterns):
    draw_pattern(ax, ins, outs, title)
fig.suptitle("red: inputs, green: the hidden state carried from step to step, blue: outputs", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. A recurrent network
#
# A **recurrent neural network** (RNN) processes a sequence $x_1, \dots, x_T$ one step at a
# time and keeps a **hidden state** $h_t$, a vector that summarizes what it has read so
# far. The vanilla (Elman) cell updates it with one layer:
#
# $$h_t = \tanh\left(W_{ih}\, x_t + b_{ih} + W_{hh}\, h_{t-1} + b_{hh}\right),$$
#
# starting from an initial state $h_0$ (often zeros), and an output layer reads whatever
# it needs from the states, $y_t = W_{hy} h_t$. The lecture writes the same recurrence as
# $h_i = \sigma(W_{hx} x_i + W_{hh} h_{i-1})$. Two facts make this a network of a new kind:
#
# * the **same** weights are used at every step, so the number of parameters does not
#   depend on the length of the sequence, and the cell can read sequences of any length;
# * **unrolled** over the $T$ steps, the RNN is an ordinary feed-forward network $T$
#   layers deep, with tied weights. Training it is plain backpropagation through that
#   unrolled graph, which has a name of its own: **backpropagation through time** (BPTT).
#   The gradient of a shared weight is the sum of its gradients at every step.
#
# Several RNNs can be stacked, the states of one layer being the inputs of the next.
#
# ### Exercise 1: an RNN over a sequence (4 points)
#
# Write `rnn_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)` for a batch of
# sequences, with the shapes and weight names of `nn.RNN(input_size, hidden_size,
# batch_first=True)`:
#
# * `x` is `[B, T, I]`, `h0` is `[B, H]`, `weight_ih` is `[H, I]`, `weight_hh` is `[H, H]`,
#   the biases are `[H]` (note the transposes: a weight `[H, I]` maps an input `[B, I]`
#   to `[B, H]` as `x @ weight_ih.T`);
# * return `(outputs, last)`: `outputs` is `[B, T, H]`, every state $h_1 .. h_T$, and
#   `last` is $h_T$, `[B, H]`;
# * an empty sequence (`T = 0`) gives `outputs` of shape `[B, 0, H]` and `last` equal to `h0`.
#
# Loop over the time steps; do not call `nn.RNN`, `nn.RNNCell` or `torch.rnn_tanh`.

# %% nbgrader={"grade": false, "grade_id": "rnn_forward", "locked": false, "schema_version": 3, "solution": true}
def rnn_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """A vanilla tanh RNN over a batch of sequences.

    Args:
        x: Tensor[B, T, I]; h0: Tensor[B, H]; weight_ih: Tensor[H, I]; weight_hh: Tensor[H, H];
        bias_ih, bias_hh: Tensor[H].

    Returns:
        (outputs Tensor[B, T, H], last Tensor[B, H]) with
        h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh); for T = 0, outputs is [B, 0, H] and last is h0.
    """
    ### BEGIN SOLUTION
    h = h0
    hidden_states = []
    for step in range(x.shape[1]):
        h = torch.tanh(x[:, step] @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)  # [B, H]
        hidden_states.append(h)
    if not hidden_states:
        return x.new_zeros(x.shape[0], 0, h0.shape[1]), h0
    return torch.stack(hidden_states, dim=1), h
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rnn_forward", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Your RNN and nn.RNN, given the same weights, must compute the same states.
def rnn_with_weights(input_size, hidden_size, seed, dtype=torch.float32):
    torch.manual_seed(seed)
    rnn = nn.RNN(input_size, hidden_size, batch_first=True).to(dtype)
    return rnn, (rnn.weight_ih_l0.detach(), rnn.weight_hh_l0.detach(), rnn.bias_ih_l0.detach(), rnn.bias_hh_l0.detach())


rnn, weights = rnn_with_weights(3, 5, seed=0)
gen = torch.Generator().manual_seed(1)
x = torch.randn(2, 4, 3, generator=gen)
h0 = torch.randn(2, 5, generator=gen)
expected_outputs, expected_last = rnn(x, h0[None])
outputs, last = rnn_forward(x, h0, *weights)
expect_close(outputs, expected_outputs.detach(), "rnn_forward outputs for x [2, 4, 3], H = 5 (compared with nn.RNN)")
expect_close(last, expected_last[0].detach(), "rnn_forward last state (h_T), compared with nn.RNN")
outputs, last = rnn_forward(torch.zeros(2, 0, 3), h0, *weights)
_ = expect_tensor(outputs, "rnn_forward outputs for an empty sequence (T = 0)", shape=(2, 0, 5))
expect_close(last, h0, "rnn_forward last state for an empty sequence (must be h0)")
### BEGIN HIDDEN TESTS
_FORBIDDEN_RNN = ("torch.rnn_tanh", "torch.rnn_tanh_cell", "torch.rnn_relu", "torch.nn.RNN.forward",
                  "torch.nn.RNNCell.forward", ref_rnn.rnn_forward, ref_rnn.rnn_forward_loop)
for _h_b, _h_t, _h_i, _h_hid, _h_dtype in [(1, 1, 1, 1, torch.float32), (3, 7, 4, 6, torch.float32),
                                            (5, 12, 2, 8, torch.float64), (2, 3, 9, 3, torch.float64)]:
    _h_rnn, _h_w = rnn_with_weights(_h_i, _h_hid, seed=_h_t, dtype=_h_dtype)
    _h_g = torch.Generator().manual_seed(_h_b + _h_t)
    _h_x = torch.randn(_h_b, _h_t, _h_i, generator=_h_g).to(_h_dtype) * 2
    _h_h0 = torch.randn(_h_b, _h_hid, generator=_h_g).to(_h_dtype)
    _h_eo, _h_el = _h_rnn(_h_x, _h_h0[None])
    with forbid(*_FORBIDDEN_RNN, exercise="rnn_forward"):
        _h_o, _h_l = rnn_forward(_h_x, _h_h0, *_h_w)
    _h_tol = 1e-5  # float32 and float64 arithmetic both pass
    expect_close(_h_o, _h_eo.detach(), f"rnn_forward outputs for B={_h_b}, T={_h_t}, I={_h_i}, H={_h_hid} ({_h_dtype})",
                 atol=_h_tol, rtol=_h_tol)
    expect_close(_h_l, _h_el[0].detach(), f"rnn_forward last state for B={_h_b}, T={_h_t}", atol=_h_tol, rtol=_h_tol)
_h_rnn, _h_w = rnn_with_weights(2, 3, seed=9)
with forbid(*_FORBIDDEN_RNN, exercise="rnn_forward"):
    _h_o, _h_l = rnn_forward(torch.zeros(4, 0, 2), torch.ones(4, 3), *_h_w)
_ = expect_tensor(_h_o, "rnn_forward outputs for T = 0 and B = 4", shape=(4, 0, 3))
expect_close(_h_l, torch.ones(4, 3), "rnn_forward last state for T = 0")
### END HIDDEN TESTS

# %% [markdown]
# ### Gradients through time, and why they vanish
#
# Backpropagation through the unrolled network multiplies, at every step back, by the
# Jacobian of one step, $\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - h_t^2)\, W_{hh}$.
# A gradient that reaches step $t$ from step $T$ has been multiplied by $T - t$ such
# matrices. The lecture reduces this to one number: think of each Jacobian as a factor
# $g$; after $n$ steps the gradient is scaled by $g^n$, which for $g \neq 1$ either dies or
# blows up:

# %%
for g in (0.5, 0.9, 1.0, 1.1, 1.5):
    print(f"g = {g}: " + "   ".join(f"g^{n} = {g ** n:.3g}" for n in (10, 50, 100)))

# %% [markdown]
# For matrices the same holds with the largest singular value playing $g$ (an upper bound
# on the growth), and the $\tanh$ makes it worse: its slope $1 - h^2$ is at most 1 and
# close to 0 when the cell saturates. So the vanilla RNN should find it hard to learn
# anything that needs information from many steps back.
#
# Let us measure it on a trained cell. The task: read a sequence of $T = 25$ random signs
# $\pm 1$ and answer, at the end, what the *first* sign was. Everything after the first
# step is noise the cell must ignore while keeping one bit for 24 steps. We train a
# vanilla RNN and an LSTM (introduced below) of the same width, then unroll each trained
# cell by hand, keeping every hidden state, and ask autograd for
# $\lVert \partial L / \partial h_t \rVert$: how much of the loss's gradient reaches each step.
# `course_utils.ops.rnn.hidden_state_gradients` does the bookkeeping.

# %%
MEMORY_STEPS = 25
MEMORY_TRAIN_STEPS = budget(full=400, quick=40)


def memory_batch(n, generator):
    """Sequences of random signs [n, T, 1]; the label is whether the first sign is +1."""
    x = torch.randint(0, 2, (n, MEMORY_STEPS, 1), generator=generator).float() * 2 - 1
    return x, (x[:, 0, 0] > 0).long()


def train_memory(kind, hidden=16, seed=0):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cell = getattr(nn, kind)(1, hidden, batch_first=True)
    if kind == "LSTM":  # forget-gate bias 1 (Jozefowicz et al., 2015): remember by default
        with torch.no_grad():
            cell.bias_ih_l0[hidden:2 * hidden].fill_(1.0)
            cell.bias_hh_l0[hidden:2 * hidden].fill_(1.0)
    head = nn.Linear(hidden, 2)
    optimizer = torch.optim.Adam([*cell.parameters(), *head.parameters()], lr=1e-2)
    for _ in range(MEMORY_TRAIN_STEPS):
        x, y = memory_batch(64, gen)
        loss = F.cross_entropy(head(cell(x)[0][:, -1]), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = memory_batch(2000, gen)
    with torch.no_grad():
        accuracy = (head(cell(x)[0][:, -1]).argmax(1) == y).float().mean().item()
    return cell, head, accuracy


def unrolled_gradients(cell, head, x, y):
    """||dL/dh_t|| for every step of a trained nn.RNN or nn.LSTM, unrolled with its own weights."""
    w_ih, w_hh, b_ih, b_hh = cell.weight_ih_l0, cell.weight_hh_l0, cell.bias_ih_l0, cell.bias_hh_l0
    h = torch.zeros(len(x), cell.hidden_size)
    c = torch.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        pre = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        if isinstance(cell, nn.LSTM):
            i, f, g, o = pre.chunk(4, dim=1)  # PyTorch's gate order
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            h = torch.tanh(pre)
        states.append(h)
    loss = F.cross_entropy(head(h), y)
    return ref_rnn.hidden_state_gradients(states, loss)


memory_results = {}
probe_x, probe_y = memory_batch(256, torch.Generator().manual_seed(99))
for kind in ("RNN", "LSTM"):
    cell, head, accuracy = train_memory(kind)
    memory_results[kind] = (accuracy, unrolled_gradients(cell, head, probe_x, probe_y))
    print(f"{kind}: accuracy on the first sign after {MEMORY_STEPS} steps: {accuracy:.1%}")

# %% [markdown]
# The exploding side needs a cell whose Jacobians are larger than one. A ReLU RNN (the
# `nonlinearity="relu"` option of `nn.RNN`) whose recurrent matrix is 1.2 times a random
# rotation has exactly $g = 1.2$ on every state it does not zero out. We do not train it;
# its gradients at initialization already tell the story.

# %%
torch.manual_seed(0)
exploding = nn.RNN(1, 16, nonlinearity="relu", batch_first=True)
with torch.no_grad():
    exploding.weight_hh_l0.copy_(1.2 * torch.linalg.qr(torch.randn(16, 16))[0])
    exploding.bias_hh_l0.fill_(0.1)
    exploding.bias_ih_l0.fill_(0.1)
h = torch.zeros(len(probe_x), 16)
relu_states = []
for t in range(MEMORY_STEPS):
    h = torch.relu(probe_x[:, t] @ exploding.weight_ih_l0.T + exploding.bias_ih_l0 + h @ exploding.weight_hh_l0.T
                   + exploding.bias_hh_l0)
    relu_states.append(h)
relu_gradients = ref_rnn.hidden_state_gradients(relu_states, relu_states[-1].square().mean())

fig, ax = plt.subplots(figsize=(7.5, 3.6))
steps = np.arange(1, MEMORY_STEPS + 1)
for kind, (accuracy, grads) in memory_results.items():
    ax.semilogy(steps, grads.numpy(), "o-", ms=3, label=f"trained {kind} (accuracy {accuracy:.0%})")
ax.semilogy(steps, relu_gradients.numpy(), "s-", ms=3, label="ReLU RNN, W_hh = 1.2 x rotation (untrained)")
ax.set_xlabel("step t")
ax.set_ylabel("||dL / dh_t|| (log scale)")
ax.set_title("How much gradient reaches each step from the loss at step 25", fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
rnn_grads = memory_results["RNN"][1]
print(f"vanilla RNN: the gradient at step 1 is {rnn_grads[0] / rnn_grads[-1]:.1e} times the one at step 25, "
      f"a factor of {(rnn_grads[0] / rnn_grads[-1]) ** (1 / (MEMORY_STEPS - 1)):.2f} per step")
print(f"ReLU RNN: the gradient at step 1 is {relu_gradients[0] / relu_gradients[-1]:.1e} times the one at step 25")

# %% [markdown]
# The straight lines on the log scale are the $g^n$ law, measured. The trained vanilla RNN
# loses a constant fraction of the gradient at every step back (the factor per step is
# printed above); by the first step, the one that holds the answer, almost nothing is
# left, and the cell never learns to keep the first sign: its accuracy stays at chance.
# The ReLU cell with $g = 1.2$ shows the other failure: its gradient *grows* the further
# back it goes (roughly $1.2^{24} \approx 80$ times over 24 steps), and in training such
# gradients produce huge, erratic updates.
#
# ### Gradient clipping
#
# Exploding gradients have a blunt and effective remedy: if the norm of the whole
# gradient exceeds a threshold $\tau$, rescale it to norm $\tau$,
#
# $$g \leftarrow g \cdot \min\left(1, \frac{\tau}{\lVert g \rVert}\right).$$
#
# The direction is kept, only the step length is capped. `torch.nn.utils.clip_grad_norm_`
# does it in place over all parameters (and `course_utils.train.fit` has a `grad_clip`
# option). Here it is on the exploding cell:

# %%
exploding.zero_grad()
out, _ = exploding(probe_x)
out[:, -1].square().mean().backward()
before = torch.cat([p.grad.flatten() for p in exploding.parameters()])
norm_before = float(torch.nn.utils.clip_grad_norm_(exploding.parameters(), max_norm=1.0))
after = torch.cat([p.grad.flatten() for p in exploding.parameters()])
print(f"gradient norm before clipping: {norm_before:.1f}, after: {after.norm():.3f}")
print(f"cosine between the gradient before and after: {F.cosine_similarity(before, after, dim=0):.6f}")

# %% [markdown]
# Clipping treats the symptom of exploding gradients; it does nothing for vanishing ones,
# which call for a different cell.
#
# ### LSTM and GRU: a memory with gates
#
# The lecture's remedy is the same idea as ResNet's: make the state change by small
# *additive* updates, so that the gradient can flow back along a path that is not
# multiplied by a weight matrix at every step. The **LSTM** (Hochreiter and Schmidhuber,
# 1997) keeps a separate cell state $c_t$ next to $h_t$, and three gates, each a sigmoid
# of $[x_t, h_{t-1}]$ with its own weights, decide what happens to it:
#
# $$\begin{aligned}
# i_t &= \sigma(W_i [x_t, h_{t-1}] + b_i) && \text{input gate: how much new content to write}\\
# f_t &= \sigma(W_f [x_t, h_{t-1}] + b_f) && \text{forget gate: how much of the old cell to keep}\\
# o_t &= \sigma(W_o [x_t, h_{t-1}] + b_o) && \text{output gate: how much of the cell to show}\\
# g_t &= \tanh(W_g [x_t, h_{t-1}] + b_g) && \text{the candidate content}\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t).
# \end{aligned}$$
#
# Along the cell state, one step back multiplies the gradient by $f_t$ only, element by
# element, with no weight matrix: when the forget gate is near 1 the gradient passes
# almost unchanged, which is why we initialized its bias to 1. The LSTM above learned the
# task, and its gradient curve is nearly flat. The **GRU** (Cho et al., 2014) merges the
# cell and hidden state and uses two gates (update and reset); it is a little cheaper and
# usually as good. All three cells are in PyTorch; their sizes follow from the number of
# weight blocks (one for the RNN, three for the GRU, four for the LSTM):

# %%
for kind in ("RNN", "GRU", "LSTM"):
    module = getattr(nn, kind)(32, 64)
    count = sum(p.numel() for p in module.parameters())
    blocks = count // (64 * (32 + 64) + 2 * 64)
    print(f"nn.{kind}(32, 64): {count:,} parameters = {blocks} x (64 x (32 + 64) weights + 2 x 64 biases)")

# %% [markdown]
# ## 3. Captioning the shapes scenes
#
# Captioning is the lecture's showcase for "one to many": a CNN turns the image into
# features, and a recurrent network writes the caption word by word, looking at the
# features and at the words it has written. We build one on `ShapesScenes`, whose every
# scene comes with a caption.
#
# The budget decides the data. A captioner must recognize each object's colour and shape,
# see where the objects are, and learn the grammar, all in a few seconds of CPU time. So
# the scenes are small (32 × 32 pixels), hold one to three objects that do not overlap,
# and the objects are a little larger than the generator's default. Captions of such
# scenes still cover the whole grammar: singles, pairs with a relation, and lists.

# %%
SCENE_ARGS = dict(image_size=32, min_objects=1, max_objects=3, occlusion=False, size_range=(0.15, 0.3))
NUM_TRAIN_SCENES = budget(full=3000, quick=200)
NUM_TEST_SCENES = budget(full=500, quick=100)
train_scenes = ShapesScenes(NUM_TRAIN_SCENES, seed=1, **SCENE_ARGS)
test_scenes = ShapesScenes(NUM_TEST_SCENES, seed=2, **SCENE_ARGS)
start = time.process_time()
train_items = [train_scenes[i] for i in range(len(train_scenes))]
test_items = [test_scenes[i] for i in range(len(test_scenes))]
train_images = torch.stack([image for image, _ in train_items])  # [N, 3, 32, 32]
test_images = torch.stack([image for image, _ in test_items])
train_captions = [target["caption"] for _, target in train_items]
test_captions = [target["caption"] for _, target in test_items]
print(f"{len(train_items)} training and {len(test_items)} test scenes generated in "
      f"{time.process_time() - start:.1f} s of CPU time")
fig = test_scenes.show(8, seed=0)
plt.show()

# %% [markdown]
# ### Words, tokens, and the many right captions
#
# The vocabulary has the 41 caption tokens plus `<pad>`, `<start>` and `<end>`;
# `course_utils.models.captioning.encode_captions` turns a caption into a row of token
# indices `<start> a red circle . <end> <pad> ...`, padded so that a batch is one tensor.
#
# The lecture warns that many captions can be right for one image ("a dog in a hat",
# "a husky wearing a hat", ...), and our scenes have the same problem in a pure form. The
# generator names two objects in the order it drew them, and the drawing order is
# invisible in the picture: "a red circle above a blue star." and "a blue star below a red
# circle." describe exactly the same image, and a list of three groups can come in any of
# six orders. If we trained on the captions as generated, the model would be punished for
# half its correct choices. So we fix one **canonical** wording for training (for a pair,
# the upper or left object first; for a list, the groups sorted by shape then colour),
# and evaluate against *all* the equivalent wordings, as captioning benchmarks do with
# their five human captions per image.

# %%
for caption in test_captions[:4]:
    print(f"generated: {caption!r}\n   canonical: {ref_captioning.canonical_caption(caption)!r}\n"
          f"   all wordings: {ref_captioning.equivalent_captions(caption)}")
train_tokens = ref_captioning.encode_captions([ref_captioning.canonical_caption(c) for c in train_captions])
test_references = [[c.replace(".", " .").replace(",", " ,").split() for c in ref_captioning.equivalent_captions(caption)]
                   for caption in test_captions]
print("encoded training captions:", tuple(train_tokens.shape), "first row:", train_tokens[0].tolist())

# %% [markdown]
# ### The encoder, pretrained
#
# The encoder is a small CNN (`ShapesEncoder`: four convolutions with batch norm, one max
# pooling) that turns a 32 × 32 image into an 8 × 8 grid of 64-dimensional feature
# vectors, each cell seeing most of the image (a receptive field of 29 pixels).
#
# Real captioners never learn their CNN from captions alone: Show and Tell and Show,
# Attend and Tell start from a network pretrained on ImageNet classification, because a
# caption is a weak, indirect signal about what is where. We do the same at our scale.
# The encoder is first trained to **name every object**: the features under an object's
# mask are averaged and a linear layer predicts its shape (5 classes) and its colour (8
# classes). The colours come from the pixels (`course_utils.data.questions.object_colors`
# reads the palette colour of each object, which the generator does not return). After
# pretraining the encoder is frozen, and both captioners and, later, the question
# answering model read its features.
#
# Every training run in this chapter uses `course_utils.train.fit` (a progress bar, one
# optimizer step per batch, a learning-rate schedule) over batches cut from tensors in
# memory. The budgets shrink in quick mode.

# %%
class TensorBatches:
    """Shuffled mini-batches ((inputs...), targets) cut from tensors in memory, reshuffled every epoch."""

    def __init__(self, inputs, targets, batch_size, seed=0):
        self.inputs, self.targets, self.batch_size = inputs, targets, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return -(-len(self.targets) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.targets), generator=self.generator)
        for i in range(0, len(order), self.batch_size):
            index = order[i:i + self.batch_size]
            yield tuple(x[index] for x in self.inputs), self.targets[index]


def train_model(model, loss_fn, batches, epochs, lr, forward_fn, desc):
    """Adam with a one-cycle learning-rate schedule, through course_utils.train.fit."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(batches),
                                                    pct_start=0.2)
    start = time.process_time()
    history = fit(model, loss_fn, batches, epochs=epochs, optimizer=optimizer, scheduler=scheduler,
                  scheduler_step="batch", device=device, forward_fn=forward_fn, progress=True)
    print(f"{desc}: {epochs} epochs in {time.process_time() - start:.1f} s of CPU time, "
          f"final training loss {history.train_loss[-1]:.3f}")
    return history


MAX_OBJECTS, GRID = 3, 8
train_masks = ref_captioning.grid_masks([t["masks"] for _, t in train_items], GRID, MAX_OBJECTS)  # [N, 3, 8, 8]
test_masks = ref_captioning.grid_masks([t["masks"] for _, t in test_items], GRID, MAX_OBJECTS)


def object_labels(items):
    """Shape (0..4) and colour (0..7) of every object, -100 (ignored by the loss) for missing ones."""
    shapes = torch.full((len(items), MAX_OBJECTS), -100)
    colours = torch.full((len(items), MAX_OBJECTS), -100)
    for i, (image, target) in enumerate(items):
        k = len(target["labels"])
        shapes[i, :k] = target["labels"] - 1
        colours[i, :k] = torch.tensor(ref_questions.object_colors(image, target["masks"]))
    return torch.stack([shapes, colours], dim=1)  # [N, 2, K]


def naming_loss(outputs, labels):
    shape_logits, colour_logits = outputs
    return (F.cross_entropy(shape_logits.flatten(0, 1), labels[:, 0].flatten())
            + F.cross_entropy(colour_logits.flatten(0, 1), labels[:, 1].flatten()))


train_object_labels, test_object_labels = object_labels(train_items), object_labels(test_items)
# channels_last: the memory layout the CPU's convolution kernels prefer (about 1.5x faster here)
train_images = train_images.contiguous(memory_format=torch.channels_last)
test_images = test_images.contiguous(memory_format=torch.channels_last)
seed_everything(0)
encoder = ref_captioning.ShapesEncoder()
namer = ref_captioning.ObjectNamer(encoder).to(device, memory_format=torch.channels_last)
_ = train_model(namer, naming_loss, TensorBatches((train_images, train_masks), train_object_labels, 64),
                epochs=budget(full=7, quick=1), lr=3e-3, forward_fn=lambda m, inputs, _: m(*inputs),
                desc="encoder pretraining (naming objects)")
namer.eval()
with torch.no_grad():
    shape_logits, colour_logits = namer(test_images.to(device), test_masks.to(device))
present = test_object_labels[:, 0] >= 0
shape_accuracy = (shape_logits.argmax(-1).cpu() == test_object_labels[:, 0])[present].float().mean().item()
colour_accuracy = (colour_logits.argmax(-1).cpu() == test_object_labels[:, 1])[present].float().mean().item()
print(f"held-out objects: shape named correctly {shape_accuracy:.1%}, colour {colour_accuracy:.1%}")

with torch.no_grad():  # the frozen encoder's features of every scene, computed once
    train_features = encoder(train_images.to(device))  # [N, 64, 8, 8]
    test_features = encoder(test_images.to(device))
print("feature grid of one scene:", tuple(train_features.shape[1:]))

# %% [markdown]
# Colour is easy (it is in every pixel); shape takes the convolutions some effort, and the
# shape accuracy above bounds what any captioner built on these features can do.
#
# ### A decoder, trained with teacher forcing
#
# The first captioner (`CaptionDecoder`) sees the image as one vector: the 8 × 8 × 64
# grid is flattened and projected to 128 numbers $v$ (a linear layer over all cells keeps
# *where* things are, which "above" and "to the left of" need). $v$ sets the LSTM's initial
# state and is fed again at every step next to the embedding of the previous word, and a
# linear layer turns the LSTM state into scores over the 44 tokens:
#
# $$h_t = \mathrm{LSTM}\big([\,E w_{t-1},\ v\,],\ h_{t-1}\big), \qquad
#   p(w_t \mid w_{<t}, \text{image}) = \mathrm{softmax}(W_o h_t).$$
#
# Training maximizes the probability of the reference caption, one cross-entropy per word.
# The input at step $t$ is the *true* previous word, not the one the model would have
# chosen: this is **teacher forcing**. It makes training one parallel pass over each
# caption (the whole input sequence is known in advance, so PyTorch's fused LSTM runs it
# at once), and it keeps early mistakes from derailing the rest of the sentence while the
# model is still bad. The price is a mismatch: at test time the model reads its own
# words, including its own mistakes, which it never saw in training ("exposure bias").
# Padding positions are ignored by the loss (`caption_loss`).

# %%
def captioner_forward(model, inputs, _):
    features, tokens = inputs
    return model(features, tokens[:, :-1])  # read <start> w_1 .. w_n, predict w_1 .. w_n <end>


def captioner_loss(logits, tokens):
    return ref_captioning.caption_loss(logits, tokens[:, 1:])


VOCAB_SIZE = len(ref_captioning.CAPTION_TOKENS)
seed_everything(0)
plain_captioner = ref_captioning.CaptionDecoder(64, GRID, VOCAB_SIZE).to(device)
_ = train_model(plain_captioner, captioner_loss, TensorBatches((train_features, train_tokens), train_tokens, 64),
                epochs=budget(full=6, quick=1), lr=3e-3, forward_fn=captioner_forward,
                desc="captioner without attention")
plain_captioner.eval()

# %% [markdown]
# ### Decoding: greedy, with a temperature, or with a beam
#
# A trained captioner gives, at every step, a distribution over the next word. Turning it
# into a sentence is a search problem, and `course_utils.models.decoding` has the three
# standard answers, all driven by the decoder's `step` function (last word and state in,
# scores and new state out):
#
# * **greedy decoding** takes the most likely word at every step. It is fast and
#   deterministic, and usually good, but a locally best word can lead to a globally worse
#   sentence.
# * **sampling** draws each word from the distribution. Repeated calls give different
#   captions, which is what the lecture proposes for the "many right captions" problem.
#   A **temperature** $T$ reshapes the distribution first: the scores $s_i$ are divided by $T$
#   before the softmax, $p_i = e^{s_i / T} / \sum_j e^{s_j / T}$. Low temperatures sharpen it
#   (towards greedy, conservative and repetitive text); high ones flatten it (towards
#   uniform, varied and eventually nonsense: the lecture's three versions of a paragraph
#   on start-up investment show the whole range).
# * **beam search** keeps the $k$ most probable *prefixes* at every step instead of one,
#   extends each by every word, and keeps the $k$ best of the results; it finds sentences
#   of higher total probability than greedy decoding.
#
# The lecture's example of the temperature: two words with scores 5 and 1. At $T = 1$ the
# first is $e^5 / e^1 = e^4 \approx 54.6$ times more likely than the second; at $T = 5$ the
# ratio drops to $e^{5/5} / e^{1/5} = e^{0.8} \approx 2.2$.
#
# ### Exercise 2: softmax with a temperature (2 points)
#
# Write `softmax_with_temperature(scores, temperature)`: the probabilities
# $e^{s_i / T} / \sum_j e^{s_j / T}$ along the **last** dimension of `scores` (any number of
# leading dimensions), in the dtype of `scores`. Two rules:
#
# * it must work for large scores: `exp(1000)` overflows to infinity, so subtract each
#   row's maximum from the scaled scores before taking `exp` (the result is unchanged,
#   since the factor $e^{-m}$ cancels between numerator and denominator);
# * a temperature that is not positive (0 or negative) raises a `ValueError`.
#
# Do not call `torch.softmax`, `F.softmax` or `Tensor.softmax`.

# %% nbgrader={"grade": false, "grade_id": "softmax_with_temperature", "locked": false, "schema_version": 3, "solution": true}
def softmax_with_temperature(scores, temperature):
    """exp(s_i / T) / sum_j exp(s_j / T) along the last dimension.

    Args:
        scores: Tensor[..., V] floating.
        temperature: a number T > 0 (else ValueError).

    Returns:
        Tensor[..., V], same dtype, each row summing to 1; finite even for scores like 1000.
    """
    ### BEGIN SOLUTION
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scaled = scores / temperature
    exp = torch.exp(scaled - scaled.max(dim=-1, keepdim=True).values)  # the row maximum becomes exp(0) = 1
    return exp / exp.sum(dim=-1, keepdim=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax_with_temperature", "locked": true, "points": 2, "schema_version": 3, "solution": false}
lecture_scores = torch.tensor([5.0, 1.0])
for temperature in (1.0, 5.0, 0.5):
    expect_close(softmax_with_temperature(lecture_scores, temperature), torch.exp(lecture_scores / temperature)
                 / torch.exp(lecture_scores / temperature).sum(), f"softmax_with_temperature([5, 1], {temperature})")
batch_scores = torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(0)) * 3
expect_close(softmax_with_temperature(batch_scores, 2.0), torch.exp(batch_scores / 2)
             / torch.exp(batch_scores / 2).sum(dim=-1, keepdim=True),
             "softmax_with_temperature on scores of shape [2, 3, 7] (the last dimension is normalized)")
large = softmax_with_temperature(torch.tensor([1000.0, 999.0, 0.0]), 1.0)
expect_close(large, torch.tensor([math.e / (math.e + 1), 1 / (math.e + 1), 0.0]),
             "softmax_with_temperature([1000, 999, 0], 1) (subtract the maximum before exp)", atol=1e-4, rtol=1e-4)
for bad in (0, -1.0):
    expect_raises(lambda: softmax_with_temperature(lecture_scores, bad), ValueError,
                  f"softmax_with_temperature with temperature {bad}")
### BEGIN HIDDEN TESTS
_FORBIDDEN_SOFTMAX = ("torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax", "torch.special.softmax",
                      "torch.nn.functional.log_softmax", "torch.log_softmax", "torch.Tensor.log_softmax",
                      "torch.nn.Softmax.forward", ref_decoding.softmax_with_temperature)
_h_g = torch.Generator().manual_seed(5)
_h_cases = [(torch.randn(4, 11, generator=_h_g, dtype=torch.float64) * 10, 0.3),
            (torch.randn(3, 2, 5, generator=_h_g) * 50, 7.0), (torch.randn(9, generator=_h_g), 1.0),
            (torch.tensor([[-1000.0, -1001.0], [3000.0, 2999.0]]), 2.0), (torch.randn(1, 6, generator=_h_g), 100.0)]
for _h_s, _h_t in _h_cases:
    _h_e = torch.exp((_h_s.double() / _h_t) - (_h_s.double() / _h_t).max(dim=-1, keepdim=True).values)
    _h_e = (_h_e / _h_e.sum(dim=-1, keepdim=True)).to(_h_s.dtype)
    with forbid(*_FORBIDDEN_SOFTMAX, exercise="softmax_with_temperature"):
        _h_p = softmax_with_temperature(_h_s, _h_t)
    _ = expect_tensor(_h_p, f"softmax_with_temperature on {list(_h_s.shape)} {_h_s.dtype}", dtype=_h_s.dtype)
    _h_tol = 1e-5 if float(_h_s.abs().max()) / _h_t < 100 else 1e-3  # scores of 1000 in float32: digits are lost
    expect_close(_h_p, _h_e, f"softmax_with_temperature on scores of shape {list(_h_s.shape)} at T = {_h_t}",
                 atol=_h_tol, rtol=_h_tol)
expect_raises(lambda: softmax_with_temperature(torch.zeros(3), -0.5), ValueError,
              "softmax_with_temperature with temperature -0.5")
### END HIDDEN TESTS

# %% [markdown]
# With the course's version (`course_utils.models.decoding.softmax_with_temperature`),
# the lecture's ratios, and the distribution of the captioner's next word after "a" for a
# test scene, at four temperatures:

# %%
two = ref_decoding.softmax_with_temperature(torch.tensor([5.0, 1.0]), 1.0)
print(f"T = 1: ratio {float(two[0] / two[1]):.1f} (e^4 = {math.exp(4):.1f})")
two = ref_decoding.softmax_with_temperature(torch.tensor([5.0, 1.0]), 5.0)
print(f"T = 5: ratio {float(two[0] / two[1]):.2f} (e^0.8 = {math.exp(0.8):.2f})")

scene = 0
prefix = ref_captioning.encode_captions(["a"])[:, :-1].to(device)  # <start> a
with torch.no_grad():
    next_scores = plain_captioner(test_features[scene:scene + 1], prefix)[0, -1].cpu()  # scores of the word after "a"
top = torch.topk(next_scores, 8).indices
fig, axes = plt.subplots(1, 5, figsize=(15, 2.8), gridspec_kw=dict(width_ratios=[0.8, 1, 1, 1, 1]))
axes[0].imshow(test_images[scene].permute(1, 2, 0).numpy())
axes[0].set_title("the scene", fontsize=9)
axes[0].set_axis_off()
for ax, temperature in zip(axes[1:], (0.5, 1.0, 2.0, 5.0)):
    probs = ref_decoding.softmax_with_temperature(next_scores, temperature)[top]
    ax.bar(range(8), probs.numpy(), color="tab:blue")
    ax.set_xticks(range(8))
    ax.set_xticklabels([ref_captioning.CAPTION_TOKENS[i] for i in top.tolist()], rotation=60, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title(f"T = {temperature}: next word after 'a'", fontsize=9)
fig.tight_layout()
plt.show()
print("caption of the scene:", test_captions[scene])

# %% [markdown]
# Now the three decoders on the trained captioner. Sampling gives a different sentence on
# every draw, more varied the higher the temperature.

# %%
def words_of(tokens):
    return " ".join(ref_captioning.decode_tokens(tokens))


START_TOKEN, END_TOKEN, PAD_TOKEN = ref_captioning.START, ref_captioning.END, ref_captioning.PAD
MAX_CAPTION = 16
one = test_features[scene:scene + 1]
greedy = ref_decoding.greedy_decode(plain_captioner.step, plain_captioner.init_state(one), 1, START_TOKEN, END_TOKEN,
                                    MAX_CAPTION, pad_token=PAD_TOKEN, device=device)
print("greedy:       ", words_of(greedy[0]))
for temperature in (0.5, 1.0, 2.0):
    samples = ref_decoding.sample_decode(plain_captioner.step, plain_captioner.init_state(one.expand(3, -1, -1, -1)),
                                         3, START_TOKEN, END_TOKEN, MAX_CAPTION, temperature=temperature,
                                         pad_token=PAD_TOKEN, generator=torch.Generator().manual_seed(int(10 * temperature)),
                                         device=device)
    for row in samples:
        print(f"sampled, T = {temperature}:", words_of(row))
beams = ref_decoding.beam_search(plain_captioner.step, plain_captioner.init_state(one), START_TOKEN, END_TOKEN,
                                 MAX_CAPTION, beam_size=3)
for tokens, log_prob in beams:
    print(f"beam (log-probability {log_prob:.2f}):", words_of(tokens))

# %% [markdown]
# ### Scoring captions: BLEU
#
# How good is a caption? The lecture lists the options: ask people (the gold standard,
# slow and expensive), or count overlaps with reference captions written by people.
# **BLEU** (Papineni et al., 2002), made for machine translation and used for captions
# ever since, counts the n-grams (runs of n consecutive words) of the candidate that
# also occur in a reference. Its details are there to stop cheap tricks, and the lecture
# names the cheapest: answer "a a a a". The word "a" is in almost every reference, so a
# plain precision (the fraction of candidate words found in the reference) would score
# it 100 %. BLEU's defences:
#
# 1. **Clipped counts.** A candidate n-gram counts as correct at most as many times as it
#    occurs in a reference (in the reference that has most of it). "a a a a" against "a
#    red star ." has one correct "a", not four: precision 1/4.
# 2. **Several orders.** BLEU-N takes the geometric mean of the precisions $p_1, \dots, p_N$
#    of 1-grams up to N-grams, so word order counts too; BLEU-4 is the usual headline
#    number, BLEU-1 and BLEU-2 suit our short captions.
# 3. **A brevity penalty.** Precision alone rewards saying little ("a red" is all correct).
#    With $c$ the total length of the candidates and $r$ the total length of the references
#    (for each candidate, the reference whose length is closest to it, the shorter one on a
#    tie), the score is multiplied by $\mathrm{BP} = 1$ if $c > r$, else $e^{1 - r/c}$.
#
# $$\mathrm{BLEU\text{-}N} = \mathrm{BP} \cdot \exp\Big(\frac{1}{N} \sum_{n=1}^{N} \log p_n\Big).$$
#
# BLEU is a **corpus** score: the clipped counts and the n-gram totals are summed over all
# the sentences first, and $p_n$ is the ratio of the sums (not an average of per-sentence
# scores).
#
# ### Exercise 3: BLEU-n (4 points)
#
# Write `bleu(candidates, references, n)`. `candidates` is a list of sentences, each a list
# of tokens (strings); `references[i]` is the list of correct sentences of item `i` (at
# least one). Follow the three rules above, with corpus sums, uniform weights $1/n$ and no
# smoothing:
#
# * if some $p_k$ is 0 (no correct k-gram, or no k-gram at all), return `0.0`;
# * an empty corpus (no candidates) returns `0.0`;
# * return a Python number (a `float`, or anything `float()` accepts).
#
# Do not call `torchmetrics` or the course's `course_utils.metrics.text.bleu`.

# %% nbgrader={"grade": false, "grade_id": "bleu", "locked": false, "schema_version": 3, "solution": true}
def bleu(candidates, references, n):
    """Corpus BLEU-n with clipped counts and the brevity penalty.

    Args:
        candidates: list of token lists.
        references: list (same length) of lists of token lists.
        n: largest n-gram order (>= 1).

    Returns:
        float in [0, 1].
    """
    ### BEGIN SOLUTION
    from collections import Counter

    correct, total = [0] * n, [0] * n
    candidate_length = reference_length = 0
    for candidate, refs in zip(candidates, references):
        candidate_length += len(candidate)
        reference_length += min((abs(len(r) - len(candidate)), len(r)) for r in refs)[1]  # closest, then shorter
        for order in range(1, n + 1):
            grams = Counter(tuple(candidate[i:i + order]) for i in range(len(candidate) - order + 1))
            best = Counter()
            for r in refs:
                best |= Counter(tuple(r[i:i + order]) for i in range(len(r) - order + 1))  # max count over references
            correct[order - 1] += sum(min(count, best[g]) for g, count in grams.items())
            total[order - 1] += sum(grams.values())
    if min(correct) == 0:
        return 0.0
    log_precision = sum(math.log(c / t) for c, t in zip(correct, total)) / n
    penalty = 1.0 if candidate_length > reference_length else math.exp(1 - reference_length / candidate_length)
    return penalty * math.exp(log_precision)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bleu", "locked": true, "points": 4, "schema_version": 3, "solution": false}
reference = [["a red star .".split()]]
expect_equal(bleu(["a red star .".split()], reference, 4), 1.0, "bleu of a candidate equal to its reference")
expect_equal(bleu(["a a a a".split()], reference, 1), 0.25, "BLEU-1 of 'a a a a' against 'a red star .' (clip counts)")
expect_equal(bleu(["a red star".split()], reference, 2), math.exp(1 - 4 / 3),
             "BLEU-2 of 'a red star' against 'a red star .' (precisions 1; the brevity penalty exp(1 - r/c))")
expect_equal(bleu(["the the the".split()], [["the cat".split(), "the the".split()]], 1), 2 / 3,
             "BLEU-1 of 'the the the' against 'the cat' and 'the the' (clip by the reference with most 'the')")
expect_equal(bleu(["a red star .".split()], [["a red star".split(), "a big red star .".split()]], 1), 1.0,
             "BLEU-1 of a 4-token candidate with references of 3 and 5 tokens (closest length: the shorter on a tie)")
expect_equal(bleu(["a red star .".split(), "a a".split()], [["a red star .".split()], ["a blue ring .".split()]], 1),
             5 / 6 * math.exp(1 - 8 / 6), "BLEU-1 of a corpus of two sentences (sum the counts over the corpus first)")
expect_equal(bleu(["two blue".split()], [["a red star .".split()]], 2), 0.0,
             "bleu when no n-gram is correct (a precision of 0 gives 0)")
expect_equal(bleu(["a".split()], [["a red".split()]], 2), 0.0, "BLEU-2 of a one-word candidate (no bigram at all)")
expect_equal(bleu([], [], 2), 0.0, "bleu of an empty corpus")
corpus_rng = random.Random(0)
words = "a red blue star circle above the of".split()
corpus_candidates = [[corpus_rng.choice(words) for _ in range(corpus_rng.randint(2, 8))] for _ in range(6)]
corpus_references = [[[corpus_rng.choice(words) for _ in range(corpus_rng.randint(2, 8))] for _ in range(2)]
                     for _ in range(6)]
from torchmetrics.functional.text import bleu_score  # noqa: E402  (an independent implementation)

for order in (1, 2):
    expect_equal(bleu(corpus_candidates, corpus_references, order),
                 float(bleu_score([" ".join(c) for c in corpus_candidates],
                                  [[" ".join(r) for r in sorted(refs, key=len)] for refs in corpus_references],
                                  n_gram=order)),
                 f"BLEU-{order} of a random corpus of 6 sentences with 2 references each (compared with torchmetrics)",
                 rel_tol=1e-5)
### BEGIN HIDDEN TESTS
_FORBIDDEN_BLEU = ("torchmetrics.functional.text.bleu_score", "torchmetrics.functional.text.bleu._bleu_score_update",
                   "torchmetrics.text.BLEUScore.update",
                   "torchmetrics.functional.text.sacre_bleu_score", ref_text.bleu)
_h_rng = random.Random(11)
_h_words = "a an red blue green star stars circle ring two three above below of the to left right , .".split()
for _h_size, _h_refs, _h_n in [(10, 1, 1), (10, 3, 2), (25, 2, 3), (40, 4, 4), (1, 1, 2), (3, 5, 1)]:
    _h_cands = [[_h_rng.choice(_h_words[:8]) for _ in range(_h_rng.randint(1, 10))] for _ in range(_h_size)]
    _h_ref = [[[_h_rng.choice(_h_words[:8]) for _ in range(_h_rng.randint(1, 10))] for _ in range(_h_rng.randint(1, _h_refs))]
              for _ in range(_h_size)]
    _h_expected = ref_text.bleu(_h_cands, _h_ref, _h_n)
    with forbid(*_FORBIDDEN_BLEU, exercise="bleu"):
        _h_got = bleu(_h_cands, _h_ref, _h_n)
    expect_equal(_h_got, _h_expected, f"BLEU-{_h_n} of a random corpus of {_h_size} sentences")
_h_caps = [c.split() for c in ("a red star .", "two blue rings .", "a green circle above a red square .")]
with forbid(*_FORBIDDEN_BLEU, exercise="bleu"):
    _h_same = bleu(_h_caps, [[c] for c in _h_caps], 4)
    _h_short = bleu([["a", "red"]], [[_h_caps[0], _h_caps[1]]], 1)
expect_equal(_h_same, 1.0, "BLEU-4 of a corpus equal to its references")
expect_equal(_h_short, math.exp(1 - 4 / 2), "BLEU-1 of 'a red' against two 4-token references")
### END HIDDEN TESTS

# %% [markdown]
# How much does clipping matter, and how far can a caption get without looking at the
# image? Below, "a a a a" with and without clipping, and a blind captioner that writes the
# most frequent training caption for every test scene (scored with the course's
# `course_utils.metrics.text.bleu`).

# %%
most_common_caption = max(set(train_captions), key=train_captions.count)
tokens_of = lambda caption: caption.replace(".", " .").replace(",", " ,").split()
unclipped = sum(w in tokens_of("a red star .") for w in "a a a a".split()) / 4
print(f"'a a a a' vs 'a red star .': precision without clipping {unclipped:.2f}, "
      f"BLEU-1 {ref_text.bleu([['a'] * 4], [[tokens_of('a red star .')]], 1):.2f}")
blind = [tokens_of(ref_captioning.canonical_caption(most_common_caption))] * len(test_captions)
print(f"blind captioner ({most_common_caption!r} for every scene): "
      f"BLEU-1 {ref_text.bleu(blind, test_references, 1):.3f}, BLEU-2 {ref_text.bleu(blind, test_references, 2):.3f}, "
      f"exact match {ref_text.exact_match(blind, test_references):.3f}")

# %% [markdown]
# Even with clipping, a caption that ignores the image earns a respectable BLEU-1 on our
# scenes, because every caption is made of the same few words ("a", ".", "above", colour
# and shape names). That is the real lesson of the "a a a a" example: an n-gram score is
# only meaningful next to a baseline, and a short, formulaic vocabulary inflates it. We
# therefore report **exact match** too (the fraction of scenes whose caption is one of the
# correct wordings), which a blind captioner cannot game. Here is the captioner without
# attention, decoded greedily:

# %%
def caption_scores(decoder, features, references, beam=0):
    """Greedy (or beam) captions of every scene; (exact match, BLEU-1, BLEU-2, candidates)."""
    if beam:
        candidates = []
        for i in range(len(features)):
            tokens, _ = ref_decoding.beam_search(decoder.step, decoder.init_state(features[i:i + 1]), START_TOKEN,
                                                 END_TOKEN, MAX_CAPTION, beam_size=beam)[0]
            candidates.append(ref_captioning.decode_tokens(tokens))
    else:
        tokens = ref_decoding.greedy_decode(decoder.step, decoder.init_state(features), len(features), START_TOKEN,
                                            END_TOKEN, MAX_CAPTION, pad_token=PAD_TOKEN, device=features.device)
        candidates = [ref_captioning.decode_tokens(row) for row in tokens.cpu()]
    return (ref_text.exact_match(candidates, references), ref_text.bleu(candidates, references, 1),
            ref_text.bleu(candidates, references, 2), candidates)


objects_per_scene = torch.tensor([len(t["labels"]) for _, t in test_items])
plain_scores = caption_scores(plain_captioner, test_features, test_references)
print(f"without attention: exact match {plain_scores[0]:.3f}, BLEU-1 {plain_scores[1]:.3f}, BLEU-2 {plain_scores[2]:.3f}")
for caption, candidate in list(zip(test_captions, plain_scores[3]))[:5]:
    print(f"   {' '.join(candidate)!r:52} reference: {ref_captioning.canonical_caption(caption)!r}")

# %% [markdown]
# ## 4. Attention
#
# The captioner above squeezes the whole image into one vector before it writes a word,
# and every word must be read from that same vector. The lecture's picture of the problem
# is translation: an RNN encoder must cram a whole English sentence into its last hidden
# state, and long sentences do not fit. **Attention** (Bahdanau et al., 2015) lets the
# decoder look back at *all* the encoder's vectors at every step and pick what it needs.
# With encoder vectors $h_1, \dots, h_N$ (words of the source sentence, or cells of a
# feature grid) and the decoder's current state $s$:
#
# 1. **alignment scores** $e_i = h_i^\top s$ (the lecture's dot product; Bahdanau used a
#    small MLP), one per vector: how relevant is $h_i$ to what the decoder needs now?
# 2. **attention weights** $a = \mathrm{softmax}(e)$: positive, summing to one;
# 3. the **context** $c = \sum_i a_i h_i$, a weighted average of the vectors, used with $s$
#    to predict the next word.
#
# Everything is differentiable, so *where to look* is learned from the caption loss
# alone; nobody labels which cell a word is about. Show, Attend and Tell (Xu et al., 2015)
# brought this to captioning, with the cells of a CNN's last feature map as the $h_i$, and
# its figures show the attention moving over the image as the words are written.
#
# Our `AttentionCaptionDecoder` does exactly that with the frozen 8 × 8 grid. Its LSTM
# reads the previous words; at each step its state is turned into a query
# $q_t = W_q h_t$, each cell's vector $f_i$ (64 features plus a learned position embedding,
# so that a cell also says *where* it is) gets the score $e_{ti} = q_t^\top f_i / \sqrt{64}$,
# and the word classifier reads $[h_t, c_t]$. (The $\sqrt{64}$ is explained in section 5.)
# Since the context is not fed back into the LSTM, the whole caption is still one
# parallel pass in training, and attention over all steps is one batched matrix product.
#
# One refinement matters for our captions: the decoder has **two** such queries per step
# (two *heads*, each with its own $W_q$ and its own context). A relation word like
# "above" depends on where *both* objects are, and one softmax tends to settle on one
# object; with two heads the classifier can read both positions at once. In our trials a
# single head wrote about 15 % of the two-object captions exactly right and two heads
# about 30 %, at the same cost. Section 5 makes multi-head attention the norm.

# %%
seed_everything(0)
attention_captioner = ref_captioning.AttentionCaptionDecoder(64, GRID, VOCAB_SIZE).to(device)
_ = train_model(attention_captioner, captioner_loss,
                TensorBatches((train_features, train_tokens), train_tokens, 64, seed=1),
                epochs=budget(full=16, quick=1), lr=3e-3, forward_fn=captioner_forward,
                desc="captioner with attention")
attention_captioner.eval()
attention_scores = caption_scores(attention_captioner, test_features, test_references)
print(f"with attention: exact match {attention_scores[0]:.3f}, BLEU-1 {attention_scores[1]:.3f}, "
      f"BLEU-2 {attention_scores[2]:.3f}")
report("captioner_exact_match", attention_scores[0], target=0.5)
report("captioner_bleu1", attention_scores[1], target=0.8)

# %% [markdown]
# Where does it look? For each generated word, the figure shows the attention weights the
# decoder used to choose it, over the scene (brighter = more weight; each square is one
# of the 8 × 8 cells), one row per head.

# %%
def attention_figure(index):
    features = test_features[index:index + 1]
    tokens = ref_decoding.greedy_decode(attention_captioner.step, attention_captioner.init_state(features), 1,
                                        START_TOKEN, END_TOKEN, MAX_CAPTION, pad_token=PAD_TOKEN, device=device)[0]
    words = ref_captioning.decode_tokens(tokens)
    inputs = torch.cat([torch.tensor([START_TOKEN], device=device), tokens[:len(words)]])[None]  # <start> w_1 .. w_n
    with torch.no_grad():
        _, weights = attention_captioner(features, inputs[:, :len(words)], return_attention=True)  # [1, 2, n, 64]
    return show_caption_attention(test_images[index], words, weights[0].cpu(),
                                  title=f"reference: {ref_captioning.canonical_caption(test_captions[index])!r}")


two_object_scenes = [i for i in range(len(test_items)) if objects_per_scene[i] == 2][:2]
three_object_scenes = [i for i in range(len(test_items)) if objects_per_scene[i] == 3][:1]
for index in two_object_scenes + three_object_scenes:
    fig = attention_figure(index)
    plt.show()

# %% [markdown]
# The colour and shape words of an object are written while the attention sits on that
# object, and it moves to the next object when the sentence does. Nothing told the model
# where the objects are; the alignment was learned because looking at the right cell is
# the easiest way to predict the next word. Function words ("a", "and", ".") often
# attend to a mixture: they do not need the image much.
#
# The two captioners side by side, by the number of objects in the scene, and the
# attention captioner decoded with a beam of 3 instead of greedily:

# %%
beam_scenes = budget(full=150, quick=10)
beam_scores = caption_scores(attention_captioner, test_features[:beam_scenes], test_references[:beam_scenes], beam=3)
greedy_subset = caption_scores(attention_captioner, test_features[:beam_scenes], test_references[:beam_scenes])
print(f"{'objects':>8} {'scenes':>7} {'exact match, no attention':>27} {'with attention':>15}")
for count in (1, 2, 3):
    chosen = [i for i in range(len(test_items)) if objects_per_scene[i] == count]
    plain_hits = ref_text.exact_match([plain_scores[3][i] for i in chosen], [test_references[i] for i in chosen])
    attention_hits = ref_text.exact_match([attention_scores[3][i] for i in chosen], [test_references[i] for i in chosen])
    print(f"{count:>8} {len(chosen):>7} {plain_hits:>27.3f} {attention_hits:>15.3f}")
print(f"first {beam_scenes} test scenes, attention captioner: greedy exact match {greedy_subset[0]:.3f}, "
      f"beam of 3 {beam_scores[0]:.3f}")

# %% [markdown]
# Attention pays off most where there is more than one object to describe: a single
# image vector must hold every object at once, while attention can fetch them one at a
# time. Beam search changes little here: our captions are short and the model is fairly
# sure of each word, so the greedy choice is usually also the most probable sentence.
# (Beam search matters more for long outputs, and a well-known surprise is that the
# *most probable* sentence is not always the best one: beams favour short, generic
# sentences, which is why length penalties exist.)

# %% [markdown]
# ## 5. Self-attention and the Transformer
#
# ### Queries, keys and values
#
# The lecture gets from attention to the Transformer in two small steps. Keep the
# attention of section 4, but (1) compare the decoder state with a *transformed* version
# of each encoder vector, $e_i = h_i^\top K s$, and (2) average transformed vectors,
# $\sum_i a_i\, V h_i$. Giving each role its own linear map yields three kinds of vectors,
# computed from the inputs $x_i$ by three learned matrices:
#
# * a **query** $q = W_Q x$: what the position is looking for;
# * a **key** $k = W_K x$: what the position offers, compared with the queries;
# * a **value** $v = W_V x$: what the position hands over when it is attended to.
#
# In **self-attention** the queries, keys and values all come from the same sequence, so
# every position looks at every other one, and a whole sequence of $T$ tokens is updated
# in one step, with no recurrence. Stacked in matrices ($Q$ is $T_q \times d$, $K$ is
# $T_k \times d$, $V$ is $T_k \times d_v$), all outputs at once are
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V,$$
#
# the softmax taken over each row (over the keys). The lecture compares the two families:
# RNNs must process a sequence in order, one step after another; self-attention handles
# all positions in parallel and connects any two positions in one step, so long-range
# dependencies are one multiplication away instead of $T$ (no $g^n$), at the price of
# memory that grows with $T^2$ (we measure it below).
#
# A **mask** decides which keys each query may see. Two masks are everywhere:
#
# * a **causal** mask for decoders that generate text: position $i$ sees positions $0..i$
#   only, so that training on a whole sentence at once cannot peek at the words it is
#   supposed to predict;
# * a **padding** mask for batches of sequences of different lengths: the padding
#   positions are not real tokens and must receive no attention.
#
# Masked scores are set to $-\infty$ before the softmax, so their weights are exactly 0.
#
# ### Exercise 4: scaled dot-product attention with a mask (4 points)
#
# Write `scaled_dot_product_attention(q, k, v, mask=None)` returning `(output, weights)`:
#
# * `q` is `[..., Tq, d]`, `k` is `[..., Tk, d]`, `v` is `[..., Tk, dv]`, where `...` is
#   any number of leading dimensions (batch, heads), the same for the three;
# * scores $q k^\top / \sqrt{d}$ with $d$ the last dimension of `q`; `weights` is their softmax
#   over the keys (`[..., Tq, Tk]`), `output` is `weights @ v` (`[..., Tq, dv]`);
# * `mask` is `None` (every query sees every key) or a `bool` tensor that broadcasts to
#   `[..., Tq, Tk]`, `True` where the query **may** look at the key (PyTorch's convention);
#   masked keys get weight exactly 0;
# * a query whose keys are **all** masked gets all-zero weights and an all-zero output
#   (as PyTorch's function does), not NaN. Watch out: a softmax over a row of $-\infty$ is
#   NaN.
#
# Do not call `F.scaled_dot_product_attention`, `nn.MultiheadAttention` or the course's
# `course_utils.ops.attention`; `torch.softmax` is allowed.

# %% nbgrader={"grade": false, "grade_id": "scaled_dot_product_attention", "locked": false, "schema_version": 3, "solution": true}
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v with an optional boolean mask (True = may attend).

    Args:
        q: Tensor[..., Tq, d]; k: Tensor[..., Tk, d]; v: Tensor[..., Tk, dv];
        mask: None or bool Tensor broadcastable to [..., Tq, Tk].

    Returns:
        (output Tensor[..., Tq, dv], weights Tensor[..., Tq, Tk]); a query with no allowed key gets
        zero weights and a zero output.
    """
    ### BEGIN SOLUTION
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [..., Tq, Tk]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)  # [..., Tq, Tk]
    weights = torch.nan_to_num(weights, nan=0.0)  # a row of -inf gives NaN: no allowed key, no attention
    return weights @ v, weights
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_scaled_dot_product_attention", "locked": true, "points": 4, "schema_version": 3, "solution": false}
gen = torch.Generator().manual_seed(0)
q, k, v = torch.randn(2, 4, 8, generator=gen), torch.randn(2, 5, 8, generator=gen), torch.randn(2, 5, 3, generator=gen)
out, weights = scaled_dot_product_attention(q, k, v)
expect_close(out, F.scaled_dot_product_attention(q, k, v),
             "attention output without a mask (q [2, 4, 8], k [2, 5, 8], v [2, 5, 3]; compared with PyTorch's)")
expect_close(weights, torch.softmax(q @ k.transpose(1, 2) / math.sqrt(8), dim=-1),
             "attention weights without a mask (softmax of q k^T / sqrt(d) over the keys)")
qs, ks, vs = torch.randn(2, 5, 8, generator=gen), torch.randn(2, 5, 8, generator=gen), torch.randn(2, 5, 6, generator=gen)
causal = torch.ones(5, 5, dtype=torch.bool).tril()
out, weights = scaled_dot_product_attention(qs, ks, vs, causal)
expect_close(out, F.scaled_dot_product_attention(qs, ks, vs, attn_mask=causal), "attention output with a causal mask [5, 5]")
assert bool((weights[:, ~causal] == 0).all()), "masked keys (mask False) must get weight exactly 0"
padding = torch.arange(5)[None, :] < torch.tensor([5, 2])[:, None]  # [2, 5]: the second sequence has 2 real tokens
out, weights = scaled_dot_product_attention(q, k, v, padding[:, None, :])
expect_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=padding[:, None, :]),
             "attention output with a padding mask of shape [2, 1, 5] (broadcast over the queries)")
expect_close(weights.sum(dim=-1), torch.ones(2, 4), "attention weights with a padding mask (rows must sum to 1)")
blind = torch.ones(4, 5, dtype=torch.bool)
blind[1] = False  # query 1 may look at nothing
out, weights = scaled_dot_product_attention(q, k, v, blind)
expect_close(out[:, 1], torch.zeros(2, 3), "attention output of a query whose keys are all masked (must be 0, not NaN)")
expect_close(weights[:, 1], torch.zeros(2, 5), "attention weights of a query whose keys are all masked (must be 0)")
expect_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=blind), "attention output with one fully masked query")
### BEGIN HIDDEN TESTS
_FORBIDDEN_ATTENTION = ("torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention.forward",
                        "torch.nn.functional.multi_head_attention_forward", ref_attention.scaled_dot_product_attention,
                        ref_attention.scaled_dot_product_attention_loop)
_h_g = torch.Generator().manual_seed(42)
for _h_shape, _h_dtype in [((3, 4, 6, 7, 16, 5), torch.float32), ((1, 2, 9, 9, 32, 32), torch.float64),
                           ((2, 1, 1, 3, 4, 2), torch.float32)]:
    _h_b, _h_h, _h_tq, _h_tk, _h_d, _h_dv = _h_shape
    _h_q = torch.randn(_h_b, _h_h, _h_tq, _h_d, generator=_h_g).to(_h_dtype)
    _h_k = torch.randn(_h_b, _h_h, _h_tk, _h_d, generator=_h_g).to(_h_dtype)
    _h_v = torch.randn(_h_b, _h_h, _h_tk, _h_dv, generator=_h_g).to(_h_dtype)
    _h_mask = torch.rand(_h_b, 1, _h_tq, _h_tk, generator=_h_g) > 0.5
    _h_mask[..., 0] = True
    for _h_m in (None, _h_mask):
        with forbid(*_FORBIDDEN_ATTENTION, exercise="scaled_dot_product_attention"):
            _h_out, _h_w = scaled_dot_product_attention(_h_q, _h_k, _h_v, _h_m)
        _h_eo, _h_ew = ref_attention.scaled_dot_product_attention(_h_q, _h_k, _h_v, _h_m)
        expect_close(_h_out, _h_eo, f"attention output for q of shape {list(_h_q.shape)} ({_h_dtype}), "
                                    f"mask {'None' if _h_m is None else list(_h_m.shape)}")
        expect_close(_h_w, _h_ew, f"attention weights for q of shape {list(_h_q.shape)}")
_h_q = torch.randn(2, 3, 4, generator=_h_g) * 6
_h_k = torch.randn(2, 3, 4, generator=_h_g) * 6
_h_v = torch.randn(2, 3, 2, generator=_h_g)
_h_m = torch.tensor([[True, False, False], [False, False, False], [True, True, True]])
with forbid(*_FORBIDDEN_ATTENTION, exercise="scaled_dot_product_attention"):
    _h_out, _h_w = scaled_dot_product_attention(_h_q, _h_k, _h_v, _h_m)
expect_close(_h_out, ref_attention.scaled_dot_product_attention(_h_q, _h_k, _h_v, _h_m)[0],
             "attention output with a fully masked query and large scores")
assert not torch.isnan(_h_w).any(), "attention weights must not contain NaN"
### END HIDDEN TESTS

# %% [markdown]
# ### Why divide by $\sqrt{d}$?
#
# The lecture says the scaling "prevents vanishing gradients". Here is the argument,
# measured. If the entries of $q$ and $k$ are independent with mean 0 and variance 1, their
# dot product is a sum of $d$ such products and has variance $d$: the scores spread out
# as $\sqrt{d}$. A softmax of widely spread scores is nearly one-hot, and a saturated
# softmax has almost no gradient (its Jacobian is $\mathrm{diag}(p) - p p^\top$, which is 0
# for a one-hot $p$). Dividing by $\sqrt{d}$ brings the scores back to variance 1 whatever
# the dimension. The cell below draws random queries and 32 keys for dimensions from 4 to
# 1,024, and measures, with and without the scaling, how much weight the largest key gets
# and how large the gradient of the attention output with respect to the scores is.

# %%
def softmax_statistics(d, scaled, trials=64, keys=32, seed=0):
    """Mean largest weight and mean gradient norm (output w.r.t. scores) over random q, k, v."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(trials, 1, d, generator=gen)
    k = torch.randn(trials, keys, d, generator=gen)
    v = torch.randn(trials, keys, 1, generator=gen)
    scores = (q @ k.transpose(1, 2) / (math.sqrt(d) if scaled else 1.0)).requires_grad_(True)  # [trials, 1, keys]
    weights = torch.softmax(scores, dim=-1)
    (weights @ v).sum().backward()
    return weights.max(dim=-1).values.mean().item(), scores.grad.norm(dim=-1).mean().item()


dims = [4, 16, 64, 256, 1024]
stats = {scaled: [softmax_statistics(d, scaled) for d in dims] for scaled in (False, True)}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for scaled, style in ((False, "o-"), (True, "s-")):
    label = "scores / sqrt(d)" if scaled else "raw scores q . k"
    axes[0].semilogx(dims, [s[0] for s in stats[scaled]], style, label=label, base=2)
    axes[1].loglog(dims, [s[1] for s in stats[scaled]], style, label=label, base=2)
axes[0].set_ylabel("weight of the largest key (of 32)")
axes[1].set_ylabel("gradient norm w.r.t. the scores")
for ax in axes:
    ax.set_xlabel("dimension d of queries and keys")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
for d, (raw, scaled) in zip(dims, zip(stats[False], stats[True])):
    print(f"d = {d:4d}: largest weight {raw[0]:.2f} raw, {scaled[0]:.2f} scaled;  "
          f"gradient {raw[1]:.2e} raw, {scaled[1]:.2e} scaled")

# %% [markdown]
# Without the scaling, at $d = 64$ (a typical head size) the largest of 32 keys already
# takes most of the weight, and at $d = 1024$ attention is practically a hard choice with
# a gradient a thousand times smaller than with the scaling. With the scaling, both
# curves are flat: the softmax behaves the same at every width, and learning is not
# stalled from the start.
#
# The masks, drawn with the course's `course_utils.ops.attention` (`causal_mask`,
# `padding_mask` and the reference `scaled_dot_product_attention`): which keys each query
# may see, and the resulting weights for random queries and keys.

# %%
gen = torch.Generator().manual_seed(3)
tokens_q, tokens_k = torch.randn(6, 8, generator=gen), torch.randn(6, 8, generator=gen)
causal = ref_attention.causal_mask(6)
padding = ref_attention.padding_mask(torch.tensor([4]), max_length=6)[0].expand(6, 6)  # 4 real tokens, 2 padding
fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
for ax, (title, matrix) in zip(axes, [
        ("causal mask (True = may look)", causal.float()),
        ("weights with the causal mask", ref_attention.scaled_dot_product_attention(tokens_q, tokens_k, tokens_k, causal)[1]),
        ("padding mask: 4 tokens + 2 pads", padding.float()),
        ("weights with the padding mask", ref_attention.scaled_dot_product_attention(tokens_q, tokens_k, tokens_k, padding)[1])]):
    image = ax.imshow(matrix.numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()

# %% [markdown]
# ### Several heads
#
# One softmax gives one weighted average per query: one way of mixing the sequence. The
# Transformer runs $h$ attentions side by side, **heads**, each with queries, keys and
# values of size $d_h = D / h$, and concatenates their outputs, followed by a linear layer
# $W_O$ that mixes them. Different heads can attend to different things (section 4's
# captioner used one head per object). Multi-head attention costs no more than one head
# of full width: the projections are the same $D \times D$ matrices, only cut into pieces. In
# code it is a **reshape**: compute $Q = X W_Q$ for all heads at once (`[B, T, D]`), view the
# last dimension as `h` blocks of `D / h`, and move the head dimension in front of the
# tokens (`[B, h, T, D/h]`), so that a batched attention treats every head as a separate
# sequence. Afterwards the reverse reshape glues the heads back together. PyTorch's
# `nn.MultiheadAttention` uses the same convention: head $j$ owns features
# $j\,d_h \dots (j+1)\,d_h - 1$.
#
# ### Exercise 5: splitting and merging heads (3 points)
#
# Write `split_heads(x, num_heads)`, which turns `[B, T, D]` into `[B, num_heads, T, D / num_heads]`
# with head `j` holding features `j * D/h` to `(j + 1) * D/h - 1` of every token, and raises a
# `ValueError` if `num_heads` does not divide `D`; and `merge_heads(x)`, its inverse,
# `[B, h, T, dh]` to `[B, T, h * dh]`.

# %% nbgrader={"grade": false, "grade_id": "multi_head_reshape", "locked": false, "schema_version": 3, "solution": true}
def split_heads(x, num_heads):
    """[B, T, D] -> [B, num_heads, T, D // num_heads]; ValueError if num_heads does not divide D."""
    ### BEGIN SOLUTION
    b, t, d = x.shape
    if d % num_heads:
        raise ValueError(f"num_heads={num_heads} does not divide the dimension {d}")
    return x.reshape(b, t, num_heads, d // num_heads).permute(0, 2, 1, 3)
    ### END SOLUTION


def merge_heads(x):
    """[B, h, T, dh] -> [B, T, h * dh], the inverse of split_heads."""
    ### BEGIN SOLUTION
    b, h, t, dh = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, t, h * dh)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_multi_head_reshape", "locked": true, "points": 3, "schema_version": 3, "solution": false}
x = torch.arange(2 * 3 * 8, dtype=torch.float32).reshape(2, 3, 8)
heads = split_heads(x, 4)
_ = expect_tensor(heads, "split_heads(x [2, 3, 8], 4)", shape=(2, 4, 3, 2))
expect_close(heads, torch.stack([x[..., 2 * j:2 * j + 2] for j in range(4)], dim=1),
             "split_heads(x, 4): head j must hold features 2j and 2j + 1 of every token")
merged = merge_heads(heads)
_ = expect_tensor(merged, "merge_heads of a [2, 4, 3, 2] tensor", shape=(2, 3, 8))
expect_close(merged, x, "merge_heads(split_heads(x, 4)) must give x back")
expect_close(merge_heads(torch.stack([x, x + 100], dim=1)), torch.cat([x, x + 100], dim=-1),
             "merge_heads of two heads: the first head's features, then the second's")
expect_raises(lambda: split_heads(x, 3), ValueError, "split_heads of a dimension 8 into 3 heads")
### BEGIN HIDDEN TESTS
_FORBIDDEN_HEADS = (ref_attention.split_heads, ref_attention.merge_heads)
_h_g = torch.Generator().manual_seed(8)
for _h_shape, _h_n in [((3, 7, 12), 3), ((1, 1, 6), 6), ((4, 5, 16), 1), ((2, 9, 64), 8)]:
    _h_x = torch.randn(*_h_shape, generator=_h_g, dtype=torch.float64)
    with forbid(*_FORBIDDEN_HEADS, exercise="multi_head_reshape"):
        _h_s = split_heads(_h_x, _h_n)
        _h_m = merge_heads(_h_s)
    expect_close(_h_s, ref_attention.split_heads(_h_x, _h_n), f"split_heads of a {list(_h_shape)} tensor into {_h_n} heads")
    expect_close(_h_m, _h_x, f"merge_heads(split_heads(x, {_h_n})) for x of shape {list(_h_shape)}")
with forbid(*_FORBIDDEN_HEADS, exercise="multi_head_reshape"):
    _h_y = merge_heads(torch.randn(2, 3, 4, 5, generator=_h_g))
_ = expect_tensor(_h_y, "merge_heads of a [2, 3, 4, 5] tensor", shape=(2, 4, 15))
expect_raises(lambda: split_heads(torch.zeros(1, 2, 10), 4), ValueError, "split_heads of a dimension 10 into 4 heads")
### END HIDDEN TESTS

# %% [markdown]
# With the reshapes, multi-head attention is a few lines. The cell rebuilds the output of
# a PyTorch `nn.MultiheadAttention` from its weights with the course's `split_heads`,
# `merge_heads` and `scaled_dot_product_attention`:

# %%
torch.manual_seed(0)
mha = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
x = torch.randn(2, 5, 16)
expected, expected_weights = mha(x, x, x, average_attn_weights=False)
q, k, v = F.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)  # each [2, 5, 16]
out, weights = ref_attention.scaled_dot_product_attention(*(ref_attention.split_heads(z, 4) for z in (q, k, v)))
rebuilt = F.linear(ref_attention.merge_heads(out), mha.out_proj.weight, mha.out_proj.bias)
print(f"largest difference from nn.MultiheadAttention: output {(rebuilt - expected).abs().max():.1e}, "
      f"weights {(weights - expected_weights).abs().max():.1e}")

# %% [markdown]
# ### Where is each token? Positional encodings
#
# Self-attention has no notion of order. Permute the tokens of the input, and the outputs
# are permuted the same way and otherwise unchanged: "dog bites man" and "man bites dog"
# are the same set of words. The check, with the module above:

# %%
permutation = torch.tensor([3, 0, 4, 1, 2])
out_permuted, _ = mha(x[:, permutation], x[:, permutation], x[:, permutation])
print(f"outputs of permuted tokens vs permuted outputs: largest difference "
      f"{(out_permuted - expected[:, permutation]).abs().max():.1e}")

# %% [markdown]
# The lecture asks whether the alignment scores can reflect the position of each token;
# they cannot, so position must be put into the tokens themselves: a **positional
# encoding** $p_t$ is added to the embedding of the token at position $t$. Two kinds are
# common:
#
# * **learned** encodings: a table of $T_{\max}$ vectors trained with the rest (BERT, GPT,
#   and the ViT below); simple, but limited to the positions seen in training;
# * the original Transformer's **sinusoidal** encoding, fixed and defined for any position:
#
# $$\mathrm{PE}[p, 2i] = \sin\!\left(\frac{p}{10000^{2i/D}}\right), \qquad
#   \mathrm{PE}[p, 2i+1] = \cos\!\left(\frac{p}{10000^{2i/D}}\right), \qquad i = 0, \dots, D/2 - 1.$$
#
# Each pair of dimensions is a sine and a cosine of one frequency, from one radian per
# position for $i = 0$ down to $1/10000$ for the last pair, like the hands of a clock
# turning at different speeds. Because $\sin(a + b)$ and $\cos(a + b)$ are linear in
# $\sin a$ and $\cos a$, the encoding of position $p + k$ is a fixed rotation of the
# encoding of $p$, which makes relative positions easy to read off.
#
# ### Exercise 6: the sinusoidal positional encoding (3 points)
#
# Write `sinusoidal_encoding(num_positions, dim)` returning the `[num_positions, dim]` table
# above as `float32`, positions $0, \dots, P - 1$, the sine in the even columns and the cosine
# in the odd ones. An odd `dim` raises a `ValueError`. Zero positions give a `[0, dim]`
# table. (Computing the angles in float64 before converting keeps large positions accurate,
# but float32 throughout is accepted.)

# %% nbgrader={"grade": false, "grade_id": "sinusoidal_encoding", "locked": false, "schema_version": 3, "solution": true}
def sinusoidal_encoding(num_positions, dim):
    """PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(p / 10000^(2i/dim)), as float32 [num_positions, dim]."""
    ### BEGIN SOLUTION
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    positions = torch.arange(num_positions, dtype=torch.float64)[:, None]  # [P, 1]
    frequencies = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # [D/2]
    pe = torch.empty(num_positions, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(positions * frequencies)  # even columns
    pe[:, 1::2] = torch.cos(positions * frequencies)  # odd columns
    return pe.float()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sinusoidal_encoding", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def encoding_by_hand(num_positions, dim):
    table = torch.zeros(num_positions, dim, dtype=torch.float64)
    for p in range(num_positions):
        for i in range(dim // 2):
            table[p, 2 * i] = math.sin(p / 10000 ** (2 * i / dim))
            table[p, 2 * i + 1] = math.cos(p / 10000 ** (2 * i / dim))
    return table


small = sinusoidal_encoding(6, 4)
_ = expect_tensor(small, "sinusoidal_encoding(6, 4)", shape=(6, 4), dtype=torch.float32)
expect_close(small, encoding_by_hand(6, 4).float(), "sinusoidal_encoding(6, 4) (sin in even columns, cos in odd ones)",
             atol=1e-6)
expect_close(sinusoidal_encoding(50, 16), encoding_by_hand(50, 16).float(), "sinusoidal_encoding(50, 16)", atol=1e-5)
_ = expect_tensor(sinusoidal_encoding(0, 8), "sinusoidal_encoding(0, 8)", shape=(0, 8))
expect_raises(lambda: sinusoidal_encoding(4, 5), ValueError, "sinusoidal_encoding with an odd dim (5)")
### BEGIN HIDDEN TESTS
_FORBIDDEN_PE = ("torch.polar", ref_positional.sinusoidal_encoding, ref_positional.sinusoidal_encoding_loop)
for _h_p, _h_d, _h_tol in [(1, 2, 1e-6), (7, 2, 1e-6), (128, 64, 2e-5), (1000, 32, 2e-4), (3, 512, 1e-6)]:
    with forbid(*_FORBIDDEN_PE, exercise="sinusoidal_encoding"):
        _h_pe = sinusoidal_encoding(_h_p, _h_d)
    _ = expect_tensor(_h_pe, f"sinusoidal_encoding({_h_p}, {_h_d})", shape=(_h_p, _h_d), dtype=torch.float32)
    expect_close(_h_pe, ref_positional.sinusoidal_encoding(_h_p, _h_d, dtype=torch.float64).float(),
                 f"sinusoidal_encoding({_h_p}, {_h_d})", atol=_h_tol)
expect_raises(lambda: sinusoidal_encoding(10, 7), ValueError, "sinusoidal_encoding with dim 7")
### END HIDDEN TESTS

# %% [markdown]
# The table for 64 positions and 64 dimensions (the course's
# `course_utils.ops.positional.sinusoidal_encoding`), and the dot product of each position's
# encoding with that of position 32: it peaks at distance 0 and decreases with the
# distance on both sides, the same shape around every position, so attention scores built
# from these vectors can prefer nearby tokens.

# %%
table = ref_positional.sinusoidal_encoding(64, 64)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), gridspec_kw=dict(width_ratios=[1.2, 1]))
image = axes[0].imshow(table.numpy(), cmap="RdBu", aspect="auto")
axes[0].set_xlabel("dimension (sin, cos pairs; frequency falls to the right)")
axes[0].set_ylabel("position")
fig.colorbar(image, ax=axes[0])
axes[1].plot(range(64), (table @ table[32]).numpy(), "o-", ms=3)
axes[1].set_xlabel("position p")
axes[1].set_ylabel("PE[p] . PE[32]")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### The same trick for images: Fourier features
#
# The lecture shows a striking use of positional encodings outside language. Train an MLP
# to map pixel coordinates $(x, y)$ to the colour at that pixel, so that the network *is*
# the image. From raw coordinates, an MLP with ReLUs learns only a blurry version: such
# networks are biased towards smooth, low-frequency functions. Feed it instead
# $[\sin(2\pi B v), \cos(2\pi B v)]$ for $v = (x, y)$ and a random matrix $B$ (Gaussian
# entries, standard deviation 10 here): **Fourier features** (Tancik et al., 2020), the
# sinusoidal encoding's cousin with random frequencies. The same network, the same number
# of steps, and the cell below shows both, on a 64 × 64 photograph (the astronaut of
# scikit-image).

# %%
photo = load_photo("astronaut", size=(64, 64))  # [3, 64, 64]
side = photo.shape[-1]
ys, xs = torch.meshgrid(torch.arange(side) / side, torch.arange(side) / side, indexing="ij")
coords = torch.stack([xs, ys], dim=-1).reshape(-1, 2)  # [4096, 2] in [0, 1)
colours = photo.permute(1, 2, 0).reshape(-1, 3)  # [4096, 3]
FIT_STEPS = budget(full=200, quick=20)


def fit_coordinates(inputs, seed=0, hidden=64):
    """An MLP from the (encoded) coordinates to RGB, trained full-batch; returns the image and its PSNR."""
    torch.manual_seed(seed)
    mlp = nn.Sequential(nn.Linear(inputs.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                        nn.Linear(hidden, 3), nn.Sigmoid())
    optimizer = torch.optim.Adam(mlp.parameters(), lr=3e-3)
    for _ in range(FIT_STEPS):
        loss = F.mse_loss(mlp(inputs), colours)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        fitted = mlp(inputs)
    return fitted.reshape(side, side, 3), -10 * math.log10(F.mse_loss(fitted, colours).item())


frequencies = ref_positional.fourier_matrix(2, 32, scale=10.0, seed=0)
raw_fit, raw_psnr = fit_coordinates(coords)
fourier_fit, fourier_psnr = fit_coordinates(ref_positional.fourier_features(coords, frequencies))
fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
for ax, image, title in zip(axes, [photo.permute(1, 2, 0), raw_fit, fourier_fit],
                            ["the photograph (64 x 64)", f"MLP on (x, y): PSNR {raw_psnr:.1f} dB",
                             f"MLP on Fourier features: PSNR {fourier_psnr:.1f} dB"]):
    ax.imshow(image.numpy())
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
plt.show()

# %% [markdown]
# The encoded coordinates let the small network fit edges and texture that the raw ones
# cannot, in the same number of steps (PSNR, the peak signal-to-noise ratio, is
# $-10 \log_{10}$ of the mean squared error; higher is better). The lesson carries over to
# Transformers: how a position is presented to a network matters as much as the fact that
# it is presented.
#
# ### The Transformer block
#
# The Transformer (Vaswani et al., 2017) stacks identical **blocks**, each made of two
# sub-layers:
#
# 1. **multi-head self-attention**, which mixes information *across tokens*;
# 2. an **MLP** applied to every token separately (two linear layers with a GELU or ReLU
#    between them, the hidden layer typically 4 times wider), which processes each
#    token's features.
#
# Each sub-layer sits on a **residual** connection, $x + f(x)$, for the same reason as in
# ResNet: an identity path lets gradients flow through dozens of blocks. And each has a
# **LayerNorm**, which normalizes every token's feature vector to mean 0 and variance 1
# (then applies a learned scale and shift). Unlike batch norm, it does not depend on the
# other examples in the batch or on the sequence length, which suits variable-length
# sequences and batch size 1. Where the norm goes has a name:
#
# * **post-norm** (the 2017 paper): $x \leftarrow \mathrm{LN}(x + \mathrm{Attn}(x))$, then
#   $x \leftarrow \mathrm{LN}(x + \mathrm{MLP}(x))$. The norms sit on the main path, so every
#   block rescales it; deep post-norm stacks need a learning-rate warm-up to train.
# * **pre-norm** (GPT-2, ViT and most models since): $x \leftarrow x + \mathrm{Attn}(\mathrm{LN}(x))$,
#   then $x \leftarrow x + \mathrm{MLP}(\mathrm{LN}(x))$. The residual path from input to output
#   is untouched, and training is stable without warm-up (Xiong et al., 2020).
#
# ### Exercise 7: your Transformer block (6 points)
#
# Write the class `TransformerBlock(dim, num_heads, mlp_ratio=4.0, pre_norm=True)`, an
# `nn.Module` mapping `[B, T, dim]` to `[B, T, dim]`. The ViT of section 6 is built from
# *your* block and trained. Use exactly these attributes, so that the tests can copy
# weights between your block and the course's:
#
# * `self.norm1 = nn.LayerNorm(dim)` and `self.norm2 = nn.LayerNorm(dim)`;
# * `self.qkv = nn.Linear(dim, 3 * dim)`, whose output is $[q \mid k \mid v]$ (the first `dim`
#   features are the queries, then the keys, then the values), each split into `num_heads`
#   heads as in exercise 5;
# * `self.proj = nn.Linear(dim, dim)`, applied to the merged heads;
# * `self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))` with
#   `hidden = int(dim * mlp_ratio)`;
# * `self.num_heads` and `self.pre_norm` (the arguments).
#
# Attention inside the block is scaled by $1/\sqrt{d_h}$ with $d_h$ = `dim // num_heads`, the
# size of a head, and has no mask. `forward(x)` computes the pre-norm or the post-norm
# block as written above. You may use `F.scaled_dot_product_attention` or `torch.softmax`;
# do not use `nn.MultiheadAttention`, `nn.TransformerEncoderLayer` or the course's
# `course_utils.models.transformer`, and do not call your functions from earlier exercises
# (this cell is graded on its own).

# %% nbgrader={"grade": false, "grade_id": "transformer_block", "locked": false, "schema_version": 3, "solution": true}
class TransformerBlock(nn.Module):
    """A Transformer encoder block: multi-head self-attention and an MLP, each with a residual and a LayerNorm."""

    def __init__(self, dim, num_heads, mlp_ratio=4.0, pre_norm=True):
        super().__init__()
        ### BEGIN SOLUTION
        hidden = int(dim * mlp_ratio)
        self.num_heads = num_heads
        self.pre_norm = pre_norm
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        def attention(z):
            b, t, d = z.shape
            q, k, v = self.qkv(z).chunk(3, dim=-1)  # 3 x [B, T, D]
            q, k, v = (y.reshape(b, t, self.num_heads, d // self.num_heads).transpose(1, 2) for y in (q, k, v))
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.num_heads), dim=-1)  # [B, h, T, T]
            return self.proj((weights @ v).transpose(1, 2).reshape(b, t, d))

        if self.pre_norm:
            x = x + attention(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + attention(x))
        return self.norm2(x + self.mlp(x))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transformer_block_structure", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# The layers, their shapes and the number of parameters, compared with the course's block.
block = TransformerBlock(16, 4, mlp_ratio=2.0)
reference_block = ref_transformer.TransformerBlock(16, 4, mlp_ratio=2.0)
assert isinstance(block, nn.Module), f"TransformerBlock should be an nn.Module, got {type(block)}"
for name, kind in (("norm1", nn.LayerNorm), ("norm2", nn.LayerNorm), ("qkv", nn.Linear), ("proj", nn.Linear),
                   ("mlp", nn.Sequential)):
    assert isinstance(getattr(block, name, None), kind), f"block.{name} should be an {kind.__name__}"
own_shapes = {n: list(p.shape) for n, p in block.named_parameters()}
expected_shapes = {n: list(p.shape) for n, p in reference_block.named_parameters()}
assert own_shapes == expected_shapes, (f"the parameters of TransformerBlock(16, 4, mlp_ratio=2.0) should be "
                                       f"{expected_shapes}, got {own_shapes}")
expect_equal(sum(p.numel() for p in block.parameters()), sum(p.numel() for p in reference_block.parameters()),
             "number of parameters of TransformerBlock(16, 4, mlp_ratio=2.0)", integer=True)
_ = expect_tensor(block(torch.randn(3, 7, 16)), "TransformerBlock(16, 4) applied to [3, 7, 16]", shape=(3, 7, 16))
expect_equal(len(TransformerBlock(24, 3, mlp_ratio=4.0).mlp[0].weight), 96,
             "hidden width of the MLP of TransformerBlock(24, 3, mlp_ratio=4.0)", integer=True)
### BEGIN HIDDEN TESTS
_FORBIDDEN_BLOCK = ("torch.nn.MultiheadAttention.forward", "torch.nn.functional.multi_head_attention_forward",
                    "torch.nn.TransformerEncoderLayer.forward", "torch.nn.TransformerDecoderLayer.forward",
                    ref_transformer.TransformerBlock.forward, ref_transformer.TransformerBlock.attention,
                    ref_transformer.MultiHeadSelfAttention.forward, ref_attention.scaled_dot_product_attention,
                    ref_attention.split_heads, ref_attention.merge_heads)
for _h_args in [(32, 8, 4.0, True), (12, 1, 1.5, False), (64, 4, 3.0, True)]:
    with forbid(*_FORBIDDEN_BLOCK, exercise="transformer_block"):
        _h_block = TransformerBlock(*_h_args)
        _h_out = _h_block(torch.randn(2, 5, _h_args[0]))
    _h_ref = ref_transformer.TransformerBlock(*_h_args)
    assert {n: list(p.shape) for n, p in _h_block.named_parameters()} == \
        {n: list(p.shape) for n, p in _h_ref.named_parameters()}, f"the parameters of TransformerBlock{_h_args}"
    _ = expect_tensor(_h_out, f"TransformerBlock{_h_args} applied to [2, 5, {_h_args[0]}]", shape=(2, 5, _h_args[0]))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_transformer_block_values", "locked": true, "points": 4, "schema_version": 3, "solution": false}
# Your block and the course's, with the same (random) weights, must compute the same outputs and input gradients.
def randomized(block, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=p.dtype) * 2 - 1) * 0.5)
    return block


def compare_blocks(args, x, what, tol=1e-5):
    block = randomized(TransformerBlock(*args).to(x.dtype), sum(x.shape))
    reference_block = ref_transformer.TransformerBlock(*args).to(x.dtype)
    reference_block.load_state_dict(block.state_dict())
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out, expected = block(x1), reference_block(x2)
    expect_close(out, expected.detach(), what, atol=tol, rtol=tol)
    weights = torch.linspace(-1, 1, out.numel(), dtype=x.dtype).view_as(out)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    expect_close(x1.grad, x2.grad, f"gradient of the input of {what}", atol=tol, rtol=tol)


gen = torch.Generator().manual_seed(2)
compare_blocks((16, 4, 2.0, True), torch.randn(2, 6, 16, generator=gen), "pre-norm TransformerBlock(16, 4, mlp_ratio=2.0)")
compare_blocks((16, 4, 2.0, False), torch.randn(2, 6, 16, generator=gen), "post-norm TransformerBlock(16, 4, mlp_ratio=2.0)")
compare_blocks((12, 1, 4.0, True), torch.randn(3, 5, 12, generator=gen), "pre-norm TransformerBlock(12, 1) (one head)")
### BEGIN HIDDEN TESTS
_FORBIDDEN_BLOCK = ("torch.nn.MultiheadAttention.forward", "torch.nn.functional.multi_head_attention_forward",
                    "torch.nn.TransformerEncoderLayer.forward", "torch.nn.TransformerDecoderLayer.forward",
                    ref_transformer.TransformerBlock.forward, ref_transformer.TransformerBlock.attention,
                    ref_transformer.MultiHeadSelfAttention.forward, ref_attention.scaled_dot_product_attention,
                    ref_attention.split_heads, ref_attention.merge_heads)
_h_g = torch.Generator().manual_seed(77)
for _h_args, _h_shape, _h_dtype in [((24, 3, 4.0, True), (2, 9, 24), torch.float32),
                                    ((24, 6, 1.0, False), (1, 4, 24), torch.float32),
                                    ((32, 8, 2.5, True), (4, 3, 32), torch.float64),
                                    ((8, 2, 3.0, False), (2, 1, 8), torch.float64)]:
    _h_x = torch.randn(*_h_shape, generator=_h_g).to(_h_dtype)
    _h_block = randomized(TransformerBlock(*_h_args).to(_h_dtype), 5)
    _h_ref = ref_transformer.TransformerBlock(*_h_args).to(_h_dtype)
    _h_ref.load_state_dict(_h_block.state_dict())
    _h_x1, _h_x2 = _h_x.clone().requires_grad_(True), _h_x.clone().requires_grad_(True)
    with forbid(*_FORBIDDEN_BLOCK, exercise="transformer_block"):
        _h_out = _h_block(_h_x1)
        _h_out.sum().backward()
    _h_exp = _h_ref(_h_x2)
    _h_exp.sum().backward()
    expect_close(_h_out, _h_exp.detach(), f"TransformerBlock{_h_args} on {list(_h_shape)} ({_h_dtype})", atol=1e-4, rtol=1e-4)
    expect_close(_h_x1.grad, _h_x2.grad, f"input gradient of TransformerBlock{_h_args}", atol=1e-4, rtol=1e-4)
### END HIDDEN TESTS

# %% [markdown]
# The Vision Transformer below is built from your block. Until your class works, the
# chapter uses the course's block instead (`course_utils.models.transformer.TransformerBlock`)
# and says so.

# %%
def choose_block():
    """Your TransformerBlock if it builds a working ViT, else the course's reference block."""
    try:
        probe = ref_vit.ViT(16, 4, 1, 10, dim=32, depth=1, num_heads=4, block=TransformerBlock)
        probe(torch.zeros(2, 1, 16, 16)).sum().backward()
        print("The ViT of section 6 is built from your TransformerBlock.")
        return TransformerBlock
    except Exception as error:  # a stub raises NotImplementedError; a broken block may raise anything
        print(f"TransformerBlock does not work yet ({type(error).__name__}), so the ViT of section 6 uses the "
              "course's reference block (course_utils.models.transformer.TransformerBlock).")
        return ref_transformer.TransformerBlock


block_for_training = choose_block()

# %% [markdown]
# ### The price: memory quadratic in the sequence length
#
# Self-attention compares every token with every other: a $T \times T$ matrix of weights per
# head and per layer. That is the lecture's "needs a lot of memory" for Transformers, and
# for images it bites hard, because the number of tokens grows with the square of the
# resolution. The table uses ViT-B/16 (12 layers, 12 heads, 16 × 16 patches, one class
# token) at several input sizes, and counts the attention weights that training must keep
# for the backward pass, in float32, for one image (`course_utils.ops.attention.attention_matrix_bytes`).

# %%
print(f"{'input':>10} {'tokens':>7} {'weights per head':>17} {'all 12 layers x 12 heads':>26}")
sizes = [224, 384, 512, 768, 1024]
totals = []
for size in sizes:
    tokens = (size // 16) ** 2 + 1
    per_head = ref_attention.attention_matrix_bytes(tokens)
    total = 12 * ref_attention.attention_matrix_bytes(tokens, num_heads=12)
    totals.append(total)
    print(f"{size:>6} px {tokens:>7,} {per_head / 2**20:>14.2f} MB {total / 2**30:>23.2f} GB")
print(f"from 224 to 1024 pixels: {1024 / 224:.2f} x the side, {(1024 / 224) ** 2:.1f} x the tokens, "
      f"{totals[-1] / totals[0]:.0f} x the attention memory")

# %% [markdown]
# Four and a half times the side of the image means twenty times the tokens and over four
# hundred times the attention memory: at 1,024 pixels one image needs about 9 GB for the
# attention weights alone. Convolutions, by contrast, cost memory proportional to the
# number of pixels. Much of the work on vision Transformers since (windows, pooling,
# fused kernels that recompute the weights instead of storing them) is about this
# quadratic.
#
# ## 6. The Vision Transformer
#
# How do we feed an image to a Transformer? Pixels as tokens would give $224^2 = 50{,}176$
# tokens, hopeless by the table above. The Vision Transformer (ViT, Dosovitskiy et al.,
# 2021) cuts the image into **patches** of $16 \times 16$ pixels and makes each patch a token:
# "an image is worth 16 × 16 words". In order:
#
# 1. **Patch embedding.** Cut the $H \times W$ image into $N = HW / p^2$ patches of
#    $p \times p$ pixels, flatten each (its $C p^2$ values) and map it linearly to $D$ numbers.
#    The same linear map for every patch, applied to non-overlapping squares: that is a
#    convolution with kernel size $p$ and stride $p$, which is how every implementation
#    writes it.
# 2. **Class token.** A learned vector is put in front of the $N$ patch tokens; after the
#    last block its state, read by a linear classifier, gives the class. Attention lets it
#    gather what it needs from every patch (BERT's `[CLS]` token, borrowed).
# 3. **Position embeddings.** Learned vectors, one per token position ($N + 1$), added to the
#    tokens, because attention alone cannot tell where a patch came from.
# 4. Transformer blocks (pre-norm), a final LayerNorm, and the linear head.
#
# ### Exercise 8: patchify (3 points)
#
# Write `patchify(images, patch_size)`: `[B, C, H, W]` to `[B, N, C * p * p]`.
#
# * patches in reading order: row by row from the top, left to right within a row; patch
#   `n = r * (W // p) + c` covers rows `r*p .. r*p + p - 1` and columns `c*p .. c*p + p - 1`;
# * each patch flattened channel first, then row, then column (the order of
#   `patch.reshape(-1)` for a patch `[C, p, p]`, and of a `Conv2d` weight `[D, C, p, p]`);
# * a `ValueError` if `p` does not divide `H` or `W` (`H` and `W` may differ).
#
# Do not call `F.unfold` or the course's `course_utils.ops.patches`.

# %% nbgrader={"grade": false, "grade_id": "patchify", "locked": false, "schema_version": 3, "solution": true}
def patchify(images, patch_size):
    """[B, C, H, W] -> [B, (H // p) * (W // p), C * p * p], patches in reading order, each flattened (c, i, j)."""
    ### BEGIN SOLUTION
    b, c, h, w = images.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f"patch size {p} does not divide the image size {h} x {w}")
    x = images.reshape(b, c, h // p, p, w // p, p)  # [B, C, rows, i, cols, j]
    x = x.permute(0, 2, 4, 1, 3, 5)  # [B, rows, cols, C, i, j]
    return x.reshape(b, (h // p) * (w // p), c * p * p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_patchify", "locked": true, "points": 3, "schema_version": 3, "solution": false}
grid = torch.arange(16.0).reshape(1, 1, 4, 4)
expect_close(patchify(grid, 2), torch.tensor([[[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0],
                                               [8.0, 9.0, 12.0, 13.0], [10.0, 11.0, 14.0, 15.0]]]),
             "patchify of the 4 x 4 image 0..15 into 2 x 2 patches")
colour = torch.randn(2, 3, 6, 9, generator=torch.Generator().manual_seed(0))
patches = patchify(colour, 3)
_ = expect_tensor(patches, "patchify of [2, 3, 6, 9] with p = 3", shape=(2, 6, 27))
expect_close(patches, F.unfold(colour, 3, stride=3).transpose(1, 2),
             "patchify of [2, 3, 6, 9] with p = 3 (compared with F.unfold: channel, then row, then column)")
expect_raises(lambda: patchify(colour, 4), ValueError, "patchify of a 6 x 9 image into 4 x 4 patches")
### BEGIN HIDDEN TESTS
_FORBIDDEN_PATCHIFY = ("torch.nn.functional.unfold", "torch.nn.Unfold.forward", "torch._C._nn.im2col",
                       ref_patches.patchify, ref_patches.patchify_loop)
_h_g = torch.Generator().manual_seed(4)
for _h_shape, _h_p in [((1, 1, 8, 8), 8), ((3, 2, 12, 4), 4), ((2, 3, 32, 32), 8), ((1, 5, 3, 6), 1)]:
    _h_x = torch.randn(*_h_shape, generator=_h_g, dtype=torch.float64)
    with forbid(*_FORBIDDEN_PATCHIFY, exercise="patchify"):
        _h_out = patchify(_h_x, _h_p)
    expect_close(_h_out, ref_patches.patchify(_h_x, _h_p), f"patchify of {list(_h_shape)} with p = {_h_p}")
expect_raises(lambda: patchify(torch.zeros(1, 3, 8, 10), 4), ValueError, "patchify of an 8 x 10 image into 4 x 4 patches")
### END HIDDEN TESTS

# %% [markdown]
# The patch embedding as a strided convolution, checked with the course's `patchify`:

# %%
embed = nn.Conv2d(3, 8, kernel_size=4, stride=4)
images = torch.randn(2, 3, 16, 16)
as_convolution = embed(images).flatten(2).transpose(1, 2)  # [2, 16, 8]
as_linear = ref_patches.patchify(images, 4) @ embed.weight.reshape(8, -1).T + embed.bias  # [2, 16, 8]
print(f"convolution vs linear map of patches: largest difference {(as_convolution - as_linear).abs().max():.1e}")

# %% [markdown]
# ### Exercise 9: tokens and embedding parameters of a ViT (2 points)
#
# Write `vit_embedding_size(image_size, patch_size, in_channels, dim)` returning a pair
# `(num_patches, num_parameters)` for a square image of side `image_size`:
#
# * `num_patches` is $N = (S / p)^2$ (a `ValueError` if $p$ does not divide $S$);
# * `num_parameters` counts everything before the first block: the patch projection
#   (weights $C p^2 D$ and $D$ biases), the class token ($D$) and the position embeddings
#   ($(N + 1) D$, one per token including the class token).
#
# Both are Python `int`s.

# %% nbgrader={"grade": false, "grade_id": "vit_embedding_size", "locked": false, "schema_version": 3, "solution": true}
def vit_embedding_size(image_size, patch_size, in_channels, dim):
    """(number of patches, parameters of patch projection + class token + position embeddings)."""
    ### BEGIN SOLUTION
    if image_size % patch_size:
        raise ValueError(f"patch size {patch_size} does not divide the image size {image_size}")
    n = (image_size // patch_size) ** 2
    projection = in_channels * patch_size * patch_size * dim + dim
    return n, projection + dim + (n + 1) * dim
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_vit_embedding_size", "locked": true, "points": 2, "schema_version": 3, "solution": false}
with torch.device("meta"):  # the published ViT-B/16, built without memory, to count
    vit_b = torchvision.models.vit_b_16()
vit_b_count = (sum(p.numel() for p in vit_b.conv_proj.parameters()) + vit_b.class_token.numel()
               + vit_b.encoder.pos_embedding.numel())
expect_equal(vit_embedding_size(224, 16, 3, 768), (196, vit_b_count),
             "vit_embedding_size(224, 16, 3, 768) (ViT-B/16, counted on torchvision's model)", integer=True)
expect_equal(vit_embedding_size(16, 4, 1, 32), (16, 1 * 16 * 32 + 32 + 32 + 17 * 32),
             "vit_embedding_size(16, 4, 1, 32) (our digit ViT)", integer=True)
expect_raises(lambda: vit_embedding_size(30, 16, 3, 768), ValueError, "vit_embedding_size with a 30-pixel image and 16-pixel patches")
### BEGIN HIDDEN TESTS
_FORBIDDEN_VIT_SIZE = (ref_vit.vit_embedding_size, ref_vit.ViT.__init__, ref_vit.PatchEmbedding.__init__, "torchvision.models.vision_transformer.VisionTransformer.__init__")
for _h_args, _h_n in [((384, 16, 3, 1024), 576), ((224, 14, 3, 1280), 256), ((32, 8, 3, 7), 16), ((28, 7, 1, 64), 16),
                      ((8, 8, 2, 5), 1)]:
    _h_s, _h_p, _h_c, _h_d = _h_args
    with forbid(*_FORBIDDEN_VIT_SIZE, exercise="vit_embedding_size"):
        _h_got = vit_embedding_size(*_h_args)
    expect_equal(_h_got, (_h_n, _h_c * _h_p * _h_p * _h_d + _h_d + _h_d + (_h_n + 1) * _h_d),
                 f"vit_embedding_size{_h_args}", integer=True)
expect_raises(lambda: vit_embedding_size(100, 16, 3, 8), ValueError, "vit_embedding_size(100, 16, 3, 8)")
### END HIDDEN TESTS

# %% [markdown]
# For ViT-B/16 at 224 × 224 that is 196 patches and about 0.74 million parameters, 0.9 % of
# the model's 86 million; the blocks hold the rest (about $12 D^2$ each).
#
# ### A ViT on digits, against a CNN of the same size
#
# The ViT paper's headline has a condition attached: Transformers beat ResNets *when
# pretrained on enough data* (JFT-300M, 300 million images), and lose to them on
# ImageNet-sized data. Convolutions build in two assumptions about images, that nearby
# pixels belong together (locality) and that a pattern means the same wherever it is
# (translation equivariance); a ViT must learn both from data. This is the
# **data-efficiency** argument, and we can test it at toy scale.
#
# Our ViT reads the 8 × 8 digits of scikit-learn upsampled to 16 × 16, in 4 × 4 patches
# (16 tokens plus the class token), with two blocks of width 32 and four heads, built from
# your `TransformerBlock`. The CNN is LeNet-5 from chapter 2 at the same input size. Both
# are trained the same way (AdamW, one-cycle schedule, batch 64) on the training and
# validation splits together (1,437 images; we tune nothing, so no validation set is
# needed), and tested on the 360 test digits. Then both again with only one training
# image in ten.

# %%
digits_train = [DigitsDataset(split, size=16, normalize=True) for split in ("train", "val")]
digits_test = DigitsDataset("test", size=16, normalize=True)
digit_images = torch.cat([d.images for d in digits_train]).to(device)  # [1437, 1, 16, 16]
digit_labels = torch.cat([d.labels for d in digits_train]).to(device)
test_digits, test_digit_labels = digits_test.images.to(device), digits_test.labels.to(device)
few = torch.randperm(len(digit_labels), generator=torch.Generator().manual_seed(0))[:len(digit_labels) // 10].to(device)


def make_vit():
    return ref_vit.ViT(image_size=16, patch_size=4, in_channels=1, num_classes=10, dim=32, depth=2, num_heads=4,
                       mlp_ratio=2.5, block=block_for_training)


def make_cnn():
    return LeNet(in_channels=1, num_classes=10, image_size=16)


def train_digits(make, index, epochs, seed=0):
    """Train a fresh model on digit_images[index]; return (model, test accuracy)."""
    seed_everything(seed)
    model = make().to(device)
    batches = TensorBatches((digit_images[index],), digit_labels[index], 64, seed=seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=epochs * len(batches),
                                                    pct_start=0.15)
    fit(model, F.cross_entropy, batches, epochs=epochs, optimizer=optimizer, scheduler=scheduler,
        scheduler_step="batch", device=device, forward_fn=lambda m, inputs, _: m(*inputs), progress=True)
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_digits).argmax(1) == test_digit_labels).float().mean().item()
    return model, accuracy


count = lambda model: sum(p.numel() for p in model.parameters())
print(f"ViT: {count(make_vit()):,} parameters; LeNet-5: {count(make_cnn()):,} parameters")
all_digits = torch.arange(len(digit_labels), device=device)
start = time.process_time()
vit, vit_accuracy = train_digits(make_vit, all_digits, epochs=budget(full=24, quick=1))
vit_seconds = time.process_time() - start
start = time.process_time()
cnn, cnn_accuracy = train_digits(make_cnn, all_digits, epochs=budget(full=12, quick=1))
cnn_seconds = time.process_time() - start
_, vit_few_accuracy = train_digits(make_vit, few, epochs=budget(full=40, quick=1))
_, cnn_few_accuracy = train_digits(make_cnn, few, epochs=budget(full=40, quick=1))
print(f"all {len(digit_labels)} training digits: ViT {vit_accuracy:.1%} ({vit_seconds:.1f} s CPU), "
      f"LeNet {cnn_accuracy:.1%} ({cnn_seconds:.1f} s CPU)")
print(f"{len(few)} training digits: ViT {vit_few_accuracy:.1%}, LeNet {cnn_few_accuracy:.1%}")
report("vit_digits_test_accuracy", vit_accuracy, target=0.95)

fig, ax = plt.subplots(figsize=(6, 3.3))
positions = np.arange(2)
ax.bar(positions - 0.18, [vit_accuracy, vit_few_accuracy], width=0.35, label=f"ViT ({count(make_vit()):,} parameters)")
ax.bar(positions + 0.18, [cnn_accuracy, cnn_few_accuracy], width=0.35, label=f"LeNet-5 ({count(make_cnn()):,} parameters)")
ax.set_xticks(positions)
ax.set_xticklabels([f"{len(digit_labels)} training digits", f"{len(few)} training digits"])
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# With all the data, the ViT reaches the accuracy the CNN gets, but it needs more epochs
# and more CPU time for it. With a tenth of the data, the CNN barely suffers while the
# ViT falls far behind: what convolution knows by construction, the ViT has to learn from
# examples, and a hundred and forty images are not enough to learn it. At ImageNet scale
# the same effect needs a few hundred million images to reverse, which is why the ViT paper
# pretrains on JFT-300M, and why DeiT (Touvron et al., 2021) needed heavy augmentation and
# distillation from a CNN to train a ViT on ImageNet alone.
#
# ### Where does the class token look?
#
# `course_utils.models.vit.attention_maps` recomputes every block's attention weights
# (from the `norm1` and `qkv` of your block), and **attention rollout** (Abnar and
# Zuidema, 2020) combines them across blocks: average the heads, add the identity for the
# residual path, renormalize, and multiply the matrices of successive blocks. The first
# row says how much each patch contributes to the class token at the end, drawn over each
# test digit (one square per 4 × 4 patch).

# %%
sample = test_digits[:8]
with torch.no_grad():
    rollout = ref_vit.attention_rollout(ref_vit.attention_maps(vit, sample))  # [8, 17, 17]
    predictions = vit(sample).argmax(1)
class_token_map = rollout[:, 0, 1:].reshape(-1, 4, 4).cpu()  # contributions of the 16 patches
fig = show_attention_maps(sample.cpu(), class_token_map,
                          titles=[f"predicted {int(p)}" for p in predictions], ncols=8)
plt.show()

# %% [markdown]
# The class token gathers most from the patches where the strokes are, and little from
# the empty border; nothing in the architecture says where the strokes are, the attention
# learned it. With two blocks and 16 patches the maps are coarse, and rollout is only one
# heuristic reading of attention (it ignores the MLPs and the values), so such maps
# should be read as hints, not explanations; chapter 10 returns to this question.
#
# ### After ViT: dated context
#
# The lecture closes with the models that followed, each answering a weakness of the
# plain ViT. Their sizes, counted on the `meta` device (no memory is allocated) from their
# published configurations as implemented in torchvision, and DETR assembled from its
# paper's configuration (a ResNet-50, a 1 × 1 convolution to 256 channels, a Transformer
# with 6 encoder and 6 decoder layers of width 256, 8 heads and MLPs of 2,048, 100 object
# queries, a 92-way class head and a 3-layer box MLP):

# %%
def count_on_meta(build):
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nn.Transformer's advice about batch_first: irrelevant for counting
        return sum(p.numel() for p in build().parameters())


class DETR(nn.Module):
    """DETR (Carion et al., 2020) with a ResNet-50, as configured in the paper (for counting only)."""

    def __init__(self, num_classes=91, queries=100, dim=256):
        super().__init__()
        backbone = torchvision.models.resnet50()
        self.backbone = nn.Sequential(*list(backbone.children())[:-2])  # without pooling and fc
        self.input_proj = nn.Conv2d(2048, dim, kernel_size=1)
        self.transformer = nn.Transformer(dim, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                                          dim_feedforward=2048)
        self.query_embed = nn.Embedding(queries, dim)
        self.class_embed = nn.Linear(dim, num_classes + 1)  # + "no object"
        self.bbox_embed = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU(),
                                        nn.Linear(dim, 4))


published = {  # (model, year, what it changed, the count the authors report)
    "ViT-B/16": (torchvision.models.vit_b_16, 2020, "patches as tokens, global attention", "86M"),
    "DETR (R-50)": (DETR, 2020, "detection as set prediction with object queries", "41M"),
    "Swin-T": (torchvision.models.swin_t, 2021, "attention in shifted windows, a pyramid of stages", "29M"),
    "MViTv2-S": (torchvision.models.video.mvit_v2_s, 2021, "pooling attention, multiscale stages (video and images)", "35M"),
    "ConvNeXt-T": (torchvision.models.convnext_tiny, 2022, "a ResNet modernized with Transformer recipes", "29M"),
}
for name, (build, year, idea, reported) in published.items():
    print(f"{name:12} {year}  {count_on_meta(build) / 1e6:5.1f}M parameters (reported {reported:>4})  {idea}")

# %% [markdown]
# * **DETR** uses a Transformer for object detection: a CNN's feature map becomes tokens,
#   and 100 learned *object queries* attend to them in a decoder, each query producing one
#   box or "no object". Training matches predictions to ground-truth objects one to one,
#   so no anchors and no non-maximum suppression (chapter 5) are needed.
# * **Swin** brings back two ideas of CNNs: a pyramid of stages at decreasing resolution,
#   and locality. Attention is computed only inside non-overlapping windows of
#   $M \times M$ tokens ($M = 7$), and every other block **shifts** the windows by half a window so
#   that information crosses window borders. The saving follows from the paper's
#   cost formulas for $h \times w$ tokens of width $C$: global attention costs
#   $4hwC^2 + 2(hw)^2C$ multiply-adds, window attention $4hwC^2 + 2M^2hwC$.
# * **MViT** pools the keys and values (and the queries between stages) to build a
#   multiscale pyramid, for video and images.
# * **ConvNeXt** ("A ConvNet for the 2020s") modernized a ResNet step by step with the
#   Transformer's training recipe and design choices (large 7 × 7 depthwise kernels,
#   LayerNorm, GELU, fewer activations) and matched Swin: the lecture's "CNNs are back!".
#
# The Swin saving for the first stage of Swin-T (56 × 56 tokens of width 96) and at
# higher resolutions:

# %%
def attention_cost(h, w, channels, window=None):
    """Multiply-adds of one attention layer (Liu et al., 2021, equations 1 and 2)."""
    projections = 4 * h * w * channels ** 2  # q, k, v and the output projection
    if window is None:
        return projections + 2 * (h * w) ** 2 * channels  # every token with every token
    return projections + 2 * window ** 2 * h * w * channels  # every token with the M x M tokens of its window


for side in (56, 112, 224):
    full, windowed = attention_cost(side, side, 96), attention_cost(side, side, 96, window=7)
    print(f"{side} x {side} tokens, C = 96: global {full / 1e9:8.2f} G, windows of 7 x 7 {windowed / 1e9:6.3f} G "
          f"multiply-adds ({full / windowed:.0f} x less)")

# %% [markdown]
# Window attention grows linearly with the number of tokens, like a convolution; global
# attention quadratically, so the saving itself grows with the resolution.

# %% [markdown]
# ## 7. Visual question answering, small
#
# Visual question answering (VQA) asks a question in words about an image: "How many
# slices of pizza are there?", "What colour are her eyes?". The lecture's simple recipe
# (Zhou et al., 2015, "Simple baseline for VQA"): collect the most frequent answers and
# treat them as classes, encode the image with a CNN and the question with a **bag of
# words** (which words occur, ignoring their order), and classify the two together. The
# same lecture shows the catch. The baseline's scores split into an image part and a word
# part, and the word part dominates: "what are they doing?" gets "playing baseball" from
# the words alone; for "how many people inside?" the words alone propose 8, 7 and 5. A
# model can score well on such data by learning the **language prior**, which answers are
# likely for which questions, without looking at the image.
#
# `course_utils.data.questions` asks four kinds of question about our scenes: how many of
# a shape there are, the colour of a shape that occurs once, whether there is a shape of
# a given colour, and whether one shape is left of another. The answer is one of 21 words
# ("yes", "no", the numbers, the colours). It can generate them in two ways. A **naive**
# generator picks what to ask about at random, and the language prior is then strong; a
# **balanced** generator first picks the answer, uniformly among those the scene allows,
# then a question with that answer (VQA v2, Goyal et al., 2017, balanced its questions in
# the same spirit, with pairs of similar images that have different answers). The cell
# shows a few questions and how often the most frequent answer of each kind is right in
# both versions, on the captioning scenes.

# %%
qa_train = ref_questions.ShapesQuestions(train_items, balanced=True, seed=0)
qa_test = ref_questions.ShapesQuestions(test_items, balanced=True, seed=1)
naive_train = ref_questions.ShapesQuestions(train_items, balanced=False, seed=0)
naive_test = ref_questions.ShapesQuestions(test_items, balanced=False, seed=1)
for question in qa_test.questions[:6]:
    print(f"scene {int(qa_test.scene_index[qa_test.questions.index(question)])}: {question.text:45} {question.answer}")
print(f"{len(qa_train)} training and {len(qa_test)} test questions")
for name, data in (("naive", naive_train), ("balanced", qa_train)):
    shares = []
    for kind_index, kind in enumerate(ref_questions.QUESTION_KINDS):
        answers = data.answers[data.kinds == kind_index]
        top = torch.bincount(answers).max().item() / len(answers)
        shares.append(f"{kind} {top:.0%}")
    print(f"{name:8} most frequent answer per kind: " + ", ".join(shares))

# %% [markdown]
# In the naive data, "is there a red star?" is "no" nearly every time, and "how many
# circles?" is usually "zero": a blind model would look clever. The balanced data leaves
# far less to guess.
#
# Our model, `course_utils.models.vqa.VQANet`, follows the simple baseline with one change.
# A single image vector is too coarse for "what colour is the square?": which of the
# image's features belong to the square? So the question (a bag of words: the mean of its
# word embeddings) is fused with **every cell** of the frozen 8 × 8 feature grid of
# section 3, by an element-wise product that lets the question select which features of
# a cell matter; the fused cells are pooled (mean and maximum over the grid) and
# classified. The **question-only** baseline has the same question encoder and classifier
# and no image. We train three models: image and question on balanced data,
# question-only on balanced data, and question-only on naive data.

# %%
def vqa_forward(features):
    return lambda model, inputs, _: model(features[inputs[0]], inputs[1])


def train_vqa(data, use_image, epochs, seed=0):
    seed_everything(seed)
    model = VQANet(len(ref_questions.QUESTION_VOCAB), len(ref_questions.ANSWERS), 64, GRID, use_image=use_image).to(device)
    batches = TensorBatches((data.scene_index.to(device), data.tokens.to(device)), data.answers.to(device), 128, seed=seed)
    train_model(model, F.cross_entropy, batches, epochs=epochs, lr=3e-3, forward_fn=vqa_forward(train_features),
                desc=f"VQA, {'image and question' if use_image else 'question only'}")
    return model.eval()


def vqa_accuracy(model, data):
    """Overall accuracy and accuracy per question kind on a test set about the test scenes."""
    with torch.no_grad():
        predictions = model(test_features[data.scene_index.to(device)], data.tokens.to(device)).argmax(1).cpu()
    right = (predictions == data.answers).float()
    per_kind = {kind: right[data.kinds == i].mean().item() for i, kind in enumerate(ref_questions.QUESTION_KINDS)}
    return right.mean().item(), per_kind


vqa_epochs = budget(full=5, quick=1)
vqa_model = train_vqa(qa_train, use_image=True, epochs=vqa_epochs)
blind_model = train_vqa(qa_train, use_image=False, epochs=vqa_epochs)
naive_blind_model = train_vqa(naive_train, use_image=False, epochs=vqa_epochs)
results = {"image + question (balanced)": vqa_accuracy(vqa_model, qa_test),
           "question only (balanced)": vqa_accuracy(blind_model, qa_test),
           "question only (naive data)": vqa_accuracy(naive_blind_model, naive_test)}
for name, (overall, per_kind) in results.items():
    print(f"{name:28} {overall:.1%}   " + "  ".join(f"{k} {v:.0%}" for k, v in per_kind.items()))
gain = results["image + question (balanced)"][0] - results["question only (balanced)"][0]
report("vqa_gain_over_question_only", gain, target=0.20)

fig, ax = plt.subplots(figsize=(9, 3.4))
kinds = ref_questions.QUESTION_KINDS
for j, (name, (overall, per_kind)) in enumerate(results.items()):
    ax.bar(np.arange(len(kinds) + 1) + (j - 1) * 0.27, [per_kind[k] for k in kinds] + [overall], width=0.27, label=name)
ax.set_xticks(range(len(kinds) + 1))
ax.set_xticklabels(list(kinds) + ["all"])
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1.05)
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
fig.tight_layout()
plt.show()

# %% [markdown]
# On balanced questions the blind model is near chance for every kind except counting,
# where it still knows that small counts are frequent, while the model that looks answers
# colours almost perfectly and counts and compares positions far better. On the naive
# questions the same blind model scores much higher, most of it on "is there...?"
# questions, without seeing a single pixel. That is the language-prior lesson: a high
# VQA score means little until it is compared with a question-only baseline on data
# built so that the question alone does not give the answer away. ("Left of" is the
# hardest kind for the model that looks: it must find two shapes and compare where they
# are, much as the captioner's relations were the hardest part of a caption.)
#
# ## 8. GPT-scale context
#
# Language models are Transformers trained to predict the next token, with a causal mask,
# on as much text as can be found: "GPT" stands for generative pretrained Transformer. The
# lecture states GPT-3's size as **17 billion parameters** trained on **410 billion
# tokens**. We can check the first number ourselves: GPT-3 (Brown et al., 2020, Table 2.1)
# has 96 layers of width 12,288 with 96 heads, MLPs 4 times wider, a context of 2,048
# tokens and the 50,257-token vocabulary of GPT-2, with the output layer sharing the input
# embedding's weights. Built on the `meta` device from PyTorch's encoder layer (which,
# used with a causal mask, is a GPT block: the same attention, MLP, norms and biases):

# %%
GPT3 = dict(layers=96, width=12288, heads=96, context=2048, vocabulary=50257)
with torch.device("meta"):
    gpt3_block = nn.TransformerEncoderLayer(GPT3["width"], GPT3["heads"], dim_feedforward=4 * GPT3["width"],
                                            norm_first=True)
    per_block = sum(p.numel() for p in gpt3_block.parameters())
embeddings = (GPT3["vocabulary"] + GPT3["context"]) * GPT3["width"]  # tokens and positions (the output layer is tied)
gpt3_parameters = GPT3["layers"] * per_block + embeddings + 2 * GPT3["width"]  # + the final LayerNorm
print(f"one block: {per_block / 1e9:.2f} billion parameters (12 x width^2 = {12 * GPT3['width'] ** 2 / 1e9:.2f} billion)")
print(f"GPT-3: {gpt3_parameters / 1e9:.1f} billion parameters; the lecture says 17 billion")
tokens_trained = 300e9  # Brown et al., section 2.2: every model was trained on 300 billion tokens
for label, n, d in (("GPT-3 as published", gpt3_parameters, tokens_trained), ("the lecture's numbers", 17e9, 410e9)):
    print(f"{label:22}: training compute ~ 6 N D = 6 x {n / 1e9:.0f}e9 x {d / 1e9:.0f}e9 = {6 * n * d:.2e} FLOP")
print(f"reported in the paper (Table D.1): 3.14e+23 FLOP; a share of 60 % of 300e9 tokens from a 410e9-token "
      f"corpus is {0.6 * tokens_trained / 410e9:.2f} passes over it")

# %% [markdown]
# The count comes out at 174.6 billion, the paper's "175B"; the lecture's 17 billion is
# off by a factor of ten (17 billion is the size of Microsoft's Turing-NLG, released a few
# months earlier, which may be where the number came from). The tokens are wrong too, in a
# subtler way: 410 billion is the size of the filtered Common Crawl part of GPT-3's training
# mix (Table 2.2 of the paper), which made up 60 % of the 300 billion tokens the model
# actually saw, so that corpus was used for less than half an epoch. The common estimate of
# training compute, about $6ND$ multiply-adds and additions for $N$ parameters and $D$
# tokens, agrees with the paper's reported $3.14 \times 10^{23}$ FLOP for the published
# numbers, and is off by almost an order of magnitude for the lecture's. The
# Transformer blocks you wrote in this chapter are the same blocks, 96 of them and 384 times
# wider; the "Stochastic Parrots" paper the lecture cites (Bender et al., 2021) is a
# reminder of what scaling them up costs, in energy and in the data it soaks up.
#
# ## Summary
#
# * Outputs that are sequences (captions, answers, translations) are produced **one token
#   at a time**, each token a classification conditioned on the input and on the tokens
#   before it, framed by `<start>` and `<end>`; a classifier over whole sentences is
#   hopeless (millions of captions even for our toy grammar).
# * A **recurrent network** carries a hidden state through the sequence with the same
#   weights at every step and is trained by backpropagation through time. Its gradients
#   are multiplied by one Jacobian per step, so they **vanish or explode** like $g^n$; we
#   measured the decay on a trained cell that therefore never learned a 25-step
#   dependency. **Clipping** tames explosions; the **LSTM**'s gated, additive cell state
#   (and the GRU's) fixes vanishing, and learned the task.
# * A **captioner** pairs a CNN encoder (pretrained, like real ones) with an LSTM decoder
#   trained with **teacher forcing**. Decoding is greedy, **sampled with a temperature**
#   (scores divided by $T$: the lecture's $e^4 \approx 54.6$ becomes $e^{0.8} \approx 2.2$ at
#   $T = 5$) or by **beam search**. **BLEU** counts clipped n-gram matches with a brevity
#   penalty; because a blind caption still scores well on formulaic text, we also report
#   exact match against every correct wording.
# * **Attention** computes alignment scores between a query and every encoder vector,
#   turns them into softmax weights and takes the weighted sum; over a CNN's grid it lets a
#   captioner look at the object it is describing, and two heads let it relate two objects.
# * **Self-attention** with queries, keys and values, $\mathrm{softmax}(QK^\top/\sqrt{d})V$, the
#   $\sqrt{d}$ keeping the softmax out of saturation, **masks** for causality and padding,
#   **multiple heads** as a reshape, **positional encodings** (sinusoidal, learned, or
#   Fourier features for coordinates), and the **Transformer block**: attention and an MLP,
#   each with a residual and a LayerNorm, pre-norm or post-norm. Its memory grows with the
#   square of the number of tokens.
# * The **Vision Transformer** makes 16 × 16 patches into tokens with a strided
#   convolution, adds a class token and position embeddings, and classifies with
#   Transformer blocks. Without the CNN's built-in locality it needs more data: on digits
#   it matched LeNet with all the data and fell far behind with a tenth. Swin, MViT,
#   DETR and ConvNeXt are the next steps.
# * **VQA** fuses a question encoder with image features; a **question-only baseline**,
#   and data balanced so that the question alone does not reveal the answer, are what
#   make its accuracy mean something.
