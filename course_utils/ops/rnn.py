"""A vanilla (Elman) recurrent network over a sequence, and the gradient it passes back in time.

The recurrence, with PyTorch's ``nn.RNN`` names for the weights::

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   t = 1 .. T

* ``x`` is ``Tensor[B, T, I]`` (batch first), ``h0`` is ``Tensor[B, H]``;
* ``weight_ih`` is ``Tensor[H, I]``, ``weight_hh`` is ``Tensor[H, H]``, the biases ``Tensor[H]``;
* the result is ``(outputs Tensor[B, T, H], last Tensor[B, H])``: every hidden state, and
  the last one (``h0`` itself when ``T = 0``).

:func:`rnn_forward_loop` is the recurrence written out; :func:`rnn_forward` computes all
the input projections in one matrix product first (they do not depend on the past) and
loops only over the part that does. Both match ``nn.RNN(batch_first=True)`` with the same
weights. :func:`hidden_state_gradients` measures how the gradient of a loss shrinks or
grows as it travels back through the steps (the vanishing/exploding gradient problem).
"""
from __future__ import annotations

import torch
from torch import Tensor

from course_utils.checks import check_tensor
from course_utils.references import reference_of

__all__ = ["rnn_forward", "rnn_forward_loop", "hidden_state_gradients"]


def _check_rnn(x: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor,
               bias_hh: Tensor) -> None:
    check_tensor(x, "x", ndim=3, floating=True)
    b, _, i = x.shape
    check_tensor(weight_hh, "weight_hh", ndim=2, floating=True)
    h = weight_hh.shape[0]
    check_tensor(h0, "h0", shape=(b, h), floating=True)
    check_tensor(weight_ih, "weight_ih", shape=(h, i), floating=True)
    check_tensor(weight_hh, "weight_hh", shape=(h, h))
    check_tensor(bias_ih, "bias_ih", shape=(h,), floating=True)
    check_tensor(bias_hh, "bias_hh", shape=(h,), floating=True)
    for name, t in (("h0", h0), ("weight_ih", weight_ih), ("weight_hh", weight_hh), ("bias_ih", bias_ih),
                    ("bias_hh", bias_hh)):  # as nn.RNN: one dtype, no silent promotion
        if t.dtype != x.dtype:
            raise TypeError(f"{name} must have the dtype of x ({str(x.dtype).replace('torch.', '')}), "
                            f"got {str(t.dtype).replace('torch.', '')}")


def _rnn_twin(x: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor,
              bias_hh: Tensor) -> tuple[Tensor, Tensor]:
    """Twin of the RNN references: ``torch.rnn_tanh``, the operator behind ``nn.RNN``."""
    _check_rnn(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)
    if x.shape[1] == 0:  # the operator refuses empty sequences
        return x.new_zeros(x.shape[0], 0, h0.shape[1]), h0.clone()
    outputs, last = torch.rnn_tanh(x, h0[None], [weight_ih, weight_hh, bias_ih, bias_hh],
                                   True, 1, 0.0, False, False, True)
    return outputs, last[0]


@reference_of("06_transformers/rnn_forward", twin=_rnn_twin)
def rnn_forward_loop(x: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor,
                     bias_hh: Tensor) -> tuple[Tensor, Tensor]:
    """A vanilla RNN over a batch of sequences, one step at a time (see the module docstring).

    Examples:
        >>> x = torch.ones(1, 3, 1)
        >>> outputs, last = rnn_forward_loop(x, torch.zeros(1, 1), torch.ones(1, 1), torch.ones(1, 1),
        ...                                  torch.zeros(1), torch.zeros(1))
        >>> outputs[0, :, 0].round(decimals=4), torch.equal(last, outputs[:, -1])
        (tensor([0.7616, 0.9427, 0.9597]), True)
    """
    _check_rnn(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)  # [B, H]
        states.append(h)
    if not states:
        return x.new_zeros(x.shape[0], 0, h0.shape[1]), h0.clone()
    return torch.stack(states, dim=1), h  # [B, T, H], [B, H]


@reference_of("06_transformers/rnn_forward", twin=_rnn_twin)
def rnn_forward(x: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor,
                bias_hh: Tensor) -> tuple[Tensor, Tensor]:
    """A vanilla RNN over a batch of sequences: ``(outputs [B, T, H], last [B, H])``.

    Same as :func:`rnn_forward_loop`, with the input projections of all steps computed
    in one matrix product.

    Examples:
        >>> rnn = torch.nn.RNN(3, 4, batch_first=True)
        >>> x, h0 = torch.randn(2, 5, 3), torch.zeros(2, 4)
        >>> outputs, last = rnn_forward(x, h0, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
        >>> torch.allclose(outputs, rnn(x, h0[None])[0], atol=1e-6)
        True
    """
    _check_rnn(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)
    inputs = x @ weight_ih.T + (bias_ih + bias_hh)  # [B, T, H]: the part that does not depend on the past
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = torch.tanh(inputs[:, t] + h @ weight_hh.T)  # [B, H]
        states.append(h)
    if not states:
        return x.new_zeros(x.shape[0], 0, h0.shape[1]), h0.clone()
    return torch.stack(states, dim=1), h


def hidden_state_gradients(states: list[Tensor], loss: Tensor) -> Tensor:
    """Norm of ``d loss / d h_t`` for every hidden state of an unrolled network.

    Args:
        states: the hidden states ``h_1 .. h_T`` (each ``Tensor[B, H]``) of a forward pass,
            kept in the graph (e.g. ``outputs.unbind(1)`` of an ``nn.RNN`` output would not
            do: collect them from a loop, or call ``retain_grad`` on them).
        loss: a scalar computed from the states.

    Returns:
        ``Tensor[T]``: the Frobenius norm of the gradient with respect to each state,
        averaged over the batch.

    Examples:
        >>> w = torch.tensor([[0.5]])
        >>> h = torch.ones(1, 1, requires_grad=True); states = []
        >>> for _ in range(3):
        ...     h = h @ w; states.append(h)
        >>> hidden_state_gradients(states, states[-1].sum())
        tensor([0.2500, 0.5000, 1.0000])
    """
    if not states:
        return torch.zeros(0)
    grads = torch.autograd.grad(loss, states, allow_unused=True, retain_graph=True)
    norms = [torch.zeros((), dtype=s.dtype) if g is None else g.flatten(1).norm(dim=1).mean()
             for s, g in zip(states, grads)]
    return torch.stack(norms).detach()
