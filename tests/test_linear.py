"""Tests for course_utils.linear: loop vs vectorized vs PyTorch (cdist, cross_entropy, multi_margin_loss, autograd)."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.gradcheck import gradient_check
from course_utils import linear as L
from course_utils.linear import (
    knn_predict,
    knn_predict_loop,
    l2_regularization,
    l2_regularization_loop,
    multiclass_hinge,
    multiclass_hinge_loop,
    pairwise_distances,
    pairwise_distances_loop,
    softmax_cross_entropy,
    softmax_cross_entropy_loop,
)

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def scores_and_labels(n=7, c=5, dtype=torch.float64, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, c, generator=g, dtype=dtype), torch.randint(0, c, (n,), generator=g)


# --------------------------------------------------------------------------- distances
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_distances_match_cdist(dtype):
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(6, 4, generator=g, dtype=dtype), torch.randn(9, 4, generator=g, dtype=dtype)
    expected = torch.cdist(a, b)
    torch.testing.assert_close(pairwise_distances_loop(a, b), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pairwise_distances(a, b), expected, atol=1e-4, rtol=1e-4)
    assert pairwise_distances(a, a).diagonal().abs().max() < 1e-3  # no nan from sqrt of -0.0


def test_distances_empty_and_bad_shapes():
    assert pairwise_distances(torch.zeros(0, 3), torch.zeros(4, 3)).shape == (0, 4)
    assert pairwise_distances_loop(torch.zeros(2, 3), torch.zeros(0, 3)).shape == (2, 0)
    with pytest.raises(ValueError, match="shape"):
        pairwise_distances(torch.zeros(2, 3), torch.zeros(2, 4))


# --------------------------------------------------------------------------- k-NN
@pytest.mark.parametrize("k", [1, 3, 4, 10])
def test_knn_loop_and_vectorized_agree_and_match_sklearn(k):
    from sklearn.neighbors import KNeighborsClassifier

    g = torch.Generator().manual_seed(k)
    train_x, test_x = torch.randn(60, 3, generator=g, dtype=torch.float64), torch.randn(25, 3, generator=g, dtype=torch.float64)
    train_y = torch.randint(0, 4, (60,), generator=g)
    loop = knn_predict_loop(train_x, train_y, test_x, k)
    fast = knn_predict(train_x, train_y, test_x, k, chunk=7)
    assert loop.dtype == fast.dtype == torch.int64
    assert torch.equal(loop, fast)
    # sklearn's uniform vote also breaks vote ties toward the smallest label (np.argmax of the counts).
    ref = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(train_x.numpy(), train_y.numpy())
    assert torch.equal(fast, torch.from_numpy(ref.predict(test_x.numpy())))


def test_knn_ties():
    # Query at 0: neighbours at +-1 with labels 3 and 1 (a 1-1 vote): the smallest label wins.
    train_x = torch.tensor([[1.0], [-1.0], [5.0]])
    train_y = torch.tensor([3, 1, 0])
    for fn in (knn_predict, knn_predict_loop):
        assert fn(train_x, train_y, torch.tensor([[0.0]]), k=2).tolist() == [1]
        # Equal distances with k=1: the lower training index is the nearer one.
        assert fn(train_x, train_y, torch.tensor([[0.0]]), k=1).tolist() == [3]


def test_knn_k1_on_training_points_recovers_labels_and_empty_queries():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 2, generator=g)
    y = torch.randint(0, 3, (30,), generator=g)
    assert torch.equal(knn_predict(x, y, x, 1), y)
    out = knn_predict(x, y, torch.zeros(0, 2), 3)
    assert out.shape == (0,) and out.dtype == torch.int64
    assert knn_predict_loop(x, y, torch.zeros(0, 2), 3).shape == (0,)


def test_knn_input_checks():
    x, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="at most"):
        knn_predict(x, y, x, 5)
    with pytest.raises(TypeError, match=r"train_y must have dtype in \(int64\), got float32"):
        knn_predict(x, y.float(), x, 1)
    with pytest.raises(ValueError, match="shape"):
        knn_predict(x, y, torch.zeros(3, 5), 1)
    with pytest.raises(ValueError, match="positive"):
        knn_predict_loop(x, y, x, 0)


# --------------------------------------------------------------------------- softmax cross-entropy
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fn", [softmax_cross_entropy, softmax_cross_entropy_loop])
def test_softmax_ce_matches_torch_and_autograd(fn, dtype):
    scores, labels = scores_and_labels(dtype=dtype)
    loss, grad = fn(scores, labels)
    leaf = scores.clone().requires_grad_(True)
    expected = F.cross_entropy(leaf, labels)
    expected.backward()
    tol = TOL[dtype]
    torch.testing.assert_close(loss, expected.detach(), atol=tol, rtol=tol)
    torch.testing.assert_close(grad, leaf.grad, atol=tol, rtol=tol)
    assert grad.dtype == dtype and loss.shape == ()


def test_softmax_ce_is_stable_and_differentiable():
    # The lecture's cat/dog/hippo scores overflow exp() in float32 without the max trick.
    scores = torch.tensor([[-96.8, 437.9, 61.95]], dtype=torch.float32)
    labels = torch.tensor([0])
    for fn in (softmax_cross_entropy, softmax_cross_entropy_loop):
        loss, grad = fn(scores, labels)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
        torch.testing.assert_close(loss, F.cross_entropy(scores, labels))
    # The returned loss is built from torch ops: autograd agrees with the hand gradient.
    s, y = scores_and_labels()
    leaf = s.clone().requires_grad_(True)
    loss, grad = softmax_cross_entropy(leaf, y)
    loss.backward()
    torch.testing.assert_close(leaf.grad, grad)


def test_softmax_ce_gradcheck_and_empty():
    s, y = scores_and_labels(n=4, c=3)
    _, grad = softmax_cross_entropy(s, y)
    assert gradient_check(lambda v: softmax_cross_entropy(v, y)[0], s.clone(), grad) < 1e-7
    loss, grad = softmax_cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64))
    assert float(loss) == 0.0 and grad.shape == (0, 3)


def test_softmax_ce_input_checks():
    with pytest.raises(ValueError, match="0..2"):
        softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(TypeError, match=r"labels must have dtype in \(int64\), got float32"):
        softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1, 2]))


# --------------------------------------------------------------------------- hinge
@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("fn", [multiclass_hinge, multiclass_hinge_loop])
def test_hinge_matches_multi_margin_loss_times_c(fn, margin):
    scores, labels = scores_and_labels(n=9, c=6, scale=1.0)
    loss, grad = fn(scores, labels, margin)
    leaf = scores.clone().requires_grad_(True)
    # PyTorch divides by the number of classes too: undo that.
    expected = scores.shape[1] * F.multi_margin_loss(leaf, labels, margin=margin)
    expected.backward()
    torch.testing.assert_close(loss, expected.detach())
    torch.testing.assert_close(grad, leaf.grad)


def test_hinge_lecture_example_and_gradcheck():
    scores = torch.tensor([[-96.8, 437.9, 61.95]], dtype=torch.float64)
    loss, grad = multiclass_hinge(scores, torch.tensor([0]))
    # dog: 437.9 + 96.8 + 1 = 535.7; hippo: 61.95 + 96.8 + 1 = 159.75
    assert abs(float(loss) - (535.7 + 159.75)) < 1e-9
    assert grad.tolist() == [[-2.0, 1.0, 1.0]]
    s, y = scores_and_labels(n=5, c=4, scale=1.0)
    _, grad = multiclass_hinge(s, y)
    assert gradient_check(lambda v: multiclass_hinge(v, y)[0], s.clone(), grad) < 1e-7


def test_hinge_zero_when_margins_met_and_empty():
    scores = torch.tensor([[5.0, 1.0, 0.0], [0.0, 0.0, 9.0]])
    loss, grad = multiclass_hinge(scores, torch.tensor([0, 2]))
    assert float(loss) == 0.0 and not grad.any()
    loss, grad = multiclass_hinge_loop(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64))
    assert float(loss) == 0.0 and grad.shape == (0, 3)


# --------------------------------------------------------------------------- L2
def test_l2_regularization():
    w = torch.randn(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for fn in (l2_regularization, l2_regularization_loop):
        loss, grad = fn(w, 0.3)
        leaf = w.clone().requires_grad_(True)
        expected = 0.3 * leaf.pow(2).sum()
        expected.backward()
        torch.testing.assert_close(loss, expected.detach())
        torch.testing.assert_close(grad, leaf.grad)
    assert float(l2_regularization(torch.zeros(0, 3), 1.0)[0]) == 0.0


@pytest.mark.parametrize("fn", [pairwise_distances, pairwise_distances_loop])
def test_pairwise_distances_of_large_and_mixed_inputs(fn):
    # large finite coordinates used to give NaN (inf - inf) in the vectorized version
    a = torch.tensor([[1e20, 0.0], [0.0, -3e19]])
    d = fn(a, a)
    assert torch.isfinite(d).all() and d.diagonal().eq(0).all()
    torch.testing.assert_close(d[0, 1], torch.tensor(math.hypot(1e20, 3e19)))
    # float32 with float64 used to raise a matmul dtype error: the result is float64
    mixed = fn(torch.zeros(2, 3), torch.ones(4, 3, dtype=torch.float64))
    assert mixed.dtype == torch.float64 and torch.allclose(mixed, torch.full((2, 4), math.sqrt(3), dtype=torch.float64))
    with pytest.raises(ValueError, match=r"a must be finite, got inf at index \[0, 1\]"):
        fn(torch.tensor([[0.0, math.inf]]), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"b must have shape \[\*, 2\], got \[1, 3\]"):
        fn(torch.zeros(1, 2), torch.zeros(1, 3))


@pytest.mark.parametrize("fn", [knn_predict, knn_predict_loop, L._knn_predict_twin])
def test_knn_with_huge_labels_does_not_build_a_dense_table(fn):
    # a label of 10**12 used to ask for a [M, 10**12] vote table (terabytes)
    train_x = torch.tensor([[0.0], [1.0], [5.0], [6.0]])
    train_y = torch.tensor([10**12, 10**12, 3, 7])
    assert fn(train_x, train_y, torch.tensor([[0.2], [5.4], [5.6]]), k=1).tolist() == [10**12, 3, 7]
    assert fn(train_x, train_y, torch.tensor([[5.5]]), k=2).tolist() == [3]  # a tie: the smallest label wins


@pytest.mark.parametrize("fn", [multiclass_hinge, multiclass_hinge_loop, softmax_cross_entropy, softmax_cross_entropy_loop])
def test_losses_refuse_non_finite_scores(fn):
    with pytest.raises(ValueError, match=r"scores must be finite, got nan at index \[1, 0\]"):
        fn(torch.tensor([[0.0, 1.0], [math.nan, 0.0]]), torch.tensor([0, 1]))


@pytest.mark.parametrize("fn", [L.l2_regularization, L.l2_regularization_loop])
def test_l2_regularization_checks_reg(fn):
    w = torch.tensor([[1e30, -2.0]])  # w**2 overflows float32
    loss, grad = fn(w, 0.0)
    assert float(loss) == 0.0 and grad.eq(0).all()  # no 0 * inf = NaN
    with pytest.raises(ValueError, match="reg must be >= 0, got -1"):
        fn(w, -1)
    with pytest.raises(ValueError, match="reg must be a finite number >= 0, got nan"):
        fn(w, math.nan)
