"""course_utils.explain.occlusion, .saliency, .cam: hand-computed cases, twins, independent computations."""
import math

import pytest
import torch
from torch import nn

from course_utils.explain import cam, occlusion, saliency
from course_utils.references import REFERENCES, resolve_twin


def _twin(key):
    return resolve_twin(REFERENCES[key])


def _gap_net(seed=0, in_channels=3, classes=4):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(in_channels, 5, 3, padding=1), nn.ReLU(), nn.Conv2d(5, 6, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, classes)).eval()


# ------------------------------------------------------------------------------------------ occlusion

@pytest.mark.parametrize("fn", [occlusion.occlusion_map, _twin("course_utils.explain.occlusion.occlusion_map")])
def test_occlusion_map_against_one_copy_at_a_time(fn):
    net = _gap_net(1)
    image = torch.rand(3, 10, 9, generator=torch.Generator().manual_seed(1))
    for patch, stride, fill in ((3, 2, 0.0), (4, 3, 0.5), (9, 1, 1.0)):
        got = fn(net, image, 2, patch, stride, fill)
        rows, cols = (10 - patch) // stride + 1, (9 - patch) // stride + 1
        assert got.shape == (rows, cols)
        for i in range(rows):
            for j in range(cols):
                copy = image.clone()
                copy[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
                with torch.no_grad():
                    p = torch.softmax(net(copy[None]), dim=1)[0, 2]
                assert math.isclose(float(got[i, j]), float(p), rel_tol=1e-5)
    assert not image.requires_grad


def test_occlusion_hand_case_grid_and_errors():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    got = occlusion.occlusion_map(net, torch.ones(1, 2, 2), 0, 1, 1)
    s = 1 / (1 + math.exp(-1))  # p(class 0) = sigmoid(logit difference 1); 0.5 where pixel 0 is hidden
    assert torch.allclose(got, torch.tensor([[0.5, s], [s, s]]))
    assert occlusion.occlusion_grid(12, 7, 3, 2) == (5, 3)
    with pytest.raises(ValueError):
        occlusion.occlusion_map(net, torch.ones(1, 2, 2), 0, 3, 1)
    with pytest.raises(TypeError):
        occlusion.occlusion_map("net", torch.ones(1, 2, 2), 0, 1, 1)


def test_upsample_occlusion_averages_covering_squares():
    up = occlusion.upsample_occlusion(torch.tensor([[1.0, 3.0]]), 2, 3, 2, 1)
    assert up.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    margin = occlusion.upsample_occlusion(torch.tensor([[2.0]]), 3, 3, 2, 2)  # the stride leaves a margin
    assert margin.tolist() == [[2.0, 2.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 0.0]]


# ------------------------------------------------------------------------------------------ saliency

@pytest.mark.parametrize("fn", [saliency.saliency_map, _twin("course_utils.explain.saliency.saliency_map")])
def test_saliency_of_a_linear_model_is_its_weight(fn):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 4)).eval()
    images = torch.rand(5, 2, 3, 3)
    labels = torch.tensor([0, 3, 1, 1, 2])
    got = fn(net, images, labels)
    expected = net[1].weight.detach()[labels].view(5, 2, 3, 3).abs().amax(dim=1)
    assert got.shape == (5, 3, 3) and torch.allclose(got, expected)
    assert not images.requires_grad and net[1].weight.grad is None


