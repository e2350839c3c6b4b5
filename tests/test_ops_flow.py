"""Lucas–Kanade flow (course_utils.ops.flow): loop vs vectorized vs twin vs scikit-image."""
import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.registration import optical_flow_ilk

from course_utils.ops import flow
from course_utils.ops.flow import _lucas_kanade_patch_twin, _lucas_kanade_twin


def _texture(height, width, seed=0, sigma=1.5, dtype=torch.float64):
    """A smooth periodic random texture (so shift_image gives an exact, known flow)."""
    rng = np.random.default_rng(seed)
    img = ndimage.gaussian_filter(rng.random((height, width)), sigma, mode="wrap")
    img = (img - img.min()) / (img.max() - img.min())
    return torch.from_numpy(img).to(dtype)


def _skimage_one_step(frame0, frame1, radius):
    """scikit-image's iterative LK with one warp from zero flow; returned as (u, v)."""
    out = optical_flow_ilk(frame0.numpy(), frame1.numpy(), radius=radius, num_warp=1, dtype=np.float64)
    return torch.from_numpy(out[::-1].copy())  # (v, u) -> (u, v)


@pytest.mark.parametrize("height,width,radius,shift", [(20, 24, 1, (0.4, -0.3)), (16, 16, 2, (-0.2, 0.7)),
                                                      (12, 30, 3, (0.9, 0.1)), (7, 9, 2, (0.3, 0.3))])
def test_dense_versions_agree_with_each_other_and_scikit_image(height, width, radius, shift):
    frame0 = _texture(height, width, seed=height + width)
    frame1 = flow.shift_image(frame0, *shift)
    fast = flow.lucas_kanade(frame0, frame1, radius)
    loop = flow.lucas_kanade_loop(frame0, frame1, radius)
    assert fast.shape == (2, height, width) and fast.dtype == torch.float64
    torch.testing.assert_close(loop, fast, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(_lucas_kanade_twin(frame0, frame1, radius), fast, atol=1e-11, rtol=1e-9)
    torch.testing.assert_close(_skimage_one_step(frame0, frame1, radius), fast, atol=1e-11, rtol=1e-9)


def test_float32_close_to_float64():
    frame0 = _texture(24, 24, seed=3)
    frame1 = flow.shift_image(frame0, 0.5, 0.25)
    f64 = flow.lucas_kanade(frame0, frame1, 2)
    f32 = flow.lucas_kanade(frame0.float(), frame1.float(), 2)
    assert f32.dtype == torch.float32
    torch.testing.assert_close(f32.double(), f64, atol=1e-4, rtol=1e-4)


def test_small_translation_is_recovered():
    frame0 = _texture(32, 32, seed=5, sigma=2.0)
    for dx, dy in [(0.3, 0.0), (0.0, -0.4), (0.25, 0.25)]:
        est = flow.lucas_kanade(frame0, flow.shift_image(frame0, dx, dy), radius=3)
        true = torch.tensor([dx, dy], dtype=torch.float64)[:, None, None].expand(2, 32, 32)
        assert flow.endpoint_error(est, true) < 0.1, (dx, dy)


def test_batches_match_single_frames():
    frames0 = torch.stack([_texture(12, 14, seed=s) for s in range(3)])  # [3, H, W]
    frames1 = torch.stack([flow.shift_image(f, 0.3 * s, -0.2) for s, f in enumerate(frames0)])
    batch = flow.lucas_kanade(frames0[None], frames1[None], 2)  # [1, 3, 2, H, W]
    assert batch.shape == (1, 3, 2, 12, 14)
    for s in range(3):
        torch.testing.assert_close(batch[0, s], flow.lucas_kanade(frames0[s], frames1[s], 2))
    torch.testing.assert_close(_lucas_kanade_twin(frames0, frames1, 2), batch[0], atol=1e-11, rtol=1e-9)


def test_patch_version_equals_dense_centre_and_twin():
    for seed, r in [(0, 1), (1, 2), (2, 3)]:
        p0 = _texture(2 * r + 1, 2 * r + 1, seed=seed, sigma=1.0)
        p1 = flow.shift_image(p0, 0.2, -0.1) + 0.01 * torch.randn(p0.shape, generator=torch.Generator().manual_seed(seed),
                                                                  dtype=torch.float64)
        got = flow.lucas_kanade_patch(p0, p1)
        assert got.shape == (2,) and got.dtype == torch.float64
        torch.testing.assert_close(got, flow.lucas_kanade(p0, p1, radius=r)[:, r, r])
        torch.testing.assert_close(got, _lucas_kanade_patch_twin(p0, p1))
        torch.testing.assert_close(got, _skimage_one_step(p0, p1, r)[:, r, r])
    rect0 = _texture(5, 8, seed=4, sigma=1.0)
    rect1 = flow.shift_image(rect0, -0.3, 0.2)
    torch.testing.assert_close(flow.lucas_kanade_patch(rect0, rect1), _lucas_kanade_patch_twin(rect0, rect1))


def test_singular_windows_give_zero_flow():
    flat = torch.full((5, 5), 0.3)
    assert torch.equal(flow.lucas_kanade_patch(flat, flat + 0.1), torch.zeros(2))
    stripes = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5]).repeat(5, 1)  # constant along y: the aperture problem
    assert torch.equal(flow.lucas_kanade_patch(stripes, stripes.roll(1, dims=1)), torch.zeros(2))
    assert torch.equal(_lucas_kanade_patch_twin(stripes, stripes.roll(1, dims=1)), torch.zeros(2))
    dense = flow.lucas_kanade(flat, flat + 0.1, 1)
    assert torch.equal(dense, torch.zeros(2, 5, 5)) and not torch.isnan(dense).any()
    assert torch.equal(flow.lucas_kanade_loop(flat, flat + 0.1, 1), dense)


