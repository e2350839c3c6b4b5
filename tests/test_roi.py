"""Tests for course_utils.ops.roi: loops and vectorized versions against torchvision.ops.roi_pool / roi_align."""
import math

import pytest
import torch
import torchvision

from course_utils.ops import roi as R


def random_case(seed, dtype=torch.float64, n=2, c=3, num_rois=8, scale=1.0):
    """Feature maps and RoIs, some partly or fully outside the map, one empty and one tiny."""
    g = torch.Generator().manual_seed(seed)
    h, w = (int(v) for v in torch.randint(3, 13, (2,), generator=g))
    x = torch.randn(n, c, h, w, generator=g, dtype=dtype)
    size = torch.tensor([w, h], dtype=dtype) / scale  # map size in image coordinates
    xy = (torch.rand(num_rois, 2, generator=g, dtype=dtype) * 1.5 - 0.3) * size
    wh = torch.rand(num_rois, 2, generator=g, dtype=dtype) * size
    wh[0] = 0.0  # empty box
    wh[1] = 0.3 / scale  # smaller than a cell
    batch = torch.randint(0, n, (num_rois, 1), generator=g).to(dtype)
    return x, torch.cat([batch, xy, xy + wh], dim=1)


SCALES = [1.0, 0.5, 0.25, 1 / 3]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 1, 2, 3])
@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_matches_torchvision_float64(seed, sampling_ratio, aligned):
    scale = SCALES[seed % 4]
    x, rois = random_case(seed, scale=scale)
    expected = torchvision.ops.roi_align(x, rois, (3, 4), scale, sampling_ratio, aligned)
    torch.testing.assert_close(R.roi_align(x, rois, (3, 4), scale, sampling_ratio, aligned), expected, rtol=1e-12, atol=1e-12)
    if seed < 3:  # the loop is slow: fewer cases
        torch.testing.assert_close(R.roi_align_loop(x, rois, (3, 4), scale, sampling_ratio, aligned), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_matches_torchvision_float32(seed, aligned):
    scale = SCALES[seed % 4]
    x, rois = random_case(seed + 10, torch.float32, num_rois=20, scale=scale)
    expected = torchvision.ops.roi_align(x, rois, 5, scale, -1, aligned)
    torch.testing.assert_close(R.roi_align(x, rois, 5, scale, -1, aligned), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", [R.roi_align, R.roi_pool])
def test_half_precision(fn):
    x, rois = random_case(5, torch.float32, num_rois=10)
    expected = getattr(torchvision.ops, fn.__name__)(x.half(), rois.half(), 3)
    out = fn(x.half(), rois.half(), 3)
    assert out.dtype == torch.float16
    torch.testing.assert_close(out, expected, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("seed", range(8))
def test_roi_pool_matches_torchvision(seed):
    scale = SCALES[seed % 4]
    for dtype in (torch.float64, torch.float32):
        x, rois = random_case(seed + 20, dtype, scale=scale)
        expected = torchvision.ops.roi_pool(x, rois, (3, 4), scale)
        assert torch.equal(R.roi_pool(x, rois, (3, 4), scale), expected)
    x, rois = random_case(seed + 20, torch.float64, scale=scale)
    assert torch.equal(R.roi_pool_loop(x, rois, (3, 4), scale), torchvision.ops.roi_pool(x, rois, (3, 4), scale))


def test_roi_pool_rounds_half_away_from_zero():
    # 2.5 rounds to 3 in C (torchvision), to 2 with torch.round
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    rois = torch.tensor([[0.0, 2.5, 2.5, 5.5, 5.5], [0.0, 0.5, 1.5, 4.5, 6.5]])
    expected = torchvision.ops.roi_pool(x, rois, 2, 1.0)
    assert torch.equal(R.roi_pool(x, rois, 2, 1.0), expected)
    assert torch.equal(R.roi_pool_loop(x, rois, 2, 1.0), expected)


def test_hand_values():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    whole = torch.tensor([[0.0, 0.0, 0.0, 4.0, 4.0]])
    # aligned RoI align over the whole map, 2 x 2 samples per bin: the mean of each quadrant
    out = R.roi_align(x, whole, 2, sampling_ratio=2, aligned=True)
    torch.testing.assert_close(out, torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))
    # RoI pool over cells 0..3: max of each quadrant
    assert R.roi_pool(x, torch.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]]), 2).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


def test_list_of_boxes_equals_tensor_rois():
    x, rois = random_case(3)
    boxes = [rois[rois[:, 0] == i, 1:] for i in range(2)]
    as_tensor = R.rois_from_boxes(boxes)
    for fn in (R.roi_align, R.roi_pool):
        torch.testing.assert_close(fn(x, boxes, 2), fn(x, as_tensor, 2))
        torch.testing.assert_close(fn(x, boxes, 2), getattr(torchvision.ops, fn.__name__)(x, boxes, 2))


def test_many_rois_in_several_chunks(monkeypatch):
    # tiny chunks (a few boxes each) must not change the result
    monkeypatch.setattr(R, "_CHUNK_ELEMENTS", 500)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 20, 24, generator=g)
    xy = torch.rand(60, 2, generator=g) * 300
    rois = torch.cat([torch.randint(0, 2, (60, 1), generator=g).float(), xy, xy + torch.rand(60, 2, generator=g) * 150], 1)
    torch.testing.assert_close(R.roi_align(x, rois, 7, 1 / 16, -1, True), torchvision.ops.roi_align(x, rois, 7, 1 / 16, -1, True))
    torch.testing.assert_close(R.roi_pool(x, rois, 7, 1 / 16), torchvision.ops.roi_pool(x, rois, 7, 1 / 16))


