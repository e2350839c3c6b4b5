"""Attention: scaled dot-product attention, its masks, and the multi-head reshapes.

Conventions (the same in every function here):

* Queries ``q`` are ``Tensor[..., Tq, d]``, keys ``k`` are ``Tensor[..., Tk, d]`` and values
  ``v`` are ``Tensor[..., Tk, dv]``; the leading dimensions (batch, heads) broadcast.
* A **mask** is a ``bool`` tensor broadcastable to ``[..., Tq, Tk]``; ``True`` means *this
  query may look at this key* (PyTorch's convention for a boolean ``attn_mask``). A query
  whose keys are all masked gets all-zero weights and a zero output, as
  ``F.scaled_dot_product_attention`` does, instead of the NaN that a softmax over
  ``-inf`` scores would give.
* Multi-head tensors are ``Tensor[B, h, T, d / h]``: :func:`split_heads` cuts the model
  dimension into ``h`` consecutive slices, :func:`merge_heads` glues them back.

:func:`scaled_dot_product_attention_loop` computes one query at a time and follows the
formula; :func:`scaled_dot_product_attention` is the batched version. The tests compare
both with ``F.scaled_dot_product_attention`` and with ``nn.MultiheadAttention``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import check_nonnegative_int, check_positive_int, check_tensor
from course_utils.references import reference_of

__all__ = [
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_loop",
    "split_heads",
    "merge_heads",
    "attention_matrix_bytes",
]


def causal_mask(size: int, device: torch.device | str | None = None) -> Tensor:
    """Mask of a decoder: query ``i`` may look at keys ``0..i`` (itself and the past).

    Args:
        size: sequence length ``T``.
        device: where to build it (default CPU).

    Returns:
        ``Tensor[T, T]`` bool, ``True`` on and below the diagonal.

    Examples:
        >>> causal_mask(3).int()
        tensor([[1, 0, 0],
                [1, 1, 0],
                [1, 1, 1]], dtype=torch.int32)
    """
    check_nonnegative_int(size, "size")
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()  # [T, T]


def padding_mask(lengths: Tensor, max_length: int | None = None) -> Tensor:
    """Mask of a padded batch: ``True`` for the real tokens of each sequence.

    Args:
        lengths: ``Tensor[B]`` int, the length of each sequence (``0 <= lengths[b] <= T``).
        max_length: ``T``, the padded length (default ``lengths.max()``).

    Returns:
        ``Tensor[B, T]`` bool. As an attention mask over keys use ``mask[:, None, :]``
        (``[B, 1, Tk]``, every query of a sequence sees its real keys) or
        ``mask[:, None, None, :]`` with heads.

    Examples:
        >>> padding_mask(torch.tensor([2, 0, 3])).int()
        tensor([[1, 1, 0],
                [0, 0, 0],
                [1, 1, 1]], dtype=torch.int32)
    """
    check_tensor(lengths, "lengths", ndim=1)
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be an integer tensor, got {str(lengths.dtype).replace('torch.', '')}")
    if len(lengths) and int(lengths.min()) < 0:
        raise ValueError(f"lengths must be >= 0, got {int(lengths.min())}")
    longest = int(lengths.max()) if len(lengths) else 0
    if max_length is None:
        max_length = longest
    check_nonnegative_int(max_length, "max_length")
    if len(lengths) and (int(lengths.min()) < 0 or longest > max_length):
        raise ValueError(f"lengths must be in [0, max_length={max_length}], got values in "
                         f"[{int(lengths.min())}, {longest}]")
    positions = torch.arange(max_length, device=lengths.device)  # [T]
    return positions[None, :] < lengths[:, None]  # [B, T]


def _check_qkv(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> None:
    for name, x in (("q", q), ("k", k), ("v", v)):
        check_tensor(x, name, floating=True)
        if x.ndim < 2:
            raise ValueError(f"{name} must be at least 2-dimensional ([..., T, d]), got shape {list(x.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys Tk, got {k.shape[-2]} and {v.shape[-2]}")
    for name, x in (("k", k), ("v", v)):  # as F.scaled_dot_product_attention: one dtype, no silent promotion
        if x.dtype != q.dtype:
            raise TypeError(f"{name} must have the dtype of q ({str(q.dtype).replace('torch.', '')}), "
                            f"got {str(x.dtype).replace('torch.', '')}")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading (batch, head) dimensions of q {list(q.shape[:-2])}, k {list(k.shape[:-2])} "
                         f"and v {list(v.shape[:-2])} do not broadcast") from None
    if mask is not None:
        check_tensor(mask, "mask", dtypes=(torch.bool,))
        try:
            torch.broadcast_shapes(mask.shape, (*q.shape[:-1], k.shape[-2]))
        except RuntimeError:
            raise ValueError(f"mask of shape {list(mask.shape)} does not broadcast to the scores "
                             f"[..., Tq={q.shape[-2]}, Tk={k.shape[-2]}]") from None


def _sdpa_twin(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Twin of the attention references: ``F.scaled_dot_product_attention`` for the output.

    The weights come from the same scores through ``torch.softmax`` (PyTorch's function
    does not return them).
    """
    _check_qkv(q, k, v, mask)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return out, weights


