"""The small video models, 3D-convolution arithmetic and published video networks (course_utils.models.video)."""
import pytest
import torch
import torchvision
from torch import nn

from course_utils.models import video as V


def _count(module):
    return sum(p.numel() for p in module.parameters())


CLIPS = (2, 3, 8, 24, 24)
MODELS = {
    "single": lambda: V.SingleFrameCNN(),
    "late_fc": lambda: V.LateFusionFC(8),
    "late_pool": lambda: V.LateFusionPool(),
    "early": lambda: V.EarlyFusionCNN(8),
    "3d": lambda: V.Small3DCNN(),
    "2plus1d": lambda: V.Small3DCNN(block=V.conv2plus1d_block),
    "gru": lambda: V.CNNGRU(),
    "two_stream": lambda: V.TwoStreamNet(8),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_model_shape_finite_and_gradients(name):
    torch.manual_seed(0)
    model = MODELS[name]()
    clips = torch.rand(*CLIPS)
    inputs = V.TwoStreamNet.inputs_from_clips(clips) if name == "two_stream" else clips
    out = model(inputs)
    assert out.shape == (2, 8) and torch.isfinite(out).all()
    out.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"


def test_pooling_models_ignore_frame_order_and_concatenation_does_not():
    torch.manual_seed(0)
    clips = torch.rand(*CLIPS)
    backwards = clips.flip(2)
    for model in (V.LateFusionPool().eval(), V.SingleFrameCNN().eval()):
        torch.testing.assert_close(model(backwards), model(clips))
    for model in (V.LateFusionFC(8).eval(), V.Small3DCNN().eval(), V.EarlyFusionCNN(8).eval(), V.CNNGRU().eval()):
        assert not torch.allclose(model(backwards), model(clips), atol=1e-4)


def test_single_frame_model_reads_one_frame_clips():
    model = V.SingleFrameCNN().eval()
    clips = torch.rand(*CLIPS)
    per_frame = torch.stack([model(clips[:, :, t:t + 1]) for t in range(8)], dim=1)  # [B, T, K]
    torch.testing.assert_close(model(clips), per_frame.mean(dim=1))


def test_models_check_their_inputs():
    with pytest.raises(ValueError):
        V.EarlyFusionCNN(8)(torch.rand(2, 3, 6, 24, 24))
    with pytest.raises(ValueError):
        V.LateFusionFC(8)(torch.rand(2, 1, 8, 24, 24))
    with pytest.raises(ValueError):
        V.Small3DCNN()(torch.rand(3, 8, 24, 24))
    with pytest.raises(ValueError):
        V.TwoStreamNet(1)
    with pytest.raises(ValueError):
        V.TwoStreamNet(8)((torch.rand(2, 3, 24, 24), torch.rand(2, 12, 24, 24)))
    with pytest.raises(ValueError):
        V.Small3DCNN(widths=(8, 16), pools=((1, 2, 2),))


def test_conv3d_block_matches_its_twin_and_counts():
    from course_utils.models.video import _conv3d_block_twin

    for c_in, c_out, pool in [(3, 8, (1, 2, 2)), (8, 16, 2), (5, 4, (2, 1, 1))]:
        torch.manual_seed(c_in)
        ref, twin = V.conv3d_block(c_in, c_out, pool), _conv3d_block_twin(c_in, c_out, pool)
        assert _count(ref) == _count(twin) == 27 * c_in * c_out + 2 * c_out
        twin.load_state_dict(ref.state_dict())
        x = torch.randn(2, c_in, 4, 6, 6)
        torch.testing.assert_close(twin(x), ref(x))
        assert ref(x).shape == (2, c_out, *(n // p for n, p in zip((4, 6, 6), V._triple(pool, "pool"))))


def test_conv2plus1d_block_parameters():
    for c_in, c_out in [(3, 8), (16, 32), (64, 64)]:
        block = V.conv2plus1d_block(c_in, c_out)
        mid = V.r2plus1d_mid_channels(c_in, c_out)
        weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv3d))
        assert weights == V.conv2plus1d_parameters(c_in, c_out)
        assert _count(block) == weights + 2 * mid + 2 * c_out  # two batch norms
        full = V.conv3d_parameters(c_in, c_out, 3, bias=False)
        assert weights <= full < weights + 3 * (9 * c_in + 3 * c_out)  # M is rounded down: at most one M short
    assert V.conv2plus1d_parameters(64, 64, mid_channels=64) == 64 * 64 * 9 + 64 * 64 * 3


@pytest.mark.parametrize("shape,out,k,s,p", [((3, 16, 112, 112), 64, 3, 1, 1), ((3, 16, 112, 112), 8, (3, 7, 7), (1, 2, 2), (1, 3, 3)),
                                             ((4, 5, 9, 10), 2, (2, 3, 4), (2, 1, 3), (0, 1, 2)), ((1, 3, 3, 3), 1, 3, 1, 0)])
def test_conv3d_arithmetic_matches_pytorch(shape, out, k, s, p):
    from course_utils.models.video import _conv3d_output_shape_twin, _conv3d_parameters_twin

    conv = nn.Conv3d(shape[0], out, k, stride=s, padding=p)
    assert V.conv3d_output_shape(shape, out, k, s, p) == tuple(conv(torch.zeros(1, *shape)).shape[1:])
    assert V.conv3d_output_shape(shape, out, k, s, p) == _conv3d_output_shape_twin(shape, out, k, s, p)
    assert V.conv3d_parameters(shape[0], out, k) == _count(conv) == _conv3d_parameters_twin(shape[0], out, k)
    assert V.conv3d_parameters(shape[0], out, k, bias=False) == _conv3d_parameters_twin(shape[0], out, k, bias=False)


def test_conv2plus1d_parameters_twin():
    from course_utils.models.video import _conv2plus1d_parameters_twin

    for args in [(3, 64), (64, 64), (128, 256, 3, 3), (16, 8, 5, 3), (16, 8, 3, 3, 10)]:
        assert V.conv2plus1d_parameters(*args) == _conv2plus1d_parameters_twin(*args)


def test_nonlocal_block_starts_as_identity_and_attends():
    torch.manual_seed(0)
    block = V.NonLocalBlock(8, inner=4)
    x = torch.randn(2, 8, 3, 4, 5)
    out, attention = block(x, return_attention=True)
    torch.testing.assert_close(out, x)
    assert attention.shape == (2, 60, 60)
    torch.testing.assert_close(attention.sum(-1), torch.ones(2, 60))
    nn.init.normal_(block.out.weight)
    out = block(x)
    assert not torch.allclose(out, x)
    out.sum().backward()
    assert all(p.grad is not None for p in block.parameters())


def test_average_over_windows_matches_twin_and_sums_to_one():
    from course_utils.models.video import _average_over_windows_twin

    torch.manual_seed(0)
    model = V.Small3DCNN().eval()
    video = torch.rand(3, 14, 24, 24)
    with torch.no_grad():
        for length, step in [(8, 2), (8, 1), (14, 3), (4, 5)]:
            got = V.average_over_windows(model, video, length, step)
            torch.testing.assert_close(got, _average_over_windows_twin(model, video, length, step))
            assert got.shape == (8,) and abs(got.sum().item() - 1) < 1e-5
        windows = torch.stack([video[:, s:s + 8] for s in (0, 3, 6)])
        torch.testing.assert_close(V.average_over_windows(model, video, 8, 3), model(windows).softmax(-1).mean(0))
    with pytest.raises(ValueError):
        V.average_over_windows(model, video, 15)


def test_c3d_count_by_hand():
    convs = [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)]
    expected = sum(27 * a * b + b for a, b in convs) + (8192 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 487 + 487)
    with torch.device("meta"):
        model = V.c3d()
        assert model(torch.empty(1, 3, 16, 112, 112)).shape == (1, 487)
    assert _count(model) == expected == 79_991_015


