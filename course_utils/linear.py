"""Reference versions of the first classifiers of the course: k-NN, linear-model losses, L2.

Every op is written twice: a ``*_loop`` version that follows the formula one example
(or one pair) at a time, and a vectorized version. Tests compare them with each other
and with PyTorch (``torch.cdist``, ``F.cross_entropy``, ``F.multi_margin_loss``, autograd).

Conventions:

* Data are rows: ``x`` is ``Tensor[N, D]`` (N examples with D features, e.g. flattened
  pixels), ``scores`` is ``Tensor[N, C]`` (one score per class, the output ``x @ W.T + b``
  of a linear classifier), ``labels`` is ``Tensor[N]`` int64 with values in ``0..C-1``.
* A loss function returns ``(loss, dscores)``: the loss is the **mean over the N examples**
  (a 0-d tensor, built from differentiable torch ops so autograd can also go through it)
  and ``dscores`` (``Tensor[N, C]``) is its gradient with respect to ``scores``,
  computed by hand.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_number, check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = [
    "pairwise_distances_loop",
    "pairwise_distances",
    "knn_predict_loop",
    "knn_predict",
    "softmax_cross_entropy_loop",
    "softmax_cross_entropy",
    "multiclass_hinge_loop",
    "multiclass_hinge",
    "l2_regularization_loop",
    "l2_regularization",
]


# --------------------------------------------------------------------------- checks


def _check_points(a: Tensor, name: str, like: Tensor | None = None, like_name: str = "") -> Tensor:
    """Points ``Tensor[M, D]``: floating and finite (coordinates), with the D and device of ``like``."""
    if like is None:
        check_tensor(a, name, ndim=2, floating=True, finite=True)
    else:
        check_tensor(a, name, shape=(None, like.shape[1]), floating=True, finite=True)
        if a.device != like.device:
            raise ValueError(f"{name} must be on the device of {like_name} ({like.device}), got {a.device}")
    return a


def _check_scores_labels(scores: Tensor, labels: Tensor) -> None:
    check_tensor(scores, "scores", ndim=2, floating=True, finite=True)
    check_tensor(labels, "labels", shape=(scores.shape[0],), dtypes=(torch.int64,))
    if labels.device != scores.device:
        raise ValueError(f"labels must be on the device of scores ({scores.device}), got {labels.device}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= scores.shape[1]):
        raise ValueError(f"labels must lie in 0..{scores.shape[1] - 1} (one per column of scores), "
                         f"got values in {int(labels.min())}..{int(labels.max())}")


def _check_knn(train_x: Tensor, train_y: Tensor, test_x: Tensor, k: int) -> None:
    _check_points(train_x, "train_x")
    check_tensor(train_y, "train_y", shape=(train_x.shape[0],), dtypes=(torch.int64,))
    if train_y.device != train_x.device:
        raise ValueError(f"train_y must be on the device of train_x ({train_x.device}), got {train_y.device}")
    _check_points(test_x, "test_x", train_x, "train_x")
    check_positive_int(k, "k")
    if k > train_x.shape[0]:
        raise ValueError(f"k must be at most the number of training points ({train_x.shape[0]}), got {k}")
    if train_y.numel() and int(train_y.min()) < 0:
        raise ValueError(f"train_y must hold non-negative class indices, got minimum {int(train_y.min())}")


# --------------------------------------------------------------------------- distances


def pairwise_distances_loop(a: Tensor, b: Tensor) -> Tensor:
    """Euclidean distance between every row of ``a`` and every row of ``b``, one pair at a time.

    Args:
        a: ``Tensor[M, D]``.
        b: ``Tensor[N, D]``.

    Returns:
        ``Tensor[M, N]`` with ``out[i, j] = ||a[i] - b[j]||_2``.

    Examples:
        >>> pairwise_distances_loop(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5., 1.]])
    """
    _check_points(a, "a")
    _check_points(b, "b", a, "a")
    rows, b_rows = [], b.tolist()
    for p in a.tolist():
        # sqrt(sum_k (p_k - q_k) ** 2) for every row q of b, in Python floats (math.dist cannot
        # overflow on the squares)
        rows.append([math.dist(p, q) for q in b_rows])
    out = torch.tensor(rows, dtype=torch.float64, device=a.device).reshape(a.shape[0], b.shape[0])
    return out.to(torch.promote_types(a.dtype, b.dtype))


def pairwise_distances(a: Tensor, b: Tensor) -> Tensor:
    """Vectorized Euclidean distances through ``||a||^2 + ||b||^2 - 2 a.b`` (one matrix product).

    The squares of large coordinates would overflow (1e20 squared is inf in float32, and
    inf - inf is NaN), so both sets are first divided by a power of two above their largest
    absolute value (exactly) and the distances multiplied back: the same distances, for any
    finite input.

    Args:
        a: ``Tensor[M, D]`` float, finite.
        b: ``Tensor[N, D]`` float, finite (float32 and float64 mix: the result is float64).

    Returns:
        ``Tensor[M, N]``, the same values as :func:`pairwise_distances_loop` up to rounding.

    Examples:
        >>> pairwise_distances(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5., 1.]])
    """
    _check_points(a, "a")
    _check_points(b, "b", a, "a")
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = a.to(dtype), b.to(dtype)
    if a.numel() == 0 or b.numel() == 0:  # no point, or no feature: every distance is 0
        return a.new_zeros(a.shape[0], b.shape[0])
    largest = torch.maximum(a.detach().abs().amax(), b.detach().abs().amax())
    # A power of two >= every |coordinate| (1 for all zeros): dividing by it is exact, so
    # the distances are bit for bit those of the unscaled formula wherever that one is finite.
    max_exponent = math.frexp(torch.finfo(dtype).max)[1] - 1  # 2**128 itself is inf in float32
    exponent = torch.frexp(largest).exponent.clamp(max=max_exponent)
    scale = torch.ldexp(torch.ones_like(largest), exponent)
    a, b = a / scale, b / scale  # |coordinates| <= 1: the squares below cannot overflow
    aa = (a * a).sum(dim=1, keepdim=True)  # [M, 1]
    bb = (b * b).sum(dim=1)[None, :]  # [1, N]
    sq = aa + bb - 2.0 * a @ b.T  # [M, N]
    # Cancellation can make a true 0 slightly negative; sqrt of that would be nan.
    return sq.clamp_min(0.0).sqrt() * scale


# --------------------------------------------------------------------------- k-NN


def _knn_vote(dist: Tensor, train_y: Tensor, k: int) -> Tensor:
    """scikit-learn's k-NN vote on ``dist`` (``Tensor[M, N]``), equal distances ordered by training index."""
    from scipy.sparse import identity
    from sklearn.neighbors import KNeighborsClassifier
    if dist.shape[0] == 0:
        return torch.zeros(0, dtype=torch.int64, device=dist.device)
    # Distinct ranks instead of distances: sklearn's partial sort would order equal distances arbitrarily.
    ranks = dist.argsort(dim=1, stable=True).argsort(dim=1).double()  # [M, N]
    clf = KNeighborsClassifier(n_neighbors=k, metric="precomputed")
    clf.fit(identity(train_y.shape[0], format="csr"), train_y.cpu().numpy())  # a precomputed fit only stores y
    return torch.from_numpy(clf.predict(ranks.cpu().numpy()).astype(np.int64)).to(dist.device)


