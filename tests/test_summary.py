"""Tests for course_utils.summary: hand-computed counts, torch's FlopCounterMode, torchvision's metadata."""
import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils.models import LeNet, MobileNetV1, SmallResNet, UNet, VGG
from course_utils.summary import Summary, count_parameters, module_macs, summarize


def flop_count(model: nn.Module, x: torch.Tensor) -> int:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


# --------------------------------------------------------------------------- hand computations
def test_conv_by_hand():
    s = summarize(nn.Conv2d(3, 6, 5), (1, 3, 32, 32))
    (row,) = s.rows
    assert row.output_shape == (1, 6, 28, 28)
    assert row.params == 6 * 3 * 5 * 5 + 6 == 456
    assert row.macs == 28 * 28 * 6 * (3 * 5 * 5) == 352_800  # bias not counted
    assert s.total_params == s.trainable_params == 456
    assert s.total_macs == 352_800


def test_grouped_and_depthwise_conv_by_hand():
    grouped = summarize(nn.Conv2d(8, 16, 3, padding=1, groups=4, bias=False), (2, 8, 10, 10))
    assert grouped.total_macs == (2 * 16 * 10 * 10) * (8 // 4) * 9  # batch of 2 counted
    assert grouped.total_params == 16 * 2 * 9
    depthwise = summarize(nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), (1, 8, 10, 10))
    assert depthwise.total_macs == 8 * 5 * 5 * 9


def test_linear_by_hand():
    s = summarize(nn.Linear(20, 7), (4, 20))
    assert s.total_macs == 4 * 7 * 20
    assert s.total_params == 20 * 7 + 7
    # Linear over extra leading dims: one product per output element and input feature.
    assert summarize(nn.Linear(20, 7), (4, 3, 20)).total_macs == 4 * 3 * 7 * 20


def test_conv_transpose_by_hand():
    # Each of the 4*5*5 input values is scattered onto a 3x3 patch of each of the 6 outputs.
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2)
    s = summarize(layer, (1, 4, 5, 5))
    assert s.rows[0].output_shape == (1, 6, 11, 11)
    assert s.total_macs == 4 * 5 * 5 * 6 * 9 == 5400
    assert 2 * s.total_macs == flop_count(layer, torch.zeros(1, 4, 5, 5))


def test_uncounted_layers_are_zero():
    net = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Upsample(scale_factor=2), nn.Dropout())
    s = summarize(net, (1, 3, 8, 8))
    assert [r.macs for r in s.rows] == [0] * 5
    assert s.rows[0].params == 6


def test_lenet_by_hand():
    s = summarize(LeNet(), (1, 1, 32, 32))
    conv1, conv2 = 28 * 28 * 6 * 25, 10 * 10 * 16 * 6 * 25
    fc = 400 * 120 + 120 * 84 + 84 * 10
    assert s.total_macs == conv1 + conv2 + fc == 416_520
    assert s.total_params == 61_706
    assert sum(r.params for r in s.rows) == s.total_params


# --------------------------------------------------------------------------- cross-checks
@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: LeNet(), (2, 1, 32, 32)),
        (lambda: SmallResNet(depth=8), (2, 1, 28, 28)),
        (lambda: MobileNetV1(width_mult=0.25, num_classes=10), (1, 3, 64, 64)),
        (lambda: VGG("vgg11", num_classes=10, width=1 / 16, hidden=32, pool_size=1), (1, 3, 32, 32)),
        (lambda: UNet(num_classes=3, base=8, depth=2), (1, 3, 32, 32)),
    ],
    ids=["lenet", "smallresnet", "mobilenet", "vgg", "unet"],
)
def test_macs_match_flop_counter(factory, shape):
    torch.manual_seed(0)
    model = factory()
    s = summarize(model, shape)
    assert 2 * s.total_macs == flop_count(model, torch.zeros(shape))  # FlopCounterMode: 1 MAC = 2 FLOPs


@pytest.mark.parametrize(
    "name, weights",
    [
        ("alexnet", torchvision.models.AlexNet_Weights.IMAGENET1K_V1),
        ("vgg16", torchvision.models.VGG16_Weights.IMAGENET1K_V1),
        ("resnet50", torchvision.models.ResNet50_Weights.IMAGENET1K_V1),
        ("mobilenet_v2", torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1),
    ],
)
def test_torchvision_metadata(name, weights):
    # torchvision records params and "GFLOPS" (in fact giga mult-adds) per model; no download needed.
    with torch.device("meta"):
        model = getattr(torchvision.models, name)(weights=None)
    s = summarize(model, (1, 3, 224, 224))
    assert s.total_params == weights.meta["num_params"]
    assert round(s.total_macs / 1e9, 3) == pytest.approx(weights.meta["_ops"], abs=1e-3)


def test_meta_device_matches_cpu():
    torch.manual_seed(0)
    model = SmallResNet(depth=8)
    with torch.device("meta"):
        meta_model = SmallResNet(depth=8)
    a, b = summarize(model, (1, 1, 28, 28)), summarize(meta_model, (1, 1, 28, 28))
    assert [(r.name, r.output_shape, r.params, r.macs) for r in a.rows] == \
           [(r.name, r.output_shape, r.params, r.macs) for r in b.rows]