@pytest.mark.parametrize("fn", [saliency.saliency_map, _twin("course_utils.explain.saliency.saliency_map")])
def test_saliency_against_finite_differences(fn):
    net = _gap_net(2).double()
    images = torch.rand(2, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([1, 3])
    got = fn(net, images, labels)
    assert got.dtype == torch.float64
    h = 1e-6
    for n, (c, y, x) in ((0, (0, 2, 3)), (1, (2, 0, 4))):
        plus, minus = images.clone(), images.clone()
        plus[n, c, y, x] += h
        minus[n, c, y, x] -= h
        with torch.no_grad():
            diff = (net(plus)[n, labels[n]] - net(minus)[n, labels[n]]) / (2 * h)
        assert float(got[n, y, x]) >= abs(float(diff)) - 1e-6  # the max over channels bounds each channel


def test_smoothgrad_without_noise_is_saliency_and_seeded():
    net = _gap_net(3)
    images, labels = torch.rand(2, 3, 6, 6), torch.tensor([0, 1])
    assert torch.allclose(saliency.smoothgrad(net, images, labels, samples=3, sigma=0.0),
                          saliency.saliency_map(net, images, labels), atol=1e-6)
    a = saliency.smoothgrad(net, images, labels, samples=2, generator=torch.Generator().manual_seed(5))
    b = saliency.smoothgrad(net, images, labels, samples=2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_blur_masks_and_iou():
    spike = torch.zeros(1, 9, 9)
    spike[0, 4, 4] = 1.0
    blurred = saliency.gaussian_blur(spike, 1.0)
    assert math.isclose(float(blurred.sum()), 1.0, rel_tol=1e-5)  # the spike is far from the border
    assert torch.allclose(blurred, blurred.transpose(1, 2)) and int(blurred.argmax()) == 40
    assert torch.equal(saliency.gaussian_blur(spike, 0.0), spike)
    mask = saliency.top_fraction_mask(torch.rand(3, 5, 4), 0.25)
    assert mask.dtype == torch.bool and mask.sum(dim=(1, 2)).tolist() == [5, 5, 5]
    tied = saliency.top_fraction_mask(torch.ones(1, 2, 2), 0.5)
    assert tied.tolist() == [[[True, True], [False, False]]]  # ties: by position
    assert saliency.centre_box_mask(1, 4, 4, 0.25)[0].int().tolist() == [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0],
                                                                         [0, 0, 0, 0]]
    a = torch.tensor([[[True, True], [False, False]], [[False, False], [False, False]]])
    b = torch.tensor([[[True, False], [True, False]], [[False, False], [False, False]]])
    assert saliency.mask_iou(a, b).tolist() == pytest.approx([1 / 3, 1.0])


# ------------------------------------------------------------------------------------------ CAM

CAMS = [cam.class_activation_map, cam.class_activation_map_loop, _twin("course_utils.explain.cam.class_activation_map")]


@pytest.mark.parametrize("fn", CAMS)
def test_cam_hand_case_and_empty(fn):
    features = torch.tensor([[[[1.0, 0.0]], [[0.0, 2.0]]]])
    weight = torch.tensor([[1.0, 1.0], [3.0, -1.0]])
    assert fn(features, weight, torch.tensor([1])).tolist() == [[[3.0, -2.0]]]
    assert fn(features, weight, torch.tensor([0])).tolist() == [[[1.0, 2.0]]]
    assert fn(torch.zeros(0, 2, 3, 3), weight, torch.zeros(0, dtype=torch.int64)).shape == (0, 3, 3)
    with pytest.raises(ValueError):
        fn(features, weight, torch.tensor([2]))


@pytest.mark.parametrize("fn", CAMS)
def test_cam_mean_plus_bias_is_the_score(fn):
    net = _gap_net(4)
    x = torch.rand(3, 3, 7, 7)
    with torch.no_grad():
        feats = net[:4](x)
        logits = net(x)
    classes = torch.tensor([0, 2, 3])
    maps = fn(feats, net[6].weight.detach(), classes)
    scores = maps.mean(dim=(1, 2)) + net[6].bias.detach()[classes]
    assert torch.allclose(scores, logits.gather(1, classes[:, None])[:, 0], atol=1e-5)


def test_grad_cam_on_a_gap_network_is_the_rectified_cam():
    net = _gap_net(5)
    x = torch.rand(2, 3, 6, 6)
    classes = torch.tensor([1, 2])
    with torch.no_grad():
        feats = net[:4](x)
    expected = torch.relu(cam.class_activation_map(feats, net[6].weight.detach(), classes)) / 36  # alpha = w / (h w)
    got = cam.grad_cam(net, net[3], x, classes)
    assert torch.allclose(got, expected, atol=1e-6)
    assert all(p.grad is None for p in net.parameters())


def test_upsample_maps_plain_and_at_field_centres():
    assert cam.upsample_maps(torch.tensor([[[0.0, 2.0]]]), (1, 4)).tolist() == [[[0.0, 0.25, 0.75, 1.0]]]
    peak = torch.zeros(1, 4, 4)
    peak[0, 1, 1] = 1.0
    from course_utils.explain.features import ReceptiveField
    up = cam.upsample_maps(peak, (16, 16), field=ReceptiveField(size=9, stride=4, offset=-4))
    assert divmod(int(up[0].argmax()), 16) == (4, 4)
    flat = cam.upsample_maps(torch.ones(1, 2, 2), (4, 4))
    assert torch.equal(flat, torch.zeros(1, 4, 4))  # a constant map normalizes to zeros
