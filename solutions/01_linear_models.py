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
# # Chapter 01 — From nearest neighbours to multilayer perceptrons
#
# A deep network for images is built from a few simple parts: a way to turn an image into
# numbers, a function with parameters that turns those numbers into class scores, a loss that
# says how bad the scores are, and an optimizer that nudges the parameters downhill. This
# chapter builds each part by hand, on problems small enough to see everything, before the
# convolutional networks of chapter 02 take over.
#
# We start with the laziest classifier there is — remember the training set and copy the label
# of the closest example — and see where it breaks. Then we give every class a *template*, a
# weight vector, and score an image by how well it matches each template: the linear
# classifier. To train it we need a loss (the multiclass hinge loss of support vector machines,
# and the softmax cross-entropy that almost every modern network uses) and a way to minimize
# it (gradient descent, with momentum and a learning-rate schedule). Polynomial regression then
# shows the two ways a model can fail, underfitting and overfitting, and how a penalty on the
# weights helps. Linear models cannot solve XOR; adding a hidden layer with a nonlinearity can,
# and backpropagation computes its gradients. We finish with the craft of choosing
# hyper-parameters: random search in log space, early detection of explosions, reading loss
# curves, and the ratio of update size to weight size.
#
# **You will implement** (graded): k-NN prediction, the multiclass hinge loss and its gradient,
# the softmax cross-entropy and its gradient, one SGD-with-momentum step, the parameter count
# of an MLP, the forward and backward pass of a two-layer network, and log-uniform sampling
# for random search.
#
# **How this notebook works.** Exercise cells contain a function signature and a docstring;
# replace the `raise NotImplementedError(...)` line with your code. The cell after each
# exercise holds tests: the visible ones tell you what is wrong, and more (hidden) tests run
# when the notebook is graded. Implementation exercises must do the work themselves: calling
# `F.cross_entropy`, `F.multi_margin_loss`, autograd (`.backward()`), `torch.optim.SGD` or the
# course's reference versions in `course_utils` inside them scores no points. After each
# exercise, the demonstrations use the course's reference implementations
# (`course_utils.linear`, `.optim`, `.mlp`, `.hparam`, `.gradcheck`), so the rest of the
# notebook runs even before you have solved everything. Set the environment variable
# `DLCV_QUICK=1` to run with tiny training budgets; grading does that too, and nothing graded
# depends on how long you train.
#
# Every number in the prose is computed by a cell of this notebook; where a number depends on
# the training run, the cell prints it.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import course_utils.hparam as ch
import course_utils.linear as cl
import course_utils.mlp as cm
import course_utils.optim as co
from course_utils.optim.adam import Adam, adam_step
from course_utils.data import DigitsDataset, digits_loaders
from course_utils.gradcheck import gradient_check
from course_utils.grading import expect_close, expect_equal, expect_raises, expect_tensor, forbid
from course_utils.runtime import budget, get_device, is_quick, report
from course_utils.optim.schedules import cosine_schedule, one_cycle_schedule
from course_utils.summary import count_parameters
from course_utils.train import accuracy, evaluate, fit, seed_everything
from course_utils.viz import plot_history, show_images

# The models of this chapter are tiny: on a shared 2-core CPU, handing such small matrix
# products to several threads costs more time than it saves.
torch.set_num_threads(1)
seed_everything(0)
device = get_device()
print(f"device: {device}, quick mode: {is_quick()}")

# %% [markdown]
# ## 1. An image is a vector of numbers
#
# To a computer a grey-level image is a grid of numbers, one brightness per pixel; a colour
# image is three such grids. If we read the grid row by row we get one long vector. A
# 100×100 grey image becomes a point in a space with 10,000 dimensions; a 285×350 colour photo
# becomes a point in a space with 299,250. A training set becomes a cloud of labelled points in
# that space, and classification becomes a geometric question: which region of the space does a
# new point fall in?
#
# The course's small dataset is scikit-learn's 8×8 handwritten digits (1,797 images, split
# 60/20/20 into train, validation and test by `course_utils.data.DigitsDataset`). Each image
# is a vector of 64 numbers. `DigitsDataset` standardizes with *one* mean and *one* standard
# deviation, those of all training pixels together: the values as a whole have mean 0 and
# standard deviation 1, but single pixels are not centred. A corner pixel is almost always
# blank, so after this global shift it sits at the same negative value in nearly every image
# (the cell below prints the spread of the per-pixel means). Per-pixel standardization
# would centre each of the 64 features; a single global scale keeps the image's look and is
# enough for the models of this chapter.

# %%
train_ds, val_ds, test_ds = (DigitsDataset(split) for split in ("train", "val", "test"))
X_train, y_train = train_ds.images.flatten(1), train_ds.labels  # [N, 64], [N]
X_val, y_val = val_ds.images.flatten(1), val_ds.labels
X_test, y_test = test_ds.images.flatten(1), test_ds.labels
print(f"train {tuple(X_train.shape)}, val {tuple(X_val.shape)}, test {tuple(X_test.shape)}")
for side, channels in ((100, 1), (285, 3)):
    other = 100 if side == 100 else 350
    print(f"a {side}x{other} image with {channels} channel(s) is a vector of {side * other * channels:,} numbers")
pixel_means = X_train.mean(0)  # [64], one mean per feature
print(f"all training pixels: mean {float(X_train.mean()):.3f}, std {float(X_train.std(unbiased=False)):.3f}; "
      f"per-pixel means range from {float(pixel_means.min()):.2f} to {float(pixel_means.max()):.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [1, 4]})
axes[0].imshow(train_ds.images[0, 0], cmap="gray")
axes[0].set_title(f"digit {int(y_train[0])} (8x8)")
axes[0].axis("off")
axes[1].bar(range(64), X_train[0].numpy(), color="tab:blue")
axes[1].set_xlabel("pixel index (row by row)")
axes[1].set_ylabel("standardized value")
axes[1].set_title("the same image as a vector of 64 numbers")
fig.tight_layout()

# %% [markdown]
# ## 2. Nearest neighbours
#
# The simplest classifier does not learn anything. **Training** is storing the labelled
# examples. To **predict** the label of a new image, compute its distance to every stored
# example, find the closest one, and copy its label. The usual distance between vectors
# $\mathbf{a}$ and $\mathbf{b}$ is the Euclidean (L2) distance
# $\lVert \mathbf{a}-\mathbf{b} \rVert_2 = \sqrt{\sum_d (a_d - b_d)^2}$; the L1 distance
# $\sum_d |a_d - b_d|$ is another common choice.
#
# One neighbour trusts every training label completely, including mislabelled or unusual
# examples. **k-nearest neighbours** (k-NN) looks at the $k$ closest examples and lets them
# vote: the most frequent label wins. Votes can tie (two neighbours of class 3, two of class 1),
# so a k-NN implementation needs a tie rule; ours gives the tie to the smallest label, which is
# what `argmax` over a vote count does anyway and what scikit-learn does.
#
# $k$ is a **hyper-parameter**: it is not learned from the training data, it is chosen by
# trying several values and measuring accuracy on held-out **validation** data. The test split
# is touched only once, at the end, to report the accuracy of the final choice.
#
# k-NN has an appealing theory: as the number of examples grows to infinity, the error of the
# 1-NN rule is at most twice the best achievable (Bayes) error, and if $k$ grows too while
# $k/N \to 0$, k-NN reaches the Bayes error. The catches are cost and the meaning of "near",
# both of which we measure below.
#
# **Exercise 1.** Implement `knn_predict`. Compute all test-to-train distances (a loop over test
# points is fine; broadcasting is faster), take the $k$ nearest, and count the votes.

# %% nbgrader={"grade": false, "grade_id": "knn_predict", "locked": false, "schema_version": 3, "solution": true}
def knn_predict(train_x, train_y, test_x, k=1):
    """Predict labels by majority vote among the k nearest training points.

    Args:
        train_x: Tensor[N, D] float, the training points.
        train_y: Tensor[N] int64, their labels (0, 1, 2, ...).
        test_x: Tensor[M, D] float, the points to classify.
        k: number of neighbours, an int with 1 <= k <= N.

    Returns:
        Tensor[M] int64: for every test point, the label that occurs most often among
        its k nearest training points (Euclidean distance).

    Ties: if several labels get the same (largest) number of votes, return the
    SMALLEST of these labels. (The tests never put two training points at exactly the
    same distance from a test point, so you need no rule for distance ties.)

    Raises:
        ValueError: if k < 1 or k > N.
    """
    ### BEGIN SOLUTION
    n = train_x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of training points {n}, got {k}")
    dists = torch.cdist(test_x, train_x)  # [M, N]
    nearest = dists.argsort(dim=1)[:, :k]  # [M, k] indices of the k closest training points
    neighbour_labels = train_y[nearest]  # [M, k]
    num_classes = int(train_y.max()) + 1
    votes = F.one_hot(neighbour_labels, num_classes).sum(dim=1)  # [M, C]
    return votes.argmax(dim=1)  # the first maximum = the smallest label among ties
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_knn_predict", "locked": true, "points": 3, "schema_version": 3, "solution": false}
# Three well-separated groups: every test point sits inside one of them.
_tx = torch.tensor([[0.0, 0.0], [1.0, 0.2], [0.1, 1.3], [5.0, 5.0], [5.2, 6.1], [6.3, 5.1]])
_ty = torch.tensor([0, 0, 1, 2, 2, 1])
_pred = knn_predict(_tx, _ty, torch.tensor([[0.2, 0.1], [5.1, 5.3], [0.0, 1.1]]), k=1)
expect_tensor(_pred, "knn_predict(...) with k=1", shape=(3,), dtype=torch.int64)
expect_equal(_pred.tolist(), [0, 2, 1], "k=1: the label of the single nearest training point")
# k=3 around (5, 5): two neighbours of class 2 and one of class 1 -> class 2 wins the vote.
expect_equal(knn_predict(_tx, _ty, torch.tensor([[5.5, 5.4]]), k=3).tolist(), [2],
             "k=3: the majority label among the 3 nearest points")
# A tie: the 2 nearest neighbours of 0 are at distance 1 (label 3) and 2 (label 1).
_line_x = torch.tensor([[1.0], [2.0], [-3.5]])
_line_y = torch.tensor([3, 1, 0])
expect_equal(knn_predict(_line_x, _line_y, torch.tensor([[0.0]]), k=2).tolist(), [1],
             "k=2 with one vote each for labels 3 and 1: the tie goes to the smallest label")
expect_equal(knn_predict(_line_x, _line_y, torch.tensor([[0.0]]), k=1).tolist(), [3],
             "k=1: the nearest point only (do not sort the distances in descending order)")
# Random points, compared with the course's reference implementation.
_g = torch.Generator().manual_seed(0)
_rx, _ry, _qx = torch.randn(80, 5, generator=_g), torch.randint(0, 4, (80,), generator=_g), torch.randn(30, 5, generator=_g)
for _k in (1, 4, 7):
    expect_equal(knn_predict(_rx, _ry, _qx, k=_k).tolist(), cl.knn_predict(_rx, _ry, _qx, k=_k).tolist(),
                 f"predictions for 30 random points with k={_k}")
expect_raises(lambda: knn_predict(_rx, _ry, _qx, k=81), ValueError, "knn_predict with k larger than N")
print("knn_predict: visible tests passed")
### BEGIN HIDDEN TESTS
_gh = torch.Generator().manual_seed(11)
_hx = torch.randn(120, 7, generator=_gh, dtype=torch.float64)
_hy = torch.randint(0, 6, (120,), generator=_gh)
_hq = torch.randn(45, 7, generator=_gh, dtype=torch.float64)
_hexp = {kk: cl.knn_predict(_hx, _hy, _hq, k=kk) for kk in (1, 2, 5, 6, 120)}
with forbid(cl.knn_predict, cl.knn_predict_loop, "sklearn.neighbors.KNeighborsClassifier.predict",
            exercise="knn_predict"):
    for kk, want in _hexp.items():
        got = knn_predict(_hx, _hy, _hq, k=kk)
        expect_tensor(got, f"hidden: knn_predict with k={kk}", shape=(45,), dtype=torch.int64)
        assert torch.equal(got, want), f"hidden: wrong labels with k={kk}, float64 inputs, 6 classes"
    # Labels that skip values (no class 0 or 2 in the training set).
    _sy = torch.tensor([5, 5, 1, 1, 3])
    _sx = torch.tensor([[0.0], [0.9], [3.0], [3.8], [10.0]])
    expect_equal(expect_tensor(knn_predict(_sx, _sy, torch.tensor([[2.0], [9.0]]), k=4), "hidden: knn_predict").tolist(),
                 [1, 1], "hidden: a 2-2 tie between labels 5 and 1 with labels that skip values")
    expect_equal(expect_tensor(knn_predict(_sx, _sy, torch.tensor([[9.0]]), k=1), "hidden: knn_predict").tolist(), [3],
                 "hidden: k=1 for a far point")
    expect_raises(lambda: knn_predict(_sx, _sy, torch.tensor([[9.0]]), k=0), ValueError, "hidden: k=0")
### END HIDDEN TESTS

# %% [markdown]
# ### Decision regions
#
# The function below colours every point of a 2-D plane by the class a classifier predicts
# there, so we can see the regions a classifier carves out. We use it on three overlapping
# clouds of 2-D points and the reference `course_utils.linear.knn_predict` (same rule as your
# exercise). With $k=1$ every training point owns a small island around it, including the
# points that lie deep inside another class: the boundary follows the noise. Larger $k$ smooths
# the boundary, until a very large $k$ starts to ignore small classes and real structure.

# %%
def plot_decision_regions(ax, predict, points, labels, *, title="", resolution=150, pad=0.5):
    """Colour the plane by ``predict(Tensor[P, 2]) -> Tensor[P]`` and scatter the labelled points."""
    lo = points.min(dim=0).values - pad
    hi = points.max(dim=0).values + pad
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # [R, R] each
    grid = torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1)  # [R*R, 2]
    with torch.no_grad():
        regions = predict(grid).reshape(resolution, resolution)
    num_classes = int(max(int(labels.max()), int(regions.max()))) + 1
    cmap = plt.get_cmap("tab10", 10)
    ax.contourf(grid_x, grid_y, regions, levels=np.arange(-0.5, num_classes), cmap=cmap, vmin=-0.5, vmax=9.5, alpha=0.3)
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=9.5, s=14, edgecolors="k", linewidths=0.4)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


g2d = torch.Generator().manual_seed(1)
centres = torch.tensor([[0.0, 0.0], [2.2, 0.6], [1.0, 2.0]])
pts_y = torch.arange(3).repeat_interleave(60)  # 60 points per class
pts_x = centres[pts_y] + 0.75 * torch.randn(180, 2, generator=g2d)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
for ax, k in zip(axes, (1, 7, 61)):
    plot_decision_regions(ax, lambda q, k=k: cl.knn_predict(pts_x, pts_y, q, k=k), pts_x, pts_y, title=f"k = {k}")
fig.suptitle("k-NN decision regions on 2-D points (colours = labels)")
fig.tight_layout()

# %% [markdown]
# ### k-NN on the digits: accuracy, cost, and the meaning of "near"
#
# We choose $k$ on the validation split and report the test accuracy of the chosen value.

