"""Property-based tests (Hypothesis) of the sequence ops of chapters 06-10: attention, positional
encodings, patches, and the contrastive and focal losses.

On valid input (random shapes, length-1 and empty batches, random masks, broadcast leading
dimensions) each function returns finite values of the documented shape and agrees with its
loop twin and with PyTorch / torchvision; on malformed input (each argument in turn) the fast
and the loop version both raise ValueError/TypeError naming the argument, within bounded time
and memory.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import given
from hypothesis import strategies as st

from course_utils.losses import contrastive as CL
from course_utils.losses import focal as FL
from course_utils.metrics import keypoints as KM
from course_utils.ops import attention as A
from course_utils.ops import keypoints as KP
from course_utils.ops import patches as PA
from course_utils.ops import positional as P
from course_utils.ops import rnn as RNN
from tests.properties_support import (
    assert_finite,
    assert_refuses,
    call,
    close,
    few,
    int_errors,
    kind_errors,
    number_errors,
    refuse_all,
    tensor_errors,
    tensors,
)

TOL = {torch.float32: 1e-4, torch.float64: 1e-10}

# ==================================================================== attention


@st.composite
def attention_case(draw):
    """q [*bq, Tq, d], k [*bk, Tk, d], v [*bk, Tk, dv] with broadcasting leading dims, and a mask or None."""
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    b = draw(st.integers(0, 2))
    h = draw(st.integers(1, 2))
    tq, tk = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    d, dv = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    bq = (b, h) if draw(st.booleans()) else (b, 1)  # keys shared by the heads of q, or not
    q = draw(tensors((*bq, tq, d), -3.0, 3.0, dtype=dtype))
    k = draw(tensors((b, h, tk, d), -3.0, 3.0, dtype=dtype))
    v = draw(tensors((b, h, tk, dv), -3.0, 3.0, dtype=dtype))
    kind = draw(st.sampled_from(["none", "random", "causal", "padding", "extra_dim"]))
    mask = None
    g = torch.Generator().manual_seed(draw(st.integers(0, 99)))
    if kind == "random":  # some queries may have no key at all: zero weights, zero output
        mask = torch.rand(tq, tk, generator=g) > 0.4
    elif kind == "causal" and tq == tk:
        mask = A.causal_mask(tq)
    elif kind == "padding":
        lengths = torch.randint(0, tk + 1, (b,), generator=g)
        mask = A.padding_mask(lengths, tk)[:, None, None, :]  # [B, 1, 1, Tk]
    elif kind == "extra_dim":  # a mask with more leading dimensions than q, k and v
        mask = torch.rand(2, 1, 1, tq, tk, generator=g) > 0.3
    return q, k, v, mask


@given(case=attention_case())
def test_attention_agrees_with_its_loop_and_pytorch(case):
    q, k, v, mask = case
    out, weights = call(A.scaled_dot_product_attention, q, k, v, mask)
    batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], () if mask is None else mask.shape[:-2])
    assert out.shape == (*batch, q.shape[-2], v.shape[-1]) and weights.shape == (*batch, q.shape[-2], k.shape[-2])
    assert out.dtype == weights.dtype == q.dtype
    assert_finite((out, weights), "scaled_dot_product_attention")
    tol = TOL[q.dtype]
    loop_out, loop_weights = call(A.scaled_dot_product_attention_loop, q, k, v, mask)
    close(loop_out, out, "scaled_dot_product_attention_loop output", tol)
    close(loop_weights, weights, "scaled_dot_product_attention_loop weights", tol)
    # PyTorch is not compared on an empty batch (it returns q's shape without broadcasting the heads) nor with
    # a mask that adds leading dimensions (it raises "output with shape ... doesn't match the broadcast shape"):
    # there the loop is the reference
    if out.numel() and (mask is None or mask.ndim <= max(q.ndim, k.ndim)):
        close(F.scaled_dot_product_attention(q, k, v, attn_mask=mask), out, "vs F.scaled_dot_product_attention", tol)
    # each row sums to 1 over the allowed keys, or to 0 when the query has no allowed key
    allowed = torch.ones_like(weights, dtype=torch.bool) if mask is None else mask.expand_as(weights)
    expected = allowed.any(-1).to(weights.dtype)
    close(weights.sum(-1), expected, "rows of the weights", tol)
    assert bool((weights >= 0).all()) and not bool(weights[~allowed].any()), "weight on a masked key"


@given(b=st.integers(0, 2), t=st.integers(0, 4), h=st.integers(1, 3), dh=st.integers(0, 3), seed=st.integers(0, 9))
def test_split_and_merge_heads_are_inverse_and_agree_with_twins(b, t, h, dh, seed):
    x = torch.randn(b, t, h * dh, generator=torch.Generator().manual_seed(seed))
    split = call(A.split_heads, x, h)
    assert split.shape == (b, h, t, dh)
    assert torch.equal(split, A._split_heads_twin(x, h))
    merged = call(A.merge_heads, split)
    assert torch.equal(merged, x) and torch.equal(A._merge_heads_twin(split), merged)


@given(lengths=st.lists(st.integers(0, 5), max_size=4), extra=st.integers(0, 2))
def test_padding_and_causal_masks(lengths, extra):
    lengths_t = torch.tensor(lengths, dtype=torch.long)
    longest = max(lengths, default=0)
    mask = call(A.padding_mask, lengths_t, longest + extra)
    assert mask.dtype == torch.bool and mask.shape == (len(lengths), longest + extra)
    assert mask.sum(1).tolist() == lengths
    assert call(A.padding_mask, lengths_t).shape == (len(lengths), longest)
    causal = call(A.causal_mask, longest)
    assert torch.equal(causal, torch.ones(longest, longest).tril().bool())


AQ = torch.zeros(2, 3, 4)
AK = torch.zeros(2, 5, 4)
AV = torch.zeros(2, 5, 2)
AM = torch.ones(3, 5, dtype=torch.bool)
ATTN = (A.scaled_dot_product_attention, A.scaled_dot_product_attention_loop)
ATTENTION_CASES = [
    # NaN/inf in q, k, v is not refused: activations, and F.scaled_dot_product_attention propagates them too
    (ATTN, "q", dict(k=AK, v=AV), kind_errors(AQ) + [AQ[0, 0], AQ.long(), AQ.bool(), AQ.to(torch.complex64),
                                                     torch.zeros(2, 3, 5), AQ.double(), torch.zeros(3, 3, 4)]),
    (ATTN, "k", dict(q=AQ, v=AV), kind_errors(AK) + [AK[0, 0], AK.long(), torch.zeros(2, 5, 3), AK.double()]),
    (ATTN, "v", dict(q=AQ, k=AK), kind_errors(AV) + [AV[0, 0], AV.long(), torch.zeros(2, 4, 2), AV.double()]),
    (ATTN, "mask", dict(q=AQ, k=AK, v=AV), ["text", AM.tolist(), AM.float(), AM.long(), torch.ones(3, 4, dtype=torch.bool),
                                           torch.ones(3, 3, 5, dtype=torch.bool)]),
    ((A.split_heads, A._split_heads_twin), "x", dict(num_heads=2), tensor_errors(AQ, finite=False, real=False)),
    ((A.split_heads, A._split_heads_twin), "num_heads", dict(x=AQ), int_errors(1) + [3]),
    ((A.merge_heads, A._merge_heads_twin), "x", {}, kind_errors(AQ[None]) + [AQ, AQ[None, None]]),
    ((A.causal_mask,), "size", {}, int_errors(0)),
    ((A.padding_mask,), "lengths", {}, kind_errors(torch.tensor([1, 2])) + [
        torch.tensor([1.0]), torch.tensor([True]), torch.tensor([1], dtype=torch.complex64), torch.tensor([[1]]),
        torch.tensor([-1, 2])]),
    ((A.padding_mask,), "max_length", dict(lengths=torch.tensor([1, 3])), [1.5, "3", True, -1, 2]),
    ((A.attention_matrix_bytes,), "num_tokens", {}, int_errors(0)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", ATTENTION_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in ATTENTION_CASES])
@given(seed=st.integers(0, 3))
def test_attention_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)  # the valid arguments are fixed; the examples only repeat the check
    refuse_all(fns, arguments, name, bad_values)


def test_attention_propagates_nan_like_pytorch():
    """NaN in the activations is not refused (the rule is for coordinates and parameters):
    the output is NaN where PyTorch's is."""
    q = torch.randn(1, 2, 3, generator=torch.Generator().manual_seed(0))
    q[0, 0, 0] = math.nan
    for fn in ATTN:
        out, _ = call(fn, q, q, q)
        # NaN wherever PyTorch's is; PyTorch's fused kernel leaves some entries of a NaN row at 0,
        # ours makes the whole row NaN (every score of that query is NaN): both say "not a number"
        assert bool((F.scaled_dot_product_attention(q, q, q).isnan() <= out.isnan()).all())
        assert bool(out[0, 0].isnan().all())


