"""Tests for course_utils.ops.anchors against torchvision's AnchorGenerator, Matcher and sampler."""
import math

import pytest
import torch
from torchvision.models.detection._utils import BalancedPositiveNegativeSampler, Matcher
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from course_utils.ops import anchors as A
from course_utils.ops.boxes import box_iou


def random_boxes(n, seed, span=120.0, max_size=60.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * span
    wh = torch.rand(n, 2, generator=g) * max_size + 4
    return torch.cat([xy, xy + wh], dim=1)


# ------------------------------------------------------------------ generation


def torchvision_anchors(image_size, feature_sizes, sizes, ratios):
    gen = AnchorGenerator(sizes=sizes, aspect_ratios=ratios)
    images = ImageList(torch.zeros(1, 3, *image_size), [image_size])
    features = [torch.zeros(1, 1, h, w) for h, w in feature_sizes]
    return gen(images, features)[0]


@pytest.mark.parametrize(
    "image_size, feature_sizes, sizes, ratios",
    [
        ((64, 64), [(8, 8)], ((16, 32),), ((0.5, 1.0, 2.0),)),
        ((96, 128), [(12, 16)], ((24,),), ((1.0, 3.0),)),
        # FPN-like: one size per level, shared ratios
        ((128, 128), [(32, 32), (16, 16), (8, 8), (4, 4)], ((16,), (32,), (64,), (128,)), ((0.5, 1.0, 2.0),) * 4),
        ((60, 90), [(6, 9), (3, 5)], ((10, 20), (40,)), ((1.0,), (0.5, 2.0))),
    ],
)
def test_generate_anchors_matches_torchvision(image_size, feature_sizes, sizes, ratios):
    expected = torchvision_anchors(image_size, feature_sizes, sizes, ratios)
    strides = [(image_size[0] // h, image_size[1] // w) for h, w in feature_sizes]
    ours = A.generate_anchors(feature_sizes, strides, sizes, ratios)
    torch.testing.assert_close(ours, expected)
    torch.testing.assert_close(A.generate_anchors_loop(feature_sizes, strides, sizes, ratios), expected)
    assert ours.shape[0] == sum(A.num_anchors(f, s, r) for f, s, r in zip(feature_sizes, sizes, ratios))


def test_generate_anchors_ordering_and_offset():
    # 2 x 3 map, stride 10, one size, two ratios; offset 0.5 centres anchors on the cells
    anchors = A.generate_anchors([(2, 3)], [10], sizes=(8,), ratios=(1.0, 4.0), offset=0.5, round_to_int=False)
    per_loc = A.anchors_per_location((8,), (1.0, 4.0))
    assert per_loc == 2 and anchors.shape == (2 * 3 * 2, 4)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2  # [12, 2]
    # anchor a sits at position a // 2 (row-major) with shape a % 2
    for a in range(12):
        i, j = divmod(a // per_loc, 3)
        assert centres[a].tolist() == [(j + 0.5) * 10, (i + 0.5) * 10]
    wh = anchors[:, 2:] - anchors[:, :2]
    torch.testing.assert_close(wh[0], torch.tensor([8.0, 8.0]))  # ratio 1
    torch.testing.assert_close(wh[1], torch.tensor([4.0, 16.0]))  # ratio h / w = 4, area 64
    torch.testing.assert_close(A.generate_anchors_loop([(2, 3)], [10], (8,), (1.0, 4.0), offset=0.5, round_to_int=False), anchors)


def test_cell_anchors_area_and_ratio():
    cell = A.cell_anchors(sizes=(32.0, 64.0), ratios=(0.5, 1.0, 2.0), round_to_int=False, dtype=torch.float64)
    w, h = cell[:, 2] - cell[:, 0], cell[:, 3] - cell[:, 1]
    torch.testing.assert_close(w * h, torch.tensor([32.0**2, 64.0**2] * 3, dtype=torch.float64))
    torch.testing.assert_close(h / w, torch.tensor([0.5, 0.5, 1.0, 1.0, 2.0, 2.0], dtype=torch.float64))


def test_counts():
    assert A.anchors_per_location((32, 64, 128), (0.5, 1.0, 2.0)) == 9
    assert A.num_anchors((5, 7), (32,), (0.5, 1.0)) == 70
    assert A.num_anchors(4, (32,), (1.0,)) == 16


def test_generate_anchors_dtype_device():
    out = A.generate_anchors([(2, 2)], [8], (8,), (1.0,), dtype=torch.float64, device="cpu")
    assert out.dtype == torch.float64 and out.device.type == "cpu"


def test_generate_anchors_errors():
    with pytest.raises(ValueError, match="strides must be a list with one stride per feature map"):
        A.generate_anchors([(4, 4), (2, 2)], [8], (8,), (1.0,))
    with pytest.raises(ValueError, match="sizes must be > 0, got 0"):
        A.generate_anchors([(4, 4)], [8], (0,), (1.0,))
    for fn in (A.generate_anchors, A.generate_anchors_loop):  # the loop checks what the vectorized version does
        with pytest.raises(ValueError, match="ratios must be a finite number > 0, got nan"):
            fn([(4, 4)], [8], (8,), (math.nan,))
        with pytest.raises(ValueError, match="offset must be a finite number, got inf"):
            fn([(4, 4)], [8], (8,), (1.0,), offset=math.inf)
        with pytest.raises(TypeError, match="offset must be a real number"):
            fn([(4, 4)], [8], (8,), (1.0,), offset="0.5")
        with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
            fn([(4, 4)], [8], (8,), (1.0,), dtype=torch.int64)
        with pytest.raises(TypeError, match="feature_sizes must be an int or a pair of ints, got str"):
            fn(["4x4"], [8], (8,), (1.0,))
    with pytest.raises(ValueError, match="per-level lists"):
        A.generate_anchors([(4, 4)], [8], ((8,), (16,)), (1.0,))
    with pytest.raises(ValueError, match="feature_sizes must be a positive"):
        A.generate_anchors([(0, 4)], [8], (8,), (1.0,))


# -------------------------------------------------------------------- matching


def tv_match(anchors, gt, pos, neg, low_quality):
    return Matcher(pos, neg, allow_low_quality_matches=low_quality)(box_iou(gt, anchors))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("low_quality", [True, False])
@pytest.mark.parametrize("pos, neg", [(0.7, 0.3), (0.5, 0.4), (0.5, 0.5)])
def test_match_anchors_matches_torchvision(seed, low_quality, pos, neg):
    # anchors tile the image, so every box overlaps some anchor (where the two rules agree)
    anchors = A.generate_anchors([(8, 8)], [16], sizes=(16, 32, 64), ratios=(0.5, 1.0, 2.0), offset=0.5)
    gt = random_boxes(1 + seed % 5, seed)
    expected = tv_match(anchors, gt, pos, neg, low_quality)
    ours = A.match_anchors(anchors, gt, pos, neg, low_quality)
    assert ours.dtype == torch.int64
    assert torch.equal(ours, expected)
    assert torch.equal(A.match_anchors_loop(anchors, gt, pos, neg, low_quality), expected)


def test_match_anchors_hand_case():
    anchors = torch.tensor(
        [[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 8.0], [5.0, 0.0, 15.0, 10.0], [30.0, 30.0, 40.0, 40.0],
         [100.0, 100.0, 110.0, 110.0], [102.0, 100.0, 112.0, 110.0]]
    )
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [104.0, 100.0, 124.0, 110.0]])
    # IoU with gt 1: anchor 4 -> 60/240 = 0.25, anchor 5 -> 80/220 = 0.36, both below 0.7
    assert A.match_anchors(anchors, gt, 0.7, 0.3, allow_low_quality=False).tolist() == [0, 0, -2, -1, -1, -2]
    # the best anchor of gt 1 (anchor 5) becomes positive
    assert A.match_anchors(anchors, gt, 0.7, 0.3).tolist() == [0, 0, -2, -1, -1, 1]


def test_match_anchors_low_quality_ties_included():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    gt = torch.tensor([[5.0, 0.0, 25.0, 10.0]])  # IoU 1/5 with anchors 0 and 1
    assert A.match_anchors(anchors, gt, 0.7, 0.3).tolist() == [0, 0, -1]


def test_match_anchors_box_overlapping_no_anchor_adds_nothing():
    # torchvision would make every zero-IoU anchor a positive here; we do not
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]])
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [100.0, 100.0, 110.0, 110.0]])
    assert A.match_anchors(anchors, gt).tolist() == [0, -1]
    assert A.match_anchors_loop(anchors, gt).tolist() == [0, -1]


