"""Tests for course_utils.difficulty: k-NN probes, prediction depth, C-scores."""
import pytest
import torch
from torch import nn

from course_utils.difficulty import (
    c_scores,
    knn_predict,
    layer_features,
    mlp_fit_predict,
    prediction_depth,
    probe_predictions,
)


def _blobs(n_per_class=20, num_classes=3, dim=2, spread=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=g) * 4
    x = torch.cat([centres[c] + spread * torch.randn(n_per_class, dim, generator=g) for c in range(num_classes)])
    y = torch.arange(num_classes).repeat_interleave(n_per_class)
    return x, y


def _knn_loop(train_x, train_y, query_x, k, num_classes):
    """Reference: sort distances per query, count votes, break ties by the nearer voters."""
    out = []
    for q in query_x:
        d = ((train_x.double() - q.double()) ** 2).sum(dim=1)
        order = sorted(range(len(d)), key=lambda i: float(d[i]))[:k]
        votes = [0] * num_classes
        first_rank = [k] * num_classes
        rank_sum = [0] * num_classes
        for rank, i in enumerate(order):
            c = int(train_y[i])
            votes[c] += 1
            rank_sum[c] += k - rank
            first_rank[c] = min(first_rank[c], rank)
        best = max(range(num_classes), key=lambda c: (votes[c], rank_sum[c]))
        out.append(best)
    return torch.tensor(out)


@pytest.mark.parametrize("k", [1, 3, 4, 7])
def test_knn_matches_loop_reference(k):
    x, y = _blobs(spread=2.0, seed=1)
    q, _ = _blobs(n_per_class=5, spread=2.5, seed=2)
    expected = _knn_loop(x, y, q, k, 3)
    assert torch.equal(knn_predict(x, y, q, k=k), expected)


def test_knn_matches_sklearn_on_two_classes_odd_k():
    from sklearn.neighbors import KNeighborsClassifier

    x, y = _blobs(num_classes=2, spread=3.0, seed=3)
    q, _ = _blobs(n_per_class=15, num_classes=2, spread=3.0, seed=4)
    skl = KNeighborsClassifier(n_neighbors=5).fit(x.numpy(), y.numpy()).predict(q.numpy())
    assert torch.equal(knn_predict(x, y, q, k=5), torch.from_numpy(skl).long())


def test_knn_tie_goes_to_nearer_class():
    train = torch.tensor([[2.0], [0.0], [-2.5], [0.5]])
    labels = torch.tensor([0, 1, 0, 1])
    # k=4 at 0.1: two votes each; the two nearest neighbours (0.0 and 0.5) are of class 1
    assert knn_predict(train, labels, torch.tensor([[0.1]]), k=4).tolist() == [1]


def test_knn_empty_query_and_errors():
    x, y = _blobs()
    out = knn_predict(x, y, torch.zeros(0, 2), k=3)
    assert out.shape == (0,) and out.dtype == torch.long
    with pytest.raises(ValueError, match="k must be at most"):
        knn_predict(x, y, x, k=len(x) + 1)
    with pytest.raises(ValueError, match="shape"):
        knn_predict(x, y, torch.zeros(2, 3), k=3)
    with pytest.raises(TypeError, match="integer"):
        knn_predict(x, y.float(), x, k=3)


def test_prediction_depth_definition():
    probes = torch.tensor([[0, 1, 2, 1, 5],
                           [1, 1, 0, 1, 5],
                           [1, 1, 0, 0, 5]])
    final = torch.tensor([1, 1, 0, 1, 4])
    assert prediction_depth(probes, final).tolist() == [1, 0, 1, 3, 3]


def test_prediction_depth_is_not_earliest_correct_layer():
    # A probe that is right early but changes its mind later does not count.
    probes = torch.tensor([[2], [0], [2], [2]])
    assert prediction_depth(probes, torch.tensor([2])).tolist() == [2]


def test_prediction_depth_empty():
    assert prediction_depth(torch.zeros(3, 0, dtype=torch.long), torch.zeros(0, dtype=torch.long)).shape == (0,)


def test_layer_features_and_probes():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    x = torch.randn(10, 1, 4, 4)
    net.train()
    feats = layer_features(net, [net[1], net[3]], x, batch_size=3)
    assert [tuple(f.shape) for f in feats] == [(10, 16), (10, 32), (10, 3)]
    assert net.training, "the train/eval mode must be restored"
    torch.testing.assert_close(feats[2], net(x).detach())
    pooled = layer_features(net, [net[1]], x, include_input=False, pool=1)
    assert pooled[0].shape == (10, 2)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    preds = probe_predictions(feats, y, feats, k=1)
    assert preds.shape == (3, 10)
    assert torch.equal(preds[0], y)  # 1-NN of a point in its own training set is itself


def test_c_scores_oracle_and_constant():
    x, y = _blobs()
    oracle = c_scores(x, y, lambda tx, ty, ex: knn_predict(x, y, ex, k=1), subset_fractions=0.5, runs=12)
    assert not torch.isnan(oracle).any() and torch.all(oracle == 1.0)
    zeros = c_scores(x, y, lambda tx, ty, ex: torch.zeros(len(ex), dtype=torch.long), runs=5)
    known = ~torch.isnan(zeros)
    assert known.sum() > 50
    torch.testing.assert_close(zeros[known], (y[known] == 0).float())


def test_c_scores_low_for_mislabeled_example():
    x, y = _blobs(n_per_class=15, spread=0.2)
    y = y.clone()
    y[0] = 2  # an example of class 0 labelled 2
    scores = c_scores(x, y, lambda tx, ty, ex: knn_predict(tx, ty, ex, k=3), subset_fractions=(0.3, 0.7), runs=10)
    assert not torch.isnan(scores).any()
    assert scores[0] < 0.2 and scores[1:].min() > 0.8
    again = c_scores(x, y, lambda tx, ty, ex: knn_predict(tx, ty, ex, k=3), subset_fractions=(0.3, 0.7), runs=10)
    torch.testing.assert_close(scores, again, rtol=0, atol=0)  # same seed, same estimate


def test_c_scores_nan_when_never_held_out_and_errors():
    x, y = _blobs(n_per_class=10)
    s = c_scores(x, y, lambda tx, ty, ex: torch.zeros(len(ex), dtype=torch.long), subset_fractions=0.9, runs=1)
    assert int(torch.isnan(s).sum()) == 27
    with pytest.raises(ValueError, match="fractions"):
        c_scores(x, y, lambda tx, ty, ex: ty[: len(ex)], subset_fractions=1.0)
    assert c_scores(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), lambda *a: None).shape == (0,)


def test_mlp_fit_predict_learns_blobs_reproducibly():
    x, y = _blobs(n_per_class=30, spread=0.5)
    a = c_scores(x, y, mlp_fit_predict(hidden=16, steps=60, seed=1), subset_fractions=0.5, runs=3)
    b = c_scores(x, y, mlp_fit_predict(hidden=16, steps=60, seed=1), subset_fractions=0.5, runs=3)
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True)
    assert float(a.nanmean()) > 0.9