def test_gradients_match_numpy():
    img = _texture(6, 9, seed=7)
    gx, gy = flow.image_gradients(img)
    ny, nx = np.gradient(img.numpy())
    np.testing.assert_allclose(gx.numpy(), nx)
    np.testing.assert_allclose(gy.numpy(), ny)


def test_clip_flows_shapes_and_values():
    clips = torch.rand(2, 3, 5, 10, 12, generator=torch.Generator().manual_seed(0))
    flows = flow.clip_flows(clips, radius=1)
    assert flows.shape == (2, 4, 2, 10, 12)
    grey = clips.mean(1)
    torch.testing.assert_close(flows[1, 2], flow.lucas_kanade(grey[1, 2], grey[1, 3], 1))
    strided = flow.clip_flows(clips, radius=1, stride=2)
    assert strided.shape == (2, 3, 2, 10, 12)
    torch.testing.assert_close(strided[0, 1], flow.lucas_kanade(grey[0, 1], grey[0, 3], 1))
    assert flow.clip_flows(torch.zeros(0, 3, 4, 8, 8)).shape == (0, 3, 2, 8, 8)


def test_empty_batches():
    assert flow.lucas_kanade(torch.zeros(0, 5, 6), torch.zeros(0, 5, 6)).shape == (0, 2, 5, 6)


def test_shift_image():
    img = _texture(6, 8, seed=1)
    torch.testing.assert_close(flow.shift_image(img, 2.0, -1.0), img.roll((-1, 2), dims=(0, 1)))
    odd = _texture(7, 9, seed=2)  # odd sizes: no Nyquist frequency, so shifts invert exactly
    torch.testing.assert_close(flow.shift_image(flow.shift_image(odd, 0.3, -0.7), -0.3, 0.7), odd)
    torch.testing.assert_close(flow.shift_image(flow.shift_image(odd, 0.25, 0.0), 0.25, 0.0), flow.shift_image(odd, 0.5, 0.0))
    # A sine wave moves exactly: sin(w (x - dx)).
    x = torch.arange(16, dtype=torch.float64)
    wave = torch.sin(2 * torch.pi * 3 * x / 16)[None, :].repeat(4, 1)
    torch.testing.assert_close(flow.shift_image(wave, 0.4, 1.5), torch.sin(2 * torch.pi * 3 * (x - 0.4) / 16)[None, :].repeat(4, 1))
    assert flow.shift_image(img.float(), 0.5, 0.5).dtype == torch.float32


def test_endpoint_error_mask():
    est = torch.zeros(2, 3, 3)
    true = torch.zeros(2, 3, 3)
    true[0, 0, 0] = 3.0
    true[1, 0, 0] = 4.0
    assert flow.endpoint_error(est, true).item() == pytest.approx(5 / 9)
    mask = torch.zeros(3, 3, dtype=torch.bool)
    mask[0, 0] = True
    assert flow.endpoint_error(est, true, mask).item() == pytest.approx(5.0)


@pytest.mark.parametrize("call,error", [
    (lambda: flow.lucas_kanade(torch.zeros(4, 4), torch.zeros(4, 5)), ValueError),
    (lambda: flow.lucas_kanade(torch.zeros(4, 4), torch.zeros(4, 4, dtype=torch.float64)), TypeError),
    (lambda: flow.lucas_kanade(torch.zeros(4, 4, dtype=torch.int64), torch.zeros(4, 4, dtype=torch.int64)), TypeError),
    (lambda: flow.lucas_kanade(torch.zeros(4, 4), torch.zeros(4, 4), radius=4), ValueError),
    (lambda: flow.lucas_kanade(torch.zeros(4, 4), torch.zeros(4, 4), radius=-1), ValueError),
    (lambda: flow.lucas_kanade_loop(torch.zeros(2, 4, 4), torch.zeros(2, 4, 4)), ValueError),
    (lambda: flow.lucas_kanade_patch(torch.zeros(1, 4), torch.zeros(1, 4)), ValueError),
    (lambda: flow.lucas_kanade_patch([[0.0]], [[0.0]]), TypeError),
    (lambda: flow.clip_flows(torch.zeros(3, 2, 4, 4), stride=2), ValueError),
    (lambda: flow.endpoint_error(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4)), ValueError),
])
def test_input_errors(call, error):
    with pytest.raises(error):
        call()


def test_min_eigenvalue_matches_eigvalsh():
    img = _texture(10, 12, seed=9)
    got = flow.min_eigenvalue(img, radius=2)
    gx, gy = flow.image_gradients(img)
    from course_utils.ops.flow import _box_sum

    tensor = torch.stack([torch.stack([_box_sum(gx * gx, 2), _box_sum(gx * gy, 2)], -1),
                          torch.stack([_box_sum(gx * gy, 2), _box_sum(gy * gy, 2)], -1)], -2)  # [H, W, 2, 2]
    torch.testing.assert_close(got, torch.linalg.eigvalsh(tensor)[..., 0].clamp(min=0))
    stripes = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 0.2], dtype=torch.float64).repeat(6, 1)
    assert flow.min_eigenvalue(stripes, 1).abs().max() < 1e-12  # an edge: one zero eigenvalue