@reference_of("06_transformers/scaled_dot_product_attention", twin=_sdpa_twin)
def scaled_dot_product_attention_loop(q: Tensor, k: Tensor, v: Tensor,
                                      mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Reference for :func:`scaled_dot_product_attention`: one query at a time. Slow; meant to be read.

    For query ``i``: scores ``e_j = q_i . k_j / sqrt(d)`` over the allowed keys, weights
    ``a = softmax(e)``, output ``sum_j a_j v_j``.

    Examples:
        >>> q = torch.tensor([[1.0, 0.0]]); k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> out, w = scaled_dot_product_attention_loop(q, k, torch.tensor([[10.0], [20.0]]))
        >>> w.round(decimals=4), out.round(decimals=2)
        (tensor([[0.6698, 0.3302]]), tensor([[13.3000]]))
    """
    _check_qkv(q, k, v, mask)
    batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2],
                                   () if mask is None else mask.shape[:-2])  # a mask may add dimensions
    tq, tk, dv = q.shape[-2], k.shape[-2], v.shape[-1]
    dtype = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
    count = 1
    for size in batch:
        count *= size
    q, k, v = (x.to(dtype).expand(*batch, *x.shape[-2:]).reshape(count, *x.shape[-2:]) for x in (q, k, v))
    allowed = (torch.ones(tq, tk, dtype=torch.bool, device=q.device) if mask is None else mask)
    allowed = allowed.expand(*batch, tq, tk).reshape(count, tq, tk)  # [N, Tq, Tk]
    out = q.new_zeros(len(q), tq, dv)
    weights = q.new_zeros(len(q), tq, tk)
    for n in range(len(q)):
        for i in range(tq):
            keys = torch.nonzero(allowed[n, i]).flatten()  # the keys query i may look at
            if len(keys) == 0:
                continue  # nothing to attend to: zero weights, zero output
            scores = k[n, keys] @ q[n, i] / math.sqrt(q.shape[-1])  # [K]
            a = torch.exp(scores - scores.max())
            a = a / a.sum()  # softmax over the allowed keys
            weights[n, i, keys] = a
            out[n, i] = a @ v[n, keys]  # [dv]
    return out.reshape(*batch, tq, dv), weights.reshape(*batch, tq, tk)


@reference_of("06_transformers/scaled_dot_product_attention", twin=_sdpa_twin)
def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor,
                                 mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Scaled dot-product attention, ``softmax(q k^T / sqrt(d)) v``, with an optional mask.

    Args:
        q: ``Tensor[..., Tq, d]`` queries.
        k: ``Tensor[..., Tk, d]`` keys.
        v: ``Tensor[..., Tk, dv]`` values.
        mask: ``bool`` tensor broadcastable to ``[..., Tq, Tk]``, ``True`` where a query may
            look at a key; ``None`` lets every query see every key.

    Returns:
        ``(output Tensor[..., Tq, dv], weights Tensor[..., Tq, Tk])``; each row of weights
        sums to 1 over the allowed keys (0 where a query has no allowed key, with a zero
        output). The output equals ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)``.

    Examples:
        >>> q = k = torch.eye(3)[None]  # [1, 3, 3]
        >>> v = torch.arange(3.0).reshape(1, 3, 1)
        >>> out, w = scaled_dot_product_attention(q, k, v, causal_mask(3))
        >>> w[0].round(decimals=3)
        tensor([[1.0000, 0.0000, 0.0000],
                [0.3600, 0.6400, 0.0000],
                [0.2640, 0.2640, 0.4710]])
    """
    _check_qkv(q, k, v, mask)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [..., Tq, Tk]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    # Subtracting the row maximum keeps exp() finite; a fully masked row has max -inf,
    # so it is replaced by 0 there and its weights come out as exp(-inf) = 0.
    if scores.shape[-1] == 0:  # no keys at all: nothing to attend to
        return scores @ v, scores
    row_max = scores.amax(dim=-1, keepdim=True)  # [..., Tq, 1]
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    exp = torch.exp(scores - row_max)  # [..., Tq, Tk]
    total = exp.sum(dim=-1, keepdim=True)
    weights = exp / torch.where(total > 0, total, torch.ones_like(total))
    return weights @ v, weights  # [..., Tq, dv], [..., Tq, Tk]


def _split_heads_twin(x: Tensor, num_heads: int) -> Tensor:
    """Twin of :func:`split_heads`: ``unflatten`` and ``transpose``."""
    _check_split(x, num_heads)
    return x.unflatten(-1, (num_heads, -1)).transpose(-3, -2)


def _merge_heads_twin(x: Tensor) -> Tensor:
    """Twin of :func:`merge_heads`: ``transpose`` and ``flatten``."""
    check_tensor(x, "x", ndim=4)
    return x.transpose(-3, -2).flatten(-2)


def _check_split(x: Tensor, num_heads: int) -> None:
    check_tensor(x, "x", ndim=3)
    check_positive_int(num_heads, "num_heads")
    if x.shape[-1] % num_heads:
        raise ValueError(f"the model dimension ({x.shape[-1]}) must be divisible by num_heads ({num_heads})")


@reference_of("06_transformers/multi_head_reshape", twin=_split_heads_twin)
def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """Cut the model dimension into ``num_heads`` heads: ``[B, T, D] -> [B, h, T, D / h]``.

    Head ``j`` gets the features ``j * D/h .. (j + 1) * D/h - 1`` of every token (the
    convention of ``nn.MultiheadAttention``).

    Examples:
        >>> split_heads(torch.arange(8.0).reshape(1, 2, 4), 2)[0]
        tensor([[[0., 1.],
                 [4., 5.]],
        <BLANKLINE>
                [[2., 3.],
                 [6., 7.]]])
    """
    _check_split(x, num_heads)
    b, t, d = x.shape
    return x.reshape(b, t, num_heads, d // num_heads).permute(0, 2, 1, 3)  # [B, h, T, D/h]


@reference_of("06_transformers/multi_head_reshape", twin=_merge_heads_twin)
def merge_heads(x: Tensor) -> Tensor:
    """Inverse of :func:`split_heads`: ``[B, h, T, dh] -> [B, T, h * dh]``.

    Examples:
        >>> x = torch.randn(2, 5, 12)
        >>> torch.equal(merge_heads(split_heads(x, 3)), x)
        True
    """
    check_tensor(x, "x", ndim=4)
    b, h, t, dh = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, t, h * dh)  # [B, T, h * dh]


def attention_matrix_bytes(num_tokens: int, num_heads: int = 1, batch: int = 1, bytes_per_value: int = 4) -> int:
    """Memory of the attention weights of one layer: ``batch * heads * T^2`` values.

    This is what grows quadratically with the sequence (or the number of image patches);
    fused kernels (FlashAttention) avoid storing it, at the price of recomputing it.

    Examples:
        >>> attention_matrix_bytes(197, num_heads=12)  # ViT-B/16 at 224 x 224, float32
        1862832
    """
    for name, value in (("num_tokens", num_tokens), ("num_heads", num_heads), ("batch", batch),
                        ("bytes_per_value", bytes_per_value)):
        check_nonnegative_int(value, name)
    return batch * num_heads * num_tokens * num_tokens * bytes_per_value
