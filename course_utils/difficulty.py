"""How hard is an example? Prediction depth (k-NN probes per layer) and the C-score.

Two measures of example difficulty from the literature, small enough to run on the
digits on a CPU:

* **Prediction depth** (Baldock, Maennel and Neyshabur, 2021, "Deep learning through
  the lens of example difficulty"). Fit a k-nearest-neighbour classifier on the
  training set's representations after every layer (a *probe*); an example's
  prediction depth is the earliest probe from which on *every* probe agrees with
  the network's final prediction. Note that this is about agreeing with the
  network, not about being right: a mislabeled example can be predicted (wrongly)
  at depth 0. Easy examples settle early, hard ones late.
* **C-score** (Jiang, Zhang, Talwar and Mozer, 2021, "Characterizing structural
  regularities of labeled data in overparameterized models"). The expected
  accuracy on ``(x, y)`` of a model trained on ``n`` i.i.d. examples *without*
  ``(x, y)``: ``C_n(x, y) = E_D[P(f(x; D \\ {(x, y)}) = y)]``. It is estimated by
  *holdout retraining*: train many models on random subsets of the data and average,
  for each example, the correctness of the models that did not see it.
  :func:`c_scores` averages over several subset fractions, as the paper averages
  over ``n``. The C-score of an example with a wrong or ambiguous label does *not*
  go to 1 as ``n`` grows: more data makes the model agree with the other examples,
  i.e. disagree with the wrong label.

Shapes: features are ``Tensor[N, D]`` (one row per example), labels ``Tensor[N]`` int64.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from .checks import check_positive_int, check_tensor

__all__ = [
    "knn_predict",
    "layer_features",
    "probe_predictions",
    "prediction_depth",
    "c_scores",
    "mlp_fit_predict",
]

FitPredict = Callable[[Tensor, Tensor, Tensor], Tensor]
# Weight of the tie-break bonus: the bonuses of all k neighbours add up to less than one
# vote, so they only ever decide between classes with the same number of votes.
_TIE_BREAK = 0.5


def _check_labels(labels: Tensor, name: str, n: int) -> Tensor:
    check_tensor(labels, name, shape=(n,))
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"{name} must be integer class labels, got dtype {labels.dtype}")
    if n and int(labels.min()) < 0:
        raise ValueError(f"{name} must be non-negative class indices, got minimum {int(labels.min())}")
    return labels.long()


def knn_predict(train_features: Tensor, train_labels: Tensor, query_features: Tensor, k: int = 10,
                num_classes: int | None = None) -> Tensor:
    """Majority vote of the ``k`` nearest training examples (Euclidean distance).

    Ties between classes with the same number of votes go to the class whose voters
    are nearer (each neighbour adds a bonus that decreases with its rank, and all
    bonuses together are worth less than one vote).

    Args:
        train_features: ``Tensor[N, D]``.
        train_labels: ``Tensor[N]`` integer labels in ``0..num_classes-1``.
        query_features: ``Tensor[M, D]``.
        k: number of neighbours, ``1 <= k <= N``.
        num_classes: default ``max(train_labels) + 1``.

    Returns:
        ``Tensor[M]`` int64 predicted labels (on the device of the features).

    Examples:
        >>> train = torch.tensor([[0.0], [1.0], [10.0], [11.0], [12.0]])
        >>> knn_predict(train, torch.tensor([0, 0, 1, 1, 1]), torch.tensor([[0.5], [9.0]]), k=3)
        tensor([0, 1])
    """
    check_tensor(train_features, "train_features", ndim=2, floating=True)
    n, d = train_features.shape
    check_tensor(query_features, "query_features", shape=(None, d), floating=True)
    labels = _check_labels(train_labels, "train_labels", n)
    check_positive_int(k, "k")
    if k > n:
        raise ValueError(f"k must be at most the number of training examples ({n}), got {k}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    else:
        check_positive_int(num_classes, "num_classes")
        if int(labels.max()) >= num_classes:
            raise ValueError(f"train_labels must be < num_classes={num_classes}, got {int(labels.max())}")
    m = query_features.shape[0]
    if m == 0:
        return torch.zeros(0, dtype=torch.long, device=query_features.device)
    dist = torch.cdist(query_features.double(), train_features.double())  # [M, N], float64: no rounding ties
    nearest = dist.topk(k, dim=1, largest=False).indices  # [M, k], nearest first
    neighbour_labels = labels[nearest]  # [M, k]
    rank_bonus = _TIE_BREAK * torch.arange(k, 0, -1, dtype=torch.float64, device=dist.device) / (k * (k + 1) / 2)
    votes = torch.zeros(m, num_classes, dtype=torch.float64, device=dist.device)
    votes.scatter_add_(1, neighbour_labels, torch.ones_like(neighbour_labels, dtype=torch.float64))  # [M, C]
    votes.scatter_add_(1, neighbour_labels, rank_bonus.expand(m, k).contiguous())  # tie-break, < 1 vote in total
    return votes.argmax(dim=1)  # [M]


@torch.no_grad()
def layer_features(model: nn.Module, layers: Sequence[nn.Module], inputs: Tensor, *, batch_size: int = 256,
                   include_input: bool = True, pool: int | None = None) -> list[Tensor]:
    """Representations of ``inputs`` after each module in ``layers``, flattened.

    The model runs in eval mode (its mode is restored afterwards); forward hooks on
    ``layers`` record their outputs.

    Args:
        model: the network; ``model(inputs)`` must call every module of ``layers``.
        layers: modules whose outputs to record, in order (e.g. the blocks of a ResNet).
        inputs: ``Tensor[N, ...]``.
        batch_size: examples per forward pass.
        include_input: put the flattened input first (the "layer 0" probe).
        pool: if given, adaptive-average-pool 4-D feature maps to ``pool x pool``
            before flattening (keeps the k-NN cheap for wide layers).

    Returns:
        list of ``Tensor[N, D_l]`` float32 on the CPU, one per probe
        (``len(layers) + include_input`` of them).

    Examples:
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> [f.shape for f in layer_features(net, [net[1], net[2]], torch.zeros(5, 4))]
        [torch.Size([5, 4]), torch.Size([5, 3]), torch.Size([5, 2])]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    check_tensor(inputs, "inputs")
    check_positive_int(batch_size, "batch_size")
    if pool is not None:
        check_positive_int(pool, "pool")
    layers = list(layers)
    captured: list[list[Tensor]] = [[] for _ in layers]

    def flat(t: Tensor) -> Tensor:
        if pool is not None and t.ndim == 4:
            t = nn.functional.adaptive_avg_pool2d(t, pool)  # [B, C, pool, pool]
        return t.reshape(t.shape[0], -1).float().cpu()  # [B, D]

    def make_hook(i: int):
        def hook(module, args, output):
            captured[i].append(flat(output))
        return hook

    handles = [layer.register_forward_hook(make_hook(i)) for i, layer in enumerate(layers)]
    was_training = model.training
    model.eval()
    device = next((p.device for p in model.parameters()), inputs.device)
    try:
        for start in range(0, inputs.shape[0], batch_size):
            model(inputs[start:start + batch_size].to(device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    n = inputs.shape[0]
    features = [torch.cat(c) if c else torch.zeros(n, 0) for c in captured]
    if any(f.shape[0] != n for f in features):
        raise ValueError("every module in layers must be called exactly once per forward pass")
    if include_input:
        features.insert(0, flat(inputs))
    return features


def probe_predictions(train_features: Sequence[Tensor], train_labels: Tensor, query_features: Sequence[Tensor],
                      k: int = 10, num_classes: int | None = None) -> Tensor:
    """k-NN probe predictions at every layer: ``Tensor[P, M]`` int64 for P layers, M queries.

    ``train_features[l]`` (``Tensor[N, D_l]``) and ``query_features[l]`` (``Tensor[M, D_l]``)
    are the representations at probe ``l``, e.g. from :func:`layer_features`.

    Examples:
        >>> tr = [torch.tensor([[0.0], [1.0], [5.0]]), torch.tensor([[0.0], [9.0], [9.5]])]
        >>> q = [torch.tensor([[0.9]]), torch.tensor([[9.2]])]
        >>> probe_predictions(tr, torch.tensor([0, 1, 1]), q, k=1)
        tensor([[1],
                [1]])
    """
    if len(train_features) != len(query_features):
        raise ValueError(f"need the same number of probe layers for train ({len(train_features)}) "
                         f"and query ({len(query_features)}) features")
    if len(train_features) == 0:
        raise ValueError("need at least one probe layer")
    preds = [knn_predict(tr, train_labels, q, k=k, num_classes=num_classes)
             for tr, q in zip(train_features, query_features)]
    return torch.stack(preds)  # [P, M]


def prediction_depth(probe_preds: Tensor, final_preds: Tensor) -> Tensor:
    """Earliest probe from which on every probe agrees with the final prediction.

    Baldock et al. (2021): an example is predicted at depth ``l`` if the probes at
    layers ``l, l+1, ..., P-1`` all give the network's final prediction and the probe
    at ``l - 1`` does not. Depth 0 means every probe, even on the raw input, agrees.
    Depth ``P`` means that even the last probe disagrees with the network.

    Args:
        probe_preds: ``Tensor[P, M]`` labels predicted by the probes of P layers.
        final_preds: ``Tensor[M]`` the network's predictions.

    Returns:
        ``Tensor[M]`` int64 in ``0..P``.

    Examples:
        >>> probes = torch.tensor([[0, 1, 2, 1],
        ...                        [1, 1, 0, 1],
        ...                        [1, 1, 0, 0]])
        >>> prediction_depth(probes, torch.tensor([1, 1, 0, 1]))
        tensor([1, 0, 1, 3])
    """
    check_tensor(probe_preds, "probe_preds", ndim=2)
    p, m = probe_preds.shape
    check_tensor(final_preds, "final_preds", shape=(m,))
    agree = probe_preds == final_preds[None, :]  # [P, M]
    # suffix_all[l] = probes l..P-1 all agree; a reversed cumulative product computes it.
    suffix_all = agree.flip(0).long().cumprod(dim=0).flip(0).bool()  # [P, M]
    settled = suffix_all.sum(dim=0)  # [M] number of trailing agreeing probes
    return (p - settled).long()  # [M]


def c_scores(features: Tensor, labels: Tensor, fit_predict: FitPredict, *,
             subset_fractions: float | Sequence[float] = (0.25, 0.5, 0.75), runs: int = 20,
             seed: int = 0) -> Tensor:
    """Holdout estimate of the C-score of every example.

    For each fraction ``s`` and each of ``runs`` runs, a random subset of
    ``round(s * N)`` examples is drawn, ``fit_predict`` trains on it and predicts the
    other examples, and each held-out example records whether it was classified
    correctly. Its score for ``s`` is the mean over the runs that held it out; the
    result is the mean over the fractions at which it was held out at least once
    (the paper's average over ``n``).

    Args:
        features: ``Tensor[N, ...]`` inputs (whatever ``fit_predict`` takes).
        labels: ``Tensor[N]`` integer labels.
        fit_predict: ``fit_predict(train_x, train_y, eval_x) -> Tensor[M]`` predicted
            labels for ``eval_x``; it trains a fresh model each call.
        subset_fractions: fraction(s) of the data used for training, each in (0, 1).
        runs: models trained per fraction.
        seed: seed of the random subsets.

    Returns:
        ``Tensor[N]`` float32 in [0, 1]; ``nan`` for an example that was never held out
        (too few runs for large fractions).

    Examples:
        >>> x = torch.arange(8.0)[:, None]; y = (x[:, 0] > 3.5).long()
        >>> threshold = lambda tx, ty, ex: (ex[:, 0] > 3.5).long()  # a perfect "model"
        >>> c_scores(x, y, threshold, subset_fractions=0.5, runs=4).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    check_tensor(features, "features")
    n = features.shape[0]
    labels = _check_labels(labels, "labels", n)
    check_positive_int(runs, "runs")
    fractions = [subset_fractions] if isinstance(subset_fractions, (int, float)) else list(subset_fractions)
    if not fractions:
        raise ValueError("subset_fractions must name at least one fraction")
    for f in fractions:
        if not 0.0 < float(f) < 1.0:
            raise ValueError(f"subset fractions must be in (0, 1), got {f}")
    if n == 0:
        return torch.zeros(0)
    generator = torch.Generator().manual_seed(seed)
    per_fraction = []
    for f in fractions:
        n_train = min(max(1, round(float(f) * n)), n - 1)
        correct = torch.zeros(n, dtype=torch.float64)
        held_out = torch.zeros(n, dtype=torch.float64)
        for _ in range(runs):
            perm = torch.randperm(n, generator=generator)
            train_idx, eval_idx = perm[:n_train], perm[n_train:]
            pred = fit_predict(features[train_idx], labels[train_idx], features[eval_idx])
            check_tensor(pred, "fit_predict output", shape=(len(eval_idx),))
            correct[eval_idx] += (pred.cpu().long() == labels[eval_idx].cpu()).double()
            held_out[eval_idx] += 1.0
        per_fraction.append(correct / held_out)  # nan where never held out (0 / 0)
    return torch.stack(per_fraction).nanmean(dim=0).float()  # [F, N] -> [N]


def mlp_fit_predict(hidden: int = 64, steps: int = 150, lr: float = 1e-2, weight_decay: float = 1e-4,
                    num_classes: int | None = None, seed: int = 0) -> FitPredict:
    """A ``fit_predict`` for :func:`c_scores`: a one-hidden-layer MLP trained full-batch with Adam.

    Inputs are flattened. Each call builds a fresh MLP (seeded with ``seed`` plus a
    call counter, so repeated calls are different but the whole estimate is
    reproducible) and trains it for ``steps`` full-batch steps. Small and fast: on the
    64-pixel digits one call takes a few milliseconds.

    Examples:
        >>> fp = mlp_fit_predict(hidden=8, steps=50)
        >>> x = torch.randn(40, 2, generator=torch.Generator().manual_seed(0)); y = (x[:, 0] > 0).long()
        >>> pred = fp(x[:30], y[:30], x[30:])
        >>> pred.shape, bool((pred == y[30:]).float().mean() > 0.7)
        (torch.Size([10]), True)
    """
    check_positive_int(hidden, "hidden")
    check_positive_int(steps, "steps")
    calls = [0]

    def fit_predict(train_x: Tensor, train_y: Tensor, eval_x: Tensor) -> Tensor:
        classes = num_classes if num_classes is not None else int(train_y.max()) + 1
        train_x = train_x.reshape(train_x.shape[0], -1).float()  # [N, D]
        eval_x = eval_x.reshape(eval_x.shape[0], -1).float()  # [M, D]
        gen = torch.Generator().manual_seed(seed * 1_000_003 + calls[0])
        calls[0] += 1
        net = nn.Sequential(nn.Linear(train_x.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, classes))
        with torch.no_grad():
            for layer in (net[0], net[2]):  # seeded init that does not touch the global RNG
                bound = layer.in_features ** -0.5
                layer.weight.uniform_(-bound, bound, generator=gen)
                layer.bias.zero_()
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(net(train_x), train_y.long()).backward()
            opt.step()
        with torch.no_grad():
            return net(eval_x).argmax(dim=1)  # [M]

    return fit_predict
