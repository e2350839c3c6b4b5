"""Tests of course_utils.ops.attention against PyTorch's attention and each other."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.ops import attention as A

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.float64: dict(atol=1e-10, rtol=1e-10)}


def _randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _masks(tq, tk, seed=0):
    g = torch.Generator().manual_seed(seed)
    random = torch.rand(tq, tk, generator=g) > 0.4
    random[torch.arange(tq), torch.randint(0, tk, (tq,), generator=g)] = True  # every query keeps a key
    yield None
    yield random
    if tq == tk:
        yield A.causal_mask(tq)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 3, 3, 4, 5), (2, 4, 6, 8, 3), (3, 1, 2, 5, 7)])
def test_attention_matches_pytorch(dtype, shape):
    b, tq, tk, d, dv = shape
    q, k, v = _randn(b, tq, d, dtype=dtype, seed=1), _randn(b, tk, d, dtype=dtype, seed=2), _randn(b, tk, dv, dtype=dtype, seed=3)
    for mask in _masks(tq, tk):
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        for fn in (A.scaled_dot_product_attention, A.scaled_dot_product_attention_loop, A._sdpa_twin):
            out, weights = fn(q, k, v, mask)
            torch.testing.assert_close(out, expected, **TOL[dtype])
            assert out.dtype == dtype and weights.shape == (b, tq, tk)
            torch.testing.assert_close(weights.sum(-1), torch.ones(b, tq, dtype=dtype), **TOL[dtype])
            if mask is not None:
                assert bool((weights[:, ~mask] == 0).all()), "masked keys must get weight exactly 0"


def test_attention_with_heads_and_padding_mask():
    q, k, v = _randn(2, 3, 5, 4, seed=1), _randn(2, 3, 5, 4, seed=2), _randn(2, 3, 5, 6, seed=3)
    mask = A.padding_mask(torch.tensor([5, 2]))[:, None, None, :]  # [B, 1, 1, T]
    out, weights = A.scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert bool((weights[1, :, :, 2:] == 0).all())
    loop_out, loop_weights = A.scaled_dot_product_attention_loop(q, k, v, mask)
    torch.testing.assert_close(loop_out, out)
    torch.testing.assert_close(loop_weights, weights)


def test_fully_masked_query_gives_zeros_like_pytorch():
    q, k, v = _randn(1, 2, 4, seed=1), _randn(1, 3, 4, seed=2), _randn(1, 3, 5, seed=3)
    mask = torch.tensor([[True, False, True], [False, False, False]])
    for fn in (A.scaled_dot_product_attention, A.scaled_dot_product_attention_loop, A._sdpa_twin):
        out, weights = fn(q, k, v, mask)
        assert not torch.isnan(out).any() and not torch.isnan(weights).any()
        assert bool((out[0, 1] == 0).all()) and bool((weights[0, 1] == 0).all())
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_attention_gradcheck():
    q, k, v = (_randn(2, 3, 4, seed=s).requires_grad_() for s in (1, 2, 3))
    mask = A.causal_mask(3)
    assert torch.autograd.gradcheck(lambda q, k, v: A.scaled_dot_product_attention(q, k, v, mask)[0], (q, k, v))


def test_attention_without_scaling_saturates():
    """The 1/sqrt(d) keeps the scores' spread near 1 whatever d is."""
    for d in (4, 64, 1024):
        q, k = _randn(1, 64, d, seed=1), _randn(1, 64, d, seed=2)
        scores = q @ k.transpose(-2, -1)
        assert 0.8 * math.sqrt(d) < float(scores.std()) < 1.2 * math.sqrt(d)
        assert 0.8 < float((scores / math.sqrt(d)).std()) < 1.2


def test_empty_inputs():
    q, k, v = torch.zeros(2, 0, 4), torch.zeros(2, 3, 4), torch.zeros(2, 3, 5)
    out, weights = A.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 0, 5) and weights.shape == (2, 0, 3)
    out, weights = A.scaled_dot_product_attention(torch.zeros(2, 3, 4), torch.zeros(2, 0, 4), torch.zeros(2, 0, 5))
    assert out.shape == (2, 3, 5) and bool((out == 0).all())
    out, weights = A.scaled_dot_product_attention_loop(torch.zeros(2, 3, 4), torch.zeros(2, 0, 4), torch.zeros(2, 0, 5))
    assert out.shape == (2, 3, 5) and weights.shape == (2, 3, 0)