def _knn_predict_loop_twin(train_x, train_y, test_x, k=1):
    """Twin of :func:`knn_predict_loop`: ``torch.cdist`` and scikit-learn's ``KNeighborsClassifier``."""
    _check_knn(train_x, train_y, test_x, k)
    dtype = torch.promote_types(train_x.dtype, test_x.dtype)
    return _knn_vote(torch.cdist(test_x.to(dtype), train_x.to(dtype), compute_mode="donot_use_mm_for_euclid_dist"),
                     train_y, k)


@reference_of("01_linear_models/knn_predict", twin=_knn_predict_loop_twin)
def knn_predict_loop(train_x: Tensor, train_y: Tensor, test_x: Tensor, k: int = 1) -> Tensor:
    """k-nearest-neighbour labels, one test point at a time.

    Each test point gets the label that is most frequent among its ``k`` nearest
    training points (Euclidean distance). **Ties:** if several labels have the same
    number of votes, the smallest label wins; among training points at exactly the
    same distance, the one with the lower index is nearer (a stable sort).

    Args:
        train_x: ``Tensor[N, D]`` training points.
        train_y: ``Tensor[N]`` int64 labels (>= 0).
        test_x: ``Tensor[M, D]`` query points.
        k: number of neighbours, ``1 <= k <= N``.

    Returns:
        ``Tensor[M]`` int64 predicted labels.

    Examples:
        >>> train_x = torch.tensor([[0.0], [1.0], [10.0]]); train_y = torch.tensor([0, 0, 1])
        >>> knn_predict_loop(train_x, train_y, torch.tensor([[9.0], [2.0]]), k=1)
        tensor([1, 0])
    """
    _check_knn(train_x, train_y, test_x, k)
    out = torch.zeros(test_x.shape[0], dtype=torch.int64, device=test_x.device)
    for i in range(test_x.shape[0]):
        dist = torch.sqrt(((train_x - test_x[i]) ** 2).sum(dim=1))  # [N]
        nearest = torch.sort(dist, stable=True).indices[:k]
        votes: dict[int, int] = {}
        for j in nearest.tolist():
            label = int(train_y[j])
            votes[label] = votes.get(label, 0) + 1
        best = max(votes.values())
        out[i] = min(label for label, count in votes.items() if count == best)
    return out


