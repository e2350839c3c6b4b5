"""Evaluating frozen features: linear probe, k-nearest neighbours, retrieval, label efficiency.

Self-supervised features are judged by what a *simple* classifier can do with them while
the encoder stays frozen (Chen et al. 2020; Wu et al. 2018):

* :func:`linear_probe_accuracy`: multinomial logistic regression on standardized features
  (full-batch L-BFGS, L2 penalty); compared with scikit-learn's ``LogisticRegression`` in the tests.
* :func:`knn_predict`: cosine similarity, the ``k`` most similar training features vote,
  ties between classes go to the smallest label; :func:`knn_predict_loop` is the readable
  version, scikit-learn's ``KNeighborsClassifier(metric="cosine")`` the twin.
* :func:`retrieve`: indices of the ``k`` most similar gallery items of each query.
* :func:`few_shot_indices`, :func:`label_efficiency`: accuracy with 1, 5, 10, ... labels per class.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_positive_int, check_tensor
from course_utils.references import not_an_answer, reference_of

__all__ = ["extract_features", "standardize", "fit_linear_probe", "linear_probe_accuracy", "knn_predict",
           "knn_predict_loop", "knn_accuracy", "retrieve", "few_shot_indices", "label_efficiency"]

NORM_EPS = 1e-12


def extract_features(encoder: nn.Module, images: Tensor, batch_size: int = 512) -> Tensor:
    """``encoder(images)`` in eval mode without gradients, in batches: ``Tensor[N, D]`` on the CPU.

    The images are moved to the encoder's device; the encoder's train/eval mode is restored.
    """
    check_tensor(images, "images")
    device = next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            out.append(encoder(images[start:start + batch_size].to(device)).flatten(1).cpu())
    encoder.train(was_training)
    return torch.cat(out) if out else images.new_zeros(0, 0)


def standardize(train: Tensor, *others: Tensor) -> tuple[Tensor, ...]:
    """Scale features to zero mean and unit variance with the *training* statistics."""
    mean, std = train.mean(0), train.std(0, unbiased=False).clamp(min=1e-6)
    return tuple((x - mean) / std for x in (train, *others))


def fit_linear_probe(features: Tensor, labels: Tensor, num_classes: int | None = None, *,
                     weight_decay: float = 1e-3, max_iter: int = 100) -> nn.Linear:
    """Multinomial logistic regression ``nn.Linear(D, K)`` fitted with full-batch L-BFGS.

    Minimizes ``cross_entropy + weight_decay * ||W||^2`` (the bias is not penalized).
    """
    check_tensor(features, "features", ndim=2, floating=True)
    check_tensor(labels, "labels", shape=(features.shape[0],), dtypes=(torch.int64,))
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    probe = nn.Linear(features.shape[1], num_classes).to(device=features.device, dtype=features.dtype)
    nn.init.zeros_(probe.weight)
    nn.init.zeros_(probe.bias)
    optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(probe(features), labels) + weight_decay * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return probe


def linear_probe_accuracy(train_features: Tensor, train_labels: Tensor, test_features: Tensor,
                          test_labels: Tensor, *, weight_decay: float = 1e-3, max_iter: int = 100) -> float:
    """Test accuracy of a linear probe fitted on standardized training features.

    Examples:
        >>> x = torch.tensor([[0.0], [1.0], [4.0], [5.0]]); y = torch.tensor([0, 0, 1, 1])
        >>> linear_probe_accuracy(x, y, torch.tensor([[0.5], [4.5]]), torch.tensor([0, 1]))
        1.0
    """
    train_x, test_x = standardize(train_features.float(), test_features.float())
    probe = fit_linear_probe(train_x, train_labels, weight_decay=weight_decay, max_iter=max_iter,
                             num_classes=int(max(train_labels.max(), test_labels.max())) + 1)
    with torch.no_grad():
        return float((probe(test_x).argmax(1) == test_labels).float().mean())


def _check_knn(train_features: Tensor, train_labels: Tensor, test_features: Tensor, k: int) -> None:
    check_tensor(train_features, "train_features", ndim=2, floating=True)
    check_tensor(train_labels, "train_labels", shape=(train_features.shape[0],), dtypes=(torch.int64,))
    check_tensor(test_features, "test_features", shape=(None, train_features.shape[1]), floating=True)
    check_positive_int(k, "k")
    if k > train_features.shape[0]:
        raise ValueError(f"k ({k}) cannot exceed the number of training features ({train_features.shape[0]})")


def _knn_predict_twin(train_features, train_labels, test_features, k=5):
    """Twin of the k-NN references: scikit-learn's brute-force cosine neighbours, then the vote."""
    from sklearn.neighbors import NearestNeighbors

    _check_knn(train_features, train_labels, test_features, k)
    if test_features.shape[0] == 0:
        return torch.zeros(0, dtype=torch.int64, device=test_features.device)
    nn_index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute")
    nn_index.fit(train_features.detach().cpu().double().numpy())
    _, idx = nn_index.kneighbors(test_features.detach().cpu().double().numpy())
    votes = F.one_hot(train_labels.cpu()[torch.from_numpy(idx)], int(train_labels.max()) + 1).sum(1)  # [M, K]
    return votes.argmax(1).to(test_features.device)


