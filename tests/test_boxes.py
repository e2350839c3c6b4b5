"""Tests for course_utils.ops.boxes: loop vs vectorized vs torchvision, thresholds, ties, empties, errors."""
import math
import warnings

import pytest
import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder

from course_utils.ops import boxes as B

# Tolerance of an IoU / area computed in each dtype (the loops compute in float64).
TOL = {torch.float16: 1e-3, torch.float32: 1e-6, torch.float64: 1e-12, torch.int32: 1e-6, torch.int64: 1e-6}


def random_boxes(n, seed, dtype=torch.float32, span=100.0, max_size=40.0, integer=False):
    """Valid xyxy boxes (x1 <= x2, y1 <= y2), some overlapping."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * span
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * max_size + 1
    boxes = torch.cat([xy, xy + wh], dim=1)
    if integer:
        boxes = boxes.round()
    return boxes.to(dtype)


def clustered_boxes(n, seed, num_objects=8):
    """Boxes jittered around a few objects: the crowded output of a detector before NMS."""
    g = torch.Generator().manual_seed(seed)
    centres = random_boxes(num_objects, seed + 1000)
    b = centres[torch.randint(0, num_objects, (n,), generator=g)]
    b = b + torch.randn(n, 4, generator=g) * 3
    return torch.cat([torch.minimum(b[:, :2], b[:, 2:]), torch.maximum(b[:, :2], b[:, 2:])], dim=1)


# ---------------------------------------------------------------------- convert


@pytest.mark.parametrize("in_fmt", B.BOX_FORMATS)
@pytest.mark.parametrize("out_fmt", B.BOX_FORMATS)
def test_box_convert_matches_torchvision_and_loop(in_fmt, out_fmt):
    boxes = random_boxes(20, 0, torch.float64)
    ours = B.box_convert(boxes, in_fmt, out_fmt)
    torch.testing.assert_close(ours, torchvision.ops.box_convert(boxes, in_fmt, out_fmt))
    torch.testing.assert_close(ours, B.box_convert_loop(boxes, in_fmt, out_fmt))
    torch.testing.assert_close(B.box_convert(ours, out_fmt, in_fmt), boxes)  # round trip


def test_box_convert_batched_and_empty():
    boxes = random_boxes(6, 1).reshape(2, 3, 4)
    assert B.box_convert(boxes, "xyxy", "cxcywh").shape == (2, 3, 4)
    empty = B.box_convert(torch.zeros(0, 4, dtype=torch.float64), "xyxy", "xywh")
    assert empty.shape == (0, 4) and empty.dtype == torch.float64


def test_box_convert_errors():
    with pytest.raises(ValueError, match="in_fmt must be one of"):
        B.box_convert(torch.zeros(1, 4), "xxyy", "xyxy")
    with pytest.raises(ValueError, match=r"shape \[\.\.\., 4\]"):
        B.box_convert(torch.zeros(1, 5), "xyxy", "xywh")
    with pytest.raises(TypeError, match="torch.Tensor"):
        B.box_convert([[0, 0, 1, 1]], "xyxy", "xywh")


# ------------------------------------------------------------------------- area


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64, torch.int32, torch.int64, torch.uint8])
def test_box_area_matches_torchvision_and_loop(dtype):
    boxes = random_boxes(30, 2, torch.float64, span=150, max_size=100, integer=True).to(dtype)
    ours = B.box_area(boxes)
    expected = torchvision.ops.box_area(boxes)
    assert ours.dtype == expected.dtype
    torch.testing.assert_close(ours, expected)
    torch.testing.assert_close(B.box_area_loop(boxes), ours)


def test_box_area_upcasts_half_and_small_ints():
    # 300 * 300 overflows float16 (max 65504) and uint8
    big = torch.tensor([[0, 0, 300, 300]])
    assert B.box_area(big.half()).item() == 90000.0
    assert B.box_area(big.to(torch.int16)).item() == 90000


def test_box_area_degenerate_is_zero():
    boxes = torch.tensor([[5.0, 5.0, 2.0, 9.0], [5.0, 5.0, 2.0, 1.0], [1.0, 1.0, 1.0, 4.0]])
    assert B.box_area(boxes).tolist() == [0.0, 0.0, 0.0]
    assert B.box_area_loop(boxes).tolist() == [0.0, 0.0, 0.0]


def test_box_area_empty():
    out = B.box_area(torch.zeros(0, 4, dtype=torch.float64))
    assert out.shape == (0,) and out.dtype == torch.float64


# -------------------------------------------------------------------------- IoU


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64, torch.int32, torch.int64])
@pytest.mark.parametrize("op", ["iou", "giou"])
def test_iou_matches_torchvision_and_loop(dtype, op):
    a = random_boxes(25, 3, torch.float64, integer=dtype in (torch.int32, torch.int64, torch.float16)).to(dtype)
    b = random_boxes(17, 4, torch.float64, integer=dtype in (torch.int32, torch.int64, torch.float16)).to(dtype)
    ours = {"iou": B.box_iou, "giou": B.generalized_box_iou}[op](a, b)
    loop = {"iou": B.box_iou_loop, "giou": B.generalized_box_iou_loop}[op](a, b)
    tv = {"iou": torchvision.ops.box_iou, "giou": torchvision.ops.generalized_box_iou}[op](a, b)
    assert ours.shape == (25, 17)
    assert ours.dtype == tv.dtype == loop.dtype
    tol = TOL[dtype]
    torch.testing.assert_close(ours, tv, rtol=tol, atol=tol)
    torch.testing.assert_close(ours, loop, rtol=tol, atol=tol)


def test_box_iou_is_bitwise_torchvision_in_float32():
    a, b = random_boxes(200, 5), random_boxes(150, 6)
    assert torch.equal(B.box_iou(a, b), torchvision.ops.box_iou(a, b))


def test_box_iou_hand_values():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0], [0.0, 0.0, 1.0, 2.0]])
    torch.testing.assert_close(B.box_iou(a, b), torch.tensor([[1 / 7, 1.0, 0.0, 0.5]]))
    # GIoU of two touching unit squares at distance 1: IoU 0, hull 3, union 2
    giou = B.generalized_box_iou(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[2.0, 0.0, 3.0, 1.0]]))
    torch.testing.assert_close(giou, torch.tensor([[-1 / 3]]))


def test_iou_degenerate_boxes_give_zero_not_nan():
    point = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    box = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    for fn in (B.box_iou, B.box_iou_loop, B.generalized_box_iou, B.generalized_box_iou_loop):
        out = fn(torch.cat([point, box]), torch.cat([point, box]))
        assert not out.isnan().any(), fn.__name__
    assert B.box_iou(point, point).item() == 0.0
    assert B.box_iou(point, box).item() == 0.0


def test_iou_mixed_dtypes_promote():
    a, b = random_boxes(4, 7, torch.float32), random_boxes(3, 8, torch.float64)
    assert B.box_iou(a, b).dtype == torch.float64


@pytest.mark.parametrize("fn", [B.box_iou, B.box_iou_loop, B.generalized_box_iou, B.generalized_box_iou_loop])
@pytest.mark.parametrize("n, m", [(0, 3), (3, 0), (0, 0)])
def test_iou_empty(fn, n, m):
    out = fn(torch.zeros(n, 4, dtype=torch.float64), random_boxes(m, 0, torch.float64))
    assert out.shape == (n, m) and out.dtype == torch.float64


@pytest.mark.parametrize("bad, error", [(torch.zeros(3, 5), ValueError), (torch.zeros(4), ValueError), ([[0, 0, 1, 1]], TypeError)])
def test_iou_errors(bad, error):
    with pytest.raises(error, match="boxes1"):
        B.box_iou(bad, torch.zeros(1, 4))


# -------------------------------------------------------------------------- NMS


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_torchvision_and_loop(dtype, seed, threshold):
    boxes = (random_boxes(150, seed) if seed % 2 else clustered_boxes(150, seed)).to(dtype)
    scores = torch.rand(150, generator=torch.Generator().manual_seed(seed + 50), dtype=dtype)
    expected = torchvision.ops.nms(boxes, scores, threshold)
    ours = B.nms(boxes, scores, threshold)
    assert ours.dtype == torch.int64
    assert torch.equal(ours, expected)
    assert torch.equal(B.nms_loop(boxes, scores, threshold), expected)


@pytest.mark.parametrize("n", [1, 31, 32, 33, 97, 1100])
def test_nms_block_boundaries(n):
    # sizes around the block sizes, sparse and crowded
    for boxes in (random_boxes(n, n, span=300), clustered_boxes(n, n)):
        scores = torch.rand(n, generator=torch.Generator().manual_seed(n))
        assert torch.equal(B.nms(boxes, scores, 0.5), torchvision.ops.nms(boxes, scores, 0.5))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_nms_tied_scores_match_torchvision(dtype):
    # few distinct scores: many ties; torchvision's CPU kernel keeps the lower index first
    for seed in range(5):
        boxes = clustered_boxes(200, seed).to(dtype)
        scores = torch.randint(0, 4, (200,), generator=torch.Generator().manual_seed(seed)).to(dtype)
        expected = torchvision.ops.nms(boxes, scores, 0.5)
        assert torch.equal(B.nms(boxes, scores, 0.5), expected)
        assert torch.equal(B.nms_loop(boxes, scores, 0.5), expected)
    # all scores equal, identical boxes: the first index survives
    same = torch.tensor([[0.0, 0.0, 10.0, 10.0]] * 3, dtype=dtype)
    assert B.nms(same, torch.ones(3, dtype=dtype), 0.5).tolist() == [0]


def _pair_at_iou(height, dtype):
    """Box [0,0,10,10] and box [0,0,10,height]: IoU = height / 10 (exact for these values)."""
    return torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, height]], dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_boxes_at_threshold(dtype, threshold):
    scores = torch.tensor([0.9, 0.8], dtype=dtype)
    h = torch.tensor(10 * threshold, dtype=dtype)
    for height in (
        torch.nextafter(h, torch.tensor(0.0, dtype=dtype)),  # just below the threshold
        h,  # at the threshold (IoU == thr, up to the rounding of the division)
        torch.nextafter(h, torch.tensor(20.0, dtype=dtype)),  # just above
    ):
        boxes = _pair_at_iou(height.item(), dtype)
        expected = torchvision.ops.nms(boxes, scores, threshold)
        assert torch.equal(B.nms(boxes, scores, threshold), expected), (height.item(), expected)
    # exactly representable IoU 0.5 equal to the threshold is not suppressed (strict '>')
    assert B.nms(_pair_at_iou(5.0, dtype), scores, 0.5).tolist() == [0, 1]
    assert B.nms(_pair_at_iou(5.0 + 1e-3, dtype), scores, 0.5).tolist() == [0]


def test_nms_threshold_compared_in_double_like_torchvision():
    # float32 IoU 30/100 rounds to 0.30000001 > 0.3 (double): torchvision suppresses
    boxes, scores = _pair_at_iou(3.0, torch.float32), torch.tensor([0.9, 0.8])
    assert torchvision.ops.nms(boxes, scores, 0.3).tolist() == [0]
    assert B.nms(boxes, scores, 0.3).tolist() == [0]


def test_nms_random_pairs_at_their_own_iou():
    # thresholds equal to (and one ulp around) IoUs that actually occur, in float32
    boxes = random_boxes(60, 11)
    scores = torch.rand(60, generator=torch.Generator().manual_seed(11))
    iou = torchvision.ops.box_iou(boxes, boxes)
    values = iou[(iou > 0.05) & (iou < 0.95)][:20]
    for v in values:
        for thr in (v.item(), math.nextafter(v.item(), 0.0), math.nextafter(v.item(), 1.0)):
            assert torch.equal(B.nms(boxes, scores, thr), torchvision.ops.nms(boxes, scores, thr))


def test_nms_degenerate_boxes_are_never_suppressed():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 2.0, 8.0], [3.0, 3.0, 3.0, 3.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert B.nms(boxes, scores, 0.0).tolist() == [0, 1, 2]
    assert torchvision.ops.nms(boxes, scores, 0.0).tolist() == [0, 1, 2]


def test_nms_half_is_computed_in_float32():
    boxes, scores = random_boxes(50, 12), torch.rand(50, generator=torch.Generator().manual_seed(12))
    boxes = boxes.half().float()  # values representable in half
    assert torch.equal(B.nms(boxes.half(), scores.half(), 0.5), torchvision.ops.nms(boxes, scores.half().float(), 0.5))


def test_nms_empty():
    for fn in (B.nms, B.nms_loop):
        out = fn(torch.zeros(0, 4), torch.zeros(0), 0.5)
        assert out.shape == (0,) and out.dtype == torch.int64


@pytest.mark.parametrize("fn", [B.nms, B.nms_loop])
def test_nms_errors(fn):
    boxes, scores = torch.zeros(3, 4), torch.zeros(3)
    with pytest.raises(ValueError, match="iou_threshold must be in"):
        fn(boxes, scores, 1.5)
    with pytest.raises(TypeError, match="iou_threshold must be a real number"):
        fn(boxes, scores, "0.5")
    with pytest.raises(ValueError, match="scores must have shape"):
        fn(boxes, torch.zeros(4), 0.5)
    with pytest.raises(TypeError, match="boxes must be a floating-point"):
        fn(boxes.long(), scores, 0.5)
    with pytest.raises(ValueError, match="boxes must have shape"):
        fn(torch.zeros(3, 5), scores, 0.5)


def test_nms_does_not_need_grad():
    # boxes and scores that require grad give the same kept indices as detached ones, as torchvision
    boxes = clustered_boxes(20, 13).requires_grad_()
    scores = torch.rand(20, generator=torch.Generator().manual_seed(13)).requires_grad_()
    expected = torchvision.ops.nms(boxes.detach(), scores.detach(), 0.5)
    assert 0 < len(expected) < 20  # some boxes are suppressed, some kept
    for fn in (B.nms, B.nms_loop):
        keep = fn(boxes, scores, 0.5)
        assert keep.dtype == torch.int64 and not keep.requires_grad
        assert torch.equal(keep, expected), (fn.__name__, keep, expected)


@pytest.mark.parametrize("encode, decode", [(B.encode_boxes, B.decode_boxes), (B.encode_boxes_loop, B.decode_boxes_loop)])
def test_box_coding_loops_refuse_what_the_vectorized_versions_refuse(encode, decode):
    # the loops used to zip mismatched inputs into a silently shorter result
    anchors = random_boxes(3, 1)
    with pytest.raises(ValueError, match=r"anchors and gt_boxes must have the same shape .*got \[3, 4\] and \[2, 4\]"):
        encode(anchors, anchors[:2])
    with pytest.raises(ValueError, match=r"deltas and anchors must have the same shape .*got \[2, 4\] and \[3, 4\]"):
        decode(torch.zeros(2, 4), anchors)
    flat = anchors.clone()
    flat[1, 2] = flat[1, 0]  # zero width: log(0) and a division by 0
    with pytest.raises(ValueError, match="gt_boxes must have a positive width and height, got row 1"):
        encode(anchors, flat)
    with pytest.raises(ValueError, match="anchors must have a positive width and height, got row 1"):
        decode(torch.zeros(3, 4), flat)
    with pytest.raises(ValueError, match="clip must be a finite number, got nan"):
        decode(torch.zeros(3, 4), anchors, clip=math.nan)
    with pytest.raises(ValueError, match="deltas must be finite"):
        decode(torch.full((3, 4), math.inf), anchors)


def dense_nms_reference(boxes, scores, iou_threshold, idxs=None):
    """Greedy NMS over the whole [N, N] IoU matrix, computed in one piece (no blocks).

    Same formula as nms (torchvision's kernel with empty-clamped areas), compared in
    double precision as torchvision does; defined for any boxes, NaN and inf included.
    """
    order = torch.sort(scores, descending=True, stable=True).indices
    x1, y1, x2, y2 = boxes[order].unbind(1)  # [N] each, by decreasing score
    area = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    w = (torch.minimum(x2[:, None], x2) - torch.maximum(x1[:, None], x1)).clamp(min=0)  # [N, N]
    h = (torch.minimum(y2[:, None], y2) - torch.maximum(y1[:, None], y1)).clamp(min=0)  # [N, N]
    inter = w * h
    over = (inter / (area[:, None] + area - inter)).double() > iou_threshold  # [N, N]
    if idxs is not None:
        ids = idxs[order]
        over &= ids[:, None] == ids
    over = over.tolist()
    removed, keep = set(), []
    for i in range(len(over)):
        if i not in removed:
            keep.append(i)
            removed.update(j for j in range(i + 1, len(over)) if over[i][j])
    return order[keep]


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_nms_and_batched_nms_match_torchvision_at_occurring_ious_and_ties(dtype):
    for seed, n in ((0, 1), (1, 33), (2, 150), (3, 300)):
        g = torch.Generator().manual_seed(seed)
        boxes = (clustered_boxes(n, seed) if seed % 2 else random_boxes(n, seed, span=300)).to(dtype)
        scores = (torch.rand(n, generator=g) if seed < 2 else torch.randint(0, 4, (n,), generator=g).float()).to(dtype)
        ref_dtype = torch.float32 if dtype == torch.float16 else dtype  # torchvision's CPU NMS has no half
        ref_boxes, ref_scores = boxes.to(ref_dtype), scores.to(ref_dtype)
        iou = torchvision.ops.box_iou(ref_boxes, ref_boxes)
        values = iou[(iou > 0.05) & (iou < 0.95)][:2].tolist()  # thresholds at IoUs that occur, and one ulp around
        for thr in [0.0, 0.5, 1.0] + [t for v in values for t in (v, math.nextafter(v, 0.0), math.nextafter(v, 1.0))]:
            expected = torchvision.ops.nms(ref_boxes, ref_scores, thr)
            assert torch.equal(B.nms(boxes, scores, thr), expected), (seed, thr)
        idxs = torch.randint(0, 3, (n,), generator=g)
        expected = torchvision.ops.batched_nms(ref_boxes, ref_scores, idxs, 0.5)
        assert torch.equal(B.batched_nms(boxes, scores, idxs, 0.5), expected), seed


def test_nms_on_degenerate_boxes_matches_the_dense_reference_and_refuses_non_finite_ones():
    # inverted and empty boxes, over several blocks: decided as in one [N, N] computation, silently
    g = torch.Generator().manual_seed(7)
    boxes = torch.randint(-5, 15, (300, 4), generator=g).float()
    scores, idxs = torch.rand(300, generator=g), torch.randint(0, 2, (300,), generator=g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for thr in (0.0, 0.5, 1.0):
            assert torch.equal(B.nms(boxes, scores, thr), dense_nms_reference(boxes, scores, thr)), thr
            expected = dense_nms_reference(boxes, scores, thr, idxs)
            assert torch.equal(B.batched_nms(boxes, scores, idxs, thr), expected), thr
    # a NaN or infinite corner has no area and no rank: every version refuses it, naming boxes
    for bad in (math.nan, math.inf, -math.inf):
        odd = boxes.clone()
        odd[17, 2] = bad
        for fn in (B.nms, B.nms_loop):
            with pytest.raises(ValueError, match=r"boxes must be finite, got (nan|inf|-inf) at index \[17, 2\]"):
                fn(odd, scores, 0.5)
        for fn in (B.batched_nms, B.batched_nms_loop):
            with pytest.raises(ValueError, match="boxes must be finite"):
                fn(odd, scores, idxs, 0.5)
    nan_scores = scores.clone()
    nan_scores[3] = math.nan
    for fn in (B.nms, B.nms_loop):
        with pytest.raises(ValueError, match="scores must not contain NaN, got NaN at index 3"):
            fn(boxes, nan_scores, 0.5)


def test_nms_result_is_an_ordinary_index_tensor():
    # nms computes in inference mode; what it returns must still index boxes that require grad
    boxes = clustered_boxes(100, 3).requires_grad_()
    scores = torch.rand(100, generator=torch.Generator().manual_seed(3))
    for keep in (B.nms(boxes, scores, 0.5), B.batched_nms(boxes, scores, torch.arange(100) % 2, 0.5)):
        assert not keep.is_inference() and keep.dtype == torch.int64
        boxes.grad = None
        boxes[keep].sum().backward()
        assert boxes.grad[keep].eq(1).all() and boxes.grad.sum() == 4 * len(keep)
    expected = B.nms(boxes, scores, 0.5)
    with torch.inference_mode():  # and nms works inside inference mode too
        assert torch.equal(B.nms(boxes, scores, 0.5), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_nms_stays_on_the_gpu():
    boxes, scores = clustered_boxes(300, 0), torch.rand(300, generator=torch.Generator().manual_seed(0))
    keep = B.nms(boxes.cuda(), scores.cuda(), 0.5)
    assert keep.is_cuda and torch.equal(keep.cpu(), torchvision.ops.nms(boxes, scores, 0.5))


# ------------------------------------------------------------------ batched NMS


@pytest.mark.parametrize("seed, n", [(0, 50), (1, 50), (2, 300), (3, 300), (4, 1100), (5, 1100)])
def test_batched_nms_matches_torchvision_and_loop(seed, n):  # torchvision changes strategy above 1000 boxes
    g = torch.Generator().manual_seed(seed)
    boxes = clustered_boxes(n, seed) if seed % 2 else random_boxes(n, seed)
    scores = torch.rand(n, generator=g)
    idxs = torch.randint(0, 5, (n,), generator=g)
    ours = B.batched_nms(boxes, scores, idxs, 0.5)
    assert torch.equal(ours, torchvision.ops.batched_nms(boxes, scores, idxs, 0.5))
    if n <= 300:
        assert torch.equal(B.batched_nms_loop(boxes, scores, idxs, 0.5), ours)


def test_batched_nms_classes_do_not_interact_even_with_negative_coordinates():
    boxes = torch.tensor([[-50.0, -50.0, -10.0, -10.0], [-50.0, -50.0, -10.0, -10.0], [-49.0, -50.0, -10.0, -10.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    idxs = torch.tensor([0, 1, 0])
    assert B.batched_nms(boxes, scores, idxs, 0.5).tolist() == [0, 1]
    assert B.batched_nms_loop(boxes, scores, idxs, 0.5).tolist() == [0, 1]


def test_batched_nms_empty_and_errors():
    out = B.batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), 0.5)
    assert out.shape == (0,) and out.dtype == torch.int64
    with pytest.raises(TypeError, match="idxs must be an integer"):
        B.batched_nms(torch.zeros(2, 4), torch.zeros(2), torch.zeros(2), 0.5)
    with pytest.raises(ValueError, match="idxs must have shape"):
        B.batched_nms(torch.zeros(2, 4), torch.zeros(2), torch.zeros(3, dtype=torch.int64), 0.5)


# ------------------------------------------------------------------------- clip


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_clip_boxes(dtype):
    boxes = (random_boxes(30, 14, torch.float64, span=140, integer=True) - 20).to(dtype)
    ours = B.clip_boxes(boxes, (90, 110))
    torch.testing.assert_close(ours, torchvision.ops.clip_boxes_to_image(boxes, (90, 110)))
    torch.testing.assert_close(B.clip_boxes_loop(boxes, (90, 110)), ours)
    assert ours.dtype == dtype
    assert B.clip_boxes(torch.zeros(0, 4), (5, 5)).shape == (0, 4)
    with pytest.raises(ValueError, match="size must"):
        B.clip_boxes(boxes, (90,))
    with pytest.raises(ValueError, match="size must"):
        B.clip_boxes(boxes, (0, 10))


# --------------------------------------------------------------- encode / decode


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_encode_decode_match_torchvision(dtype, weights):
    anchors = random_boxes(40, 15, dtype)
    gt = random_boxes(40, 16, dtype)
    coder = BoxCoder(weights)
    deltas = B.encode_boxes(anchors, gt, weights)
    tol = {torch.float32: 1e-4, torch.float64: 1e-10}[dtype]  # differences of nearby centres cancel digits
    torch.testing.assert_close(deltas, coder.encode_single(gt, anchors), rtol=tol, atol=tol)
    torch.testing.assert_close(B.encode_boxes_loop(anchors, gt, weights), deltas, rtol=tol, atol=tol)
    decoded = B.decode_boxes(deltas, anchors, weights)
    torch.testing.assert_close(decoded, coder.decode_single(deltas, anchors), rtol=tol, atol=tol * 100)
    torch.testing.assert_close(B.decode_boxes_loop(deltas, anchors, weights), decoded, rtol=tol, atol=tol * 100)
    torch.testing.assert_close(decoded, gt, rtol=tol, atol=tol * 100)  # decode inverts encode


def test_decode_clamps_huge_scales():
    anchors = torch.tensor([[0.0, 0.0, 16.0, 16.0]])
    deltas = torch.tensor([[0.0, 0.0, 100.0, 100.0]])
    out = B.decode_boxes(deltas, anchors)
    width = (out[0, 2] - out[0, 0]).item()
    assert math.isclose(width, 1000.0, rel_tol=1e-5)  # exp(log(1000 / 16)) * 16
    torch.testing.assert_close(out, BoxCoder((1.0, 1.0, 1.0, 1.0)).decode_single(deltas, anchors))


def test_encode_decode_empty_and_errors():
    assert B.encode_boxes(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)
    assert B.decode_boxes(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)
    with pytest.raises(ValueError, match="same shape"):
        B.encode_boxes(torch.zeros(2, 4), torch.zeros(3, 4))
    unit = torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 2)
    with pytest.raises(ValueError, match=r"weights\[2\] must be > 0"):
        B.encode_boxes(unit, unit, weights=(1.0, 1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"weights\[0\] must be a finite number"):
        B.decode_boxes(unit, unit, weights=(math.nan, 1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="weights must be 4 positive numbers"):
        B.encode_boxes(unit, unit, weights=(1.0, 1.0))
    with pytest.raises(TypeError, match="weights must be a tuple"):
        B.encode_boxes(unit, unit, weights=1.0)
    with pytest.raises(TypeError, match="floating-point"):
        B.decode_boxes(torch.zeros(2, 4, dtype=torch.int64), torch.zeros(2, 4))
