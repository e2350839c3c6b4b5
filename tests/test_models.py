"""Tests for course_utils.models: one shared test for every model and block, then published numbers."""
import pytest
import torch
import torchvision
from torch import nn

from course_utils.layers import BasicBlock, BatchNorm2dScratch, Bottleneck, DepthwiseSeparableConv
from course_utils.models import (
    FCN,
    VGG,
    AlexNet,
    InceptionModule,
    InceptionNet,
    LeNet,
    MobileNetV1,
    PlainNet,
    ResNet,
    SmallResNet,
    UNet,
    UNetBlock,
    resnet18,
    resnet34,
    resnet50,
)
from course_utils.summary import count_parameters, summarize

# (id, factory, input shape, expected output shape): small configurations, a CPU forward takes milliseconds.
MODELS = [
    ("lenet32", lambda: LeNet(), (2, 1, 32, 32), (2, 10)),
    ("lenet28", lambda: LeNet(image_size=28), (2, 1, 28, 28), (2, 10)),
    ("lenet16-rgb", lambda: LeNet(in_channels=3, num_classes=4, image_size=16), (2, 3, 16, 16), (2, 4)),
    ("alexnet-tiny", lambda: AlexNet(num_classes=5, width=0.125, hidden=32), (2, 3, 67, 67), (2, 5)),
    ("alexnet-grouped", lambda: AlexNet(num_classes=5, width=0.125, hidden=32, grouped=True, lrn=False),
     (2, 3, 80, 80), (2, 5)),
    ("vgg11-tiny", lambda: VGG("vgg11", num_classes=10, width=1 / 16, hidden=32, in_channels=1, pool_size=1),
     (2, 1, 32, 32), (2, 10)),
    ("vgg16-bn-tiny", lambda: VGG("vgg16", num_classes=3, batch_norm=True, width=1 / 32, hidden=16), (2, 3, 32, 32),
     (2, 3)),
    ("resnet-basic", lambda: ResNet("basic", (1, 1, 1, 1), num_classes=10, width=8, in_channels=1, small_input=True),
     (2, 1, 28, 28), (2, 10)),
    ("resnet-bottleneck", lambda: ResNet("bottleneck", (1, 1, 1, 1), num_classes=7, width=4), (2, 3, 32, 32), (2, 7)),
    ("smallresnet8", lambda: SmallResNet(depth=8), (2, 1, 28, 28), (2, 10)),
    ("plainnet8", lambda: PlainNet(depth=8, width=8), (2, 1, 28, 28), (2, 10)),
    ("mobilenet-quarter", lambda: MobileNetV1(width_mult=0.25, num_classes=10, in_channels=1), (2, 1, 32, 32), (2, 10)),
    ("inception-net", lambda: InceptionNet(), (2, 1, 28, 28), (2, 10)),
    ("fcn64", lambda: FCN(num_classes=4, width=8), (2, 3, 64, 64), (2, 4, 64, 64)),
    ("fcn128", lambda: FCN(num_classes=4, width=4, depth=4), (1, 3, 128, 128), (1, 4, 128, 128)),
    ("unet64", lambda: UNet(num_classes=4, base=8), (2, 3, 64, 64), (2, 4, 64, 64)),
    ("unet128", lambda: UNet(num_classes=2, in_channels=1, base=4, depth=4), (1, 1, 128, 128), (1, 2, 128, 128)),
    # blocks
    ("inception-3a", lambda: InceptionModule(192, 64, 96, 128, 16, 32, 32), (2, 192, 7, 7), (2, 256, 7, 7)),
    ("unet-block", lambda: UNetBlock(3, 8), (2, 3, 16, 16), (2, 8, 16, 16)),
    ("basic-block", lambda: BasicBlock(8, 16, stride=2), (2, 8, 8, 8), (2, 16, 4, 4)),
    ("bottleneck", lambda: Bottleneck(8, 4), (2, 8, 8, 8), (2, 16, 8, 8)),
    ("dw-separable", lambda: DepthwiseSeparableConv(8, 16, stride=2), (2, 8, 8, 8), (2, 16, 4, 4)),
    ("bn-scratch", lambda: BatchNorm2dScratch(8), (2, 8, 4, 4), (2, 8, 4, 4)),
]


