"""Multilayer perceptrons: a builder, the parameter-count formula, and backprop by hand.

A fully connected layer from ``a`` to ``b`` units has an ``[b, a]`` weight matrix and
``b`` biases: ``a * b + b`` parameters. An MLP with layer sizes ``[n_0, n_1, ..., n_L]``
(input, hidden..., output) therefore has ``sum_l (n_{l-1} * n_l + n_l)`` parameters.

:func:`two_layer_forward_backward` is the reference for chapter 01's backprop exercise:
the network ``scores = relu(x @ W1.T + b1) @ W2.T + b2`` (weights stored as in
``nn.Linear``: ``[out, in]``), and its gradients from an upstream gradient ``dscores``,
each one "upstream gradient x local gradient".
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_in, check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = ["ACTIVATIONS", "make_mlp", "mlp_parameter_count", "two_layer_forward_backward"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"sizes must be a list of at least 2 layer sizes (input, ..., output), got {sizes!r}")
    return [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]


def make_mlp(sizes: Sequence[int], activation: str = "relu", *, bias: bool = True,
             flatten: bool = True) -> nn.Sequential:
    """``nn.Sequential`` of ``Linear`` layers with ``activation`` between them (none after the last).

    Args:
        sizes: ``[n_in, hidden..., n_out]``.
        activation: one of :data:`ACTIVATIONS`.
        bias: give every ``Linear`` a bias.
        flatten: start with ``nn.Flatten()`` so images ``[B, C, H, W]`` can go in directly.

    Examples:
        >>> net = make_mlp([64, 32, 10])
        >>> net(torch.zeros(5, 1, 8, 8)).shape, sum(p.numel() for p in net.parameters())
        (torch.Size([5, 10]), 2410)
    """
    sizes = _check_sizes(sizes)
    check_in(activation, "activation", list(ACTIVATIONS))
    layers: list[nn.Module] = [nn.Flatten()] if flatten else []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _mlp_parameter_count_twin(sizes, bias=True):
    """Twin of :func:`mlp_parameter_count`: build the network on the meta device and count its parameters."""
    sizes = _check_sizes(sizes)
    with torch.device("meta"):  # shapes only: no memory even for the lecture's 100M-parameter network
        net = make_mlp(sizes, bias=bias, flatten=False)
    return sum(p.numel() for p in net.parameters())


@reference_of("01_linear_models/mlp_parameter_count", twin=_mlp_parameter_count_twin)
def mlp_parameter_count(sizes: Sequence[int], bias: bool = True) -> int:
    """Number of weights and biases of a fully connected network with these layer sizes.

    Examples:
        >>> mlp_parameter_count([2, 4, 1])  # 2*4 + 4*1 weights, 4 + 1 biases
        17
        >>> mlp_parameter_count([285 * 350, 1000, 1000, 1000, 3])
        101756003
    """
    sizes = _check_sizes(sizes)
    return sum(a * b + (b if bias else 0) for a, b in zip(sizes[:-1], sizes[1:]))


def _two_layer_forward_backward_twin(x, W1, b1, W2, b2, dscores):
    """Twin of :func:`two_layer_forward_backward`: ``F.linear`` and ``F.relu``, the gradients by autograd."""
    check_tensor(x, "x", ndim=2, floating=True)
    check_tensor(W1, "W1", shape=(None, x.shape[1]))
    check_tensor(b1, "b1", shape=(W1.shape[0],))
    check_tensor(W2, "W2", shape=(None, W1.shape[0]))
    check_tensor(b2, "b2", shape=(W2.shape[0],))
    check_tensor(dscores, "dscores", shape=(x.shape[0], W2.shape[0]))
    names = ("x", "W1", "b1", "W2", "b2")
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(True) for t in (x, W1, b1, W2, b2)]
        lx, lw1, lb1, lw2, lb2 = leaves
        scores = F.linear(F.relu(F.linear(lx, lw1, lb1)), lw2, lb2)  # [N, C]
        grads = torch.autograd.grad(scores, leaves, grad_outputs=dscores)
    return F.linear(F.relu(F.linear(x, W1, b1)), W2, b2), dict(zip(names, grads))


@reference_of("01_linear_models/two_layer_forward_backward", twin=_two_layer_forward_backward_twin)
def two_layer_forward_backward(
    x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, dscores: Tensor
) -> tuple[Tensor, dict[str, Tensor]]:
    """Forward pass of ``relu(x W1^T + b1) W2^T + b2`` and its gradients by hand.

    Args:
        x: ``Tensor[N, D]`` inputs.
        W1: ``Tensor[H, D]``, b1: ``Tensor[H]`` (first layer, as in ``nn.Linear(D, H)``).
        W2: ``Tensor[C, H]``, b2: ``Tensor[C]`` (second layer).
        dscores: ``Tensor[N, C]`` upstream gradient dL/dscores.

    Returns:
        ``(scores Tensor[N, C], grads)`` with ``grads`` a dict of the gradients of L with
        respect to ``"x"``, ``"W1"``, ``"b1"``, ``"W2"``, ``"b2"`` (shapes of the inputs).
        The ReLU's derivative at exactly 0 is taken as 0 (as PyTorch does).

    Examples:
        >>> x = torch.tensor([[1.0, -1.0]]); W1 = torch.eye(2); b1 = torch.zeros(2)
        >>> W2 = torch.tensor([[1.0, 1.0]]); b2 = torch.zeros(1)
        >>> scores, g = two_layer_forward_backward(x, W1, b1, W2, b2, torch.ones(1, 1))
        >>> scores.tolist(), g["W1"].abs().tolist(), g["b1"].tolist()
        ([[1.0]], [[1.0, 1.0], [0.0, 0.0]], [1.0, 0.0])
    """
    check_tensor(x, "x", ndim=2, floating=True)
    n, d = x.shape
    check_tensor(W1, "W1", shape=(None, d))
    h_dim = W1.shape[0]
    check_tensor(b1, "b1", shape=(h_dim,))
    check_tensor(W2, "W2", shape=(None, h_dim))
    c = W2.shape[0]
    check_tensor(b2, "b2", shape=(c,))
    check_tensor(dscores, "dscores", shape=(n, c))
    z1 = x @ W1.T + b1  # [N, H] pre-activations
    h = z1.clamp_min(0.0)  # [N, H] ReLU
    scores = h @ W2.T + b2  # [N, C]
    # Second layer: scores = h W2^T + b2.
    dW2 = dscores.T @ h  # [C, N] @ [N, H] -> [C, H]
    db2 = dscores.sum(dim=0)  # [C]: the bias is added to every row
    dh = dscores @ W2  # [N, C] @ [C, H] -> [N, H]
    # ReLU: local gradient 1 where z1 > 0, else 0.
    dz1 = dh * (z1 > 0).to(dh.dtype)  # [N, H]
    dW1 = dz1.T @ x  # [H, N] @ [N, D] -> [H, D]
    db1 = dz1.sum(dim=0)  # [H]
    dx = dz1 @ W1  # [N, H] @ [H, D] -> [N, D]
    return scores, {"x": dx, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