# %%
ks = [1, 3, 5, 7, 9, 15, 25, 49]
val_acc_by_k = [float((cl.knn_predict(X_train, y_train, X_val, k=k) == y_val).double().mean()) for k in ks]
best_k = ks[int(np.argmax(val_acc_by_k))]
knn_test_acc = float((cl.knn_predict(X_train, y_train, X_test, k=best_k) == y_test).double().mean())
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(ks, val_acc_by_k, marker="o")
ax.set_xscale("log")
ax.set_xlabel("k")
ax.set_ylabel("validation accuracy")
ax.set_title("choosing k on the validation split")
ax.grid(alpha=0.3)
fig.tight_layout()
print(f"best k on validation: {best_k} (val accuracy {max(val_acc_by_k):.3f}); test accuracy {knn_test_acc:.3f}")

# %% [markdown]
# On these small, centred digits k-NN is hard to beat. Its two weaknesses show as soon as we
# look at cost and at what the pixel distance measures.
#
# **Cost.** Training costs nothing, but every prediction compares the query with all $N$
# stored images: $N \cdot D$ multiply-adds per query, and the whole training set must be kept in
# memory. A linear classifier (next section) needs $C \cdot D$ per query, with $C = 10$ classes
# instead of $N$ = 1,078 stored images. We time both, and the loop reference against the
# vectorized version. (Times are noisy on a shared machine; the ratios are what matter.)

# %%
def best_time(fn, repeats=3):
    """Smallest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


W_demo = torch.randn(10, 64)
t_knn = best_time(lambda: cl.knn_predict(X_train, y_train, X_test, k=best_k))
t_loop = best_time(lambda: cl.knn_predict_loop(X_train, y_train, X_test[:40], k=best_k), repeats=1) * len(X_test) / 40
t_linear = best_time(lambda: (X_test @ W_demo.T).argmax(dim=1))
print(f"k-NN, loop over test points (estimated from 40): {1e3 * t_loop:8.2f} ms for {len(X_test)} images")
print(f"k-NN, vectorized:                                {1e3 * t_knn:8.2f} ms")
print(f"linear classifier (one matrix product):          {1e3 * t_linear:8.2f} ms")
print(f"multiply-adds per query: k-NN {X_train.shape[0] * 64:,} vs linear {10 * 64:,} "
      f"({X_train.shape[0] // 10}x fewer)")

# %% [markdown]
# **Meaning.** The L2 distance between pixel vectors is not a distance between digits. Shift
# every test image by a single pixel to the right — a change a person would not notice — and
# ask k-NN again. The shifted image is now far, in pixel space, from its own unshifted version,
# and often nearer to some other digit.

# %%
def shift_right(images, pixels=1):
    """Shift Tensor[N, 1, H, W] images right, filling the new left column with the background value."""
    shifted = torch.roll(images, shifts=pixels, dims=3)
    shifted[..., :pixels] = images.min()
    return shifted


shifted_test = shift_right(test_ds.images)
knn_shift_acc = float((cl.knn_predict(X_train, y_train, shifted_test.flatten(1), k=best_k) == y_test).double().mean())
print(f"k-NN test accuracy: {knn_test_acc:.3f} on the test images, {knn_shift_acc:.3f} after a 1-pixel shift")

dist_to_self = (shifted_test.flatten(1) - X_test).norm(dim=1)  # [M] distance shifted -> original
other_class = y_train[None, :] != y_test[:, None]  # [M, N]
dist_to_other = cl.pairwise_distances(X_test, X_train).masked_fill(~other_class, math.inf).min(dim=1).values
share = float((dist_to_self > dist_to_other).double().mean())
print(f"for {100 * share:.0f}% of test digits, the shifted copy is farther from the original "
      f"than the original is from its nearest training image of ANOTHER class")

i = int(torch.nonzero(dist_to_self > dist_to_other)[0])
j = int(cl.pairwise_distances(X_test[i:i + 1], X_train).masked_fill(~other_class[i:i + 1], math.inf).argmin())
show_images(torch.stack([test_ds.images[i], shifted_test[i], train_ds.images[j]]), cmap="gray", ncols=3,
            titles=[f"test digit {int(y_test[i])}",
                    f"shifted 1 px: distance {float(dist_to_self[i]):.1f}",
                    f"a {int(y_train[j])}: distance {float(dist_to_other[i]):.1f}"]);

# %% [markdown]
# ## 3. Linear classifiers
#
# Instead of storing the data, a **parametric** model summarizes it in a few numbers. A linear
# classifier for $C$ classes and $D$ features has one weight vector $\mathbf{w}_c$ and one bias
# $b_c$ per class; stacked as rows they form a matrix $W$ of shape $C \times D$, and the scores
# of an image $\mathbf{x}$ are
#
# $$ f(\mathbf{x}; W, \mathbf{b}) = W\mathbf{x} + \mathbf{b} \in \mathbb{R}^C, \qquad
# \hat{y} = \arg\max_c f_c. $$
#
# For the digits that is $10 \times 64 + 10 = 650$ numbers, whatever the size of the training
# set, and a prediction is one matrix product. Two ways to picture it:
#
# * **Template view.** The score $\mathbf{w}_c^\top\mathbf{x}$ is large when the image looks like
#   the row $\mathbf{w}_c$ reshaped as an image: each row is a learned *template* of its class.
#   We show the learned templates once the classifier is trained (section 6). One template per
#   class can only capture one average look; a digit written in two different styles gets a
#   blurry compromise.
# * **Geometric view.** Each score $\mathbf{w}_c^\top\mathbf{x} + b_c$ is zero on a hyperplane
#   and grows linearly as $\mathbf{x}$ moves away from it: the score is *proportional* to the
#   signed distance to that hyperplane. For a line $ax + by + z = 0$ the value $ax + by + z$
#   *equals* the signed distance of the point $(x, y)$ to the line only when $(a, b)$ has
#   length 1; in general it is the distance times $\sqrt{a^2 + b^2}$, as the check below shows.

# %%
line_a, line_b, line_c = 3.0, 4.0, -5.0  # the line 3x + 4y - 5 = 0
point = torch.tensor([3.0, 4.0])
value = line_a * point[0] + line_b * point[1] + line_c
on_line = torch.tensor([-line_c / line_a, 0.0])  # (5/3, 0) lies on the line
unit_normal = torch.tensor([line_a, line_b]) / math.hypot(line_a, line_b)
distance = float((point - on_line) @ unit_normal)  # signed distance = projection onto the unit normal
print(f"value a*x + b*y + c = {float(value):.2f}; signed distance = {distance:.2f}; "
      f"ratio = {float(value) / distance:.2f} = sqrt(a^2 + b^2) = {math.hypot(line_a, line_b):.2f}")

# %% [markdown]
# To see the geometric view, we train a linear classifier on the three clouds of 2-D points
# from the k-NN section. The small helper below runs full-batch gradient descent on the
# cross-entropy loss (both explained in the next two sections); we reuse it several times. Each
# class's score is zero on a dashed line and grows in the direction of the arrow (its weight
# vector). The predicted class switches where two scores are equal, so the decision regions of
# a linear classifier are always convex, separated by straight lines — compare with the
# k-NN regions above.

# %%
def train_full_batch(model, x, y, *, lr, steps, momentum=0.9, weight_decay=0.0, x_val=None, y_val=None,
                     explode_factor=None):
    """Full-batch SGD on cross-entropy; returns per-step train loss (and val accuracy if given).

    With ``explode_factor``, stops as soon as the loss exceeds that multiple of the first loss
    (``course_utils.hparam.is_exploding``) and records ``stopped_at``.
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    log = {"loss": [], "train_acc": [], "val_acc": [], "stopped_at": None}
    for step in range(steps):
        scores = model(x)
        loss = F.cross_entropy(scores, y)
        log["loss"].append(loss.item())
        log["train_acc"].append(float((scores.argmax(1) == y).double().mean()))
        if x_val is not None:
            with torch.no_grad():
                log["val_acc"].append(float((model(x_val).argmax(1) == y_val).double().mean()))
        if explode_factor is not None and ch.is_exploding(log["loss"][-1], log["loss"][0], explode_factor):
            log["stopped_at"] = step
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return log


seed_everything(0)
linear_2d = nn.Linear(2, 3)
train_full_batch(linear_2d, pts_x, pts_y, lr=0.1, steps=budget(full=200, quick=50))
fig, ax = plt.subplots(figsize=(5.2, 4.4))
plot_decision_regions(ax, lambda q: linear_2d(q).argmax(1), pts_x, pts_y, title="linear classifier: zero lines of the 3 scores")
W2d, b2d = linear_2d.weight.detach(), linear_2d.bias.detach()
xs_line = torch.linspace(float(pts_x[:, 0].min()) - 0.5, float(pts_x[:, 0].max()) + 0.5, 2)
for c in range(3):
    w_c, b_c = W2d[c], float(b2d[c])
    colour = plt.get_cmap("tab10")(c)
    ax.plot(xs_line, -(w_c[0] * xs_line + b_c) / w_c[1], "--", color=colour)  # where w_c . x + b_c = 0
    anchor = -b_c * w_c / float(w_c @ w_c)  # the point of that line closest to the origin
    ax.annotate("", xy=(anchor + 0.6 * w_c / w_c.norm()).tolist(), xytext=anchor.tolist(),
                arrowprops=dict(arrowstyle="->", color=colour, lw=2))
ax.set_xlim(float(pts_x[:, 0].min()) - 0.5, float(pts_x[:, 0].max()) + 0.5)
ax.set_ylim(float(pts_x[:, 1].min()) - 0.5, float(pts_x[:, 1].max()) + 0.5)
fig.tight_layout()
acc_2d = float((linear_2d(pts_x).argmax(1) == pts_y).double().mean())
print(f"training accuracy of the linear classifier on the 2-D points: {acc_2d:.3f}")

# %% [markdown]
# ## 4. Loss functions
#
# Counting misclassified examples is what we care about, but it is a poor training signal: it
# is flat almost everywhere (a small change of $W$ changes no decision) and cannot tell a
# classifier that is barely wrong from one that is badly wrong. A **loss function** turns the
# scores into one number that changes smoothly (or at least piecewise linearly) with $W$.
#
# The lectures use one running example, an image of a **cat** scored by a three-class model:
#
# | class | cat | dog | hippo |
# |---|---|---|---|
# | score | −96.8 | 437.9 | 61.95 |
#
# The model is very wrong: the dog score is far above the cat score.
#
# ### 4.1 The multiclass hinge (SVM) loss
#
# A first attempt is "dog score minus cat score", clipped at zero so the loss cannot
# run off to $-\infty$: $\max(0, s_\text{dog} - s_\text{cat})$. What is wrong with it? Set
# $W = 0$: every score is 0, every difference is 0, and the loss is 0 for *every* training
# image. The loss is perfectly happy with a classifier that cannot tell anything apart. The fix
# is to demand a **margin**: the correct score must beat every other score by at least
# $\Delta$ (usually 1) before the loss is zero. Summing over the wrong classes gives the
# multiclass hinge loss of one example $(\mathbf{s}, y)$:
#
# $$ L = \sum_{j \neq y} \max(0,\; s_j - s_y + \Delta). $$
#
# With $W = 0$ this loss is $(C-1)\Delta$, not 0. Its gradient is piecewise constant: every
# class $j$ that violates the margin gets $\partial L/\partial s_j = 1$, and the correct class
# gets $-1$ for each violation, $\partial L / \partial s_y = -\#\{j : s_j - s_y + \Delta > 0\}$.
# Over a batch of $N$ examples we average the losses, so each row of the gradient is divided
# by $N$.

# %%
lecture_scores = torch.tensor([[-96.8, 437.9, 61.95]], dtype=torch.float64)
cat = torch.tensor([0])
no_margin = float((lecture_scores[0, 1] - lecture_scores[0, 0]).clamp_min(0))
hinge_cat, hinge_grad = cl.multiclass_hinge(lecture_scores, cat)
terms = (lecture_scores[0] - lecture_scores[0, 0] + 1.0).clamp_min(0)
print(f"max(0, dog - cat) = {no_margin:.2f}")
print(f"hinge terms with margin 1: dog {float(terms[1]):.2f}, hippo {float(terms[2]):.2f}; "
      f"loss = {float(hinge_cat):.2f}; gradient = {hinge_grad.tolist()}")
zero_scores = torch.zeros(1, 3, dtype=torch.float64)
print(f"with W = 0: no-margin loss {float((zero_scores[0, 1] - zero_scores[0, 0]).clamp_min(0)):.0f}, "
      f"hinge loss {float(cl.multiclass_hinge(zero_scores, cat)[0]):.0f} (= (C - 1) x margin)")
torch_mm = float(F.multi_margin_loss(lecture_scores, cat))
print(f"F.multi_margin_loss gives {torch_mm:.4f}: PyTorch also divides by the C = 3 classes "
      f"({3 * torch_mm:.2f} = our loss)")

# %% [markdown]
# **Exercise 2.** Implement the mean multiclass hinge loss and its gradient with respect to the
# scores, without autograd. Loops are allowed, but try a vectorized version: compute all margins
# at once, zero the correct class, then build the gradient from a mask of violations.

# %% nbgrader={"grade": false, "grade_id": "hinge_loss", "locked": false, "schema_version": 3, "solution": true}
def hinge_loss(scores, labels, margin=1.0):
    """Mean multiclass hinge (SVM) loss and its gradient with respect to the scores.

    For example i: L_i = sum over j != y_i of max(0, scores[i, j] - scores[i, y_i] + margin).
    The returned loss is the mean of L_i over the N examples.

    Args:
        scores: Tensor[N, C] float (N >= 1).
        labels: Tensor[N] int64, values in 0..C-1.
        margin: the required gap between the correct score and the others.

    Returns:
        (loss, dscores): loss is a 0-d tensor (the mean), dscores is Tensor[N, C], the
        gradient of the mean loss with respect to scores. Both have the dtype of scores.
        (The tests avoid scores that sit exactly on a kink, so treat "= 0" as you like.)
    """
    ### BEGIN SOLUTION
    n = scores.shape[0]
    rows = torch.arange(n)
    correct = scores[rows, labels].unsqueeze(1)  # [N, 1]
    margins = torch.clamp(scores - correct + margin, min=0)  # [N, C]
    margins[rows, labels] = 0  # the correct class is not a violation of itself
    loss = margins.sum() / n
    violated = (margins > 0).to(scores.dtype)  # [N, C]
    dscores = violated
    dscores[rows, labels] = -violated.sum(dim=1)
    return loss, dscores / n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_hinge_loss", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def _hinge_reference(scores, labels, margin=1.0):
    """Loss and gradient from PyTorch: multi_margin_loss averages over classes too, so multiply by C."""
    leaf = scores.detach().clone().requires_grad_(True)
    loss = scores.shape[1] * F.multi_margin_loss(leaf, labels, margin=margin)
    loss.backward()
    return loss.detach(), leaf.grad