def test_vivit_counts_by_hand_and_against_vit_base():
    d, f, layers = 768, 3072, 12
    layer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d  # attention, MLP, two LayerNorms
    vit_layer = _count(torchvision.models.vit_b_16(weights=None).encoder.layers[0])
    assert layer == vit_layer
    tokens = (32 // 2) * (224 // 16) ** 2
    expected = (3 * 2 * 16 * 16 * d + d) + d + (tokens + 1) * d + layers * layer + 2 * d + (d * 400 + 400)
    with torch.device("meta"):
        joint = V.ViViT()
        factorized = V.ViViT(factorized=True)
        assert joint(torch.empty(1, 3, 32, 224, 224)).shape == (1, 400)
        assert factorized(torch.empty(1, 3, 32, 224, 224)).shape == (1, 400)
    assert _count(joint) == expected
    expected_fe = (expected - (tokens + 1) * d + (14 * 14 + 1) * d) + d + (16 + 1) * d + 4 * layer + 2 * d
    assert _count(factorized) == expected_fe


def test_slowfast_shapes_and_count():
    with torch.device("meta"):
        model = V.SlowFast()
        out = model(torch.empty(1, 3, 4, 224, 224), torch.empty(1, 3, 32, 224, 224))
    assert out.shape == (1, 400)
    n = _count(model)
    fast = sum(_count(m) for m in (model.fast_stem, model.fast_stages))
    assert 34_000_000 < n < 35_000_000
    assert fast < 0.1 * n  # the fast pathway is light: 1/8 of the channels


def test_cnn_gru_on_precomputed_features():
    torch.manual_seed(0)
    model = V.CNNGRU().eval()
    clips = torch.rand(*CLIPS)
    with torch.no_grad():
        features = model.frame_features(clips)
        assert features.shape == (2, 8, 64)
        torch.testing.assert_close(model.classify_features(features), model(clips))