def _knn_predict_twin(train_x, train_y, test_x, k=1, *, chunk=1024):
    """Twin of :func:`knn_predict`: the same distances, scikit-learn's ``KNeighborsClassifier`` vote."""
    _check_knn(train_x, train_y, test_x, k)
    check_positive_int(chunk, "chunk")
    preds = [_knn_vote(pairwise_distances(test_x[start:start + chunk], train_x), train_y, k)
             for start in range(0, test_x.shape[0], chunk)]
    return torch.cat(preds) if preds else torch.zeros(0, dtype=torch.int64, device=test_x.device)


@reference_of("01_linear_models/knn_predict", twin=_knn_predict_twin)
def knn_predict(train_x: Tensor, train_y: Tensor, test_x: Tensor, k: int = 1, *, chunk: int = 1024) -> Tensor:
    """Vectorized k-NN: one distance matrix, ``argsort``, then a vote count per class.

    Same rule and ties as :func:`knn_predict_loop` (most votes; smallest label on a tie;
    equal distances ordered by training index). Test points are processed ``chunk`` at a
    time so the ``[chunk, N]`` distance matrix stays small.

    Args:
        train_x: ``Tensor[N, D]``.
        train_y: ``Tensor[N]`` int64 labels (>= 0).
        test_x: ``Tensor[M, D]``.
        k: number of neighbours, ``1 <= k <= N``.

    Returns:
        ``Tensor[M]`` int64.

    Examples:
        >>> train_x = torch.tensor([[0.0], [1.0], [10.0]]); train_y = torch.tensor([0, 0, 1])
        >>> knn_predict(train_x, train_y, torch.tensor([[9.0], [2.0]]), k=3)
        tensor([0, 0])
    """
    _check_knn(train_x, train_y, test_x, k)
    check_positive_int(chunk, "chunk")
    # Votes are counted per *distinct* label (at most N of them), not per label value: a label
    # of 10**12 must not ask for a table of 10**12 counts. unique() sorts, so the first
    # maximum of a row is still the smallest label.
    classes, compact = torch.unique(train_y, sorted=True, return_inverse=True)  # [U], [N] in 0..U-1
    preds = []
    for start in range(0, test_x.shape[0], chunk):
        dist = pairwise_distances(test_x[start:start + chunk], train_x)  # [m, N]
        nearest = dist.argsort(dim=1, stable=True)[:, :k]  # [m, k]
        neighbour_labels = compact[nearest]  # [m, k]
        votes = torch.zeros(neighbour_labels.shape[0], classes.shape[0], dtype=torch.int64, device=test_x.device)
        votes.scatter_add_(1, neighbour_labels, torch.ones_like(neighbour_labels))  # [m, U]
        preds.append(classes[votes.argmax(dim=1)])  # argmax returns the first maximum = the smallest label
    if not preds:
        return torch.zeros(0, dtype=torch.int64, device=test_x.device)
    return torch.cat(preds)


# --------------------------------------------------------------------------- softmax cross-entropy


def _softmax_cross_entropy_twin(scores, labels):
    """Twin of the softmax cross-entropy references: ``F.cross_entropy``, its gradient by autograd."""
    _check_scores_labels(scores, labels)
    if scores.shape[0] == 0:
        return scores.new_zeros(()), torch.zeros_like(scores)
    with torch.enable_grad():
        leaf = scores.detach().requires_grad_(True)
        (dscores,) = torch.autograd.grad(F.cross_entropy(leaf, labels), leaf)
    return F.cross_entropy(scores, labels), dscores