def test_match_anchors_empty():
    anchors = random_boxes(5, 0)
    for fn in (A.match_anchors, A.match_anchors_loop):
        assert fn(anchors, torch.zeros(0, 4)).tolist() == [-1] * 5
        out = fn(torch.zeros(0, 4), random_boxes(2, 1))
        assert out.shape == (0,) and out.dtype == torch.int64


def test_match_anchors_errors():
    with pytest.raises(ValueError, match="neg_iou must be <= pos_iou"):
        A.match_anchors(random_boxes(3, 0), random_boxes(1, 1), pos_iou=0.3, neg_iou=0.7)
    with pytest.raises(ValueError, match=r"pos_iou must be in \[0, 1\], got 1.5"):
        A.match_anchors(random_boxes(3, 0), random_boxes(1, 1), pos_iou=1.5)
    with pytest.raises(ValueError, match="gt_boxes must have shape"):
        A.match_anchors(random_boxes(3, 0), torch.zeros(2, 3))


@pytest.mark.parametrize("fn", [A.match_anchors, A.match_anchors_loop])
def test_match_anchors_refuses_non_finite_boxes_and_thresholds(fn):
    # A NaN ground-truth box used to make every anchor a positive of it in match_anchors
    # (NaN IoUs compare as the best), while match_anchors_loop disagreed.
    anchors, gt = random_boxes(6, 0), random_boxes(2, 1)
    for bad in (math.nan, math.inf):
        odd = gt.clone()
        odd[1, 3] = bad
        with pytest.raises(ValueError, match=r"gt_boxes must be finite, got (nan|inf) at index \[1, 3\]"):
            fn(anchors, odd)
        with pytest.raises(ValueError, match="anchors must be finite"):
            fn(odd.repeat(3, 1), gt)
    with pytest.raises(ValueError, match="neg_iou must be a finite number"):
        fn(anchors, gt, neg_iou=math.nan)
    with pytest.raises(TypeError, match="allow_low_quality must be True or False"):
        fn(anchors, gt, allow_low_quality="no")