@pytest.mark.parametrize("factory, in_shape, out_shape", [m[1:] for m in MODELS], ids=[m[0] for m in MODELS])
def test_model_shape_finite_and_gradients(factory, in_shape, out_shape):
    torch.manual_seed(0)
    model = factory().train()
    x = torch.randn(in_shape)
    out = model(x)
    assert out.shape == out_shape
    assert torch.isfinite(out).all()
    # A random projection of the output as the loss, so that no gradient is zero by symmetry.
    (out * torch.randn_like(out)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"
    model.eval()
    with torch.no_grad():
        assert model(x[:1]).shape == (1,) + tuple(out_shape[1:])


# --------------------------------------------------------------------------- published parameter counts
def _meta(factory):
    with torch.device("meta"):  # shapes only: the big models cost neither memory nor time
        return factory()


def test_lenet_classic_count():
    assert count_parameters(LeNet()) == 61_706


def test_alexnet_paper_counts():
    model = _meta(AlexNet)
    assert count_parameters(model) == 62_378_344
    assert count_parameters(model.features[0]) == 96 * 3 * 11 * 11 + 96 == 34_944
    assert count_parameters(_meta(lambda: AlexNet(grouped=True))) == 60_965_224  # the paper's "60 million"
    s = summarize(model, (1, 3, 227, 227))
    assert s.rows[0].name == "features.0" and s.rows[0].output_shape == (1, 96, 55, 55)
    assert s.rows[0].macs == 55 * 55 * 96 * 3 * 11 * 11
    assert [r.output_shape for r in s.rows if r.name == "features.14"] == [(1, 256, 6, 6)]


def test_alexnet_224_puzzle():
    # (224 - 11) / 4 + 1 = 54.25: PyTorch floors it to 54, not the paper's 55.
    conv1 = nn.Conv2d(3, 96, 11, stride=4)
    assert conv1(torch.zeros(1, 3, 224, 224)).shape[-1] == 54
    assert conv1(torch.zeros(1, 3, 227, 227)).shape[-1] == 55
    assert all((224 + 2 * p - 11) % 4 != 0 for p in range(6))  # no symmetric padding tiles 224 exactly
    s = summarize(_meta(AlexNet), (1, 3, 224, 224))
    assert s.rows[0].output_shape == (1, 96, 54, 54)
    assert s.rows[-1].output_shape == (1, 1000)


@pytest.mark.parametrize("cfg", ["vgg11", "vgg13", "vgg16", "vgg19"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_matches_torchvision(cfg, batch_norm):
    mine = _meta(lambda: VGG(cfg, batch_norm=batch_norm))
    theirs = _meta(lambda: getattr(torchvision.models, cfg + ("_bn" if batch_norm else ""))(weights=None))
    assert {k: v.shape for k, v in mine.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    if cfg == "vgg16" and not batch_norm:
        assert count_parameters(mine) == 138_357_544


@pytest.mark.parametrize("factory, expected", [(resnet18, 11_689_512), (resnet34, 21_797_672), (resnet50, 25_557_032)])
def test_resnet_matches_torchvision(factory, expected):
    mine = _meta(factory)
    theirs = _meta(lambda: getattr(torchvision.models, factory.__name__)(weights=None))
    assert {k: v.shape for k, v in mine.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    assert count_parameters(mine) == count_parameters(theirs) == expected


def test_resnet18_same_function_as_torchvision():
    torch.manual_seed(0)
    theirs = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    mine = resnet18(num_classes=10).eval()
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(mine(x), theirs(x))


def test_bottleneck_resnet_same_function_as_torchvision():
    torch.manual_seed(0)
    from torchvision.models.resnet import Bottleneck as TVBottleneck
    theirs = torchvision.models.ResNet(TVBottleneck, [1, 2, 1, 1], num_classes=5).eval()
    mine = ResNet("bottleneck", (1, 2, 1, 1), num_classes=5).eval()
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(mine(x), theirs(x))


def test_resnet50_macs():
    # torchvision's metadata says 4.089 G; the paper's 3.8 G is for v1 (stride on the first 1x1).
    s = summarize(_meta(resnet50), (1, 3, 224, 224))
    assert s.total_macs == 4_089_184_256


def test_mobilenet_published_numbers():
    s = summarize(_meta(MobileNetV1), (1, 3, 224, 224))
    assert s.total_params == 4_231_976  # paper: 4.2 M
    assert s.total_macs == 568_740_352  # paper: 569 M
    assert round(s.total_params / 1e6, 1) == 4.2 and round(s.total_macs / 1e6) == 569


def test_vgg16_macs():
    s = summarize(_meta(lambda: VGG("vgg16")), (1, 3, 224, 224))
    assert s.total_macs == 15_470_264_320  # 15.5 G, torchvision's 15.47


def test_inception_3a_numbers():
    block = InceptionModule(192, 64, 96, 128, 16, 32, 32)
    assert block.out_channels == 256
    assert count_parameters(block) == 163_696
    s = summarize(block, (1, 192, 28, 28))
    assert s.total_macs == 784 * (192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32)
    assert round(s.total_macs / 1e6) == 128  # Table 1 of the paper


def test_small_resnet_counts():
    assert round(count_parameters(SmallResNet(depth=20, in_channels=3)) / 1e6, 2) == 0.27  # Table 6 of the paper
    residual, plain = SmallResNet(depth=14), PlainNet(depth=14)
    # Same layers except the two 1x1 projection shortcuts (with BatchNorm) of the residual net.
    assert count_parameters(residual) - count_parameters(plain) == (16 * 32 + 64) + (32 * 64 + 128)


def test_unet_skips_are_used():
    torch.manual_seed(0)
    model = UNet(num_classes=2, base=4, depth=2).eval()
    x = torch.randn(1, 3, 16, 16)
    y = torch.zeros_like(x)
    y[..., 0, 0] = 1.0
    with torch.no_grad():
        # A change at one pixel moves the output there even through the 4x downsampling path.
        assert (model(x + y) - model(x))[..., 0, 0].abs().sum() > 0


def test_model_input_errors():
    with pytest.raises(ValueError, match="divisible by 8"):
        UNet(num_classes=2)(torch.zeros(1, 3, 60, 64))
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        FCN(num_classes=2)(torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="H, W >= 67"):
        AlexNet(width=0.125, hidden=8)(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="H, W >= 32"):
        VGG("vgg11", width=0.0625, hidden=8)(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match="6n \\+ 2"):
        SmallResNet(depth=10)
    with pytest.raises(ValueError, match="cfg must be one of"):
        VGG("vgg17")
    with pytest.raises(ValueError, match="block must be one of"):
        ResNet("wide")
    with pytest.raises(ValueError, match="4 stages"):
        ResNet("basic", (2, 2, 2))
    with pytest.raises(ValueError, match="at least 12"):
        LeNet(image_size=8)
    with pytest.raises(ValueError, match="width_mult"):
        MobileNetV1(width_mult=0)