def test_attention_checks_inputs():
    with pytest.raises(ValueError, match="same last dimension"):
        A.scaled_dot_product_attention(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="same number of keys"):
        A.scaled_dot_product_attention(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), torch.zeros(1, 3, 4))
    with pytest.raises(TypeError, match="dtype"):
        A.scaled_dot_product_attention(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), torch.zeros(1, 2, 4),
                                       torch.ones(2, 2))
    with pytest.raises(ValueError, match="does not broadcast"):
        A.scaled_dot_product_attention(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), torch.zeros(1, 2, 4),
                                       torch.ones(3, 3, dtype=torch.bool))


def test_masks():
    assert torch.equal(A.causal_mask(4), torch.tril(torch.ones(4, 4, dtype=torch.bool)))
    assert A.causal_mask(0).shape == (0, 0)
    mask = A.padding_mask(torch.tensor([3, 0, 1]), max_length=4)
    assert mask.tolist() == [[True, True, True, False], [False] * 4, [True, False, False, False]]
    assert A.padding_mask(torch.zeros(0, dtype=torch.long)).shape == (0, 0)
    with pytest.raises(ValueError):
        A.padding_mask(torch.tensor([5]), max_length=3)
    with pytest.raises(TypeError):
        A.padding_mask(torch.tensor([1.0]))


@pytest.mark.parametrize("heads", [1, 2, 3, 6])
def test_split_and_merge_heads(heads):
    x = _randn(2, 5, 12)
    split = A.split_heads(x, heads)
    assert split.shape == (2, heads, 5, 12 // heads)
    for j in range(heads):  # head j holds features j*dh .. (j+1)*dh - 1 of every token
        torch.testing.assert_close(split[:, j], x[..., j * (12 // heads):(j + 1) * (12 // heads)])
    assert torch.equal(A.merge_heads(split), x)
    assert torch.equal(A._split_heads_twin(x, heads), split)
    assert torch.equal(A._merge_heads_twin(split), x)


def test_split_heads_matches_multihead_attention():
    """nn.MultiheadAttention splits its projections the same way: per-head attention by hand equals it."""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(12, 3, batch_first=True, bias=False)
    x = _randn(2, 4, 12, dtype=torch.float32)
    expected, expected_weights = mha(x, x, x, average_attn_weights=False)
    q, k, v = F.linear(x, mha.in_proj_weight).chunk(3, dim=-1)
    out, weights = A.scaled_dot_product_attention(A.split_heads(q, 3), A.split_heads(k, 3), A.split_heads(v, 3))
    torch.testing.assert_close(F.linear(A.merge_heads(out), mha.out_proj.weight), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-5)


def test_split_heads_checks_divisibility():
    with pytest.raises(ValueError, match="divisible"):
        A.split_heads(torch.zeros(1, 2, 10), 3)
    with pytest.raises(ValueError):
        A.merge_heads(torch.zeros(2, 3, 4))


def test_attention_matrix_bytes():
    assert A.attention_matrix_bytes(197, num_heads=12) == 12 * 197 * 197 * 4
    assert A.attention_matrix_bytes(0) == 0
    assert A.attention_matrix_bytes(10, batch=2, bytes_per_value=2) == 400


def test_malformed_inputs_found_by_the_property_tests():
    """Each used to crash inside PyTorch (or name the wrong argument) instead of a clear error."""
    q = torch.zeros(2, 3, 4)
    for fn in (A.scaled_dot_product_attention, A.scaled_dot_product_attention_loop):
        with pytest.raises(TypeError, match="k must have the dtype of q"):  # F.scaled_dot_product_attention refuses it too
            fn(q, q.double(), q)
        with pytest.raises(ValueError, match="do not broadcast"):
            fn(q, torch.zeros(3, 3, 4), torch.zeros(3, 3, 4))
    # a mask with more leading dimensions than q, k and v broadcasts them, in the loop as in the fast version
    g = torch.Generator().manual_seed(0)
    q, mask = torch.randn(2, 3, 4, generator=g, dtype=torch.float64), torch.rand(5, 2, 3, 3, generator=g) > 0.3
    fast, loop = A.scaled_dot_product_attention(q, q, q, mask), A.scaled_dot_product_attention_loop(q, q, q, mask)
    assert fast[0].shape == loop[0].shape == (5, 2, 3, 4)
    torch.testing.assert_close(loop, fast)
    with pytest.raises(ValueError, match="lengths must be >= 0"):  # was: max_length must be ...
        A.padding_mask(torch.tensor([-1]))
    with pytest.raises(TypeError, match="lengths must be an integer tensor"):
        A.padding_mask(torch.tensor([1], dtype=torch.complex64))
