"""Property-based tests (Hypothesis) of course_utils.ops: boxes, anchors, roi, conv, upsample.

For every public function: on valid input (random shapes, dtypes, empty inputs, ties) it
returns finite values of the documented shape and agrees with its loop twin (and PyTorch /
torchvision); on malformed input (each argument in turn: another kind, another shape,
NaN/inf, a bad dtype, an out-of-range number) the loop and the vectorized version both raise
ValueError/TypeError naming that argument, within bounded time and memory.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import given
from hypothesis import strategies as st

from course_utils.ops import anchors as A
from course_utils.ops import boxes as B
from course_utils.ops import conv as C
from course_utils.ops import roi as R
from course_utils.ops import upsample as U
from tests.properties_support import (
    assert_finite,
    assert_refuses,
    boxes,
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


def close_ops(a, b, what: str, tol: float = 1e-5) -> None:  # ops compute in float32 inside: a looser default
    close(a, b, what, tol)


# ==================================================================== boxes

PAIRWISE = [(B.box_iou, B.box_iou_loop), (B.generalized_box_iou, B.generalized_box_iou_loop)]


@given(b1=boxes(), b2=boxes())
def test_pairwise_ious_agree_are_bounded_and_finite(b1, b2):
    for fast, loop in PAIRWISE:
        out = call(fast, b1, b2)
        assert out.shape == (len(b1), len(b2)) and out.dtype == torch.promote_types(b1.dtype, b2.dtype)
        assert_finite(out, fast.__name__)
        close_ops(call(loop, b1, b2), out, fast.__name__, tol=1e-5)
        low = -1.0 if fast is B.generalized_box_iou else 0.0
        assert bool(((out >= low - 1e-6) & (out <= 1 + 1e-6)).all()), f"{fast.__name__} out of [{low}, 1]: {out}"
    close_ops(B.box_iou(b1, b2), torchvision.ops.box_iou(b1, b2).nan_to_num(0.0), "box_iou vs torchvision")


@given(b=boxes(), fmts=st.tuples(st.sampled_from(B.BOX_FORMATS), st.sampled_from(B.BOX_FORMATS)))
def test_box_convert_and_area(b, fmts):
    out = call(B.box_convert, b, *fmts)
    close_ops(call(B.box_convert_loop, b, *fmts), out, "box_convert_loop")
    close_ops(B.box_convert(out, fmts[1], fmts[0]), b, "box_convert round trip", tol=1e-4)
    close_ops(torchvision.ops.box_convert(b, *fmts), out, "box_convert vs torchvision", tol=1e-4)
    area = call(B.box_area, b)
    close_ops(call(B.box_area_loop, b), area, "box_area_loop")
    assert bool((area >= 0).all())


@given(b=boxes(dtype=torch.float64, integer=True), seed=st.integers(0, 99), thr=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
       classes=st.integers(1, 3))
def test_nms_versions_agree(b, seed, thr, classes):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 4, (len(b),), generator=g).double()  # few values: many ties
    idxs = torch.randint(0, classes, (len(b),), generator=g)
    keep = call(B.nms, b, scores, thr)
    assert keep.dtype == torch.int64 and torch.equal(call(B.nms_loop, b, scores, thr), keep)
    assert torch.equal(keep, torchvision.ops.nms(b, scores, thr)) or bool((b[:, 2:] < b[:, :2]).any())
    kept = call(B.batched_nms, b, scores, idxs, thr)
    assert torch.equal(call(B.batched_nms_loop, b, scores, idxs, thr), kept)
    assert len(set(kept.tolist())) == len(kept) and bool((scores[kept][:-1] >= scores[kept][1:]).all())


@given(b=boxes(), h=st.integers(1, 80), w=st.floats(0.5, 80.0))
def test_clip_boxes_versions_agree(b, h, w):
    out = call(B.clip_boxes, b, (h, w))
    close_ops(call(B.clip_boxes_loop, b, (h, w)), out, "clip_boxes_loop")
    assert bool((out[:, 0::2] >= 0).all() and (out[:, 0::2] <= w).all() and (out[:, 1::2] <= h).all())


@given(anchors=boxes(n=5, min_size=1.0), gt=boxes(n=5, min_size=1.0), wts=st.sampled_from([(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]))
def test_box_coding_round_trip_and_loops(anchors, gt, wts):
    gt = gt.to(anchors.dtype)
    deltas = call(B.encode_boxes, anchors, gt, wts)
    assert_finite(deltas, "encode_boxes")
    close_ops(call(B.encode_boxes_loop, anchors, gt, wts), deltas, "encode_boxes_loop", tol=1e-4)
    back = call(B.decode_boxes, deltas, anchors, wts)
    close_ops(call(B.decode_boxes_loop, deltas, anchors, wts), back, "decode_boxes_loop", tol=1e-3)
    close_ops(back, gt, "decode(encode(gt))", tol=1e-3)


def _box_cases():
    def ctx(draw):
        b = draw(boxes(n=3, min_size=1.0, dtype=torch.float32))
        return b, torch.rand(3), torch.tensor([0, 1, 0])

    def case(fns, name, make):
        return pytest.param(fns, name, make, id=f"{fns[0].__name__}-{name}")

    return [
        case((B.box_iou, B.box_iou_loop, B.generalized_box_iou, B.generalized_box_iou_loop), "boxes2",
             lambda b, s, i: (dict(boxes1=b), tensor_errors(b))),
        case((B.box_area, B.box_area_loop), "boxes", lambda b, s, i: ({}, tensor_errors(b))),
        case((B.box_convert, B.box_convert_loop), "in_fmt",
             lambda b, s, i: (dict(boxes=b, out_fmt="xywh"), ["xyzw", 5, None, "XYXY"])),
        case((B.box_convert, B.box_convert_loop), "boxes",
             lambda b, s, i: (dict(in_fmt="xyxy", out_fmt="xywh"),
                              [x for x in tensor_errors(b, ndim=False)] + [b[:, :3], b.reshape(-1)])),
        case((B.nms, B.nms_loop), "boxes",
             lambda b, s, i: (dict(scores=s, iou_threshold=0.5), tensor_errors(b, floating=True))),
        case((B.nms, B.nms_loop), "scores",
             lambda b, s, i: (dict(boxes=b, iou_threshold=0.5),  # +-inf still rank: only NaN is refused
                              tensor_errors(s, floating=True, finite=False) + [s[:2], s.clone().fill_(math.nan)])),
        case((B.nms, B.nms_loop, B.batched_nms, B.batched_nms_loop), "iou_threshold",
             lambda b, s, i: (dict(boxes=b, scores=s, idxs=i), number_errors(0.0, 1.0))),
        case((B.batched_nms, B.batched_nms_loop), "idxs",
             lambda b, s, i: (dict(boxes=b, scores=s, iou_threshold=0.5), kind_errors(i) + [i.float(), i[:2], i.bool()])),
        case((B.clip_boxes, B.clip_boxes_loop), "size",
             lambda b, s, i: (dict(boxes=b), [None, 10, "10x10", (10,), (0, 10), (math.nan, 5), (5, math.inf), (-1, 5),
                                              (True, 5)])),
        case((B.encode_boxes, B.encode_boxes_loop), "gt_boxes",
             lambda b, s, i: (dict(anchors=b), tensor_errors(b, floating=True) + [b[:2], b[:, [2, 1, 0, 3]]])),
        case((B.decode_boxes, B.decode_boxes_loop), "anchors",
             lambda b, s, i: (dict(deltas=b), tensor_errors(b, floating=True) + [b[:2], torch.zeros(3, 4)])),
        case((B.encode_boxes, B.encode_boxes_loop), "weights",
             lambda b, s, i: (dict(anchors=b, gt_boxes=b), [1.0, "w", (1.0, 1.0, 1.0), (1.0, 0.0, 1.0, 1.0),
                                                          (math.nan, 1, 1, 1), (1, 1, 1, -2)])),
        case((B.decode_boxes, B.decode_boxes_loop), "weights",
             lambda b, s, i: (dict(deltas=b, anchors=b), [1.0, (1.0, 1.0, 1.0), (1.0, 0.0, 1.0, 1.0), (math.inf, 1, 1, 1)])),
        case((B.decode_boxes, B.decode_boxes_loop), "clip",
             lambda b, s, i: (dict(deltas=b, anchors=b), [math.nan, math.inf, "4", None])),
    ], ctx


BOX_CASES, _box_context = _box_cases()


@few
@pytest.mark.parametrize("fns, name, make", BOX_CASES)
@given(data=st.data())
def test_box_functions_refuse_malformed_input(fns, name, make, data):
    arguments, bad_values = make(*_box_context(data.draw))
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== anchors

sizes = st.lists(st.sampled_from([8.0, 16, 24.5, 32]), min_size=1, max_size=3)
ratios = st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=1, max_size=3)


@given(fs=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=2), s=sizes, r=ratios,
       offset=st.sampled_from([0.0, 0.5]), round_to_int=st.booleans())
def test_anchor_generation_and_counting(fs, s, r, offset, round_to_int):
    strides = [(8, 4)] * len(fs)
    out = call(A.generate_anchors, fs, strides, s, r, offset=offset, round_to_int=round_to_int, dtype=torch.float64)
    close_ops(call(A.generate_anchors_loop, fs, strides, s, r, offset=offset, round_to_int=round_to_int,
               dtype=torch.float64), out, "generate_anchors_loop")
    assert out.shape == (sum(A.num_anchors(f, s, r) for f in fs), 4)
    assert A.anchors_per_location(s, r) == len(s) * len(r) == len(A.cell_anchors(s, r))


@given(anchors=boxes(max_n=8, dtype=torch.float64, integer=True), gt=boxes(max_n=3, dtype=torch.float64, integer=True),
       pos=st.sampled_from([0.5, 0.7]), neg=st.sampled_from([0.0, 0.3, 0.5]), low_quality=st.booleans())
def test_match_anchors_versions_agree(anchors, gt, pos, neg, low_quality):
    out = call(A.match_anchors, anchors, gt, pos, neg, low_quality)
    assert torch.equal(call(A.match_anchors_loop, anchors, gt, pos, neg, low_quality), out)
    assert out.shape == (len(anchors),) and bool((out >= A.IGNORE).all() and (out < max(len(gt), 1)).all())


@given(labels=st.lists(st.integers(-2, 3), max_size=40), batch=st.integers(1, 20), fraction=st.sampled_from([0.0, 0.25, 1.0]),
       seed=st.integers(0, 9))
def test_sample_anchors_is_balanced(labels, batch, fraction, seed):
    labels = torch.tensor(labels, dtype=torch.int64)
    pos, neg = call(A.sample_anchors, labels, batch, fraction, torch.Generator().manual_seed(seed))
    assert not bool((pos & neg).any()) and int(pos.sum()) + int(neg.sum()) <= batch
    assert int(pos.sum()) <= int(batch * fraction) and bool((labels[pos] >= 0).all()) and bool((labels[neg] == -1).all())


LABELS = torch.tensor([0, -1, -2, 1])
ANCHOR_CASES = [  # (functions, argument, valid arguments, malformed values); boxes are drawn
    ((A.anchors_per_location, A.cell_anchors), "sizes", dict(ratios=(1.0,)),
     [None, 16, "16", [], [0], [math.nan], [16, -1], [math.inf], [True], torch.tensor([16.0])]),
    ((A.num_anchors,), "feature_size", dict(sizes=(16,), ratios=(1.0,)), [None, "2x2", (2,), (0, 2), (2.5, 2), 0, -1]),
    ((A.generate_anchors, A.generate_anchors_loop), "offset", dict(feature_sizes=[(2, 2)], strides=[8]),
     [math.nan, math.inf, "0.5", None]),
    ((A.generate_anchors, A.generate_anchors_loop), "feature_sizes", dict(strides=[8]),
     [None, "2x2", [], [(0, 2)], [(2.0, 2)], [(10**6, 10**6)]]),
    ((A.generate_anchors, A.generate_anchors_loop), "strides", dict(feature_sizes=[(2, 2)]), [None, 8, [], [0], [8, 8], [1.5]]),
    ((A.generate_anchors, A.generate_anchors_loop), "dtype", dict(feature_sizes=[(2, 2)], strides=[8]),
     [torch.int64, "float32", None]),
    ((A.match_anchors, A.match_anchors_loop), "gt_boxes", None, "tensor"),
    ((A.match_anchors, A.match_anchors_loop), "pos_iou", None, number_errors(0.0, 1.0)),
    ((A.match_anchors, A.match_anchors_loop), "allow_low_quality", None, [1, "yes", None]),
    ((A.sample_anchors,), "labels", {}, kind_errors(LABELS) + [LABELS.float(), LABELS[None], torch.tensor([0, -3])]),
    ((A.sample_anchors,), "generator", dict(labels=LABELS), ["seed", 0, torch.Generator]),
    ((A.sample_anchors,), "positive_fraction", dict(labels=LABELS), number_errors(0.0, 1.0)),
    ((A.sample_anchors,), "batch_size_per_image", dict(labels=LABELS), int_errors(1)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", ANCHOR_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in ANCHOR_CASES])
@given(b=boxes(n=3, min_size=1.0))
def test_anchor_functions_refuse_malformed_input(fns, name, arguments, bad_values, b):
    if arguments is None:  # matching: the boxes are drawn
        arguments = dict(anchors=b, gt_boxes=b)
    refuse_all(fns, arguments, name, tensor_errors(b) if bad_values == "tensor" else bad_values)


# ==================================================================== roi


@st.composite
def roi_case(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(0, 2))
    h, w = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    x = draw(tensors((n, c, h, w)))
    k = draw(st.integers(0, 3))
    corners = draw(boxes(n=k, dtype=torch.float64, span=8.0, max_size=6.0))
    batch = torch.randint(0, n, (k, 1), generator=torch.Generator().manual_seed(draw(st.integers(0, 9)))).double()
    return x, torch.cat([batch, corners], dim=1)


@given(case=roi_case(), size=st.sampled_from([1, 2, (1, 3)]), scale=st.sampled_from([1.0, 0.5]),
       sampling=st.sampled_from([-1, 0, 1, 2]), aligned=st.booleans())
def test_roi_ops_agree_with_their_loops_and_torchvision(case, size, scale, sampling, aligned):
    x, rois = case
    ph, pw = (size, size) if isinstance(size, int) else size
    pooled = call(R.roi_pool, x, rois, size, scale)
    assert pooled.shape == (len(rois), x.shape[1], ph, pw)
    close_ops(call(R.roi_pool_loop, x, rois, size, scale), pooled, "roi_pool_loop")
    aligned_out = call(R.roi_align, x, rois, size, scale, sampling, aligned)
    close_ops(call(R.roi_align_loop, x, rois, size, scale, sampling, aligned), aligned_out, "roi_align_loop")
    assert_finite((pooled, aligned_out), "roi ops")
    if x.numel():
        close_ops(torchvision.ops.roi_align(x, rois, size, scale, sampling, aligned), aligned_out, "roi_align vs torchvision")
        close_ops(torchvision.ops.roi_pool(x, rois, size, scale), pooled, "roi_pool vs torchvision")


ROI_X, ROI_ROIS = torch.zeros(1, 2, 4, 4), torch.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]])
ROI_OPS = (R.roi_pool, R.roi_pool_loop, R.roi_align, R.roi_align_loop)
ROI_CASES = [
    (ROI_OPS, "input", tensor_errors(ROI_X, floating=True, finite=False)),
    (ROI_OPS, "rois", tensor_errors(ROI_ROIS) + [ROI_ROIS[:, :4], torch.tensor([[1.0, 0.0, 0.0, 2.0, 2.0]]),
                                                 torch.tensor([[0.0, 0.0, 0.0, 1e30, 2.0]]), [ROI_ROIS]]),
    (ROI_OPS, "output_size", int_errors(1) + [(2, 0), (1, 2, 3), 10**6]),
    (ROI_OPS, "spatial_scale", number_errors(0.0) + [0.0]),
    (ROI_OPS[2:], "sampling_ratio", [1.5, "2", None, 10**9]),
    (ROI_OPS[2:], "aligned", [1, "yes", None]),
]


@few
@pytest.mark.parametrize("fns, name, bad_values", ROI_CASES, ids=[c[1] for c in ROI_CASES])
@given(scale=st.sampled_from([1.0, 0.5]), size=st.integers(1, 3))
def test_roi_ops_refuse_malformed_input(fns, name, bad_values, scale, size):
    arguments = dict(input=ROI_X, rois=ROI_ROIS, output_size=size, spatial_scale=scale)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== conv


@st.composite
def conv_case(draw):
    n, c_in, c_out = draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 7))
    w = draw(st.integers(max(1, kw - 2 * padding), 7))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    x = draw(tensors((n, c_in, h, w), dtype=dtype))
    weight = draw(tensors((c_out, c_in, kh, kw), dtype=dtype))
    bias = draw(st.one_of(st.none(), tensors((c_out,), dtype=dtype)))
    return x, weight, bias, stride, padding


@given(case=conv_case())
def test_convolutions_agree_with_torch(case):
    x, weight, bias, stride, padding = case
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    tol = 1e-4 if x.dtype == torch.float32 else 1e-10
    for fn in (C.conv2d_loop, C.conv2d_im2col):
        close_ops(call(fn, x, weight, bias, stride, padding), expected, fn.__name__, tol)
    cols = call(C.im2col, x, weight.shape[2:], stride, padding)
    close_ops(cols, F.unfold(x, weight.shape[2:], stride=stride, padding=padding), "im2col")
    assert expected.shape[2] == C.conv_output_size(x.shape[2], weight.shape[2], stride, padding, exact=False)


@given(x=st.integers(0, 2).flatmap(lambda n: tensors((n, 2, 5, 6))), k=st.integers(1, 5), s=st.one_of(st.none(), st.integers(1, 3)))
def test_pooling_agrees_with_torch(x, k, s):
    stride = k if s is None else s
    for fn in (C.max_pool2d, C.max_pool2d_loop):
        close_ops(call(fn, x, k, s), F.max_pool2d(x, k, stride), fn.__name__)
    close_ops(call(C.avg_pool2d_loop, x, k, s), F.avg_pool2d(x, k, stride), "avg_pool2d_loop")


@given(x=tensors((2, 3, 4)), pad=st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3))),
       mode=st.sampled_from(C.PAD_MODES))
def test_pad2d_agrees_with_torch(x, pad, mode):
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    valid = mode != "reflect" or (ph < 3 and pw < 4)
    if not valid:
        assert_refuses(C.pad2d, x, pad, mode, name="padding")
        return
    out = call(C.pad2d, x, pad, mode)
    expected = F.pad(x[None], (pw, pw, ph, ph), mode="constant" if mode == "zeros" else mode)[0]
    close_ops(out, expected, f"pad2d {mode}")


@given(layers=st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3)), max_size=6))
def test_receptive_field_formula(layers):
    expected, jump = 1, 1
    for k, s in layers:
        expected, jump = expected + (k - 1) * jump, jump * s
    assert call(C.receptive_field, layers) == expected == C._receptive_field_twin(layers)


CX, CW = torch.zeros(1, 2, 5, 5), torch.zeros(3, 2, 3, 3)
CONV_CASES = [
    ((C.conv2d_loop, C.conv2d_im2col), "x", dict(weight=CW),
     tensor_errors(CX, floating=True, finite=False) + [CX[:, :1], torch.zeros(1, 2, 2, 2)]),
    ((C.conv2d_loop, C.conv2d_im2col), "weight", dict(x=CX), tensor_errors(CW, floating=True, finite=False) + [CW.double()]),
    ((C.conv2d_loop, C.conv2d_im2col), "bias", dict(x=CX, weight=CW),
     ["text", [0.0] * 3, torch.zeros(2), torch.zeros(3, dtype=torch.float64)]),
    ((C.conv2d_loop, C.conv2d_im2col, C.im2col), "stride", dict(x=CX, weight=CW, kernel_size=3), int_errors(1)),
    ((C.conv2d_loop, C.conv2d_im2col, C.im2col), "padding", dict(x=CX, weight=CW, kernel_size=3), int_errors(0)),
    ((C.im2col,), "kernel_size", dict(x=CX), int_errors(1) + [(2, 1.5), (2, 2, 2), 6]),
    ((C.max_pool2d, C.max_pool2d_loop, C.avg_pool2d_loop), "kernel_size", dict(x=CX), int_errors(1) + [6]),
    ((C.max_pool2d, C.max_pool2d_loop, C.avg_pool2d_loop), "stride", dict(x=CX, kernel_size=2),
     [v for v in int_errors(1) if v is not None]),  # None is the default: the kernel size
    ((C.max_pool2d, C.max_pool2d_loop, C.avg_pool2d_loop), "x", dict(kernel_size=2),
     kind_errors(CX) + [CX[0], CX.bool(), CX.to(torch.complex64)]),
    ((C.pad2d,), "padding", dict(x=CX), int_errors(0) + [(1, 2, 3), 10**6]),
    ((C.pad2d,), "mode", dict(x=CX, padding=1), ["mirror", None, 0]),
    ((C.pad2d,), "x", dict(padding=1), kind_errors(CX) + [torch.zeros(3)]),
    ((C.conv_output_size,), "in_size", dict(kernel_size=3), int_errors(1)),
    ((C.conv_output_size,), "exact", dict(in_size=8, kernel_size=3), ["yes", 1]),
    ((C.receptive_field,), "layers", {}, [None, 3, [(3,)], [(3, 0)], [(1.5, 1)], "33"]),
    ((C.activation_bytes,), "height", dict(channels=1, width=1), int_errors(1)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", CONV_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in CONV_CASES])
@given(seed=st.integers(0, 3))
def test_conv_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)  # the valid arguments are fixed; the examples only repeat the check
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== upsample


@given(x=st.integers(0, 2).flatmap(lambda n: tensors((n, 2, 3, 4))), s=st.integers(1, 3), align=st.booleans())
def test_upsampling_agrees_with_torch(x, s, align):
    for fn in (U.nearest_upsample, U.nearest_upsample_loop):
        close_ops(call(fn, x, s), F.interpolate(x, scale_factor=s, mode="nearest"), fn.__name__)
    for fn in (U.bed_of_nails, U.bed_of_nails_loop):
        out = call(fn, x, s)
        assert out.shape == (*x.shape[:2], 3 * s, 4 * s) and torch.equal(out[:, :, ::s, ::s], x)
    for fn in (U.bilinear_upsample, U.bilinear_upsample_loop):
        close_ops(call(fn, x, s, align), F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=align), fn.__name__)
    rows = call(U.interpolation_matrix, 3, 3 * s, align, dtype=torch.float64)
    close_ops(rows.sum(1), torch.ones(3 * s, dtype=torch.float64), "interpolation_matrix rows")


@given(x=tensors((1, 2, 4, 6)), k=st.sampled_from([1, 2]))
def test_max_unpool_agrees_with_torch(x, k):
    pooled, idx = F.max_pool2d(x, k, return_indices=True)
    expected = F.max_unpool2d(pooled, idx, k, output_size=(4, 6))
    for fn in (U.max_unpool2d, U.max_unpool2d_loop):
        close_ops(call(fn, pooled, idx, (4, 6)), expected, fn.__name__)


@given(n=st.integers(0, 2), c=st.tuples(st.integers(1, 2), st.integers(1, 2)), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 1), op=st.integers(0, 2), seed=st.integers(0, 99))
def test_conv_transpose_agrees_with_torch(n, c, k, s, p, op, seed):
    op = min(op, s - 1)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c[0], 3, 2, generator=g, dtype=torch.float64)
    weight = torch.randn(c[0], c[1], k, k, generator=g, dtype=torch.float64)
    if (2 - 1) * s - 2 * p + k + op < 1 or (3 - 1) * s - 2 * p + k + op < 1:
        for fn in (U.conv_transpose2d, U.conv_transpose2d_loop):
            assert_refuses(fn, x, weight, None, s, p, op, name="padding")
        return
    expected = F.conv_transpose2d(x, weight, stride=s, padding=p, output_padding=op)
    for fn in (U.conv_transpose2d, U.conv_transpose2d_loop):
        close_ops(call(fn, x, weight, None, s, p, op), expected, fn.__name__)
    assert expected.shape[2] == U.conv_transpose_output_size(3, k, s, p, op)


@given(k=st.integers(1, 3), length=st.integers(3, 6), s=st.integers(1, 2), p=st.integers(0, 1), seed=st.integers(0, 9))
def test_conv_matrix_is_the_convolution(k, length, s, p, seed):
    w = torch.randn(k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = torch.randn(length, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    m = call(U.conv_matrix, w, length, s, p)
    close_ops(m @ x, F.conv1d(x[None, None], w[None, None], stride=s, padding=p)[0, 0], "conv_matrix @ x")
    close_ops(call(U.conv_transpose_matrix, w, length, s, p), m.T, "conv_transpose_matrix")


UX = torch.zeros(1, 2, 2, 2)
UP, UIDX = F.max_pool2d(torch.rand(1, 2, 4, 4, generator=torch.Generator().manual_seed(0)), 2, return_indices=True)
UW = torch.zeros(2, 3, 3, 3)
UPSAMPLE_CASES = [
    ((U.nearest_upsample, U.nearest_upsample_loop, U.bilinear_upsample, U.bilinear_upsample_loop), "scale", dict(x=UX),
     int_errors(1) + [10**6]),
    ((U.bed_of_nails, U.bed_of_nails_loop), "stride", dict(x=UX), int_errors(1) + [10**6]),
    ((U.nearest_upsample, U.nearest_upsample_loop, U.bed_of_nails, U.bed_of_nails_loop), "x", dict(scale=2, stride=2),
     kind_errors(UX) + [UX[0], UX.to(torch.complex64)]),
    ((U.bilinear_upsample, U.bilinear_upsample_loop), "x", dict(scale=2), kind_errors(UX) + [UX[0], UX.long()]),
    ((U.bilinear_upsample, U.bilinear_upsample_loop), "align_corners", dict(x=UX, scale=2), [1, "yes", None]),
    ((U.max_unpool2d, U.max_unpool2d_loop), "output_size", dict(x=UP, indices=UIDX),
     [None, "4x4", (4,), (0, 4), (4.0, 4), (10**6, 10**6)]),
    ((U.max_unpool2d, U.max_unpool2d_loop), "indices", dict(x=UP, output_size=(4, 4)),
     kind_errors(UIDX) + [UIDX.int(), UIDX.float(), UIDX[:, :1], UIDX + 100, UIDX - 100]),
    ((U.interpolation_matrix,), "out_size", dict(in_size=2), int_errors(1) + [10**10]),
    ((U.interpolation_matrix,), "dtype", dict(in_size=2, out_size=4), [torch.int64, "float32", None]),
    ((U.interpolation_matrix,), "device", dict(in_size=2, out_size=4), ["banana", 1.5]),
    ((U.conv_transpose2d, U.conv_transpose2d_loop), "weight", dict(x=UX),
     tensor_errors(UW, floating=True, finite=False) + [torch.zeros(3, 3, 3, 3), UW.double()]),
    ((U.conv_transpose2d, U.conv_transpose2d_loop), "stride", dict(x=UX, weight=UW), int_errors(1) + [(2, 2, 2), 10**6]),
    ((U.conv_transpose2d, U.conv_transpose2d_loop), "output_padding", dict(x=UX, weight=UW, stride=2), int_errors(0) + [2]),
    ((U.conv_transpose_output_size,), "output_padding", dict(in_size=2, kernel_size=3), int_errors(0) + [5]),
    ((U.conv_matrix,), "in_size", dict(weight=torch.ones(3)), int_errors(1) + [(4, 4), 10**6]),
    ((U.conv_matrix,), "weight", dict(in_size=4), kind_errors(UW) + [torch.ones(1, 1, 3), torch.zeros(0), torch.ones(3).bool()]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", UPSAMPLE_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in UPSAMPLE_CASES])
@given(seed=st.integers(0, 3))
def test_upsample_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)