# validity: dtype-stated
_out = hinge_loss(torch.tensor([[3.2, 5.1, -1.7]]), torch.tensor([0]))
assert isinstance(_out, (tuple, list)) and len(_out) == 2, "hinge_loss must return a pair (loss, dscores)"
expect_tensor(_out[0], "the loss", shape=())
expect_tensor(_out[1], "dscores", shape=(1, 3))
_g = torch.Generator().manual_seed(0)
_s, _y = torch.randn(6, 4, generator=_g, dtype=torch.float64), torch.randint(0, 4, (6,), generator=_g)
_loss_ref, _grad_ref = _hinge_reference(_s, _y)
_loss, _grad = hinge_loss(_s.clone(), _y)
expect_close(_loss, _loss_ref, "hinge loss of 6 random examples (mean over examples, correct class excluded)")
expect_close(_grad, _grad_ref, "dscores of 6 random examples (remember the 1/N of the mean)")
_rel = gradient_check(lambda v: hinge_loss(v, _y)[0], _s.clone(), _grad)
assert _rel < 1e-6, f"your dscores disagree with a numeric gradient: relative error {_rel:.2e}"
print("hinge_loss: visible tests passed")
### BEGIN HIDDEN TESTS
_gh = torch.Generator().manual_seed(5)
_cases = [(torch.randn(20, 10, generator=_gh, dtype=torch.float64), 1.0),
          (torch.randn(7, 3, generator=_gh), 0.5),
          (2 * torch.randn(1, 6, generator=_gh, dtype=torch.float64), 2.0)]
_cases = [(s_, torch.randint(0, s_.shape[1], (s_.shape[0],), generator=_gh), m_) for s_, m_ in _cases]
_want = [_hinge_reference(s_, y_, m_) for s_, y_, m_ in _cases]
_h_lecture = torch.tensor([[-96.8, 437.9, 61.95]], dtype=torch.float64)  # the cat / dog / hippo scores
_h_lecture_loss = _hinge_reference(_h_lecture, torch.tensor([0]))[0]
with forbid(F.multi_margin_loss, "torch.Tensor.backward", "torch.autograd.grad", "torch.autograd.backward",
            cl.multiclass_hinge, cl.multiclass_hinge_loop, exercise="hinge_loss"):
    for (s_, y_, m_), (lw, gw) in zip(_cases, _want):
        l_h, g_h = hinge_loss(s_.clone(), y_, margin=m_)
        expect_close(l_h, lw.to(s_.dtype), f"hidden: loss for scores {list(s_.shape)}, margin {m_}", atol=1e-4, rtol=1e-4)
        expect_close(g_h, gw, f"hidden: dscores for scores {list(s_.shape)}, margin {m_}", atol=1e-5, rtol=1e-4)
        expect_tensor(g_h, "hidden: dscores", dtype=s_.dtype)
    # All margins met: zero loss and zero gradient.
    l_h, g_h = hinge_loss(torch.tensor([[5.0, 1.0, 0.0], [0.0, 0.0, 9.0]]), torch.tensor([0, 2]))
    expect_close(l_h, torch.tensor(0.0), "hidden: loss when all margins are met", atol=0, rtol=0)
    expect_close(g_h, torch.zeros(2, 3), "hidden: dscores when all margins are met", atol=0, rtol=0)
    l_h, g_h = hinge_loss(_h_lecture.clone(), torch.tensor([0]))
    expect_close(l_h, _h_lecture_loss, "hidden: the lecture's cat/dog/hippo example", atol=1e-9, rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### 4.2 Softmax and cross-entropy
#
# The hinge loss only cares whether the margins are met. The **softmax** classifier instead
# reads the scores as unnormalized log-probabilities: exponentiate them (making them positive)
# and divide by their sum (making them sum to 1),
#
# $$ p_c = \frac{e^{s_c}}{\sum_j e^{s_j}}, $$
#
# and minimize the **negative log-likelihood** of the correct class, the **cross-entropy** loss
#
# $$ L = -\log p_y = -s_y + \log \sum_j e^{s_j}. $$
#
# It is never exactly zero: it keeps pushing the correct probability towards 1. A useful
# sanity check: with random small weights all scores are near 0, every $p_c \approx 1/C$ and
# the loss starts near $\log C$ ($\log 10 \approx 2.303$ for digits). The gradient is
# remarkably simple, $\partial L / \partial s_c = p_c - [c = y]$: the predicted probabilities
# minus the one-hot target.
#
# Computing $e^{s}$ directly is dangerous. In float32, $e^{x}$ overflows to infinity for
# $x > 88.7$, so the lecture's dog score of 437.9 already breaks the formula. Since
# $\text{softmax}(\mathbf{s}) = \text{softmax}(\mathbf{s} - m)$ for any constant $m$, we
# subtract the largest score first: then every exponent is at most 0 and the largest term is
# exactly 1. The same trick inside the log gives the stable **log-sum-exp**.

# %%
s32 = lecture_scores.float()
naive = torch.exp(s32) / torch.exp(s32).sum()
stable = torch.exp(s32 - s32.max()) / torch.exp(s32 - s32.max()).sum()
ce = float(cl.softmax_cross_entropy(s32, cat)[0])
print(f"float32 limit of exp(): overflow above {math.log(torch.finfo(torch.float32).max):.1f}")
print(f"naive softmax in float32:  {naive.tolist()}")
print(f"stable softmax in float32: {stable.tolist()}")
print(f"cross-entropy for the cat: {ce:.2f} (= -s_cat + logsumexp = {float(-s32[0, 0] + torch.logsumexp(s32[0], 0)):.2f})")
print(f"loss of a 10-class model with all scores equal: {float(cl.softmax_cross_entropy(torch.zeros(1, 10), cat)[0]):.4f} "
      f"= log 10 = {math.log(10):.4f}")

# %% [markdown]
# The cat's probability, about $e^{-534.7}$, is far below the smallest positive float32, so
# it rounds to 0; the loss is still computed correctly because it never forms that probability:
# $L = -s_y + \operatorname{logsumexp}(\mathbf{s})$ stays in the log domain.
#
# **Exercise 3.** Implement the mean softmax cross-entropy and its gradient with respect to the
# scores, vectorized (no Python loop over examples) and numerically stable.

# %% nbgrader={"grade": false, "grade_id": "softmax_cross_entropy", "locked": false, "schema_version": 3, "solution": true}
def softmax_cross_entropy(scores, labels):
    """Mean softmax cross-entropy loss and its gradient with respect to the scores.

    For example i: L_i = -log( exp(scores[i, y_i]) / sum_j exp(scores[i, j]) ).
    The returned loss is the mean of L_i over the N examples. Must stay finite for large
    scores (e.g. 437.9 in float32): shift each row by its maximum, or use torch.logsumexp.
    Do not call F.cross_entropy, log_softmax or autograd.

    Args:
        scores: Tensor[N, C] float (N >= 1).
        labels: Tensor[N] int64, values in 0..C-1.

    Returns:
        (loss, dscores): loss is a 0-d tensor (the mean), dscores is Tensor[N, C], the
        gradient of the mean loss with respect to scores. Both have the dtype of scores.
    """
    ### BEGIN SOLUTION
    n = scores.shape[0]
    shifted = scores - scores.max(dim=1, keepdim=True).values  # [N, C], every entry <= 0
    exp_shifted = torch.exp(shifted)
    sum_exp = exp_shifted.sum(dim=1, keepdim=True)  # [N, 1], between 1 and C
    rows = torch.arange(n)
    loss = (torch.log(sum_exp).squeeze(1) - shifted[rows, labels]).mean()
    probs = exp_shifted / sum_exp  # [N, C]
    probs[rows, labels] -= 1.0
    return loss, probs / n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_softmax_cross_entropy", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def _ce_reference(scores, labels):
    leaf = scores.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(leaf, labels)
    loss.backward()
    return loss.detach(), leaf.grad


# validity: dtype-stated
_out = softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 2]))
assert isinstance(_out, (tuple, list)) and len(_out) == 2, "softmax_cross_entropy must return a pair (loss, dscores)"
expect_tensor(_out[0], "the loss", shape=())
expect_tensor(_out[1], "dscores", shape=(2, 3))
_g = torch.Generator().manual_seed(1)
_s, _y = 3 * torch.randn(8, 5, generator=_g, dtype=torch.float64), torch.randint(0, 5, (8,), generator=_g)
_loss_ref, _grad_ref = _ce_reference(_s, _y)
_loss, _grad = softmax_cross_entropy(_s.clone(), _y)
expect_close(_loss, _loss_ref, "cross-entropy of 8 random examples (mean over examples)")
expect_close(_grad, _grad_ref, "dscores of 8 random examples (softmax minus one-hot, divided by N)")
_rel = gradient_check(lambda v: softmax_cross_entropy(v, _y)[0], _s.clone(), _grad)
assert _rel < 1e-6, f"your dscores disagree with a numeric gradient: relative error {_rel:.2e}"
_big = torch.tensor([[-96.8, 437.9, 61.95], [500.0, 499.0, -300.0]], dtype=torch.float32)
_loss, _grad = softmax_cross_entropy(_big, torch.tensor([0, 1]))
expect_tensor(_loss, "the loss for large float32 scores", shape=())
expect_tensor(_grad, "dscores for large float32 scores", shape=(2, 3))
assert bool(torch.isfinite(_grad).all()), (
    f"large float32 scores gave non-finite gradients {_grad.tolist()}: exp() overflowed (e^437.9 is inf in float32); "
    "subtract each row's maximum before exponentiating")
assert bool(torch.isfinite(_loss)), (
    f"large float32 scores gave the loss {float(_loss)} although the gradient is finite: the probability of the "
    "correct class (e^-534.7) underflowed to 0 and its log is -inf. Stay in the log domain: "
    "-log p_y = log(sum_j exp(s_j - max)) - (s_y - max)")
expect_close(_loss, _ce_reference(_big, torch.tensor([0, 1]))[0], "loss for large float32 scores", rtol=1e-5)
print("softmax_cross_entropy: visible tests passed")
### BEGIN HIDDEN TESTS
_gh = torch.Generator().manual_seed(7)
_cases = [5 * torch.randn(40, 10, generator=_gh, dtype=torch.float64), torch.randn(3, 2, generator=_gh),
          torch.randn(1, 7, generator=_gh, dtype=torch.float64) * 100]