@reference_of("07_self_supervised/knn_predict", twin=_knn_predict_twin)
def knn_predict(train_features: Tensor, train_labels: Tensor, test_features: Tensor, k: int = 5) -> Tensor:
    """k-nearest-neighbour classification with cosine similarity (vectorized).

    Args:
        train_features: ``Tensor[N, D]`` float.
        train_labels: ``Tensor[N]`` int64 in ``0..K-1``.
        test_features: ``Tensor[M, D]`` float.
        k: neighbours that vote, ``1 <= k <= N``.

    Returns:
        ``Tensor[M]`` int64: the most frequent label among the ``k`` training features most
        cosine-similar to each test feature; a tie between labels goes to the smallest label.

    Examples:
        >>> train = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]); labels = torch.tensor([0, 0, 1])
        >>> knn_predict(train, labels, torch.tensor([[1.0, 0.2], [0.1, 1.0]]), k=1).tolist()
        [0, 1]
    """
    _check_knn(train_features, train_labels, test_features, k)
    train_unit = F.normalize(train_features, dim=1, eps=NORM_EPS)  # [N, D]
    test_unit = F.normalize(test_features, dim=1, eps=NORM_EPS)  # [M, D]
    similarity = test_unit @ train_unit.T  # [M, N]
    nearest = similarity.topk(k, dim=1).indices  # [M, k]
    num_classes = int(train_labels.max()) + 1 if train_labels.numel() else 1
    votes = F.one_hot(train_labels[nearest], num_classes).sum(dim=1)  # [M, K]
    return votes.argmax(dim=1)  # argmax returns the first maximum: ties go to the smallest label


@reference_of("07_self_supervised/knn_predict", twin=_knn_predict_twin)
def knn_predict_loop(train_features: Tensor, train_labels: Tensor, test_features: Tensor, k: int = 5) -> Tensor:
    """:func:`knn_predict` one test feature at a time (slow, for reading)."""
    _check_knn(train_features, train_labels, test_features, k)
    predictions = []
    for query in test_features:
        sims = []
        for i, item in enumerate(train_features):
            cos = torch.dot(query, item) / (query.norm().clamp(min=NORM_EPS) * item.norm().clamp(min=NORM_EPS))
            sims.append((float(cos), i))
        sims.sort(key=lambda pair: -pair[0])
        votes: dict[int, int] = {}
        for _, i in sims[:k]:
            label = int(train_labels[i])
            votes[label] = votes.get(label, 0) + 1
        best = max(votes.values())
        predictions.append(min(label for label, count in votes.items() if count == best))
    return torch.tensor(predictions, dtype=torch.int64, device=test_features.device)


@not_an_answer("07_self_supervised/knn_predict", why="the accuracy of the reference's predictions")
def knn_accuracy(train_features: Tensor, train_labels: Tensor, test_features: Tensor, test_labels: Tensor,
                 k: int = 5) -> float:
    """Accuracy of :func:`knn_predict` on the test set."""
    return float((knn_predict(train_features, train_labels, test_features, k) == test_labels).float().mean())


def retrieve(queries: Tensor, gallery: Tensor, k: int = 5) -> tuple[Tensor, Tensor]:
    """The ``k`` gallery items most cosine-similar to each query, most similar first.

    Returns:
        ``(indices Tensor[M, k] int64, similarities Tensor[M, k])``.

    Examples:
        >>> idx, sim = retrieve(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]]), k=2)
        >>> idx.tolist()
        [[1, 2]]
    """
    check_tensor(queries, "queries", ndim=2, floating=True)
    check_tensor(gallery, "gallery", shape=(None, queries.shape[1]), floating=True)
    check_positive_int(k, "k")
    similarity = F.normalize(queries, dim=1, eps=NORM_EPS) @ F.normalize(gallery, dim=1, eps=NORM_EPS).T  # [M, G]
    top = similarity.topk(min(k, gallery.shape[0]), dim=1)
    return top.indices, top.values


def few_shot_indices(labels: Tensor, shots: int, seed: int = 0) -> Tensor:
    """Indices of ``shots`` random examples of every class (all of a class if it has fewer).

    Examples:
        >>> few_shot_indices(torch.tensor([0, 1, 0, 1, 0, 1]), 2, seed=0).shape
        torch.Size([4])
    """
    check_positive_int(shots, "shots")
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).flatten()
        picks.append(members[torch.randperm(len(members), generator=g)[:shots].to(members.device)])
    return torch.cat(picks)


def label_efficiency(train_features: Tensor, train_labels: Tensor, test_features: Tensor, test_labels: Tensor,
                     shots: Sequence[int] = (1, 5, 10, 50), seeds: int = 5,
                     evaluate: Callable[..., float] = linear_probe_accuracy) -> dict[int, tuple[float, float]]:
    """Accuracy with ``s`` labelled examples per class, for each ``s`` in ``shots``.

    Each point is the mean and standard deviation over ``seeds`` random draws of the labelled set;
    ``evaluate(train_x, train_y, test_x, test_y)`` is the classifier (default: the linear probe).

    Returns:
        ``{shots: (mean accuracy, std)}``.
    """
    out = {}
    for s in shots:
        accs = torch.tensor([evaluate(train_features[idx], train_labels[idx], test_features, test_labels)
                             for idx in (few_shot_indices(train_labels, s, seed) for seed in range(seeds))])
        out[s] = (float(accs.mean()), float(accs.std(unbiased=False)))
    return out