# --------------------------------------------------------------------------- behaviour
def test_depth_groups_rows_and_keeps_totals():
    model = SmallResNet(depth=14)
    leaves = summarize(model, (1, 1, 28, 28))
    top = summarize(model, (1, 1, 28, 28), depth=1)
    blocks = summarize(model, (1, 1, 28, 28), depth=2)
    assert [r.name for r in top.rows] == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3", "avgpool", "fc"]
    assert top.rows[3].output_shape == (1, 16, 28, 28)
    assert top.rows[5].output_shape == (1, 64, 7, 7)
    assert "layer2.1" in [r.name for r in blocks.rows]
    for s in (top, blocks):
        assert s.total_macs == leaves.total_macs
        assert sum(r.params for r in s.rows) == leaves.total_params
    whole = summarize(model, (1, 1, 28, 28), depth=0)
    assert len(whole.rows) == 1 and whole.rows[0].macs == leaves.total_macs


def test_module_list_is_looked_through():
    s = summarize(UNet(num_classes=2, base=4, depth=2), (1, 3, 16, 16), depth=1)
    names = [r.name for r in s.rows]
    assert "down.0" in names and "dec.1" in names and "down" not in names


def test_shared_module_counted_once_in_params_twice_in_macs():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 5)

        def forward(self, x):
            return self.fc(self.fc(x))

    s = summarize(Twice(), (1, 5))
    assert len(s.rows) == 2
    assert s.total_params == 30
    assert s.total_macs == 2 * 25


def test_tuple_input_and_dict_output():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 2), nn.Linear(4, 2)

        def forward(self, x, y):
            return {"sum": self.a(x) + self.b(y)}

    s = summarize(Pair(), example_input=(torch.zeros(2, 3), torch.zeros(2, 4)))
    assert s.total_macs == 2 * 2 * 3 + 2 * 2 * 4
    assert s.input_shape == ((2, 3), (2, 4))


def test_modes_and_running_stats_restored():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout())
    model.train()
    model[2].eval()
    before = model[1].running_mean.clone()
    summarize(model, (1, 1, 5, 5))  # batch of 1 and eval mode: BatchNorm does not complain
    assert model.training and model[1].training and not model[2].training
    assert torch.equal(model[1].running_mean, before)
    assert int(model[1].num_batches_tracked) == 0


def test_count_parameters_trainable():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 15 + 8
    assert count_parameters(model, trainable_only=True) == 8
    s = summarize(model, (1, 4))
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (23, 8, 15)


def test_module_macs_direct():
    conv = nn.Conv2d(3, 6, 5)
    x = torch.zeros(1, 3, 32, 32)
    assert module_macs(conv, (x,), conv(x)) == 352_800
    assert module_macs(nn.ReLU(), (x,), x) == 0


def test_renderings():
    s = summarize(LeNet(), (1, 1, 32, 32))
    assert isinstance(s, Summary)
    text = str(s)
    assert "features.0" in text and "Conv2d" in text and "61,706" in text and "416,520" in text
    assert "[1, 6, 28, 28]" in text
    html = s._repr_html_()
    assert html.count("<tr>") == len(s.rows) + 1 and "<table>" in html
    md = s.to_markdown()
    assert md.splitlines()[0].startswith("| Layer") and "`classifier.4`" in md
    assert "LeNet" in repr(s)


def test_errors():
    with pytest.raises(ValueError, match="exactly one"):
        summarize(LeNet())
    with pytest.raises(ValueError, match="exactly one"):
        summarize(LeNet(), (1, 1, 32, 32), example_input=torch.zeros(1, 1, 32, 32))
    with pytest.raises(TypeError, match="input_size"):
        summarize(LeNet(), 32)
    with pytest.raises(ValueError, match="input_size"):
        summarize(LeNet(), (0, 1, 32, 32))
    with pytest.raises(TypeError, match="nn.Module"):
        summarize(lambda x: x, (1, 2))
    with pytest.raises(ValueError, match="depth"):
        summarize(LeNet(), (1, 1, 32, 32), depth=-1)
    with pytest.raises(TypeError, match="example_input"):
        summarize(LeNet(), example_input=[[1.0]])
    with pytest.raises(TypeError, match="nn.Module"):
        count_parameters(torch.zeros(3))
    with pytest.raises(ValueError, match="input_size asks for a tensor of"):
        summarize(LeNet(), (10**4, 1, 10**4, 10**4))  # a zero input of 4 TB
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        summarize(LeNet(), (1, 1, 32, 32), dtype=torch.int64)
    with pytest.raises(ValueError, match="device must name a device"):
        summarize(LeNet(), (1, 1, 32, 32), device="banana")
    with pytest.raises(TypeError, match="trainable_only must be True or False"):
        count_parameters(LeNet(), trainable_only="yes")
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        module_macs("conv", (torch.zeros(1),), torch.zeros(1))
    with pytest.raises(TypeError, match="output must be the output tensor of Conv2d"):
        module_macs(nn.Conv2d(1, 1, 3), (torch.zeros(1, 1, 3, 3),), None)
    with pytest.raises(TypeError, match="inputs must be the tuple"):
        module_macs(nn.Conv2d(1, 1, 3), torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 1, 1))
