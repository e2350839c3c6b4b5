"""Multi-head self-attention and the Transformer block (pre-norm and post-norm).

Tokens are ``Tensor[B, T, D]``. The block, with the attribute names the chapter's
exercise asks for::

    pre-norm  (GPT-2, ViT):      x = x + proj(attn(norm1(x)));  x = x + mlp(norm2(x))
    post-norm (the 2017 paper):  x = norm1(x + proj(attn(x)));  x = norm2(x + mlp(x))

* ``qkv = nn.Linear(D, 3D)`` computes queries, keys and values in one product; its
  output is ``[q | k | v]``, each cut into ``h`` heads of ``D / h`` features (the layout
  of ``nn.MultiheadAttention``'s ``in_proj_weight``, so weights copy over directly);
* ``proj = nn.Linear(D, D)`` mixes the heads' outputs;
* ``mlp = Sequential(Linear(D, r D), GELU(), Linear(r D, D))`` with ``r = mlp_ratio``.

Pre-norm keeps an untouched residual path from the input to the output, which is why
deep pre-norm stacks train without the learning-rate warm-up post-norm needs
(Xiong et al., 2020).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import check_positive_int, check_tensor
from course_utils.ops.attention import merge_heads, scaled_dot_product_attention, split_heads
from course_utils.references import reference_of

__all__ = ["MultiHeadSelfAttention", "TransformerBlock", "mlp_hidden_size", "transformer_block_parameters"]


def mlp_hidden_size(dim: int, mlp_ratio: float) -> int:
    """Width of a block's MLP: ``int(dim * mlp_ratio)``.

    Examples:
        >>> mlp_hidden_size(768, 4.0), mlp_hidden_size(32, 2.5)
        (3072, 80)
    """
    check_positive_int(dim, "dim")
    if not mlp_ratio > 0:
        raise ValueError(f"mlp_ratio must be positive, got {mlp_ratio}")
    return int(dim * mlp_ratio)


def transformer_block_parameters(dim: int, mlp_ratio: float = 4.0) -> int:
    """Parameters of one block: ``4 D^2 + 4 D`` (attention) ``+ 2 r D^2 + (r + 1) D`` (MLP) ``+ 4 D`` (norms).

    About ``12 D^2`` for ``r = 4``, the rule of thumb for GPT and ViT sizes.

    Examples:
        >>> transformer_block_parameters(768)  # ViT-B and GPT-2 small
        7087872
    """
    hidden = mlp_hidden_size(dim, mlp_ratio)
    attention = 3 * dim * dim + 3 * dim + dim * dim + dim
    mlp = dim * hidden + hidden + hidden * dim + dim
    return attention + mlp + 4 * dim


def _check_heads(dim: int, num_heads: int) -> None:
    check_positive_int(dim, "dim")
    check_positive_int(num_heads, "num_heads")
    if dim % num_heads:
        raise ValueError(f"dim ({dim}) must be divisible by num_heads ({num_heads})")


def _mha_twin(self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False):
    """Twin of the attention modules' forward: ``F.multi_head_attention_forward`` with our weights."""
    check_tensor(x, "x", ndim=3, floating=True)
    b, t, d = x.shape
    attn_mask = None if mask is None else ~mask  # PyTorch's MHA masks where True
    if attn_mask is not None and attn_mask.ndim == 4:
        attn_mask = attn_mask.expand(b, self.num_heads, t, t).reshape(b * self.num_heads, t, t)
    xt = x.transpose(0, 1)  # [T, B, D]
    out, weights = F.multi_head_attention_forward(
        xt, xt, xt, d, self.num_heads, self.qkv.weight, self.qkv.bias, None, None, False, 0.0,
        self.proj.weight, self.proj.bias, training=False, need_weights=True, attn_mask=attn_mask,
        average_attn_weights=False)
    out = out.transpose(0, 1)
    if mask is not None:  # a fully masked query gives NaN in PyTorch's MHA; ours gives 0 attention
        weights = weights.nan_to_num(0.0)
        out = torch.where(weights.sum((1, 3))[..., None] > 0, out, self.proj.bias.expand_as(out))
    return (out, weights) if return_attention else out


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention: ``proj(merge(softmax(q k^T / sqrt(d_h)) v))``.

    Args:
        dim: model dimension ``D``.
        num_heads: ``h``, dividing ``D``.

    Shape: ``Tensor[B, T, D] -> Tensor[B, T, D]``; with ``return_attention=True`` also the
    weights ``Tensor[B, h, T, T]``. ``mask`` is a bool tensor broadcastable to
    ``[B, h, T, T]``, ``True`` where a query may look at a key
    (:func:`course_utils.ops.attention.causal_mask`, ``padding_mask(...)[:, None, None, :]``).

    Examples:
        >>> attn = MultiHeadSelfAttention(16, 4)
        >>> out, w = attn(torch.randn(2, 5, 16), return_attention=True)
        >>> out.shape, w.shape
        (torch.Size([2, 5, 16]), torch.Size([2, 4, 5, 5]))
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        _check_heads(dim, num_heads)
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    @reference_of("06_transformers/transformer_block", twin=_mha_twin)
    def forward(self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False):
        check_tensor(x, "x", ndim=3, floating=True)
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # 3 x [B, T, D]
        q, k, v = (split_heads(z, self.num_heads) for z in (q, k, v))  # [B, h, T, D/h]
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # [B, h, T, D/h], [B, h, T, T]
        out = self.proj(merge_heads(out))  # [B, T, D]
        return (out, weights) if return_attention else out