_cases = [(s_, torch.randint(0, s_.shape[1], (s_.shape[0],), generator=_gh)) for s_ in _cases]
_want = [_ce_reference(s_, y_) for s_, y_ in _cases]
with forbid(F.cross_entropy, F.nll_loss, F.log_softmax, torch.log_softmax, "torch.Tensor.backward",
            "torch.autograd.grad", "torch.autograd.backward", cl.softmax_cross_entropy,
            cl.softmax_cross_entropy_loop, exercise="softmax_cross_entropy"):
    for (s_, y_), (lw, gw) in zip(_cases, _want):
        l_h, g_h = softmax_cross_entropy(s_.clone(), y_)
        expect_close(l_h, lw, f"hidden: loss for scores {list(s_.shape)} ({s_.dtype})", atol=1e-5, rtol=1e-5)
        expect_close(g_h, gw, f"hidden: dscores for scores {list(s_.shape)} ({s_.dtype})", atol=1e-6, rtol=1e-4)
        expect_tensor(g_h, "hidden: dscores", dtype=s_.dtype)
        expect_tensor(l_h, "hidden: the loss", dtype=s_.dtype)
    # Rows of the gradient sum to zero (probabilities sum to 1, the one-hot too).
    _h_rows = expect_tensor(softmax_cross_entropy(_cases[0][0].clone(), _cases[0][1])[1], "hidden: dscores").sum(dim=1)
    expect_close(_h_rows, torch.zeros(40, dtype=torch.float64), "hidden: each row of dscores must sum to 0", atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Checking a gradient numerically
#
# A hand-written gradient is easy to get subtly wrong, and a wrong gradient often still
# *lowers* the loss, just badly. The standard check compares it with a **numeric gradient**:
# nudge one input by $\pm h$ and take the **central difference**
# $\frac{L(s + h) - L(s - h)}{2h}$, whose error shrinks like $h^2$. The comparison uses a
# *relative* error $\lVert a - b\rVert / (\lVert a\rVert + \lVert b\rVert)$, so it does not
# depend on the scale of the loss. In float64, values around $10^{-7}$ or below mean the
# gradient is right; $10^{-2}$ means it is wrong. `course_utils.gradcheck` does this for NumPy
# arrays and torch tensors; the visible tests above already used it on your functions. Here
# it catches a classic mistake, forgetting the $1/N$ of the mean:

# %%
g_demo = torch.Generator().manual_seed(3)
s_demo = torch.randn(5, 4, generator=g_demo, dtype=torch.float64)
y_demo = torch.randint(0, 4, (5,), generator=g_demo)
_, good_grad = cl.softmax_cross_entropy(s_demo, y_demo)
check = lambda grad: gradient_check(lambda v: cl.softmax_cross_entropy(v, y_demo)[0], s_demo.clone(), grad)  # noqa: E731
print(f"relative error of the correct gradient:      {check(good_grad):.1e}")
print(f"relative error of the gradient without 1/N:  {check(good_grad * len(y_demo)):.1e}")

# %% [markdown]
# ### 4.3 L2 regularization
#
# Many weight matrices fit the training data equally well (if $W$ separates the data, so does
# $2W$). **Regularization** adds a preference among them to the loss. The most common one is
# the squared L2 norm of the weights, scaled by a strength $\lambda$:
#
# $$ \mathcal{L}(W) = \frac{1}{N}\sum_i L_i(W) + \lambda \lVert W\rVert_2^2,
# \qquad \nabla_W \big(\lambda\lVert W \rVert_2^2\big) = 2\lambda W. $$
#
# It prefers small weights, and among weights that give the same scores it prefers to spread
# them over many inputs rather than to rely on a few. The lecture compares two models with four
# weights; we compute their penalties, and one example where two weight vectors give the same
# score to an input of ones. (Biases are usually not penalized: they do not interact with the
# input.) In PyTorch's optimizers, `weight_decay=wd` adds `wd * W` to the gradient, which is
# the gradient of $\tfrac{wd}{2}\lVert W\rVert^2$.

# %%
model_1 = torch.tensor([0.01, 1.3, -0.02, -2.1])
model_2 = torch.tensor([37.2, 13.4, 5.6, -6.1])
for name, w in (("model 1", model_1), ("model 2", model_2)):
    print(f"{name}: ||w||^2 = {float(cl.l2_regularization(w, 1.0)[0]):8.2f}")
x_ones = torch.ones(4)
for w in (torch.tensor([1.0, 0.0, 0.0, 0.0]), torch.tensor([0.25, 0.25, 0.25, 0.25])):
    print(f"w = {w.tolist()}: score {float(w @ x_ones):.2f}, L2 penalty {float(cl.l2_regularization(w, 1.0)[0]):.2f}")

# %% [markdown]
# ## 5. Gradient descent
#
# Training means finding $W$ that minimizes the loss. For a handful of parameters we could try
# values at random or on a grid; for 650 (or 100 million) we need a direction. The **gradient**
# $\nabla_W L$ is the vector of partial derivatives: it points in the direction in which $L$
# grows fastest, so for a small step $\alpha$, $L(W + \alpha \nabla L) > L(W)$ and
# $L(W - \alpha \nabla L) < L(W)$. **Gradient descent** repeats one line,
#
# $$ W_{t+1} = W_t - \eta\, \nabla_W L(W_t), $$
#
# with a **learning rate** (step size) $\eta$. On large datasets the gradient of the mean loss
# is estimated on a random **mini-batch** of examples each step: stochastic gradient descent
# (SGD).
#
# ### 5.1 The learning rate: too small, right, oscillating, diverging
#
# The lectures illustrate the learning rate on the function
# $f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2$ (the "Booth" test function, minimum 0 at
# $(1, 3)$), with four learning rates: $0.01$ *falls short*, $0.10$ *converges*, $0.11$
# *oscillates*, $0.12$ *diverges*. Are these claims right, and why would such close values
# behave so differently? $f$ is quadratic, so its Hessian (matrix of second derivatives) is
# constant, $H = \begin{pmatrix} 10 & 8 \\ 8 & 10\end{pmatrix}$, with eigenvalues $\lambda = 2$
# (along $(1, -1)$) and $\lambda = 18$ (along $(1, 1)$). Along each eigenvector, one gradient
# step multiplies the distance to the minimum by $1 - \eta\lambda$. Convergence needs
# $|1 - \eta\lambda| < 1$ for both, i.e. $\eta < 2/\lambda_\max = 2/18 \approx 0.111$. If
# $1 - \eta\lambda$ is negative the iterate jumps across the valley at every step (it
# oscillates); if its size is close to 1 progress is slow.

# %%
def booth(p):
    """The lectures' test function; p is Tensor[..., 2]."""
    x, y = p[..., 0], p[..., 1]
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def booth_grad(p):
    x, y = p[..., 0], p[..., 1]
    return torch.stack([10 * x + 8 * y - 34, 8 * x + 10 * y - 38], dim=-1)


booth_min = torch.tensor([1.0, 3.0], dtype=torch.float64)
hessian = torch.autograd.functional.hessian(booth, booth_min)  # constant for a quadratic
eigenvalues = torch.linalg.eigvalsh(hessian)
lam_min, lam_max = float(eigenvalues[0]), float(eigenvalues[-1])
print(f"Hessian {hessian.tolist()}, eigenvalues {eigenvalues.tolist()}; stable for lr < 2/{lam_max:.0f} = {2 / lam_max:.4f}")
lecture_lrs = {"falls short": 0.01, "converges": 0.10, "oscillates": 0.11, "diverges": 0.12}
print(f"{'lecture says':>12} {'lr':>5} {'factor along (1,-1)':>20} {'factor along (1,1)':>19}")
for claim, lr in lecture_lrs.items():
    print(f"{claim:>12} {lr:5.2f} {1 - lr * lam_min:20.3f} {1 - lr * lam_max:19.3f}")

# %%
start = torch.tensor([-4.0, -6.0], dtype=torch.float64)
gd_steps = 40
paths = {lr: co.descend(booth_grad, start, lr=lr, steps=gd_steps) for lr in lecture_lrs.values()}
gx, gy = torch.meshgrid(torch.linspace(-10, 10, 200, dtype=torch.float64),
                        torch.linspace(-10, 12, 200, dtype=torch.float64), indexing="xy")
levels = np.logspace(-1, 3.3, 14)
fig, axes = plt.subplots(1, 5, figsize=(17, 3.6))
for ax, (claim, lr) in zip(axes, lecture_lrs.items()):
    path = paths[lr]
    ax.contour(gx, gy, booth(torch.stack([gx, gy], dim=-1)), levels=levels, cmap="viridis", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=2.5, linewidth=1)
    ax.plot(1, 3, "k*", markersize=10)
    ax.set_xlim(-10, 10)
    ax.set_ylim(-10, 12)
    ax.set_title(f"lr {lr:.2f}: {claim}")
for claim, lr in lecture_lrs.items():
    axes[4].semilogy(booth(paths[lr]).clamp_min(1e-12), label=f"lr {lr:.2f}")
axes[4].set_xlabel("step")
axes[4].set_title("f at each step")
axes[4].legend(fontsize=8)
fig.tight_layout()
for claim, lr in lecture_lrs.items():
    print(f"lr {lr:.2f}: f after {gd_steps} steps = {float(booth(paths[lr][-1])):.3g}")

# %% [markdown]
# The lecture's four labels hold, and the eigenvalues explain them: at $0.01$ the slow
# direction shrinks by only 2% per step; at $0.10$ both directions shrink by 20% per step
# (the fast one flipping sign each time); at $0.11$ the fast direction shrinks by only 2% per
# step while flipping sign — a slow zig-zag across the valley; at $0.12$ it *grows* by 16% per
# step. The best constant rate for a quadratic balances the two directions,
# $\eta = 2/(\lambda_\min + \lambda_\max) = 0.1$, the rate labelled "converges" above. In
# a real network the curvature differs wildly between directions and changes during training,
# which is why the learning rate is the first hyper-parameter to tune.
#
# ### 5.2 Momentum
#
# Momentum keeps a running **velocity**, a decaying sum of past gradients, and steps along it.
# Directions in which the gradient keeps its sign build up speed; directions in which it flips
# (the zig-zag above) cancel out. PyTorch's `torch.optim.SGD(momentum=mu)` does
#
# $$ v_{t+1} = \mu\, v_t + g_t, \qquad W_{t+1} = W_t - \eta\, v_{t+1}, $$
#
# with $v_0 = 0$ and $g_t = \nabla L(W_t)$ (plus $\lambda W_t$ when `weight_decay` is
# $\lambda$). Momentum is also written as a "weighted *average* of past gradients",
# $v_{t+1} = \mu v_t + (1-\mu) g_t$: that is the same direction with a step smaller by
# $1-\mu$ (PyTorch's `dampening=mu`). Another textbook form,
# $v_{t+1} = \mu v_t - \eta g_t,\ W_{t+1} = W_t + v_{t+1}$, gives the same path for a
# constant $\eta$. Conventions matter when you compare numbers, so in the exercise we follow
# PyTorch.
#
# The lecture's example is the oscillating rate $0.11$ with a momentum of only $0.25$. For a
# quadratic we can compute the speed of convergence exactly: along an eigen-direction with
# curvature $\lambda$, momentum turns the update into a 2×2 linear recurrence whose spectral
# radius (largest root modulus of $z^2 - (1 + \mu - \eta\lambda) z + \mu$) is the
# per-step shrink factor.

# %%
def shrink_factor(lr, lam, mu):
    """Per-step contraction of heavy-ball momentum along a direction of curvature lam."""
    roots = np.roots([1.0, -(1 + mu - lr * lam), mu])
    return float(np.abs(roots).max())


for mu in (0.0, 0.25):
    factors = [shrink_factor(0.11, lam, mu) for lam in (lam_min, lam_max)]
    print(f"lr 0.11, momentum {mu:.2f}: shrink factor per step {factors[0]:.3f} (lambda=2), "
          f"{factors[1]:.3f} (lambda=18) -> overall {max(factors):.3f}")

plain = co.descend(booth_grad, start, lr=0.11, steps=gd_steps)
heavy = co.descend(booth_grad, start, lr=0.11, steps=gd_steps, momentum=0.25)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, path, title in ((axes[0], plain, "lr 0.11, no momentum"), (axes[1], heavy, "lr 0.11, momentum 0.25")):
    ax.contour(gx, gy, booth(torch.stack([gx, gy], dim=-1)), levels=levels, cmap="viridis", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=2.5, linewidth=1)
    ax.plot(1, 3, "k*", markersize=10)
    ax.set_title(f"{title}: f = {float(booth(path[-1])):.1e} after {gd_steps} steps")
fig.tight_layout()

# %% [markdown]
# A momentum of only 0.25 turns the slow zig-zag (the distance shrinks by a factor of 0.98 per
# step) into steady convergence: the overall factor printed above is about 0.64 per step, and
# it is now limited by the slow $\lambda = 2$ direction, no longer by the zig-zag. The velocity
# carries part of the previous step, which pointed the other way across the valley, and
# cancels most of the overshoot.
#
# **Exercise 4.** Implement one step of SGD with momentum and weight decay in PyTorch's
# convention. Return new tensors; do not modify the inputs in place.

# %% nbgrader={"grade": false, "grade_id": "sgd_momentum_step", "locked": false, "schema_version": 3, "solution": true}
def sgd_momentum_step(param, grad, velocity, lr, momentum=0.9, weight_decay=0.0):
    """One update of SGD with momentum, exactly as torch.optim.SGD(lr, momentum, weight_decay).

        g            <- grad + weight_decay * param
        new_velocity <- momentum * velocity + g
        new_param    <- param - lr * new_velocity

    Args:
        param: Tensor[*] current parameter values.
        grad: Tensor[*] gradient of the loss at param (same shape).
        velocity: Tensor[*] the velocity from the previous step (zeros before the first step).
        lr: learning rate; momentum: mu; weight_decay: L2 coefficient (floats >= 0).

    Returns:
        (new_param, new_velocity), two new tensors of the shape of param.
        The inputs must not be modified.
    """
    ### BEGIN SOLUTION
    g = grad + weight_decay * param
    new_velocity = momentum * velocity + g
    new_param = param - lr * new_velocity
    return new_param, new_velocity
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sgd_momentum_step", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def _torch_sgd_path(start, grads, **hyper):
    """Parameters and momentum buffers after each step of torch.optim.SGD."""
    p = nn.Parameter(start.clone())
    opt = torch.optim.SGD([p], **hyper)
    out = []
    for g_ in grads:
        p.grad = g_.clone()
        opt.step()
        buf = opt.state[p].get("momentum_buffer")
        out.append((p.detach().clone(), g_.clone() if buf is None else buf.clone()))
    return out


_g = torch.Generator().manual_seed(2)
_p0 = torch.randn(2, 3, generator=_g, dtype=torch.float64)
_grads = [torch.randn(2, 3, generator=_g, dtype=torch.float64) for _ in range(4)]
_expected = _torch_sgd_path(_p0, _grads, lr=0.1, momentum=0.9)
_p, _v = _p0.clone(), torch.zeros_like(_p0)
for _t, (_g_t, (_p_want, _v_want)) in enumerate(zip(_grads, _expected)):
    _p_before, _grad_before, _v_before = _p.clone(), _g_t.clone(), _v.clone()
    _out = sgd_momentum_step(_p, _g_t, _v, lr=0.1, momentum=0.9)
    assert isinstance(_out, (tuple, list)) and len(_out) == 2, "sgd_momentum_step must return (new_param, new_velocity)"
    expect_close(_p, _p_before, f"param after step {_t + 1} (the input must not be modified in place)")
    expect_close(_g_t, _grad_before, f"grad after step {_t + 1} (the input must not be modified in place)")
    expect_close(_v, _v_before, f"velocity after step {_t + 1} (the input must not be modified in place: "
                                "return a new tensor)")
    _p, _v = _out
    expect_close(_v, _v_want, f"velocity after step {_t + 1} (compare with torch.optim.SGD's momentum buffer)")
    expect_close(_p, _p_want, f"param after step {_t + 1} (compare with torch.optim.SGD)")
print("sgd_momentum_step: visible tests passed")
### BEGIN HIDDEN TESTS
_gh = torch.Generator().manual_seed(9)
_p0h = torch.randn(5, generator=_gh)
_grads_h = [torch.randn(5, generator=_gh) for _ in range(6)]
_settings = [dict(lr=0.05, momentum=0.9, weight_decay=0.01), dict(lr=0.3, momentum=0.0, weight_decay=0.0),
             dict(lr=0.01, momentum=0.5, weight_decay=0.1)]
_want_h = [_torch_sgd_path(_p0h, _grads_h, **kw) for kw in _settings]
with forbid("torch.optim.SGD.step", "torch.optim.sgd.sgd", co.sgd_momentum_step, co.MomentumSGD.step,
            exercise="sgd_momentum_step"):
    for kw, want in zip(_settings, _want_h):
        ph, vh = _p0h.clone(), torch.zeros_like(_p0h)
        for t_, (g_, (pw, vw)) in enumerate(zip(_grads_h, want)):
            ph, vh = sgd_momentum_step(ph, g_, vh, **kw)
            expect_close(ph, pw, f"hidden: param after step {t_ + 1} with {kw}", atol=1e-5)
            expect_close(vh, vw, f"hidden: velocity after step {t_ + 1} with {kw}", atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### 5.3 A step-decay schedule
#
# With stochastic gradients a constant learning rate has a trade-off: a large one makes fast
# progress but then bounces around the minimum at a "noise floor" set by the gradient noise; a
# small one gets closer but takes forever to arrive. A **schedule** starts large and decreases.
# The lectures' rule of thumb is a **step decay**: start at `init_lr` (e.g. $10^{-1}$) and
# multiply by a factor $f$ (e.g. $0.1$) every $N$ steps (e.g. 10,000), which is
# `torch.optim.lr_scheduler.StepLR(step_size=N, gamma=f)` and `course_utils.optim.step_decay`.
# Below, noisy gradients of the Booth function (exact gradient plus Gaussian noise), averaged
# over 20 runs.

# %%
def noisy_descent(lr_of_step, steps, runs=20, noise=8.0, seed=0):
    """Mean distance-to-optimum f(p) over runs of SGD on the Booth function with noisy gradients."""
    g = torch.Generator().manual_seed(seed)
    p = start.repeat(runs, 1)  # [runs, 2]
    values = [booth(p).mean()]
    for t in range(steps):
        noisy = booth_grad(p) + noise * torch.randn(p.shape, generator=g, dtype=p.dtype)
        p = p - lr_of_step(t) * noisy
        values.append(booth(p).mean())
    return torch.stack(values)


sgd_steps = 300
schedules = {"constant 0.05": lambda t: 0.05, "constant 0.005": lambda t: 0.005,
             "step decay 0.05, x0.1 every 100": lambda t: co.step_decay(t, 0.05, factor=0.1, every=100)}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name, schedule in schedules.items():
    curve = noisy_descent(schedule, sgd_steps)
    axes[0].plot([schedule(t) for t in range(sgd_steps)], label=name)
    axes[1].semilogy(curve, label=f"{name}: final {float(curve[-20:].mean()):.3f}")
axes[0].set_title("learning rate")
axes[0].set_yscale("log")
axes[1].set_title("mean f over 20 noisy runs")
for ax in axes:
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ### 5.4 Local minima and convexity
#
# Gradient descent only sees the slope where it stands. On a function with several valleys it
# ends in the one it starts in: a **local minimum**, not necessarily the global one. A function
# is **convex** if the segment between any two points of its graph lies above the graph
# (for a twice differentiable function: the Hessian has no negative eigenvalue anywhere); then
# every local minimum is a global minimum. The Booth function is convex (eigenvalues 2 and 18
# everywhere). So are the hinge and softmax losses of a *linear* classifier, as functions of
# $W$ — with L2 regularization even strictly convex, so training from any start ends at the
# same answer. Neural networks with hidden layers are not convex: different initializations
# end in different minima. (In practice, for large networks, most of the minima that SGD finds
# are about equally good; the real difficulties are flat regions and bad conditioning.)

# %%
def wiggly(x):
    return x ** 4 - 3 * x ** 2 + x


def wiggly_grad(x):
    return 4 * x ** 3 - 6 * x + 1


xs_1d = torch.linspace(-2.2, 2.2, 400)
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(xs_1d, wiggly(xs_1d), color="k", linewidth=1)
for x0 in (-2.0, -0.3, 0.5, 2.0):
    path = co.descend(lambda p: wiggly_grad(p), torch.tensor([x0]), lr=0.02, steps=60)[:, 0]
    ax.plot(path, wiggly(path), "o-", markersize=3, label=f"start {x0:+.1f} -> x = {float(path[-1]):+.3f}")
second = 12 * xs_1d ** 2 - 6
ax.set_title(f"f = x^4 - 3x^2 + x; f'' < 0 on ({float(xs_1d[second < 0].min()):.2f}, {float(xs_1d[second < 0].max()):.2f}): not convex")
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## 6. Training linear classifiers on the digits
#
# Now all the parts meet. A linear classifier is `nn.Linear(64, 10)` after flattening the
# image; the course's training loop `course_utils.train.fit` runs mini-batch SGD with
# momentum, computes the loss on every batch, calls `backward()` (autograd computes the same
# gradients you wrote by hand above) and evaluates on the validation split after every epoch.
# We train twice, once with the softmax cross-entropy (`F.cross_entropy`) and once with the
# multiclass hinge loss (the course reference `course_utils.linear.multiclass_hinge`, whose
# loss is built from differentiable torch operations). Weight decay adds the L2 penalty.

# %%
linear_epochs = budget(full=12, quick=2)
train_loader, val_loader, test_loader = digits_loaders(batch_size=64, seed=0)
linear_models, linear_histories, linear_test_acc = {}, {}, {}
linear_losses = {"softmax": F.cross_entropy, "hinge": lambda scores, labels: cl.multiclass_hinge(scores, labels)[0]}
for name, loss_fn in linear_losses.items():
    seed_everything(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-3)
    linear_histories[name] = fit(model, loss_fn, train_loader, val_loader, epochs=linear_epochs, optimizer=optimizer,
                                 metrics={"accuracy": accuracy}, device=device)
    linear_models[name] = model
    linear_test_acc[name] = evaluate(model, test_loader, metrics={"accuracy": accuracy})["accuracy"]
plot_history(linear_histories["softmax"], ["loss", "accuracy"]);

# %%
report("softmax_linear_test_accuracy", linear_test_acc["softmax"], target=0.93)
report("hinge_linear_test_accuracy", linear_test_acc["hinge"], target=0.93)

# %% [markdown]
# Both losses give about the same accuracy here; they differ in what they ask for. The hinge
# loss is satisfied once every margin is met and then ignores the example; the cross-entropy
# keeps pushing all probabilities, so it uses every example all the time. Today the
# cross-entropy is the default, mostly because its probabilities are useful and it combines
# well with everything else. Both beat k-NN on prediction speed by orders of magnitude, and
# are a little behind it in accuracy on these centred digits.
#
# **The template view, learned.** Each row of $W$ reshaped to 8×8 is the template of its
# class. Red pixels raise the class score, blue ones lower it. Some templates are easy to
# read (the ring of the 0, the bar of the 7); most mix "ink expected here" with "no ink
# expected here", the strokes that separate a class from the others it is confused with.

# %%
fig, axes = plt.subplots(2, 10, figsize=(13, 3.2))
for row, name in zip(axes, linear_losses):
    weights = linear_models[name][1].weight.detach().cpu().reshape(10, 8, 8)
    limit = float(weights.abs().max())  # symmetric scale: white = 0, red > 0, blue < 0
    for digit, ax in enumerate(row):
        ax.imshow(weights[digit], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{name} {digit}", fontsize=8)
        ax.axis("off")
fig.suptitle("rows of W as 8x8 templates (red: raises the score, blue: lowers it)")
fig.tight_layout()

# %% [markdown]
# ## 7. Underfitting, overfitting and regularization
#
# A model can fail in two opposite ways. It **underfits** when it is too simple for the data:
# the error is high even on the training set (high **bias**). It **overfits** when it is so
# flexible that it fits the noise of the particular training set: tiny training error, large
# error on new data, and a fit that changes a lot if one training point is removed (high
# **variance**). The third part of the error, the **irreducible** noise in the data, no model
# can remove.
#
# The lectures show this with polynomial regression, which is a *linear* model in disguise:
# with the features $(1, x, x^2, \dots, x^F)$, fitting $y \approx \sum_f w_f x^f$ is linear
# least squares in $\mathbf{w}$. Data come from $y = 1.5x^2 + 2.3x + 2 + \varepsilon$ with
# $\varepsilon \sim \mathcal{N}(0, 0.5)$; the notation does not say whether 0.5 is the
# standard deviation or the variance, and we take it as the standard deviation. We draw 12
# training points with $x$ uniform in $[-2, 2]$ and 200 validation points, and fit degrees 1
# (a line: underfits), 2 (the true family) and 9 (overfits), the last also with an L2 penalty
# (**ridge regression**: minimize $\lVert X\mathbf{w} - \mathbf{y}\rVert^2 + \lambda
# \lVert \mathbf{w}\rVert^2$, solved by $(X^\top X + \lambda I)\mathbf{w} = X^\top\mathbf{y}$;
# the constant term is not penalized). The features are powers of $x/2$, which lies in
# $[-1, 1]$: then every power has the same range and the penalty treats all coefficients
# alike (with raw powers, $x^9$ reaches 512 and its tiny coefficient escapes the penalty).

# %%
def poly_data(n, generator):
    x = 4 * torch.rand(n, generator=generator, dtype=torch.float64) - 2
    y = 1.5 * x ** 2 + 2.3 * x + 2 + 0.5 * torch.randn(n, generator=generator, dtype=torch.float64)
    return x, y


X_SCALE = 2.0  # x lies in [-2, 2]; the features use x / 2 in [-1, 1], so all powers share one range


def poly_features(x, degree):
    u = x / X_SCALE
    return torch.stack([u ** f for f in range(degree + 1)], dim=1)  # [N, degree + 1], column f = (x/2)^f


def fit_poly(x, y, degree, reg=0.0):
    """Least squares (reg = 0) or ridge regression on polynomial features; the constant is not penalized."""
    X = poly_features(x, degree)
    penalty = reg * torch.eye(degree + 1, dtype=X.dtype)
    penalty[0, 0] = 0.0
    return torch.linalg.solve(X.T @ X + penalty, X.T @ y)  # [degree + 1]


def mse(w, x, y):
    return float(((poly_features(x, len(w) - 1) @ w - y) ** 2).mean())


g_poly = torch.Generator().manual_seed(4)
x_tr, y_tr = poly_data(12, g_poly)
x_va, y_va = poly_data(200, g_poly)
x_plot = torch.linspace(-2, 2, 300, dtype=torch.float64)
# The ridge strength is a hyper-parameter: pick it on the validation points.
ridge_candidates = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
ridge_reg = min(ridge_candidates, key=lambda r: mse(fit_poly(x_tr, y_tr, 9, r), x_va, y_va))
fits = {"degree 1": (1, 0.0), "degree 2": (2, 0.0), "degree 9": (9, 0.0), f"degree 9, ridge {ridge_reg:g}": (9, ridge_reg)}
fig, axes = plt.subplots(1, 5, figsize=(18, 3.5))
for ax, (name, (degree, reg)) in zip(axes, fits.items()):
    w = fit_poly(x_tr, y_tr, degree, reg)
    w_drop = fit_poly(x_tr[1:], y_tr[1:], degree, reg)  # the same fit without the first training point
    ax.plot(x_plot, 1.5 * x_plot ** 2 + 2.3 * x_plot + 2, color="gray", linestyle=":", label="truth")
    ax.plot(x_plot, poly_features(x_plot, degree) @ w, color="tab:red", label="fit")
    ax.plot(x_plot, poly_features(x_plot, degree) @ w_drop, color="tab:orange", linestyle="--", label="fit without point 0")
    ax.scatter(x_tr, y_tr, s=15, color="k", zorder=3)
    ax.scatter(x_tr[:1], y_tr[:1], s=60, facecolors="none", edgecolors="tab:orange", zorder=3)
    ax.set_ylim(-3, 17)
    ax.set_title(f"{name}\ntrain MSE {mse(w, x_tr, y_tr):.3f}, val MSE {mse(w, x_va, y_va):.3f}", fontsize=9)
axes[0].legend(fontsize=7)
degrees = list(range(0, 10))
axes[4].semilogy(degrees, [mse(fit_poly(x_tr, y_tr, d), x_tr, y_tr) for d in degrees], "o-", label="train")
axes[4].semilogy(degrees, [mse(fit_poly(x_tr, y_tr, d), x_va, y_va) for d in degrees], "o-", label="validation")
axes[4].semilogy(degrees, [mse(fit_poly(x_tr, y_tr, d, ridge_reg), x_va, y_va) for d in degrees], "o--",
                 label=f"validation, ridge {ridge_reg:g}")
axes[4].axhline(0.25, color="gray", linestyle=":", label="noise variance 0.25")
axes[4].set_xlabel("degree")
axes[4].set_title("mean squared error")
axes[4].legend(fontsize=7)
fig.tight_layout()
w2 = fit_poly(x_tr, y_tr, 2)
# Back from powers of x/2 to powers of x: w_f (x/2)^f = (w_f / 2^f) x^f.
c2, c1, c0 = float(w2[2]) / X_SCALE ** 2, float(w2[1]) / X_SCALE, float(w2[0])
print(f"degree-2 fit: {c2:.2f} x^2 + {c1:.2f} x + {c0:.2f} (truth 1.5 x^2 + 2.3 x + 2)")
w9, w9r = fit_poly(x_tr, y_tr, 9), fit_poly(x_tr, y_tr, 9, ridge_reg)
for name, w in (("degree 1", fit_poly(x_tr, y_tr, 1)), ("degree 2", w2), ("degree 9", w9), (f"degree 9, ridge {ridge_reg:g}", w9r)):
    print(f"{name:>18}: train MSE {mse(w, x_tr, y_tr):.3f}, validation MSE {mse(w, x_va, y_va):.3f}, "
          f"sum of squared coefficients {float((w[1:] ** 2).sum()):.1f}")

# %% [markdown]
# The line misses the curvature on the training points themselves (underfitting). Degree 2
# recovers coefficients close to the truth, and its validation error is close to the noise
# variance $0.5^2 = 0.25$, the floor no model can beat. Degree 9 has 10 parameters for 12
# points: it threads through the noise, its validation error is about ten times larger, and
# removing one point changes the curve drastically (the dashed line). The same degree-9 model
# with an L2 penalty (its strength chosen on the validation points) can no longer afford the
# large coefficients that the wiggles need, and ends up close to the quadratic. The lectures'
# advice follows: first make sure the model *can* fit the training
# data (no underfitting), then fight overfitting with more data, a simpler model, or stronger
# regularization, checking every choice on validation data.
#
# ## 8. Multilayer perceptrons
#
# ### 8.1 Why depth needs a nonlinearity: XOR
#
# Stacking linear layers does not help by itself: $W_2(W_1\mathbf{x} + \mathbf{b}_1) +
# \mathbf{b}_2 = (W_2W_1)\mathbf{x} + (W_2\mathbf{b}_1 + \mathbf{b}_2)$ is again one linear
# layer. The classic problem no linear classifier can solve is **XOR**: points $(0,0)$ and
# $(1,1)$ in one class, $(0,1)$ and $(1,0)$ in the other. A line that puts $(0,0)$ and $(1,1)$
# on the same side also has their midpoint $(0.5, 0.5)$ on that side — and that midpoint is also
# the midpoint of $(0,1)$ and $(1,0)$, which would then have to be on the other side, which is
# impossible. So at most 3 of the 4 points can be right.
#
# Put a **nonlinear activation** $\sigma$ between the layers, $\mathbf{h} =
# \sigma(W_1\mathbf{x} + \mathbf{b}_1)$, $\mathbf{s} = W_2\mathbf{h} + \mathbf{b}_2$, and the
# network can bend its decision boundary. For XOR two ReLU units suffice, and we can even set
# the weights by hand: $h_1 = \max(0, x_1 + x_2)$, $h_2 = \max(0, x_1 + x_2 - 1)$,
# $s = h_1 - 2h_2$ gives 0, 1, 1, 0 on the four corners.

# %%
xor_x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
xor_y = torch.tensor([0, 1, 1, 0])
W1_hand, b1_hand = torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([0.0, -1.0])
W2_hand, b2_hand = torch.tensor([[1.0, -2.0]]), torch.tensor([0.0])
hand_scores = torch.relu(xor_x @ W1_hand.T + b1_hand) @ W2_hand.T + b2_hand
print(f"hand-set 2-2-1 ReLU network on the XOR corners: {hand_scores.flatten().tolist()}")
A1, A2 = torch.randn(5, 2), torch.randn(3, 5)
print(f"two linear layers = one: max difference {float((A2 @ (A1 @ xor_x.T) - (A2 @ A1) @ xor_x.T).abs().max()):.1e}")

# Noisy XOR clouds: a linear classifier against a small MLP, both trained with full-batch SGD.
g_xor = torch.Generator().manual_seed(0)
cloud_y = torch.arange(4).repeat_interleave(50)  # 50 points per corner
cloud_x = xor_x[cloud_y] + 0.15 * torch.randn(200, 2, generator=g_xor)
cloud_label = xor_y[cloud_y]


xor_steps = budget(full=300, quick=60)
seed_everything(0)
xor_linear = nn.Linear(2, 2)
xor_mlp = cm.make_mlp([2, 8, 2], flatten=False)
for net in (xor_linear, xor_mlp):
    train_full_batch(net, cloud_x, cloud_label, lr=0.1, steps=xor_steps)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, net, name in ((axes[0], xor_linear, "linear"), (axes[1], xor_mlp, "MLP 2-8-2 (ReLU)")):
    acc = float((net(cloud_x).argmax(1) == cloud_label).double().mean())
    plot_decision_regions(ax, lambda q, net=net: net(q).argmax(1), cloud_x, cloud_label,
                          title=f"{name}: train accuracy {acc:.2f}")
fig.tight_layout()

# %% [markdown]
# ### 8.2 Activation functions
#
# The lectures list the usual choices. **Sigmoid** $1/(1+e^{-x})$ and **tanh** squash their
# input; their slopes vanish for large $|x|$ (the sigmoid's slope is never above 0.25), which
# slows learning in deep stacks. **ReLU** $\max(0, x)$ is cheap and has slope exactly 1 for
# positive inputs, the default today; its units can "die" if their input stays negative.
# **Leaky ReLU** $\max(\alpha x, x)$ keeps a small slope for negative inputs (the slides use
# $\alpha = 0.1$; PyTorch's default is 0.01). **ELU** is smooth with a negative saturation
# $\alpha(e^x - 1)$. **Maxout** $\max(\mathbf{w}_1^\top\mathbf{x} + b_1, \mathbf{w}_2^\top
# \mathbf{x} + b_2)$ learns its own piecewise-linear shape, at the price of doubling the
# weights. The slopes below are computed with autograd.

# %%
activations = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "ReLU": torch.relu,
               "leaky ReLU (0.1)": lambda v: F.leaky_relu(v, 0.1), "ELU": F.elu}
xa = torch.linspace(-4, 4, 401, requires_grad=True)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name, fn in activations.items():
    ya = fn(xa)
    (slope,) = torch.autograd.grad(ya.sum(), xa)
    axes[0].plot(xa.detach(), ya.detach(), label=name)
    axes[1].plot(xa.detach(), slope, label=name)
axes[0].set_title("activation")
axes[1].set_title("slope (derivative)")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ### 8.3 Backpropagation: upstream gradient × local gradient
#
# A network is a chain of simple functions. The chain rule says that the derivative of the
# final loss $L$ with respect to the input of one function equals the derivative with respect
# to its output (the **upstream** gradient, arriving from later layers) times the derivative of
# the function itself (its **local** gradient). **Backpropagation** runs the network forward,
# keeping every intermediate value, then walks backwards from $\partial L/\partial L = 1$,
# multiplying upstream by local gradients at each function.
#
# The lecture's example is $f(x) = (-x + 3)^2$, a chain of three functions:
# $a = -x$, $b = a + 3$, $f = b^2$. Backwards: $\partial f/\partial b = 2b$ (local gradient of
# squaring, times upstream 1); $\partial f/\partial a = 2b \cdot 1$; $\partial f/\partial x =
# 2b \cdot 1 \cdot (-1) = 2x - 6$.

# %%
x0 = torch.tensor(5.0, requires_grad=True)
a_ = -x0
b_ = a_ + 3
f_ = b_ ** 2
df_db = 2 * b_  # upstream 1 x local 2b
df_da = df_db * 1  # local gradient of a + 3 with respect to a
df_dx = df_da * (-1)  # local gradient of -x
f_.backward()
print(f"x = 5: f = {f_.item():.0f}; by hand df/dx = {df_dx.item():.0f}; 2x - 6 = {2 * 5 - 6}; autograd {x0.grad.item():.0f}")

# %% [markdown]
# For matrices the same rule holds with matrix products. For a linear layer
# $\mathbf{s} = \mathbf{h}W^\top + \mathbf{b}$ on a batch ($\mathbf{h}$ is $N \times H$, $W$ is
# $C \times H$ as in `nn.Linear`) and upstream gradient $G = \partial L/\partial \mathbf{s}$
# ($N \times C$): $\partial L/\partial W = G^\top\mathbf{h}$ ($C \times H$),
# $\partial L/\partial\mathbf{b} = \sum_n G_n$ (the bias is added to every row), and
# $\partial L/\partial\mathbf{h} = G W$ ($N \times H$). A ReLU passes the upstream gradient
# where its input was positive and blocks it elsewhere. Checking that every shape matches is
# the best way to get these right.
#
# **Exercise 5.** Implement the forward and backward pass of the two-layer network
# $\mathbf{s} = \operatorname{relu}(\mathbf{x}W_1^\top + \mathbf{b}_1)W_2^\top + \mathbf{b}_2$,
# given an upstream gradient `dscores` $= \partial L/\partial\mathbf{s}$ (for example the
# `dscores` of your softmax cross-entropy).

# %% nbgrader={"grade": false, "grade_id": "two_layer_forward_backward", "locked": false, "schema_version": 3, "solution": true}
def two_layer_forward_backward(x, W1, b1, W2, b2, dscores):
    """Forward pass of scores = relu(x @ W1.T + b1) @ W2.T + b2, and its backward pass.

    Args:
        x: Tensor[N, D] inputs.
        W1: Tensor[H, D], b1: Tensor[H]  (the first layer, like nn.Linear(D, H)).
        W2: Tensor[C, H], b2: Tensor[C]  (the second layer, like nn.Linear(H, C)).
        dscores: Tensor[N, C], the upstream gradient dL/dscores.

    Returns:
        (scores, grads): scores is Tensor[N, C]; grads is a dict with keys
        "x", "W1", "b1", "W2", "b2" holding dL/dx, dL/dW1, ... (each of the shape of
        that input). Use the chain rule by hand: no autograd (.backward, torch.autograd).
        (The tests avoid pre-activations that are exactly 0.)
    """
    ### BEGIN SOLUTION
    z1 = x @ W1.T + b1  # [N, H]
    h = torch.relu(z1)  # [N, H]
    scores = h @ W2.T + b2  # [N, C]
    dh = dscores @ W2  # [N, H]
    dz1 = dh * (z1 > 0)  # [N, H]: the ReLU lets the gradient through where it was active
    grads = {
        "W2": dscores.T @ h,  # [C, H]
        "b2": dscores.sum(dim=0),  # [C]
        "W1": dz1.T @ x,  # [H, D]
        "b1": dz1.sum(dim=0),  # [H]
        "x": dz1 @ W1,  # [N, D]
    }
    return scores, grads
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_two_layer_forward_backward", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def _two_layer_autograd(x, W1, b1, W2, b2, dscores):
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in dict(x=x, W1=W1, b1=b1, W2=W2, b2=b2).items()}
    scores = torch.relu(leaves["x"] @ leaves["W1"].T + leaves["b1"]) @ leaves["W2"].T + leaves["b2"]
    scores.backward(dscores)
    return scores.detach(), {k: v.grad for k, v in leaves.items()}


def _random_net(n, d, h, c, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    shapes = [(n, d), (h, d), (h,), (c, h), (c,), (n, c)]
    return [torch.randn(*s, generator=g, dtype=dtype) for s in shapes]


_args = _random_net(4, 3, 5, 2, seed=0)
_out = two_layer_forward_backward(*_args)
assert isinstance(_out, (tuple, list)) and len(_out) == 2, "two_layer_forward_backward must return (scores, grads)"
_scores, _grads = _out
_ref_scores, _ref_grads = _two_layer_autograd(*_args)
expect_close(_scores, _ref_scores, "scores of the forward pass")
assert isinstance(_grads, dict) and set(_grads) == {"x", "W1", "b1", "W2", "b2"}, (
    f"grads must be a dict with keys x, W1, b1, W2, b2; got {sorted(_grads) if isinstance(_grads, dict) else type(_grads)}")
for _name in ("W2", "b2", "W1", "b1", "x"):
    expect_close(_grads[_name], _ref_grads[_name], f"dL/d{_name} (compared with autograd)")
print("two_layer_forward_backward: visible tests passed")
### BEGIN HIDDEN TESTS
_hcases = [_random_net(9, 6, 11, 4, seed=3), _random_net(1, 2, 1, 3, seed=4), _random_net(5, 4, 7, 3, seed=5, dtype=torch.float32)]
_hwant = [_two_layer_autograd(*args_) for args_ in _hcases]
with forbid("torch.Tensor.backward", "torch.autograd.grad", "torch.autograd.backward", cm.two_layer_forward_backward,
            exercise="two_layer_forward_backward"):
    for args_, (sw, gw) in zip(_hcases, _hwant):
        sh_, gh_ = two_layer_forward_backward(*args_)
        shape_txt = f"x {list(args_[0].shape)}, W1 {list(args_[1].shape)}, W2 {list(args_[3].shape)}"
        expect_close(sh_, sw, f"hidden: scores for {shape_txt}", atol=1e-5)
        for key in gw:
            expect_close(gh_[key], gw[key], f"hidden: dL/d{key} for {shape_txt}", atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Training a network with your backward pass
#
# A forward and a backward pass are all that training needs. The loop below trains the
# two-layer network 64 → 64 → 10 on the digits with nothing but your
# `two_layer_forward_backward`: for each mini-batch it computes the scores, the gradient of
# the mean softmax cross-entropy with respect to them (softmax minus one-hot, divided by the
# batch size, as in Exercise 3), asks your function for the gradients of the weights, and
# takes a plain gradient-descent step. No autograd anywhere. While your function is still a
# stub, or gives wrong gradients on a small check, the loop uses the course's reference and
# says so.

# %%
def choose_forward_backward():
    """Your two_layer_forward_backward if it matches autograd on a small network, else the reference."""
    g = torch.Generator().manual_seed(0)
    args = [torch.randn(*shape, generator=g, dtype=torch.float64) for shape in ((3, 4), (5, 4), (5,), (2, 5), (2,), (3, 2))]
    leaves = [a.clone().requires_grad_(True) for a in args[:5]]
    (torch.relu(leaves[0] @ leaves[1].T + leaves[2]) @ leaves[3].T + leaves[4]).backward(args[5])
    try:
        _, grads = two_layer_forward_backward(*args)
        ok = all(torch.allclose(grads[k], leaf.grad, atol=1e-6) for k, leaf in zip(("x", "W1", "b1", "W2", "b2"), leaves))
    except Exception as error:  # a stub raises NotImplementedError; a broken pass may raise anything
        ok, reason = False, type(error).__name__
    else:
        reason = "its gradients differ from autograd's"
    if ok:
        print("The training loop uses your two_layer_forward_backward.")
        return two_layer_forward_backward
    print(f"two_layer_forward_backward does not work yet ({reason}), so the training loop uses the course's "
          "reference (course_utils.mlp.two_layer_forward_backward).")
    return cm.two_layer_forward_backward


forward_backward = choose_forward_backward()
hand_epochs, hand_lr, hand_hidden = budget(full=30, quick=3), 0.2, 64
hand_gen = torch.Generator().manual_seed(0)
hand_params = {"W1": torch.randn(hand_hidden, 64, generator=hand_gen) * math.sqrt(2 / 64), "b1": torch.zeros(hand_hidden),
          "W2": torch.randn(10, hand_hidden, generator=hand_gen) * math.sqrt(2 / hand_hidden), "b2": torch.zeros(10)}
hand_losses, hand_val_acc = [], []
for epoch in range(hand_epochs):
    order = torch.randperm(len(X_train), generator=hand_gen)
    for batch in order.split(64):
        xb, yb = X_train[batch], y_train[batch]  # [B, 64], [B]
        scores = torch.relu(xb @ hand_params["W1"].T + hand_params["b1"]) @ hand_params["W2"].T + hand_params["b2"]  # [B, 10]
        probs = scores.softmax(dim=1)
        hand_losses.append(float(-probs[torch.arange(len(yb)), yb].log().mean()))
        dscores = (probs - F.one_hot(yb, 10).to(probs.dtype)) / len(yb)  # dL/dscores of the mean loss
        _, grads = forward_backward(xb, hand_params["W1"], hand_params["b1"], hand_params["W2"], hand_params["b2"], dscores)
        hand_params = {k: v - hand_lr * grads[k] for k, v in hand_params.items()}
    val_scores = torch.relu(X_val @ hand_params["W1"].T + hand_params["b1"]) @ hand_params["W2"].T + hand_params["b2"]
    hand_val_acc.append(float((val_scores.argmax(1) == y_val).double().mean()))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].plot(hand_losses, linewidth=0.7)
axes[0].set_xlabel("step")
axes[0].set_ylabel("mini-batch loss")
axes[0].set_title("training with a hand-written backward pass")
axes[1].plot(range(1, hand_epochs + 1), hand_val_acc, marker="o")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("validation accuracy")
fig.tight_layout()
print(f"after {hand_epochs} epochs of plain gradient descent: validation accuracy {hand_val_acc[-1]:.3f}")

# %% [markdown]
# The loss falls and the validation accuracy climbs with nothing but matrix products and the
# chain rule: that is all a deep-learning framework automates. Section 9 trains the same kind
# of network with PyTorch's autograd, momentum and a learning-rate schedule.

# %% [markdown]
# ### 8.4 How many parameters?
#
# A fully connected layer from $a$ units to $b$ units has an $b \times a$ weight matrix and $b$
# biases: $ab + b$ parameters. The parameters of an MLP are the sum over its layers.
#
# **Exercise 6.** Write the count for an MLP given its layer sizes
# `[n_input, n_hidden_1, ..., n_output]`.

# %% nbgrader={"grade": false, "grade_id": "mlp_parameter_count", "locked": false, "schema_version": 3, "solution": true}
def mlp_parameter_count(sizes):
    """Number of weights plus biases of a fully connected network.

    Args:
        sizes: list of ints [n_0, n_1, ..., n_L]: input size, hidden sizes, output size
            (at least 2 entries). Layer l maps n_{l-1} units to n_l units and has a bias.

    Returns:
        The total number of parameters, an int.

    Raises:
        ValueError: if sizes has fewer than 2 entries.
    """
    ### BEGIN SOLUTION
    if len(sizes) < 2:
        raise ValueError(f"need at least an input and an output size, got {sizes}")
    total = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        total += n_in * n_out + n_out
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mlp_parameter_count", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def _count_linear_params(sizes, device=None):
    layers = [nn.Linear(a_in, b_out, device=device) for a_in, b_out in zip(sizes[:-1], sizes[1:])]
    return sum(p.numel() for layer in layers for p in layer.parameters())


_small = [3, 5, 2]
expect_equal(mlp_parameter_count(_small), _count_linear_params(_small),
             "mlp_parameter_count([3, 5, 2]) compared with counting the parameters of nn.Linear(3, 5) and nn.Linear(5, 2)",
             integer=True)
expect_equal(mlp_parameter_count([4, 6]), _count_linear_params([4, 6]), "a single layer [4, 6] (weights AND biases)",
             integer=True)
print("mlp_parameter_count: visible tests passed")
### BEGIN HIDDEN TESTS
for sizes_ in ([2, 1], [2, 4, 1], [2, 4, 4, 3], [64, 128, 10], [7, 3, 5, 2, 9], [1, 1]):
    expect_equal(mlp_parameter_count(list(sizes_)), _count_linear_params(sizes_), f"hidden: sizes {sizes_}", integer=True)
_big = [285 * 350, 1000, 1000, 1000, 3]
_h_want = _count_linear_params(_big, device="meta")
expect_equal(mlp_parameter_count(_big), _h_want, "hidden: the lecture's 285x350 MLP", integer=True)
expect_raises(lambda: mlp_parameter_count([10]), ValueError, "hidden: mlp_parameter_count([10])")
### END HIDDEN TESTS

# %% [markdown]
# The lectures count a few small networks: 3 parameters ("weights 1×2 — don't forget the
# bias!"), then 17 ("$1\times4 + 4\times2 = 12$ weights, $12 + 5 = 17$"), then 47
# ("$3\times4 + 4\times4 + 4\times2 = 36$ weights, $36 + 11 = 47$"). The weight products are
# written as (out × in) matrices listed from the output layer back, and the bias counts pin down
# the networks: 5 biases means 4 + 1 units, 11 means 4 + 4 + 3. So the networks are 2→1, 2→4→1
# and 2→4→4→3. Reading "3×4 + 4×4 + 4×2" front to back as a 3→4→4→2 network would give 10
# biases and 46 parameters, not 47; the similar textbook network 3→4→4→1 has 41. We check with
# the reference count and with real `nn.Linear` layers (`course_utils.summary.count_parameters`).

# %%
for sizes in ([2, 1], [2, 4, 1], [2, 4, 4, 3], [3, 4, 4, 2], [3, 4, 4, 1]):
    print(f"{' -> '.join(map(str, sizes)):>16}: formula {cm.mlp_parameter_count(sizes):3d}, "
          f"nn.Linear layers {count_parameters(cm.make_mlp(sizes)):3d}")

# %% [markdown]
# The lectures then scale up: a 285×350 image as a vector of $P$ = 99,750 numbers, three hidden
# layers of $H$ = 1,000 units and $O$ = 3 outputs, claimed to have "102 million parameters
# (400 MB)". Then, since computing an image gradient ($\partial/\partial x$ and
# $\partial/\partial y$ at every pixel) needs about $H = 2P$ units, the claim is "100 billion
# parameters (400 GB)". We count exactly (the big networks are built on PyTorch's `meta` device,
# which records shapes without allocating memory):

# %%
P, H, O = 285 * 350, 1000, 3
lecture_mlp = [P, H, H, H, O]
with torch.device("meta"):
    n_meta = count_parameters(cm.make_mlp(lecture_mlp))
n_exact = cm.mlp_parameter_count(lecture_mlp)
print(f"P = {P:,}; [P, 1000, 1000, 1000, 3]: {n_exact:,} parameters (meta-device model: {n_meta:,}), "
      f"{n_exact * 4 / 1e6:.0f} MB in float32 ({n_exact * 4 / 2 ** 20:.0f} MiB)")
print(f"  first layer alone: {P * H + H:,} ({100 * (P * H + H) / n_exact:.1f}% of all)")
print(f"  with RGB input (3P): {cm.mlp_parameter_count([3 * P, H, H, H, O]):,}")
n_2p = cm.mlp_parameter_count([P, 2 * P, 2 * P, 2 * P, O])
print(f"[P, 2P, 2P, 2P, 3]: {n_2p:,} parameters = {n_2p / 1e9:.1f} billion, {n_2p * 4 / 1e9:.0f} GB in float32")

# %% [markdown]
# That is 101.76 million parameters, 407 MB (decimal, $10^6$ bytes) in float32, and 99.5
# billion / 398 GB for the $H = 2P$ version. The image is treated as grey-level, one number
# per pixel; with three colour channels the first layer triples. Almost all of it sits in the
# first layer, which connects every pixel to every hidden unit: the motivation for the
# convolutional layers of chapter 02, which connect each unit to a small neighbourhood and share
# the weights across positions.
#
# ## 9. Training an MLP on the digits
#
# A two-layer MLP, 64 → 128 → 10 with ReLU, has 9,610 parameters. We train it with the
# course's own optimizer `course_utils.optim.MomentumSGD` (the update of Exercise 4, packaged
# as a `torch.optim.Optimizer` and tested against `torch.optim.SGD`) and a step decay of the
# learning rate. While it trains we measure one of the diagnostics recommended in the
# lectures: the **ratio of the update size to the weight size**,
# $\lVert \Delta W_1\rVert / \lVert W_1\rVert$ for the first layer at every step. Optimizer
# hooks let us look at the weights just before and just after every `step()`.

# %%
mlp_epochs = budget(full=20, quick=2)
seed_everything(0)
mlp = cm.make_mlp([64, 128, 10])
mlp_opt = co.MomentumSGD(mlp.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
mlp_sched = torch.optim.lr_scheduler.StepLR(mlp_opt, step_size=max(1, mlp_epochs // 2), gamma=0.1)
first_layer = mlp[1].weight
snapshot, update_ratios = {}, []
mlp_opt.register_step_pre_hook(lambda opt, args, kwargs: snapshot.update(w=first_layer.detach().clone()))
mlp_opt.register_step_post_hook(lambda opt, args, kwargs: update_ratios.append(ch.update_ratio(snapshot["w"], first_layer)))
mlp_history = fit(mlp, F.cross_entropy, train_loader, val_loader, epochs=mlp_epochs, optimizer=mlp_opt,
                  scheduler=mlp_sched, metrics={"accuracy": accuracy}, device=device)
plot_history(mlp_history, ["loss", "accuracy", "lr"]);

# %%
mlp_test = evaluate(mlp, test_loader, loss_fn=F.cross_entropy, metrics={"accuracy": accuracy})
print(f"MLP parameters: {count_parameters(mlp):,} (formula: {cm.mlp_parameter_count([64, 128, 10]):,})")
report("mlp_test_accuracy", mlp_test["accuracy"], target=0.95)

# %%
ratios = torch.tensor(update_ratios)
steps_per_epoch = len(train_loader)
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.semilogy(ratios, linewidth=0.8)
ax.axhline(1e-3, color="k", linestyle=":", label="rule of thumb 1e-3")
ax.set_xlabel("step")
ax.set_ylabel("||update|| / ||W1||")
ax.set_title("update-to-weight ratio of the first layer")
ax.legend(fontsize=8)
fig.tight_layout()
decay_step = mlp_sched.step_size * steps_per_epoch  # the first step with the lower learning rate
phases = {"first epoch": ratios[:steps_per_epoch], "last epoch before the decay": ratios[decay_step - steps_per_epoch:decay_step],
          "last epoch": ratios[-steps_per_epoch:]}
for phase, values in phases.items():
    print(f"median update/weight ratio, {phase}: {float(values.median()):.1e}")

# %% [markdown]
# At the start the ratio is well above 1e-3: the first updates reshape the random initial
# weights quickly (momentum also accumulates, so a step is up to ten times the learning rate
# times the gradient). It falls as the loss and its gradients shrink, and drops further when
# the step decay cuts the learning rate (the medians are printed above). The lectures' point is a
# rough check, not a target: a ratio around $10^{-1}$ means the weights are being thrown around (lower the
# learning rate); $10^{-5}$ or below means learning has nearly stopped (raise it).

# %% [markdown]
# ### 9.1 Adam, AdamW and learning-rate schedules
#
# Momentum gives every parameter the same learning rate. **Adam** (Kingma and Ba, 2015) gives
# each parameter its own. It keeps two running averages per parameter, one of the gradient
# $g$ (momentum, $\beta_1 = 0.9$) and one of its square ($\beta_2 = 0.999$), and divides the
# first by the square root of the second:
#
# $$ m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad
# W_t = W_{t-1} - \eta\,\frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}. $$
#
# A coordinate whose gradients are always tiny and one whose gradients are always large then
# take steps of the same size, about $\eta$: Adam is insensitive to the scale of each
# gradient, which is why it works with the same default rate ($10^{-3}$) on very different
# networks. The divisions by $1-\beta^t$ correct the start: $m$ and $v$ begin at zero, so
# without them the first steps would be far too small. **AdamW** (Loshchilov and Hutter, 2019)
# changes how weight decay enters. Adam's `weight_decay` adds $\lambda W$ to the gradient, so
# the decay is then divided by $\sqrt{v}$ like everything else and is weak exactly for the
# weights with large gradients; AdamW instead shrinks every weight by $\eta\lambda W$ directly,
# outside the division. `course_utils.optim.adam` writes both out and is tested against
# `torch.optim.Adam` and `torch.optim.AdamW`.
#
# The learning rate need not be constant. A **step decay** divides it by 10 every few epochs
# (section 9 used one); **cosine annealing** lowers it smoothly along half a cosine to zero;
# **one-cycle** (Smith, 2018) first warms up from a small rate to a peak, then anneals far
# below the start. The warm-up keeps the first, large and noisy gradients of a random network
# from throwing the weights around; the low final rate lets SGD settle below its noise floor.
# Chapters 02 and 03 train with Adam and one-cycle. `course_utils.optim.schedules` computes each
# schedule as a plain function of the step and is tested against `torch.optim.lr_scheduler`.

# %%
sched_steps = 200
schedule_curves = {
    "step decay (x0.1 every 80)": [co.step_decay(t, 0.1, factor=0.1, every=80) for t in range(sched_steps)],
    "cosine": [cosine_schedule(t, sched_steps, 0.1) for t in range(sched_steps)],
    "one-cycle (peak at 30%)": [one_cycle_schedule(t, sched_steps, 0.1) for t in range(sched_steps)],
}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.3))
for name, curve in schedule_curves.items():
    axes[0].plot(curve, label=name)
axes[0].set_xlabel("optimizer step")
axes[0].set_ylabel("learning rate")
axes[0].set_title("three learning-rate schedules")
axes[0].legend(fontsize=8)
# f(p) = (100 p1^2 + 0.01 p2^2) / 2: curvatures 10,000 times apart.
curvature = torch.tensor([100.0, 0.01], dtype=torch.float64)
adam_p, adam_state = torch.tensor([1.0, 1.0], dtype=torch.float64), None
sgd_p = adam_p.clone()
adam_path, sgd_path = [adam_p.clone()], [sgd_p.clone()]
for t in range(30):
    adam_p, adam_state = adam_step(adam_p, curvature * adam_p, adam_state, lr=0.02)
    sgd_p = sgd_p - 0.005 * curvature * sgd_p  # stable only for lr < 2/100
    adam_path.append(adam_p.clone())
    sgd_path.append(sgd_p.clone())
adam_path, sgd_path = torch.stack(adam_path), torch.stack(sgd_path)
for k, style in ((0, "-"), (1, "--")):
    axes[1].plot(adam_path[:, k], style, color="tab:red", label=f"Adam, coordinate {k + 1}")
    axes[1].plot(sgd_path[:, k], style, color="tab:blue", label=f"SGD, coordinate {k + 1}")
axes[1].set_xlabel("step")
axes[1].set_ylabel("value")
axes[1].set_title("f = (100 p1² + 0.01 p2²) / 2 from (1, 1)")
axes[1].legend(fontsize=7)
fig.tight_layout()
print(f"after 30 steps: Adam at ({adam_path[-1, 0]:.3f}, {adam_path[-1, 1]:.3f}), "
      f"SGD with lr 0.005 at ({sgd_path[-1, 0]:.3g}, {sgd_path[-1, 1]:.4f})")

# %% [markdown]
# SGD must keep its rate below $2/100$ for the steep coordinate; at $0.005$ the flat one then
# shrinks by a factor $1 - 0.005 \cdot 0.01$ per step, which is almost no progress. Adam's
# steps are about $\eta$ in both coordinates, whatever their gradients, so both move at the
# same speed. (Adam is no cure-all: near the minimum of the steep coordinate it still needs a
# falling learning rate to settle, which is one job of the schedules above.) Below, the MLP of
# section 9 is trained again with AdamW and a one-cycle schedule (stepped after every batch)
# instead of momentum SGD and a step decay (full mode: half the epochs of section 9).

# %%
adamw_epochs = budget(full=10, quick=2)
seed_everything(0)
mlp_adamw = cm.make_mlp([64, 128, 10])
adamw_opt = Adam(mlp_adamw.parameters(), lr=3e-3, weight_decay=1e-2, decoupled=True)
adamw_sched = torch.optim.lr_scheduler.OneCycleLR(adamw_opt, max_lr=3e-3, total_steps=adamw_epochs * len(train_loader))
adamw_history = fit(mlp_adamw, F.cross_entropy, train_loader, val_loader, epochs=adamw_epochs, optimizer=adamw_opt,
                    scheduler=adamw_sched, scheduler_step="batch", metrics={"accuracy": accuracy}, device=device)
adamw_test = evaluate(mlp_adamw, test_loader, loss_fn=F.cross_entropy, metrics={"accuracy": accuracy})
print(f"test accuracy: momentum SGD + step decay, {mlp_epochs} epochs: {mlp_test['accuracy']:.3f}; "
      f"AdamW + one-cycle, {adamw_epochs} epochs: {adamw_test['accuracy']:.3f}")

# %% [markdown]
# ## 10. Choosing hyper-parameters
#
# The learning rate, momentum, weight decay, the number of hidden units, $k$ in k-NN: none of
# them is learned by gradient descent. They are chosen by training several models and comparing
# them on **validation** data (never on the test data, which must stay an honest estimate of
# the final model). Training is expensive, so the search itself needs a strategy, and the
# curves of each run tell us a lot before it ends.
#
# ### 10.1 Reading loss curves and detecting explosions
#
# The shape of the training loss says which way to move the learning rate. A curve that
# barely falls means the rate is too low; a curve that drops and then plateaus high, or is very
# noisy, suggests it is too high; a loss that shoots up has exploded. The lectures give a cheap
# test for the last case: **if the loss ever exceeds 3 times its initial value, stop the run** —
# it will not recover, and the time is better spent on the next configuration
# (`course_utils.hparam.is_exploding`). Below: one MLP (64 → 64 → 10), full-batch SGD with
# momentum on the training digits, four learning rates.

# %%
curve_steps = budget(full=100, quick=20)
lr_curves = {}
for lr in (1e-3, 1e-2, 1e-1, 3.0):
    seed_everything(0)
    lr_curves[lr] = train_full_batch(cm.make_mlp([64, 64, 10], flatten=False), X_train, y_train, lr=lr,
                                     steps=curve_steps, explode_factor=ch.EXPLOSION_FACTOR)
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for lr, log in lr_curves.items():
    stop = "" if log["stopped_at"] is None else f", stopped at step {log['stopped_at']}"
    ax.semilogy(log["loss"], label=f"lr {lr:g}{stop}")
ax.axhline(ch.EXPLOSION_FACTOR * lr_curves[1e-3]["loss"][0], color="gray", linestyle=":", label="3 x initial loss")
ax.set_xlabel("step")
ax.set_ylabel("training loss")
ax.legend(fontsize=8)
fig.tight_layout()
print(f"initial loss {lr_curves[1e-3]['loss'][0]:.3f} (log 10 = {math.log(10):.3f})")

# %% [markdown]
# ### 10.2 The gap between training and validation
#
# The lectures' second plot is accuracy on training and validation data over time. A **big gap**
# (training accuracy far above validation) means overfitting: get more data, regularize more, or
# shrink the model. **No gap at all** usually means the model is too small or training too short:
# increase capacity. We train the same MLP (64 → 128 → 10) on 150 training images with and
# without weight decay, and on all 1,078.

# %%
gap_steps = budget(full=200, quick=20)
gap_runs = {"150 images": (150, 0.0), "150 images, weight decay 0.01": (150, 1e-2), "1078 images": (len(X_train), 0.0)}
gap_logs = {}
for name, (n_images, wd) in gap_runs.items():
    seed_everything(0)
    gap_logs[name] = train_full_batch(cm.make_mlp([64, 128, 10], flatten=False), X_train[:n_images], y_train[:n_images],
                                      lr=0.1, steps=gap_steps, weight_decay=wd, x_val=X_val, y_val=y_val)
fig, axes = plt.subplots(1, len(gap_logs), figsize=(13, 3.2), sharey=True)
for ax, (name, log) in zip(axes, gap_logs.items()):
    ax.plot(log["train_acc"], label="train")
    ax.plot(log["val_acc"], label="validation")
    ax.set_title(f"{name}\ngap at the end: {log['train_acc'][-1] - log['val_acc'][-1]:.3f}", fontsize=9)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("accuracy")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# With 150 images the network reaches 100% training accuracy and stays far below on validation
# data; weight decay changes little here. Seven times more data shrinks the gap to a few
# percent: when it is available, more data is the most reliable regularizer.
#
# ### 10.3 Random search beats grid search
#
# With a budget of 9 training runs and 2 hyper-parameters, a 3×3 grid tries only **3**
# different values of each. If one hyper-parameter matters much more than the other (common:
# the learning rate usually matters most), 6 of the 9 runs are wasted repeating the same 3
# values of the important one. Random search tries **9** different values of each
# (Bergstra and Bengio, 2012). Below, a made-up score that depends strongly on the first
# hyper-parameter and hardly on the second; we also measure, over 1,000 random repetitions,
# how good the best of 9 trials is on average.

# %%
def toy_score(a, b):
    """Strongly peaked in a (the important hyper-parameter), nearly flat in b."""
    return np.exp(-((a - 0.62) / 0.08) ** 2) + 0.05 * np.sin(3 * b)


unit_space = {"a": (0.0, 1.0, "linear"), "b": (0.0, 1.0, "linear")}
grid = ch.grid_configs(unit_space, 3)
rand = ch.random_configs(unit_space, 9, seed=1)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
aa = np.linspace(0, 1, 300)
for ax, cfgs, name in ((axes[0], grid, "grid, 3 x 3"), (axes[1], rand, "random, 9 trials")):
    a_vals = np.array([c["a"] for c in cfgs])
    b_vals = np.array([c["b"] for c in cfgs])
    ax.scatter(a_vals, b_vals, color="tab:red", zorder=3)
    ax.plot(aa, 0.9 * toy_score(aa, 0.0) / toy_score(aa, 0.0).max() - 0.35, color="tab:blue")
    ax.vlines(a_vals, -0.35, 1.0, colors="tab:red", alpha=0.2)
    best = max(toy_score(c["a"], c["b"]) for c in cfgs)
    ax.set_title(f"{name}: {len(set(np.round(a_vals, 9)))} distinct values of a, best score {best:.2f}")
    ax.set_xlabel("a (important)")
    ax.set_ylabel("b (unimportant)")
    ax.set_ylim(-0.4, 1.05)
fig.tight_layout()
repeats = [max(toy_score(c["a"], c["b"]) for c in ch.random_configs(unit_space, 9, seed=s)) for s in range(1000)]
grid_best = max(toy_score(c["a"], c["b"]) for c in grid)
print(f"best of 9: grid {grid_best:.3f}; random search, mean over 1000 repetitions {np.mean(repeats):.3f}")

# %% [markdown]
# ### 10.4 Sample in log space
#
# A learning rate of $10^{-4}$ and one of $2 \cdot 10^{-4}$ behave very differently; $0.5$ and
# $0.5001$ do not. Hyper-parameters that act by multiplication (learning rates, weight decay)
# should be sampled so that every factor of 10 gets the same share of trials: draw the
# *exponent* uniformly, $\eta = 10^{u}$ with $u \sim \mathcal{U}(\log_{10}\eta_\text{lo},
# \log_{10}\eta_\text{hi})$. Drawing $\eta$ uniformly between $10^{-6}$ and $10^{-2}$ instead
# would put $(10^{-2} - 10^{-3}) / (10^{-2} - 10^{-6}) \approx 90\%$ of the trials in the top
# decade and $(10^{-2} - 10^{-4}) / (10^{-2} - 10^{-6}) \approx 99\%$ in the top two, leaving
# about 1% for the two lowest decades together. (NumPy's `uniform(-3, -6)`, with the bounds
# reversed, samples the same interval; write them in order all the same.)
#
# **Exercise 7.** Implement log-uniform sampling with a `torch.Generator`, so that the same
# seed gives the same samples.

# %% nbgrader={"grade": false, "grade_id": "sample_log_uniform", "locked": false, "schema_version": 3, "solution": true}
def sample_log_uniform(low, high, n, generator):
    """n samples whose base-10 logarithm is uniform between log10(low) and log10(high).

    Args:
        low, high: floats with 0 < low < high.
        n: number of samples (int >= 0).
        generator: a torch.Generator; use it for ALL randomness (torch.rand(..., generator=generator)),
            so that two generators with the same seed give the same samples.

    Returns:
        Tensor[n] float64, every value in [low, high].

    Raises:
        ValueError: if low <= 0 or high <= low.
    """
    ### BEGIN SOLUTION
    if low <= 0 or high <= low:
        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    u = torch.rand(n, generator=generator, dtype=torch.float64)  # uniform in [0, 1)
    exponent = math.log10(low) + u * (math.log10(high) - math.log10(low))
    return (10.0 ** exponent).clamp(low, high)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_log_uniform", "locked": true, "points": 2, "schema_version": 3, "solution": false}
# validity: dtype-stated
_x = sample_log_uniform(1e-5, 1e-1, 20_000, torch.Generator().manual_seed(0))
expect_tensor(_x, "sample_log_uniform(1e-5, 1e-1, 20000, g)", shape=(20_000,), dtype=torch.float64)
assert float(_x.min()) >= 1e-5 and float(_x.max()) <= 1e-1, (
    f"samples must lie in [1e-5, 1e-1], got min {float(_x.min()):.3g} and max {float(_x.max()):.3g}")
_share = [float(((_x >= 10.0 ** e) & (_x < 10.0 ** (e + 1))).double().mean()) for e in range(-5, -1)]
assert all(abs(s - 0.25) < 0.02 for s in _share), (
    f"each of the 4 decades should hold about 25% of the samples, got {[round(s, 3) for s in _share]} "
    "(uniform sampling in linear space puts almost everything in the top decade)")
_a = expect_tensor(sample_log_uniform(1e-3, 1.0, 5, torch.Generator().manual_seed(42)), "5 samples", shape=(5,))
_b = expect_tensor(sample_log_uniform(1e-3, 1.0, 5, torch.Generator().manual_seed(42)), "5 samples", shape=(5,))
assert torch.equal(_a, _b), "two generators with the same seed must give the same samples: use generator="
print("sample_log_uniform: visible tests passed")
### BEGIN HIDDEN TESTS
with forbid(ch.sample_log_uniform, ch.random_configs, exercise="sample_log_uniform"):
    for lo_, hi_ in ((1e-6, 1e-2), (0.5, 2.0), (3.0, 3000.0)):
        xs_ = sample_log_uniform(lo_, hi_, 50_000, torch.Generator().manual_seed(3))
        expect_tensor(xs_, f"hidden: samples in [{lo_}, {hi_}]", shape=(50_000,), dtype=torch.float64)
        assert float(xs_.min()) >= lo_ and float(xs_.max()) <= hi_, f"hidden: range [{lo_}, {hi_}]"
        u_ = ((torch.log10(xs_) - math.log10(lo_)) / (math.log10(hi_) - math.log10(lo_))).sort().values
        ks_ = float((u_ - torch.arange(1, len(u_) + 1, dtype=u_.dtype) / len(u_)).abs().max())
        assert ks_ < 0.01, f"hidden: log10 of the samples is not uniform on [{lo_}, {hi_}] (KS distance {ks_:.3f})"
        assert abs(float(u_.mean()) - 0.5) < 0.01 and abs(float(u_.var()) - 1 / 12) < 0.005, "hidden: moments"
    expect_tensor(sample_log_uniform(1e-3, 1.0, 0, torch.Generator().manual_seed(0)), "hidden: n = 0", shape=(0,))
    expect_raises(lambda: sample_log_uniform(0.0, 1.0, 3, torch.Generator()), ValueError, "hidden: low = 0")
    expect_raises(lambda: sample_log_uniform(1.0, 0.1, 3, torch.Generator()), ValueError, "hidden: high < low")
    torch.manual_seed(0)
    c1 = expect_tensor(sample_log_uniform(1e-3, 1.0, 4, torch.Generator().manual_seed(5)), "hidden: samples")
    torch.manual_seed(1)
    c2 = expect_tensor(sample_log_uniform(1e-3, 1.0, 4, torch.Generator().manual_seed(5)), "hidden: samples")
    assert torch.equal(c1, c2), "hidden: samples depend on the global RNG instead of the generator"
### END HIDDEN TESTS

# %% [markdown]
# ### 10.5 Coarse-to-fine random search
#
# The lectures' recipe: a **coarse** stage with short runs (a few epochs) over wide ranges, to
# find the region where anything works; then a **fine** stage with longer runs over the narrowed
# ranges; repeat if needed. We search the learning rate in $[10^{-4}, 10]$ and the weight decay
# in $[10^{-6}, 10^{-1}]$ for the 64 → 64 → 10 MLP, stop exploding runs early, and narrow the
# ranges around the 5 best coarse runs with `course_utils.hparam.refine_space`.

# %%
def search(space, n_trials, steps, seed):
    results = []
    for cfg in ch.random_configs(space, n_trials, seed=seed):
        seed_everything(0)
        model = cm.make_mlp([64, 64, 10], flatten=False)
        log = train_full_batch(model, X_train, y_train, lr=cfg["lr"], steps=steps,
                               weight_decay=cfg["weight_decay"], explode_factor=ch.EXPLOSION_FACTOR)
        with torch.no_grad():
            val = float((model(X_val).argmax(1) == y_val).double().mean()) if log["stopped_at"] is None else float("nan")
        results.append((cfg, val, log["stopped_at"]))
    return results


coarse_space = {"lr": (1e-4, 10.0, "log"), "weight_decay": (1e-6, 1e-1, "log")}
coarse_steps = budget(full=25, quick=8)
coarse = search(coarse_space, n_trials=budget(full=20, quick=6), steps=coarse_steps, seed=0)
fine_space = ch.refine_space(coarse_space, [c for c, _, _ in coarse], [v for _, v, _ in coarse], top=5, margin=0.25)
fine = search(fine_space, n_trials=budget(full=12, quick=4), steps=budget(full=80, quick=12), seed=1)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, key in zip(axes, ("lr", "weight_decay")):
    for results, name, marker in ((coarse, "coarse (short runs)", "o"), (fine, "fine (longer runs)", "s")):
        ok = [(c[key], v) for c, v, stop in results if stop is None]
        ax.scatter([k for k, _ in ok], [v for _, v in ok], marker=marker, label=name, alpha=0.8)
        exploded = [c[key] for c, v, stop in results if stop is not None]
        ax.scatter(exploded, [0.0] * len(exploded), marker="x", color="tab:red",
                   label="exploded (stopped early)" if name.startswith("coarse") else None)
    ax.axvspan(fine_space[key][0], fine_space[key][1], color="tab:orange", alpha=0.12, label="fine range")
    ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=7)
fig.tight_layout()
n_exploded = sum(stop is not None for _, _, stop in coarse)
steps_saved = sum(coarse_steps - stop - 1 for _, _, stop in coarse if stop is not None)
best_cfg, best_val, _ = max(fine, key=lambda r: -1.0 if math.isnan(r[1]) else r[1])
print(f"coarse: {len(coarse)} runs, {n_exploded} exploded and were stopped early ({steps_saved} steps saved)")
print("fine ranges: " + ", ".join(f"{k} [{lo:.2g}, {hi:.2g}]" for k, (lo, hi, _) in fine_space.items()))
print(f"best fine run: lr {best_cfg['lr']:.3g}, weight decay {best_cfg['weight_decay']:.2g}, val accuracy {best_val:.3f}")
print(f"hyper-parameters at the edge of their fine range: {ch.at_boundary(fine_space, best_cfg) or 'none'}")

# %% [markdown]
# The lectures end their own fine search (learning rate in $[10^{-4}, 10^{-3}]$, regularization
# in $[10^{-4}, 1]$) with a best validation accuracy of 53.1% at a learning rate of
# $9.47 \cdot 10^{-4}$, and ask why this result is worrying. The answer is where it lies:

# %%
lecture_fine = {"lr": (1e-4, 1e-3, "log"), "reg": (1e-4, 1.0, "log")}
lecture_best = {"lr": 9.471549e-04, "reg": 1.433895e-03}
position = (math.log10(lecture_best["lr"]) + 4) / 1.0  # 0 at 1e-4, 1 at 1e-3 (one decade)
print(f"the best learning rate sits {100 * position:.0f}% of the way (in log space) to the upper end of its range; "
      f"at the edge: {ch.at_boundary(lecture_fine, lecture_best)}")

# %% [markdown]
# The best learning rate sits at the very top of the searched range, so the optimum probably
# lies *outside* it: the next stage should widen the range above $10^{-3}$ instead of searching
# more finely inside it. Always check whether your best configuration is at a boundary.
#
# ### 10.6 k-fold cross-validation
#
# With little data, one validation split is a noisy judge: a few lucky images can decide
# between two settings. **k-fold cross-validation** cuts the training data into $k$ folds,
# trains $k$ times, each time validating on one fold and training on the other $k-1$, and
# averages the $k$ scores. Every image is used for validation once, and the spread of the
# $k$ scores shows how much a single split can be trusted. The price is $k$ trainings per
# setting, so it is common for small datasets and cheap models (k-NN here) and rare for large
# networks. The test split still stays out of it.

# %%
cv_x, cv_y = torch.cat([X_train, X_val]), torch.cat([y_train, y_val])  # train + val, never the test split
n_folds = 5
folds = torch.randperm(len(cv_x), generator=torch.Generator().manual_seed(0)).chunk(n_folds)
cv_scores = {}
for k in (1, 3, 5, 9, 25):
    scores_k = []
    for i, held_out in enumerate(folds):
        rest = torch.cat([f for j, f in enumerate(folds) if j != i])
        pred = cl.knn_predict(cv_x[rest], cv_y[rest], cv_x[held_out], k=k)
        scores_k.append(float((pred == cv_y[held_out]).double().mean()))
    cv_scores[k] = scores_k
for k, sc in cv_scores.items():
    print(f"k = {k:2d}: {n_folds}-fold accuracy {np.mean(sc):.3f} +- {np.std(sc):.3f} (folds: {', '.join(f'{v:.3f}' for v in sc)})")
print(f"k chosen by {n_folds}-fold cross-validation: {max(cv_scores, key=lambda k: np.mean(cv_scores[k]))}; "
      f"by the single validation split (section 2): {best_k}")

# %% [markdown]
# ## Summary
#
# * An image is a long vector of pixel values; classification is a question about regions of
#   that high-dimensional space.
# * k-NN needs no training but pays at prediction time ($N \cdot D$ per query) and relies on a
#   pixel distance that changes a lot under a 1-pixel shift: here its test accuracy dropped
#   sharply (section 2 prints both numbers).
# * A linear classifier $W\mathbf{x} + \mathbf{b}$ keeps one template per class; its score is
#   proportional (not equal) to the signed distance to a hyperplane.
# * The hinge loss asks for a margin; without one, $W = 0$ is a perfect minimizer. The softmax
#   cross-entropy reads scores as log-probabilities; compute it in the log domain, subtracting
#   the maximum score, or $e^{437.9}$ overflows. Its gradient is softmax minus one-hot, over $N$.
# * Check hand-written gradients with central differences and a relative error.
# * Gradient descent converges on a quadratic only for $\eta < 2/\lambda_\max$; the lecture's
#   four learning rates on the Booth function match this exactly. Momentum damps zig-zags;
#   step decay gets below the noise floor of SGD. Adam scales each parameter's step by its own
#   gradient history; AdamW applies weight decay outside that scaling. Warm-up and cosine or
#   one-cycle schedules are the usual alternatives to step decay. Convex losses have no bad local minima;
#   networks with hidden layers are not convex.
# * Underfitting: too simple, bad even on training data. Overfitting: fits the noise, large
#   train/validation gap. L2 regularization and more data help.
# * Without a nonlinearity, stacked linear layers collapse into one; XOR needs a hidden layer.
#   Backprop multiplies upstream by local gradients.
# * A fully connected layer has $ab + b$ parameters; a 285×350 image into three hidden layers of
#   1,000 units needs 101.8 million of them, almost all in the first layer.
# * Search hyper-parameters randomly, in log space, coarse to fine (with k-fold
#   cross-validation when the data are few and the model cheap); stop runs whose loss
#   exceeds 3× the initial loss; watch the train/validation gap, the update-to-weight ratio, and
#   whether the best value sits at the edge of the range.