# -------------------------------------------------------------------- sampling


def to_torchvision_labels(matches):
    """Our labels (>= 0 pos, -1 neg, -2 ignore) -> torchvision's (1 pos, 0 neg, -1 ignore)."""
    labels = (matches >= 0).long()
    labels[matches == A.NEGATIVE] = 0
    labels[matches == A.IGNORE] = -1
    return labels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("batch, fraction", [(256, 0.5), (64, 0.25), (8, 0.5)])
def test_sample_anchors_matches_torchvision_draws(seed, batch, fraction):
    anchors = A.generate_anchors([(8, 8)], [16], sizes=(16, 32, 64), ratios=(0.5, 1.0, 2.0), offset=0.5)
    matches = A.match_anchors(anchors, random_boxes(4, seed), 0.5, 0.3)
    torch.manual_seed(seed)
    tv_pos, tv_neg = BalancedPositiveNegativeSampler(batch, fraction)([to_torchvision_labels(matches)])
    torch.manual_seed(seed)
    pos, neg = A.sample_anchors(matches, batch, fraction)
    assert torch.equal(pos, tv_pos[0].bool()) and torch.equal(neg, tv_neg[0].bool())


def test_sample_anchors_balance_and_generator():
    labels = torch.tensor([0] * 10 + [-1] * 500 + [-2] * 40)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    pos, neg = A.sample_anchors(labels, 64, 0.5, generator=g1)
    assert int(pos.sum()) == 10 and int(neg.sum()) == 54  # too few positives: negatives fill up
    assert bool((labels[pos] >= 0).all()) and bool((labels[neg] == -1).all())
    pos2, neg2 = A.sample_anchors(labels, 64, 0.5, generator=g2)
    assert torch.equal(pos, pos2) and torch.equal(neg, neg2)
    many = torch.tensor([1] * 300 + [-1] * 300)
    pos, neg = A.sample_anchors(many, 256, 0.25, generator=g1)
    assert int(pos.sum()) == 64 and int(neg.sum()) == 192


def test_sample_anchors_empty_and_errors():
    pos, neg = A.sample_anchors(torch.zeros(0, dtype=torch.int64))
    assert pos.shape == neg.shape == (0,) and pos.dtype == torch.bool
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        A.sample_anchors(torch.zeros(3))
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got str"):
        A.sample_anchors(torch.zeros(3, dtype=torch.int64), generator="seed")  # was an AttributeError
    with pytest.raises(ValueError, match="labels must be >= 0 .*got -3"):
        A.sample_anchors(torch.tensor([0, -3, -1]))
    with pytest.raises(ValueError, match="positive_fraction must be"):
        A.sample_anchors(torch.zeros(3, dtype=torch.int64), positive_fraction=2.0)
    with pytest.raises(ValueError, match="batch_size_per_image must be a positive"):
        A.sample_anchors(torch.zeros(3, dtype=torch.int64), batch_size_per_image=0)