def _block_twin(self, x: Tensor) -> Tensor:
    """Twin of ``TransformerBlock.forward``: ``F.multi_head_attention_forward``, ``F.layer_norm``, ``F.gelu``."""
    check_tensor(x, "x", ndim=3, floating=True)
    d = x.shape[-1]

    def attention(z: Tensor) -> Tensor:
        zt = z.transpose(0, 1)  # [T, B, D]
        out, _ = F.multi_head_attention_forward(
            zt, zt, zt, d, self.num_heads, self.qkv.weight, self.qkv.bias, None, None, False, 0.0,
            self.proj.weight, self.proj.bias, training=False, need_weights=False)
        return out.transpose(0, 1)

    def norm(layer: nn.LayerNorm, z: Tensor) -> Tensor:
        return F.layer_norm(z, layer.normalized_shape, layer.weight, layer.bias, layer.eps)

    def mlp(z: Tensor) -> Tensor:
        return F.linear(F.gelu(F.linear(z, self.mlp[0].weight, self.mlp[0].bias)), self.mlp[2].weight, self.mlp[2].bias)

    if self.pre_norm:
        x = x + attention(norm(self.norm1, x))
        return x + mlp(norm(self.norm2, x))
    x = norm(self.norm1, x + attention(x))
    return norm(self.norm2, x + mlp(x))


def _block_attention_twin(self, x: Tensor) -> tuple[Tensor, Tensor]:
    """Twin of ``TransformerBlock.attention``: ``F.multi_head_attention_forward`` with our weights."""
    xt = x.transpose(0, 1)  # [T, B, D]
    out, weights = F.multi_head_attention_forward(
        xt, xt, xt, x.shape[-1], self.num_heads, self.qkv.weight, self.qkv.bias, None, None, False, 0.0,
        self.proj.weight, self.proj.bias, training=False, need_weights=True, average_attn_weights=False)
    return out.transpose(0, 1), weights


class TransformerBlock(nn.Module):
    """A Transformer encoder block: self-attention and an MLP, each with a residual and a LayerNorm.

    Args:
        dim: model dimension ``D``.
        num_heads: ``h``, dividing ``D``.
        mlp_ratio: the MLP's hidden width is ``int(D * mlp_ratio)``.
        pre_norm: ``True`` normalizes before each sub-layer (inside the residual branch),
            ``False`` after the residual sum (the original Transformer).

    Attributes (the names the chapter's exercise uses): ``norm1``, ``qkv``, ``proj``,
    ``norm2``, ``mlp`` (``Sequential(Linear, GELU, Linear)``), ``num_heads``, ``pre_norm``.

    Shape: ``Tensor[B, T, D] -> Tensor[B, T, D]``.

    Examples:
        >>> block = TransformerBlock(32, 4, mlp_ratio=2.0)
        >>> block(torch.randn(3, 7, 32)).shape, sum(p.numel() for p in block.parameters())
        (torch.Size([3, 7, 32]), 8544)
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, pre_norm: bool = True) -> None:
        super().__init__()
        _check_heads(dim, num_heads)
        hidden = mlp_hidden_size(dim, mlp_ratio)
        self.num_heads = num_heads
        self.pre_norm = bool(pre_norm)
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    @reference_of("06_transformers/transformer_block", twin=_block_attention_twin)
    def attention(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Self-attention of ``x`` (already normalized if pre-norm): ``(proj output [B, T, D], weights [B, h, T, T])``."""
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # 3 x [B, T, D]
        q, k, v = (split_heads(z, self.num_heads) for z in (q, k, v))  # [B, h, T, D/h]
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # [B, h, T, T]
        weights = scores.softmax(dim=-1)
        return self.proj(merge_heads(weights @ v)), weights  # [B, T, D], [B, h, T, T]

    @reference_of("06_transformers/transformer_block", twin=_block_twin)
    def forward(self, x: Tensor) -> Tensor:
        check_tensor(x, "x", ndim=3, floating=True)
        if self.pre_norm:
            x = x + self.attention(self.norm1(x))[0]  # residual around attention
            return x + self.mlp(self.norm2(x))  # residual around the MLP
        x = self.norm1(x + self.attention(x)[0])
        return self.norm2(x + self.mlp(x))
