"""Tests of course_utils.models.transformer against nn.MultiheadAttention and nn.TransformerEncoderLayer."""
import pytest
import torch
from torch import nn

from course_utils.models import transformer as T
from course_utils.ops.attention import causal_mask


def _randomize(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.3)


def _torch_layer(block, pre_norm, dim, heads, hidden):
    layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=hidden, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=pre_norm).double().eval()
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(block.qkv.weight)
        layer.self_attn.in_proj_bias.copy_(block.qkv.bias)
        layer.self_attn.out_proj.weight.copy_(block.proj.weight)
        layer.self_attn.out_proj.bias.copy_(block.proj.bias)
        layer.linear1.weight.copy_(block.mlp[0].weight)
        layer.linear1.bias.copy_(block.mlp[0].bias)
        layer.linear2.weight.copy_(block.mlp[2].weight)
        layer.linear2.bias.copy_(block.mlp[2].bias)
        for ours, theirs in ((block.norm1, layer.norm1), (block.norm2, layer.norm2)):
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
    return layer


@pytest.mark.parametrize("pre_norm", [True, False])
@pytest.mark.parametrize("dim, heads, ratio", [(8, 1, 2.0), (12, 3, 4.0), (16, 4, 2.5)])
def test_block_matches_transformer_encoder_layer(pre_norm, dim, heads, ratio):
    block = T.TransformerBlock(dim, heads, mlp_ratio=ratio, pre_norm=pre_norm).double()
    _randomize(block)
    layer = _torch_layer(block, pre_norm, dim, heads, T.mlp_hidden_size(dim, ratio))
    x = torch.randn(3, 5, dim, dtype=torch.float64, requires_grad=True)
    out = block(x)
    torch.testing.assert_close(out, layer(x))
    torch.testing.assert_close(T._block_twin(block, x), out)
    (g1,) = torch.autograd.grad(out.sum(), x)
    (g2,) = torch.autograd.grad(layer(x).sum(), x)
    torch.testing.assert_close(g1, g2)


def test_block_attention_method_and_twin():
    block = T.TransformerBlock(12, 3).double()
    _randomize(block, 1)
    x = torch.randn(2, 4, 12, dtype=torch.float64)
    out, weights = block.attention(x)
    out2, weights2 = T._block_attention_twin(block, x)
    torch.testing.assert_close(out, out2)
    torch.testing.assert_close(weights, weights2)
    assert weights.shape == (2, 3, 4, 4)


def test_multi_head_self_attention_matches_pytorch():
    torch.manual_seed(0)
    ours = T.MultiHeadSelfAttention(16, 4).double()
    theirs = nn.MultiheadAttention(16, 4, batch_first=True).double()
    with torch.no_grad():
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.proj.weight)
        theirs.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    for mask in (None, causal_mask(6)):
        out, weights = ours(x, mask=mask, return_attention=True)
        expected, expected_w = theirs(x, x, x, attn_mask=None if mask is None else ~mask, average_attn_weights=False)
        torch.testing.assert_close(out, expected)
        torch.testing.assert_close(weights, expected_w)
        twin_out, twin_w = T._mha_twin(ours, x, mask, True)
        torch.testing.assert_close(twin_out, out)
        torch.testing.assert_close(twin_w, weights)


def test_every_parameter_gets_a_gradient():
    for module in (T.TransformerBlock(16, 2, pre_norm=False), T.TransformerBlock(16, 4), T.MultiHeadSelfAttention(16, 2)):
        out = module(torch.randn(2, 3, 16))
        assert out.shape == (2, 3, 16) and torch.isfinite(out).all()
        out.square().sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in module.parameters())


@pytest.mark.parametrize("dim, ratio", [(32, 2.0), (768, 4.0), (20, 2.5)])
def test_parameter_count_formula(dim, ratio):
    block = T.TransformerBlock(dim, 4, mlp_ratio=ratio)
    assert sum(p.numel() for p in block.parameters()) == T.transformer_block_parameters(dim, ratio)


def test_checks():
    with pytest.raises(ValueError, match="divisible"):
        T.TransformerBlock(10, 3)
    with pytest.raises(ValueError):
        T.TransformerBlock(10, 2)(torch.zeros(2, 10))