@pytest.mark.parametrize("fn", [R.roi_align, R.roi_align_loop, R.roi_pool, R.roi_pool_loop])
def test_empty_rois(fn):
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    out = fn(x, torch.zeros(0, 5, dtype=torch.float64), (2, 3))
    assert out.shape == (0, 3, 2, 3) and out.dtype == torch.float64


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
def test_roi_align_gradcheck(aligned, sampling_ratio):
    x = torch.randn(2, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 0.5, 0.7, 4.2, 3.9], [1, -1.0, -1.0, 3.0, 8.0], [1, 2.0, 1.0, 2.5, 1.2]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: R.roi_align(t, rois, 2, 1.0, sampling_ratio, aligned), (x,), fast_mode=True)
    # and the gradient equals torchvision's
    g = torch.randn(3, 2, 2, 2, dtype=torch.float64)
    (ours,) = torch.autograd.grad(R.roi_align(x, rois, 2, 1.0, sampling_ratio, aligned), x, g)
    (theirs,) = torch.autograd.grad(torchvision.ops.roi_align(x, rois, 2, 1.0, sampling_ratio, aligned), x, g)
    torch.testing.assert_close(ours, theirs)


def test_roi_pool_gradcheck():
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 0.0, 0.0, 4.0, 3.0], [0, 2.0, 1.0, 6.0, 6.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: R.roi_pool(t, rois, 2, 1.0), (x,), fast_mode=True)
    g = torch.randn(2, 2, 2, 2, dtype=torch.float64)
    (ours,) = torch.autograd.grad(R.roi_pool(x, rois, 2, 1.0), x, g)
    (theirs,) = torch.autograd.grad(torchvision.ops.roi_pool(x, rois, 2, 1.0), x, g)
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("fn", [R.roi_align, R.roi_pool])
def test_errors(fn):
    x = torch.randn(2, 3, 5, 5)
    good = torch.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]])
    with pytest.raises(ValueError, match=r"rois must have shape \[\*, 5\]"):
        fn(x, torch.zeros(1, 4), 2)
    with pytest.raises(ValueError, match="batch indices in"):
        fn(x, torch.tensor([[2.0, 0.0, 0.0, 2.0, 2.0]]), 2)
    with pytest.raises(ValueError, match="output_size must be"):
        fn(x, good, 0)
    with pytest.raises(ValueError, match="spatial_scale must be"):
        fn(x, good, 2, -1.0)
    with pytest.raises(ValueError, match="input must be 4-dimensional"):
        fn(x[0], good, 2)
    with pytest.raises(TypeError, match="input must be a floating-point"):
        fn(x.long(), good, 2)


@pytest.mark.parametrize("fn", [R.roi_align, R.roi_align_loop, R.roi_pool, R.roi_pool_loop])
def test_non_finite_and_far_boxes_are_refused(fn):
    # spatial_scale=nan used to give zeros from roi_pool; a huge or NaN coordinate made roi_align
    # index at -9223372036854775808 and roi_align_loop loop forever
    x = torch.randn(1, 2, 5, 5)
    good = torch.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]])
    for scale in (math.nan, math.inf, 0.0):
        with pytest.raises(ValueError, match="spatial_scale must be"):
            fn(x, good, 2, scale)
    for bad in (math.nan, math.inf):
        rois = good.clone()
        rois[0, 3] = bad
        with pytest.raises(ValueError, match=r"rois must be finite, got (nan|inf) at index \[0, 3\]"):
            fn(x, rois, 2)
    with pytest.raises(ValueError, match=r"rois coordinates times spatial_scale must lie within \+-16777216"):
        fn(x, torch.tensor([[0.0, 0.0, 0.0, 1e30, 2.0]]), 2)
    with pytest.raises(ValueError, match=r"rois\[0\] must be finite"):
        fn(x, [torch.tensor([[0.0, math.nan, 1.0, 1.0]])], 2)
    with pytest.raises(TypeError, match="output_size must be an int, got float"):
        fn(x, good, 2.5)


@pytest.mark.parametrize("fn", [R.roi_align, R.roi_align_loop])
def test_roi_align_bounds_its_work(fn):
    x = torch.randn(1, 1, 4, 4)
    wide = torch.tensor([[0.0, 0.0, 0.0, 1e6, 1e6]])  # a million cells: ~2e10 adaptive samples per bin
    with pytest.raises(ValueError, match=r"sampling_ratio=-1 \(adaptive\) would average .* points per bin"):
        fn(x, wide, 7, 1.0, -1)
    assert fn(x, wide, 7, 1.0, 2).abs().sum() == 0  # a fixed grid samples far outside the map: zeros
    with pytest.raises(ValueError, match="sampling_ratio must be at most 256"):
        fn(x, wide, 7, 1.0, 10**9)
    with pytest.raises(TypeError, match="aligned must be True or False"):
        fn(x, wide, 7, 1.0, 2, "yes")


@pytest.mark.parametrize("fn", [R.roi_align, R.roi_align_loop, R.roi_pool, R.roi_pool_loop])
@pytest.mark.parametrize("shape", [(1, 0, 5, 5), (1, 3, 0, 5), (1, 3, 5, 0)])
def test_empty_feature_maps_give_zeros(fn, shape):
    # zero channels or an empty map used to raise ZeroDivisionError
    out = fn(torch.zeros(shape, dtype=torch.float64), torch.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]] * 3), (2, 3))
    assert out.shape == (3, shape[1], 2, 3) and out.dtype == torch.float64
    assert out.abs().sum() == 0