@reference_of("01_linear_models/softmax_cross_entropy", twin=_softmax_cross_entropy_twin)
def softmax_cross_entropy_loop(scores: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Mean softmax cross-entropy and its gradient, one example at a time.

    For one example with scores ``s`` and label ``y``:
    ``L = -log(exp(s_y) / sum_j exp(s_j)) = -s_y + log sum_j exp(s_j)`` and
    ``dL/ds_j = p_j - [j == y]`` with ``p = softmax(s)``. The batch loss is the mean,
    so the gradient of each row is divided by N.

    Args:
        scores: ``Tensor[N, C]`` float.
        labels: ``Tensor[N]`` int64 in ``0..C-1``.

    Returns:
        ``(loss Tensor[], dscores Tensor[N, C])``; for N = 0 the loss is 0.

    Examples:
        >>> loss, d = softmax_cross_entropy_loop(torch.zeros(1, 4), torch.tensor([2]))
        >>> round(float(loss), 4), d.tolist()
        (1.3863, [[0.25, 0.25, -0.75, 0.25]])
    """
    _check_scores_labels(scores, labels)
    n = scores.shape[0]
    total = scores.new_zeros(())
    dscores = torch.zeros_like(scores)
    for i in range(n):
        s = scores[i] - scores[i].max()  # shifting all scores leaves softmax unchanged, avoids exp overflow
        log_sum = torch.log(torch.exp(s).sum())
        total = total + (log_sum - s[labels[i]])
        p = torch.exp(s - log_sum).detach()  # the gradient is computed by hand, not by autograd
        for j in range(scores.shape[1]):
            dscores[i, j] = (p[j] - (1.0 if j == int(labels[i]) else 0.0)) / n
    return (total / n if n else total), dscores


@reference_of("01_linear_models/softmax_cross_entropy", twin=_softmax_cross_entropy_twin)
def softmax_cross_entropy(scores: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Vectorized mean softmax cross-entropy and its gradient (numerically stable).

    The same values as ``F.cross_entropy(scores, labels)`` and its autograd gradient.

    Args:
        scores: ``Tensor[N, C]`` float.
        labels: ``Tensor[N]`` int64 in ``0..C-1``.

    Returns:
        ``(loss Tensor[], dscores Tensor[N, C])``; for N = 0 the loss is 0.

    Examples:
        >>> loss, d = softmax_cross_entropy(torch.tensor([[-96.8, 437.9, 61.95]]), torch.tensor([0]))
        >>> round(float(loss), 1), d.abs().sum().item()
        (534.7, 2.0)
    """
    _check_scores_labels(scores, labels)
    n = scores.shape[0]
    if n == 0:
        return scores.new_zeros(()), torch.zeros_like(scores)
    shifted = scores - scores.max(dim=1, keepdim=True).values  # [N, C]; exp(shifted) <= 1
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))  # [N, C]
    rows = torch.arange(n, device=scores.device)
    loss = -log_probs[rows, labels].mean()
    dscores = torch.exp(log_probs.detach())  # [N, C] softmax probabilities (hand gradient, no autograd)
    dscores[rows, labels] -= 1.0
    return loss, dscores / n


# --------------------------------------------------------------------------- multiclass hinge


def _multiclass_hinge_twin(scores, labels, margin=1.0):
    """Twin of the hinge references: ``C * F.multi_margin_loss``, its gradient by autograd."""
    _check_scores_labels(scores, labels)
    margin = check_number(margin, "margin")
    if scores.shape[0] == 0:
        return scores.new_zeros(()), torch.zeros_like(scores)
    num_classes = scores.shape[1]  # multi_margin_loss also averages over the classes
    with torch.enable_grad():
        leaf = scores.detach().requires_grad_(True)
        (dscores,) = torch.autograd.grad(num_classes * F.multi_margin_loss(leaf, labels, margin=margin), leaf)
    return num_classes * F.multi_margin_loss(scores, labels, margin=margin), dscores