# ==================================================================== positional


@given(num=st.integers(0, 12), half=st.integers(1, 6), base=st.sampled_from([10000.0, 2.0, 100, 1e6]),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_sinusoidal_versions_agree(num, half, base, dtype):
    dim = 2 * half
    pe = call(P.sinusoidal_encoding, num, dim, base, dtype)
    assert pe.shape == (num, dim) and pe.dtype == dtype
    assert_finite(pe, "sinusoidal_encoding")
    assert bool((pe.abs() <= 1).all())
    tol = TOL[dtype]
    close(call(P.sinusoidal_encoding_loop, num, dim, base, dtype), pe, "sinusoidal_encoding_loop", tol)
    close(P._sinusoidal_twin(num, dim, base, dtype), pe, "_sinusoidal_twin", tol)
    # sin^2 + cos^2 = 1 for every frequency; position 0 is (0, 1, 0, 1, ...)
    close((pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2), torch.ones(num, half, dtype=dtype), "sin^2 + cos^2", tol)
    if num:
        close(pe[0], torch.tensor([0.0, 1.0] * half, dtype=dtype), "position 0")


@given(n=st.integers(0, 5), in_dim=st.integers(1, 3), m=st.integers(0, 4), seed=st.integers(0, 9),
       scale=st.sampled_from([0.1, 1.0, 10.0]), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_fourier_features_shape_range_and_formula(n, in_dim, m, seed, scale, dtype):
    coords = torch.rand(n, in_dim, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    b = call(P.fourier_matrix, in_dim, max(m, 1), scale, seed)[:, :m]
    assert b.dtype == torch.float32 and torch.equal(b, P.fourier_matrix(in_dim, max(m, 1), scale, seed)[:, :m])
    out = call(P.fourier_features, coords, b)
    assert out.shape == (n, 2 * m) and out.dtype == dtype
    assert_finite(out, "fourier_features")
    angles = 2 * math.pi * coords.double() @ b.double()
    close(out, torch.cat([angles.sin(), angles.cos()], 1).to(dtype), "fourier_features formula", TOL[torch.float32])


PE_FNS = (P.sinusoidal_encoding, P.sinusoidal_encoding_loop, P._sinusoidal_twin)
POSITIONAL_CASES = [
    (PE_FNS, "num_positions", dict(dim=4), int_errors(0) + [10**12]),
    (PE_FNS, "dim", dict(num_positions=3), int_errors(1) + [3]),
    (PE_FNS, "base", dict(num_positions=3, dim=4), [None, "10000", True, math.nan, 1.0, 0.5, -10.0]),
    (PE_FNS, "dtype", dict(num_positions=3, dim=4), ["float32", None, 32]),
    ((P.fourier_matrix,), "in_dim", dict(num_features=3, scale=1.0), int_errors(1)),
    ((P.fourier_matrix,), "num_features", dict(in_dim=2, scale=1.0), int_errors(1) + [10**12]),
    ((P.fourier_matrix,), "scale", dict(in_dim=2, num_features=3), number_errors(0.0) + [0.0]),
    ((P.fourier_matrix,), "seed", dict(in_dim=2, num_features=3, scale=1.0), [None, 1.5, "1", True]),
    ((P.fourier_features,), "coords", dict(frequencies=torch.ones(2, 3)),
     tensor_errors(torch.zeros(4, 2), floating=True) + [torch.zeros(4, 3)]),
    ((P.fourier_features,), "frequencies", dict(coords=torch.zeros(4, 2)),
     tensor_errors(torch.ones(2, 3), floating=True)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", POSITIONAL_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in POSITIONAL_CASES])
@given(seed=st.integers(0, 3))
def test_positional_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== patches


@given(b=st.integers(0, 2), c=st.integers(0, 3), p=st.integers(1, 3), rows=st.integers(0, 3), cols=st.integers(1, 3),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.int64]), seed=st.integers(0, 99))
def test_patchify_agrees_with_unfold_and_round_trips(b, c, p, rows, cols, dtype, seed):
    h, w = rows * p, cols * p
    images = (torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(seed)) * 10).to(dtype)
    out = call(PA.patchify, images, p)
    assert out.shape == (b, rows * cols, c * p * p) and out.dtype == dtype
    assert torch.equal(call(PA.patchify_loop, images, p), out)
    if b and c and h:  # the twin is F.unfold, which refuses empty images
        assert torch.equal(PA._patchify_twin(images, p), out)
    if h:  # unpatchify needs a positive image size
        assert torch.equal(call(PA.unpatchify, out, p, (h, w)), images)
        assert call(PA.num_patches, (h, w), p) == rows * cols


PX = torch.zeros(1, 3, 4, 6)
PATCH_CASES = [
    ((PA.patchify, PA.patchify_loop, PA._patchify_twin), "images", dict(patch_size=2),
     kind_errors(PX) + [PX[0], PX[None]]),
    ((PA.patchify, PA.patchify_loop, PA._patchify_twin), "patch_size", dict(images=PX), int_errors(1)),
    ((PA.patchify, PA.patchify_loop), "image size", dict(images=PX, patch_size=4), [4]),  # 6 % 4: named by its sizes
    ((PA.unpatchify,), "patches", dict(patch_size=2, image_size=(4, 6)),
     kind_errors(torch.zeros(1, 6, 12)) + [torch.zeros(6, 12)]),
    ((PA.unpatchify,), "image_size", dict(patches=torch.zeros(1, 6, 12), patch_size=2),
     [None, "4", (4,), (4, 6, 1), True, 4.0]),
    ((PA.num_patches,), "image_size", dict(patch_size=2), [None, "4", (4,), (4, 4, 4), True]),
    ((PA.num_patches,), "patch_size", dict(image_size=4), int_errors(1)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", PATCH_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in PATCH_CASES])
@given(seed=st.integers(0, 3))
def test_patch_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


def test_unpatchify_refuses_patches_that_do_not_tile():
    for bad in (torch.zeros(1, 5, 12), torch.zeros(1, 6, 7)):
        assert_refuses(PA.unpatchify, bad, 2, (4, 6), name="patches")


# ==================================================================== contrastive losses


@given(n=st.integers(0, 4), d=st.integers(1, 4), tau=st.sampled_from([0.05, 0.5, 1.0, 7]),
       dtype=st.sampled_from([torch.float32, torch.float64]), reduction=st.sampled_from(CL.REDUCTIONS),
       seed=st.integers(0, 99), zero=st.booleans())
def test_nt_xent_versions_agree_and_are_bounded(n, d, tau, dtype, reduction, seed, zero):
    g = torch.Generator().manual_seed(seed)
    z1, z2 = (torch.randn(n, d, generator=g, dtype=dtype) for _ in range(2))
    if zero and n:
        z1[0] = 0.0  # a zero embedding: similarities 0, not NaN
    out = call(CL.nt_xent, z1, z2, tau, reduction)
    assert out.dtype == dtype and out.shape == ((2 * n,) if reduction == "none" else ())
    assert_finite(out, "nt_xent")
    tol = TOL[dtype] * 10
    close(call(CL.nt_xent_loop, z1, z2, tau, reduction), out, "nt_xent_loop", tol)
    close(CL._nt_xent_twin(z1, z2, tau, reduction), out, "_nt_xent_twin", tol)
    per_anchor = CL.nt_xent(z1, z2, tau, "none")
    # cross-entropy over 2N - 1 classes whose logits lie in [-1/tau, 1/tau]
    assert bool((per_anchor >= -tol).all())
    if n:
        bound = math.log(2 * n - 1) + 2 / tau if n > 1 else 0.0
        assert bool((per_anchor <= bound + tol).all()), (per_anchor, bound)
    # cosine similarity: scaling the embeddings by a positive number changes nothing
    close(CL.nt_xent(3 * z1, 0.5 * z2, tau, reduction), out, "scale invariance", tol)


@given(n=st.integers(0, 4), k=st.integers(0, 3), d=st.integers(1, 4), shared=st.booleans(),
       tau=st.sampled_from([0.1, 1.0]), seed=st.integers(0, 99))
def test_info_nce_is_a_cross_entropy_with_the_positive_first(n, k, d, shared, tau, seed):
    g = torch.Generator().manual_seed(seed)
    query, positive = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, d, generator=g, dtype=torch.float64)
    negatives = torch.randn(*(() if shared else (n,)), k, d, generator=g, dtype=torch.float64)
    out = call(CL.info_nce, query, positive, negatives, tau, "none")
    assert out.shape == (n,)
    assert_finite(out, "info_nce")
    qn = F.normalize(query, dim=1)
    negs = F.normalize(negatives, dim=-1).expand(n, k, d) if shared else F.normalize(negatives, dim=-1)
    logits = torch.cat([(qn * F.normalize(positive, dim=1)).sum(1, keepdim=True),
                        torch.einsum("nd,nkd->nk", qn, negs)], 1) / tau
    close(out, F.cross_entropy(logits, torch.zeros(n, dtype=torch.long), reduction="none"), "info_nce vs cross_entropy")
    assert bool((out >= 0).all()) and (k or not bool(out.any())), "no negatives: the loss is 0"


Z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
NT = (CL.nt_xent, CL.nt_xent_loop, CL._nt_xent_twin)
CONTRASTIVE_CASES = [
    (NT, "z1", dict(z2=Z), kind_errors(Z) + [Z[0], Z[None], Z.long(), Z.bool(), Z.to(torch.complex64)]),
    (NT, "z2", dict(z1=Z), kind_errors(Z) + [Z[0], Z.long(), Z[:2], Z[:, :3]]),
    (NT, "temperature", dict(z1=Z, z2=Z), [None, "0.5", True, math.nan, 0.0, -1.0, -math.inf]),
    (NT, "reduction", dict(z1=Z, z2=Z), ["avg", None, 0]),
    ((CL.nt_xent_targets,), "n", {}, int_errors(0)),
    ((CL.info_nce,), "query", dict(positive=Z, negatives=Z), kind_errors(Z) + [Z[0], Z.long()]),
    ((CL.info_nce,), "positive", dict(query=Z, negatives=Z), kind_errors(Z) + [Z[:2], Z.long()]),
    ((CL.info_nce,), "negatives", dict(query=Z, positive=Z),
     kind_errors(Z) + [Z[0], Z.long(), torch.zeros(2, 3), torch.zeros(2, 5, 4), Z[None, None]]),
    ((CL.info_nce,), "temperature", dict(query=Z, positive=Z, negatives=Z), [None, "0.1", math.nan, 0.0, -1.0]),
    ((CL.info_nce,), "reduction", dict(query=Z, positive=Z, negatives=Z), ["avg", None]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", CONTRASTIVE_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in CONTRASTIVE_CASES])
@given(seed=st.integers(0, 3))
def test_contrastive_losses_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== focal loss


@given(shape=st.sampled_from([(0,), (1,), (5,), (2, 3), ()]), seed=st.integers(0, 99),
       alpha=st.sampled_from([0.25, 0.0, 1.0, -1.0, 0.5]), gamma=st.sampled_from([0.0, 0.5, 2.0, 5]),
       reduction=st.sampled_from(FL.REDUCTIONS), dtype=st.sampled_from([torch.float32, torch.float64]),
       soft=st.booleans(), scale=st.sampled_from([1.0, 50.0]))
def test_focal_loss_agrees_with_torchvision_and_is_nonnegative(shape, seed, alpha, gamma, reduction, dtype, soft, scale):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
    targets = torch.rand(shape, generator=g) if soft else torch.randint(0, 2, shape, generator=g)
    out = call(FL.sigmoid_focal_loss, logits, targets, alpha, gamma, reduction)
    assert out.dtype == dtype and out.shape == (shape if reduction == "none" else ())
    if reduction == "mean" and not logits.numel():
        assert bool(out.isnan())  # the mean of nothing is NaN, as in PyTorch (documented)
        return
    assert_finite(out, "sigmoid_focal_loss")  # finite for large logits: computed from the logits
    assert bool((out >= 0).all()) or soft, out  # soft targets: the cross-entropy has a non-zero minimum, still >= 0
    assert bool((out >= -1e-6).all())
    if scale == 1.0:  # torchvision computes log(sigmoid) by the formula too; compare where both are accurate
        expected = torchvision.ops.sigmoid_focal_loss(logits, targets.to(dtype), alpha, gamma, reduction)
        close(out, expected, "vs torchvision.ops.sigmoid_focal_loss", TOL[dtype] * 10)
        close(FL._sigmoid_focal_loss_twin(logits, targets, alpha, gamma, reduction), out, "twin", TOL[dtype] * 10)
    if gamma == 0.0 and alpha < 0:
        bce = F.binary_cross_entropy_with_logits(logits, targets.to(dtype), reduction=reduction)
        close(out, bce, "gamma=0, alpha<0 is the binary cross-entropy", TOL[dtype])


FX, FT = torch.tensor([2.0, -1.0, 3.0]), torch.tensor([1.0, 0.0, 0.0])
FOCAL = (FL.sigmoid_focal_loss, FL._sigmoid_focal_loss_twin)
FOCAL_CASES = [
    # inf logits are not refused (activations, as in torchvision); they are not drawn in the valid cases either
    (FOCAL, "logits", dict(targets=FT), kind_errors(FX) + [FX.long(), FX.bool(), FX.to(torch.complex64)]),
    (FOCAL, "targets", dict(logits=FX), kind_errors(FT) + [FT[:2], FT[None], FT * 2, FT - 1, FT.to(torch.complex64),
                                                          torch.tensor([1.0, math.nan, 0.0])]),
    (FOCAL, "alpha", dict(logits=FX, targets=FT), number_errors(high=1.0)),
    (FOCAL, "gamma", dict(logits=FX, targets=FT), number_errors(low=0.0)),
    (FOCAL, "reduction", dict(logits=FX, targets=FT), ["avg", None, 0]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", FOCAL_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in FOCAL_CASES])
@given(seed=st.integers(0, 3))
def test_focal_loss_refuses_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== rnn



@st.composite
def rnn_case(draw):
    b, t, i, h = draw(st.integers(0, 2)), draw(st.integers(0, 4)), draw(st.integers(0, 3)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    x = draw(tensors((b, t, i), -2.0, 2.0, dtype=dtype))
    h0 = draw(tensors((b, h), -1.0, 1.0, dtype=dtype))
    weights = [draw(tensors(shape, -1.0, 1.0, dtype=dtype)) for shape in ((h, i), (h, h), (h,), (h,))]
    return (x, h0, *weights)


@given(case=rnn_case())
def test_rnn_versions_agree_with_torch(case):
    x, h0 = case[:2]
    outputs, last = call(RNN.rnn_forward, *case)
    assert outputs.shape == (x.shape[0], x.shape[1], h0.shape[1]) and last.shape == h0.shape
    assert outputs.dtype == last.dtype == x.dtype
    assert_finite((outputs, last), "rnn_forward")
    assert bool((outputs.abs() <= 1).all()), "tanh states lie in [-1, 1]"
    tol = TOL[x.dtype] * 10
    for fn in (RNN.rnn_forward_loop, RNN._rnn_twin):
        o, h = call(fn, *case)
        close(o, outputs, f"{fn.__name__} outputs", tol)
        close(h, last, f"{fn.__name__} last", tol)
    if x.shape[1]:
        close(last, outputs[:, -1], "last is the last output", 0.0)
    else:
        assert torch.equal(last, h0), "an empty sequence leaves h0"


RX, RH0 = torch.zeros(2, 3, 4), torch.zeros(2, 5)
RW = dict(weight_ih=torch.zeros(5, 4), weight_hh=torch.zeros(5, 5), bias_ih=torch.zeros(5), bias_hh=torch.zeros(5))
RNN_FNS = (RNN.rnn_forward, RNN.rnn_forward_loop, RNN._rnn_twin)
RNN_ARGS = dict(x=RX, h0=RH0, **RW)
RNN_CASES = [
    # an x of another batch or input size is named through h0 / weight_ih, whose shapes x decides
    ("x", kind_errors(RX) + [RX[0], RX.long(), RX.to(torch.complex64), RX.double()]),
    ("h0", kind_errors(RH0) + [RH0[0], RH0.double(), torch.zeros(2, 4), RH0.long()]),
    ("weight_ih", kind_errors(RW["weight_ih"]) + [torch.zeros(5, 3), torch.zeros(5, 4, dtype=torch.float64)]),
    ("weight_hh", kind_errors(RW["weight_hh"]) + [torch.zeros(5, 6), torch.zeros(5), RW["weight_hh"].long()]),
    ("bias_ih", kind_errors(RW["bias_ih"]) + [torch.zeros(4), torch.zeros(5, dtype=torch.float64)]),
    ("bias_hh", kind_errors(RW["bias_hh"]) + [torch.zeros(1, 5), torch.zeros(5, dtype=torch.float64)]),
]


@few
@pytest.mark.parametrize("name, bad_values", RNN_CASES, ids=[c[0] for c in RNN_CASES])
@given(seed=st.integers(0, 3))
def test_rnn_refuses_malformed_input(name, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(RNN_FNS, RNN_ARGS, name, bad_values)


# ==================================================================== keypoint heatmaps


@given(k=st.integers(0, 3), h=st.integers(1, 6), w=st.integers(1, 6), sigma=st.sampled_from([0.5, 1.0, 2.5, 3]),
       dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers(0, 99))
def test_gaussian_heatmaps_agree_and_peak_at_the_keypoint(k, h, w, sigma, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    keypoints = (torch.rand(k, 2, generator=g, dtype=torch.float64) * torch.tensor([w - 1, h - 1])).round().to(dtype)
    maps = call(KP.gaussian_heatmaps, keypoints, h, w, sigma)
    assert maps.shape == (k, h, w) and maps.dtype == dtype
    assert_finite(maps, "gaussian_heatmaps")
    assert bool(((maps >= 0) & (maps <= 1)).all())
    tol = TOL[dtype] * 10
    close(call(KP.gaussian_heatmaps_loop, keypoints, h, w, sigma), maps, "gaussian_heatmaps_loop", tol)
    close(KP._gaussian_heatmaps_twin(keypoints, h, w, sigma), maps, "_gaussian_heatmaps_twin", tol)
    # keypoints on whole cells: the peak 1 is at the keypoint, which the argmax decodes back
    close(call(KP.argmax_keypoints, maps), keypoints, "argmax of the rendered maps")


@given(lead=st.sampled_from([(), (2,), (1, 2)]), k=st.integers(0, 3), h=st.integers(0, 4), w=st.integers(1, 4),
       ties=st.booleans(), beta=st.sampled_from([0.5, 1.0, 20]), dtype=st.sampled_from([torch.float32, torch.float64]),
       seed=st.integers(0, 99))
def test_heatmap_decoders_agree_with_their_loops(lead, k, h, w, ties, beta, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    maps = torch.randn(*lead, k, h, w, generator=g, dtype=torch.float64)
    if ties:
        maps = maps.round()  # many cells share the maximum: the first in row-major order wins
    maps = maps.to(dtype)
    hard = call(KP.argmax_keypoints, maps)
    assert hard.shape == (*lead, k, 2) and hard.dtype == dtype
    assert torch.equal(call(KP.argmax_keypoints_loop, maps), hard)
    assert torch.equal(KP._argmax_keypoints_twin(maps), hard)
    soft = call(KP.soft_argmax, maps, beta)
    assert soft.shape == (*lead, k, 2) and soft.dtype == dtype
    assert_finite(soft, "soft_argmax")
    tol = TOL[dtype] * 10
    close(call(KP.soft_argmax_loop, maps, beta), soft, "soft_argmax_loop", tol)
    close(KP._soft_argmax_twin(maps, beta), soft, "_soft_argmax_twin", tol)
    if h:  # an expectation over the cells lies inside the map
        assert bool((soft[..., 0] >= -tol).all() and (soft[..., 0] <= w - 1 + tol).all())
        assert bool((soft[..., 1] >= -tol).all() and (soft[..., 1] <= h - 1 + tol).all())


KPTS, MAPS = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.zeros(2, 3, 4)
RENDER = (KP.gaussian_heatmaps, KP.gaussian_heatmaps_loop, KP._gaussian_heatmaps_twin)
DECODE = (KP.argmax_keypoints, KP.argmax_keypoints_loop, KP._argmax_keypoints_twin, KP.soft_argmax,
          KP.soft_argmax_loop, KP._soft_argmax_twin)
SOFT = DECODE[3:]
KEYPOINT_CASES = [
    (RENDER, "keypoints", dict(height=3, width=4, sigma=1.0),
     tensor_errors(KPTS, floating=True) + [KPTS[:, :1]]),
    (RENDER, "height", dict(keypoints=KPTS, width=4, sigma=1.0), int_errors(1)),
    (RENDER, "width", dict(keypoints=KPTS, height=3, sigma=1.0), int_errors(1)),
    (RENDER, ("height", "size"), dict(keypoints=KPTS, width=10**6, sigma=1.0), [10**6]),
    (RENDER, "sigma", dict(keypoints=KPTS, height=3, width=4), number_errors(0.0) + [0.0]),
    (DECODE, "heatmaps", {}, kind_errors(MAPS) + [MAPS[0], MAPS.long(), MAPS.bool(), MAPS.to(torch.complex64)]),
    (SOFT, "beta", dict(heatmaps=MAPS), number_errors(0.0) + [0.0]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", KEYPOINT_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in KEYPOINT_CASES])
@given(seed=st.integers(0, 3))
def test_keypoint_ops_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    if isinstance(name, tuple):  # a size too large: each names its own size argument
        for fn in fns:
            for bad in bad_values:
                assert_refuses(fn, **arguments, height=bad, name=name)
        return
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== keypoint metrics



@st.composite
def keypoint_instances(draw):
    lead = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    k = draw(st.integers(1, 5))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    xy = (torch.rand(*lead, k, 2, generator=g, dtype=torch.float64) * 40).round()
    v = torch.randint(0, 3, (*lead, k, 1), generator=g).double()
    v.view(-1)[0] = 2.0  # at least one visible (documented requirement)
    noise = draw(st.sampled_from([0.0, 1.0, 5.0]))
    predicted = (xy + (torch.randn(xy.shape, generator=g, dtype=torch.float64) * noise).round()).to(dtype)
    return predicted, torch.cat([xy, v], -1).to(dtype)


@given(case=keypoint_instances(), alpha=st.sampled_from([0.05, 0.1, 0.25, 1]))
def test_pck_versions_agree_and_lie_in_0_1(case, alpha):
    predicted, target = case
    value = call(KM.pck, predicted, target, alpha)
    assert isinstance(value, float) and 0.0 <= value <= 1.0
    assert call(KM.pck_loop, predicted, target, alpha) == pytest.approx(value, abs=1e-12)
    assert KM._pck_twin(predicted, target, alpha) == pytest.approx(value, abs=1e-12)
    assert call(KM.pck, target[..., :2], target, alpha) == 1.0, "a perfect prediction"
    per = call(KM.pck_per_keypoint, predicted, target, alpha)
    assert per.shape == (target.shape[-2],) and per.dtype == torch.float64
    seen = ~per.isnan()
    assert bool(((per[seen] >= 0) & (per[seen] <= 1)).all())


@given(case=keypoint_instances(), area=st.sampled_from([1.0, 150.5, 900]), sigma=st.sampled_from([0.025, 0.1, 1]))
def test_oks_versions_agree_with_oks_matrix(case, area, sigma):
    predicted, target = case
    predicted, target = predicted.reshape(-1, 2), target.reshape(-1, 3)
    sigmas = [sigma] * len(target)
    value = call(KM.oks, predicted, target, area, sigmas)
    assert isinstance(value, float) and 0.0 <= value <= 1.0
    assert call(KM.oks_loop, predicted, target, area, sigmas) == pytest.approx(value, abs=1e-12)
    assert KM._oks_twin(predicted, target, area, sigmas) == pytest.approx(value, abs=1e-12)
    matrix = call(KM.oks_matrix, predicted[None], target[None], torch.tensor([float(area)]), sigmas)
    assert matrix.shape == (1, 1) and matrix.item() == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert call(KM.oks, target[:, :2], target, area, sigmas) == 1.0, "a perfect prediction"


KT = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 20.0, 1.0], [10.0, 10.0, 0.0]]])
KPR = KT[..., :2] + 1
PCK = (KM.pck, KM.pck_loop, KM._pck_twin)
OKS = (KM.oks, KM.oks_loop, KM._oks_twin)
OKS_ARGS = dict(predicted=KPR[0], target=KT[0], area=100.0, sigmas=[0.1] * 3)
METRIC_CASES = [
    (PCK, "predicted", dict(target=KT), kind_errors(KPR) + [KPR.long(), KPR[..., :1]]),
    # a target without any visible keypoint (or without keypoints) has no PCK: documented, was ZeroDivisionError
    (PCK, "target", dict(predicted=KPR), kind_errors(KT) + [KT[..., :2], KT.long(), KT * torch.tensor([1.0, 1.0, 0.0]),
                                                           torch.zeros(1, 0, 3)]),
    (PCK, "alpha", dict(predicted=KPR, target=KT), [None, "0.1", True, math.nan, 0.0, -0.1]),
    ((KM.reference_size,), "target", {}, kind_errors(KT) + [KT.long(), torch.zeros(1, 0, 3), torch.zeros(3)]),
    (OKS, "predicted", OKS_ARGS, kind_errors(KPR[0]) + [KPR, KPR[0, :, :1], KPR[0].long()]),
    (OKS, "target", OKS_ARGS, kind_errors(KT[0]) + [KT[0, :2], KT[0, :, :2], torch.full((3, 3), math.nan),
                                                   KT[0] * torch.tensor([1.0, 1.0, 0.0])]),
    (OKS, "area", OKS_ARGS, number_errors(0.0) + [0.0, "100"]),
    (OKS, "sigmas", OKS_ARGS, [None, "abc", [0.1] * 2, [0.0] * 3, [math.nan] * 3, [-0.1] * 3, [[0.1] * 3]]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", METRIC_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in METRIC_CASES])
@given(seed=st.integers(0, 3))
def test_keypoint_metrics_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== keypoint flips and refinements


@st.composite
def flip_case(draw):
    k = draw(st.integers(0, 5))
    order = draw(st.permutations(range(k)))
    num_pairs = draw(st.integers(0, k // 2))
    pairs = [(order[2 * i], order[2 * i + 1]) for i in range(num_pairs)]  # disjoint by construction
    g = torch.Generator().manual_seed(draw(st.integers(0, 99)))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    keypoints = torch.cat([torch.rand(k, 2, generator=g, dtype=torch.float64) * torch.tensor([w - 1, h - 1]),
                           torch.randint(0, 3, (k, 1), generator=g).double()], 1)
    image = torch.rand(2, h, w, generator=g, dtype=torch.float64)
    return image, keypoints, pairs


@given(case=flip_case())
def test_flips_are_involutions_and_agree_with_torchvision(case):
    image, keypoints, pairs = case
    k, w = len(keypoints), image.shape[-1]
    index = call(KP.flip_index, k, pairs)
    assert sorted(index) == list(range(k)) and [index[i] for i in index] == list(range(k))
    flipped = call(KP.hflip_keypoints, keypoints, w, pairs)
    assert flipped.shape == keypoints.shape
    close(KP._hflip_keypoints_twin(keypoints, w, pairs), flipped, "_hflip_keypoints_twin")
    close(KP.hflip_keypoints(flipped, w, pairs), keypoints, "hflip_keypoints twice")
    new_image, new_points = call(KP.hflip_image_and_keypoints, image, keypoints, pairs)
    twin_image, twin_points = KP._hflip_image_and_keypoints_twin(image, keypoints, pairs)
    assert torch.equal(new_image, twin_image) and torch.equal(new_image, image.flip(-1))
    close(new_points, flipped, "hflip_image_and_keypoints vs hflip_keypoints")
    close(twin_points, flipped, "_hflip_image_and_keypoints_twin")
    maps = torch.rand(3, k, *image.shape[-2:], generator=torch.Generator().manual_seed(k), dtype=torch.float64)
    back = call(KP.flip_heatmaps, maps, pairs)
    assert torch.equal(KP.flip_heatmaps(back, pairs), maps)
    assert torch.equal(KP.flip_test(lambda x: x, maps, pairs, swap=False), maps)  # the mirror brought back


@given(lead=st.sampled_from([(), (2,)]), k=st.integers(0, 3), h=st.integers(0, 5), w=st.integers(1, 5),
       sigma=st.sampled_from([0.7, 1.0, 1.5]), seed=st.integers(0, 99))
def test_sub_cell_refinements_move_at_most_half_a_cell(lead, k, h, w, sigma, seed):
    g = torch.Generator().manual_seed(seed)
    maps = torch.rand(*lead, k, h, w, generator=g, dtype=torch.float64) + 1e-3
    coords = call(KP.argmax_keypoints, maps)
    for fn, arg, bound in ((KP.quarter_offset, maps, 0.25), (KP.parabola_offset, maps.log(), 0.5)):
        out = call(fn, arg, coords)
        assert out.shape == coords.shape and out.dtype == coords.dtype
        assert_finite(out, fn.__name__)
        assert bool(((out - coords).abs() <= bound + 1e-12).all()), fn.__name__
    if h and w > 2:  # a sampled Gaussian: the parabola through the log finds the centre exactly
        true = torch.rand(k, 2, generator=g, dtype=torch.float64) * torch.tensor([w - 3, max(h - 3, 0)]) + torch.tensor(
            [1.0, 1.0 if h > 2 else 0.0])
        logs = call(KP.gaussian_heatmaps, true, h, w, sigma).log()
        refined = call(KP.parabola_offset, logs, call(KP.argmax_keypoints, logs))
        if h > 2:
            close(refined, true, "parabola_offset on a Gaussian", 1e-9)


FLIP_KP = torch.tensor([[1.0, 2.0, 1.0], [3.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
FLIP_IMG = torch.zeros(1, 3, 4)
FLIP_MAPS = torch.zeros(3, 3, 4)
BAD_PAIRS = [None, [(0,)], [(0, 5)], [(0, 1), (1, 2)], [(0, 0)], "01", [(-1, 0)]]
FLIP_CASES = [
    ((KP.hflip_keypoints, KP._hflip_keypoints_twin), "flip_pairs", dict(keypoints=FLIP_KP, width=4), BAD_PAIRS),
    ((KP.hflip_image_and_keypoints, KP._hflip_image_and_keypoints_twin), "flip_pairs",
     dict(image=FLIP_IMG, keypoints=FLIP_KP), BAD_PAIRS),
    ((KP.flip_heatmaps,), "flip_pairs", dict(heatmaps=FLIP_MAPS), BAD_PAIRS),
    ((KP.flip_index,), "flip_pairs", dict(num_keypoints=3), BAD_PAIRS),
    ((KP.flip_index,), "num_keypoints", dict(flip_pairs=[]), int_errors(0)),
    ((KP.hflip_keypoints, KP._hflip_keypoints_twin), "width", dict(keypoints=FLIP_KP, flip_pairs=[]), int_errors(1)),
    ((KP.hflip_keypoints, KP._hflip_keypoints_twin), "keypoints", dict(width=4, flip_pairs=[]),
     kind_errors(FLIP_KP) + [FLIP_KP.long(), FLIP_KP[:, :1], FLIP_KP[0]]),
    ((KP.hflip_image_and_keypoints, KP._hflip_image_and_keypoints_twin), "keypoints", dict(image=FLIP_IMG, flip_pairs=[]),
     kind_errors(FLIP_KP) + [FLIP_KP.long(), FLIP_KP[:, :1], FLIP_KP[None]]),
    ((KP.quarter_offset,), "coords", dict(heatmaps=FLIP_MAPS),
     kind_errors(torch.zeros(3, 2)) + [torch.zeros(2, 2), torch.zeros(3, 3), torch.zeros(3, 2).bool()]),
    ((KP.parabola_offset,), "coords", dict(log_heatmaps=FLIP_MAPS),
     kind_errors(torch.zeros(3, 2)) + [torch.zeros(2, 2), torch.zeros(3, 2).to(torch.complex64)]),
    ((KP.cells_to_pixels,), "stride", dict(coords=torch.zeros(3, 2)), int_errors(1)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", FLIP_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in FLIP_CASES])
@given(seed=st.integers(0, 3))
def test_flips_and_refinements_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


OKSM_ARGS = dict(predicted=KPR, targets=KT, areas=torch.tensor([100.0]), sigmas=[0.1] * 3)


@few
@given(seed=st.integers(0, 3))
def test_oks_matrix_refuses_malformed_input(seed):
    torch.manual_seed(seed)
    refuse_all((KM.oks_matrix,), OKSM_ARGS, "sigmas", [None, "abc", [0.1] * 2, [[0.1] * 3]])
    refuse_all((KM.oks_matrix,), OKSM_ARGS, "areas", [None, [100.0], torch.tensor([100.0, 1.0]), torch.tensor(100.0)])
    refuse_all((KM.oks_matrix,), OKSM_ARGS, "predicted", kind_errors(KPR) + [KPR[0], KPR[:, :2], KPR.long()])
    unlabelled = dict(OKSM_ARGS, targets=KT * torch.tensor([1.0, 1.0, 0.0]))
    refuse_all((KM.oks_matrix,), unlabelled, "boxes", [None, torch.zeros(1, 3), torch.zeros(2, 4), [[0.0, 0.0, 1.0, 1.0]]])
