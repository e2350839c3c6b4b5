"""Probe, k-NN and retrieval against scikit-learn and the loop versions."""
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from course_utils.metrics.probe import (_knn_predict_twin, extract_features, few_shot_indices, knn_accuracy, knn_predict,
                                        knn_predict_loop, label_efficiency, linear_probe_accuracy, retrieve, standardize)


@pytest.mark.parametrize("k", [1, 3, 6, 40])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_knn_three_ways(k, dtype):
    g = torch.Generator().manual_seed(k)
    train, test = torch.randn(40, 5, generator=g, dtype=dtype), torch.randn(17, 5, generator=g, dtype=dtype)
    labels = torch.randint(0, 4, (40,), generator=g)
    expected = knn_predict_loop(train, labels, test, k)
    assert torch.equal(knn_predict(train, labels, test, k), expected)
    assert torch.equal(_knn_predict_twin(train, labels, test, k), expected)
    assert expected.dtype == torch.int64


def test_knn_rules():
    train = torch.tensor([[1.0, 0.1], [1.0, -0.2], [-1.0, 0.0]])
    assert knn_predict(train, torch.tensor([1, 0, 0]), torch.tensor([[1.0, 0.0]]), k=2).tolist() == [0]  # tie
    cos = torch.tensor([[1.0, 1.0], [3.0, 3.0], [0.2, 3.0]])
    assert knn_predict(cos, torch.tensor([0, 0, 1]), torch.tensor([[0.3, 0.31]]), k=1).tolist() == [0]
    assert knn_predict(train, torch.tensor([1, 0, 0]), torch.zeros(0, 2), k=1).shape == (0,)
    with pytest.raises(ValueError):
        knn_predict(train, torch.tensor([1, 0, 0]), torch.zeros(1, 2), k=4)
    assert knn_accuracy(train, torch.tensor([0, 0, 1]), train, torch.tensor([0, 0, 1]), k=1) == 1.0


def test_linear_probe_close_to_sklearn():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 6, generator=g) * 2
    labels = torch.randint(0, 3, (300,), generator=g)
    x = centres[labels] + torch.randn(300, 6, generator=g)
    train_x, test_x = x[:200], x[200:]
    ours = linear_probe_accuracy(train_x, labels[:200], test_x, labels[200:], weight_decay=1e-3)
    a, b = standardize(train_x, test_x)
    sk = LogisticRegression(C=1 / (2 * 1e-3 * 200), max_iter=2000).fit(a.numpy(), labels[:200].numpy())
    theirs = float((torch.from_numpy(sk.predict(b.numpy())) == labels[200:]).float().mean())
    assert abs(ours - theirs) <= 0.02


def test_retrieve_and_few_shot():
    idx, sim = retrieve(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]]), k=3)
    assert idx.tolist() == [[1, 2, 0]] and sim[0, 0].item() == pytest.approx(1.0)
    labels = torch.tensor([0] * 10 + [1] * 3)
    picked = few_shot_indices(labels, 5, seed=0)
    assert torch.bincount(labels[picked]).tolist() == [5, 3]
    assert torch.equal(picked, few_shot_indices(labels, 5, seed=0))


def test_label_efficiency_and_features():
    g = torch.Generator().manual_seed(1)
    labels = torch.arange(60) % 3
    x = torch.nn.functional.one_hot(labels, 3).float() * 3 + torch.randn(60, 3, generator=g) * 0.1
    curve = label_efficiency(x, labels, x, labels, shots=(1, 5), seeds=2)
    assert set(curve) == {1, 5} and curve[5][0] == 1.0
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2)).train()
    features = extract_features(encoder, torch.rand(5, 1, 2, 2), batch_size=2)
    assert features.shape == (5, 2) and encoder.training and not features.requires_grad