@reference_of("01_linear_models/hinge_loss", twin=_multiclass_hinge_twin)
def multiclass_hinge_loop(scores: Tensor, labels: Tensor, margin: float = 1.0) -> tuple[Tensor, Tensor]:
    """Mean multiclass hinge (SVM) loss and its gradient, one example and class at a time.

    For one example: ``L = sum_{j != y} max(0, s_j - s_y + margin)``: every wrong class
    whose score comes within ``margin`` of the correct score adds the violation. The
    gradient is +1 for each violating class ``j`` and ``-(number of violations)`` for
    the correct class (a margin of exactly 0 counts as not violated). The batch loss is
    the mean over N; ``F.multi_margin_loss`` additionally divides by C.

    Args:
        scores: ``Tensor[N, C]`` float.
        labels: ``Tensor[N]`` int64 in ``0..C-1``.
        margin: the required gap (> 0 for a useful loss).

    Returns:
        ``(loss Tensor[], dscores Tensor[N, C])``.

    Examples:
        >>> loss, d = multiclass_hinge_loop(torch.tensor([[3.2, 5.1, -1.7]]), torch.tensor([0]))
        >>> round(float(loss), 4), d.tolist()
        (2.9, [[-1.0, 1.0, 0.0]])
    """
    _check_scores_labels(scores, labels)
    margin = check_number(margin, "margin")
    n, c = scores.shape
    total = scores.new_zeros(())
    dscores = torch.zeros_like(scores)
    for i in range(n):
        y = int(labels[i])
        for j in range(c):
            if j == y:
                continue
            violation = scores[i, j] - scores[i, y] + margin
            if violation > 0:
                total = total + violation
                dscores[i, j] += 1.0 / n
                dscores[i, y] -= 1.0 / n
    return (total / n if n else total), dscores


@reference_of("01_linear_models/hinge_loss", twin=_multiclass_hinge_twin)
def multiclass_hinge(scores: Tensor, labels: Tensor, margin: float = 1.0) -> tuple[Tensor, Tensor]:
    """Vectorized mean multiclass hinge loss and its gradient.

    Equals ``scores.shape[1] * F.multi_margin_loss(scores, labels, margin=margin)``
    (PyTorch averages over the C classes as well as over the batch).

    Args:
        scores: ``Tensor[N, C]`` float.
        labels: ``Tensor[N]`` int64 in ``0..C-1``.
        margin: the required gap.

    Returns:
        ``(loss Tensor[], dscores Tensor[N, C])``.

    Examples:
        >>> loss, _ = multiclass_hinge(torch.tensor([[-96.8, 437.9, 61.95]]), torch.tensor([0]))
        >>> round(float(loss), 2)
        695.45
    """
    _check_scores_labels(scores, labels)
    margin = check_number(margin, "margin")
    n = scores.shape[0]
    if n == 0:
        return scores.new_zeros(()), torch.zeros_like(scores)
    rows = torch.arange(n, device=scores.device)
    correct = scores[rows, labels][:, None]  # [N, 1]
    margins = (scores - correct + margin).clamp_min(0.0)  # [N, C]
    is_wrong = torch.ones_like(scores, dtype=torch.bool)
    is_wrong[rows, labels] = False  # the correct class is not compared with itself
    margins = margins * is_wrong
    loss = margins.sum() / n
    violated = (margins > 0).to(scores.dtype).detach()  # [N, C]
    dscores = violated.clone()
    dscores[rows, labels] = -violated.sum(dim=1)
    return loss, dscores / n


# --------------------------------------------------------------------------- L2


def l2_regularization_loop(weight: Tensor, reg: float) -> tuple[Tensor, Tensor]:
    """``reg * sum(W**2)`` and its gradient ``2 * reg * W``, element by element.

    Examples:
        >>> loss, grad = l2_regularization_loop(torch.tensor([[1.0, -2.0]]), 0.5)
        >>> float(loss), grad.tolist()
        (2.5, [[1.0, -2.0]])
    """
    check_tensor(weight, "weight", floating=True)
    reg = check_number(reg, "reg", low=0.0)
    if reg == 0:  # no penalty, even where weight**2 would overflow (0 * inf is NaN)
        return weight.new_zeros(()), torch.zeros_like(weight)
    flat = weight.reshape(-1)
    total = weight.new_zeros(())
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        total = total + flat[i] * flat[i]
        grad[i] = 2.0 * reg * flat[i]
    return reg * total, grad.reshape(weight.shape)


def l2_regularization(weight: Tensor, reg: float) -> tuple[Tensor, Tensor]:
    """Vectorized L2 penalty ``reg * ||W||_2^2`` (squared Frobenius norm) and its gradient.

    Biases are usually left out of the penalty: pass only weight matrices.

    Examples:
        >>> loss, grad = l2_regularization(torch.tensor([[1.0, -2.0]]), 0.5)
        >>> float(loss), grad.tolist()
        (2.5, [[1.0, -2.0]])
    """
    check_tensor(weight, "weight", floating=True)
    reg = check_number(reg, "reg", low=0.0)
    if reg == 0:  # no penalty, even where weight**2 would overflow (0 * inf is NaN)
        return weight.new_zeros(()), torch.zeros_like(weight)
    return reg * (weight * weight).sum(), (2.0 * reg) * weight.detach()
