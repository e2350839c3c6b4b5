"""course_utils.explain.features: nearest neighbours (loop, vectorized, twin), hooks, receptive fields, top patches."""
import pytest
import torch
from torch import nn

from course_utils.explain import features as ft
from course_utils.references import REFERENCES, resolve_twin

TWIN = resolve_twin(REFERENCES["course_utils.explain.features.nearest_neighbors"])


def _brute(queries, gallery, k):
    """Independent: full sort of (distance, index) pairs in Python floats."""
    out = []
    for q in queries.double().tolist():
        d = [(sum((a - b) ** 2 for a, b in zip(q, g)), j) for j, g in enumerate(gallery.double().tolist())]
        out.append([j for _, j in sorted(d)[:k]])
    return out


@pytest.mark.parametrize("fn", [ft.nearest_neighbors, ft.nearest_neighbors_loop, TWIN])
def test_nearest_neighbors_against_brute_force_with_ties(fn):
    g = torch.Generator().manual_seed(0)
    queries = torch.randint(-3, 4, (6, 2), generator=g).float()  # integer points: many exact ties
    gallery = torch.randint(-3, 4, (20, 2), generator=g).float()
    for k in (1, 4, 20):
        got = fn(queries, gallery, k)
        assert got.dtype == torch.int64 and got.shape == (6, k)
        assert got.tolist() == _brute(queries, gallery, k)


@pytest.mark.parametrize("fn", [ft.nearest_neighbors, ft.nearest_neighbors_loop, TWIN])
def test_nearest_neighbors_empty_and_errors(fn):
    assert fn(torch.zeros(0, 3), torch.ones(4, 3), 2).shape == (0, 2)
    with pytest.raises(ValueError, match="k"):
        fn(torch.zeros(2, 3), torch.ones(4, 3), 5)
    with pytest.raises(ValueError):
        fn(torch.zeros(2, 3), torch.ones(4, 2), 1)
    with pytest.raises(TypeError):
        fn([[0.0]], torch.ones(4, 1), 1)


def test_layer_outputs_matches_a_manual_forward():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2)).eval()
    x = torch.rand(5, 1, 4, 4)
    hidden, logits = ft.layer_outputs(net, [net[1], net[3]], x, batch_size=2)
    assert torch.allclose(hidden, torch.relu(net[0](x)))
    assert torch.allclose(logits, net(x))
    assert ft.layer_outputs(net, net[1], x, flatten=True).shape == (5, 12)


def test_feature_function_passes_gradients_to_the_pixels():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1))
    x = torch.rand(1, 1, 4, 4, requires_grad=True)
    out = ft.feature_function(net, net[0])(x)
    out.sum().backward()
    expected = torch.autograd.grad(net[0](x).sum(), x)[0]
    assert torch.allclose(x.grad, expected)


def test_receptive_field_of_a_known_stack():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3, padding=1))
    # by hand: conv3 (r=3, j=1), pool2 (r=4, j=2), conv3 (r=4+2*2=8, j=2); offset -1 - 2 = -3
    assert ft.receptive_field(net, net[3], (1, 32, 32)) == ft.ReceptiveField(size=8, stride=2, offset=-3)
    assert ft.receptive_field(net, net[0], (1, 16, 16)) == ft.ReceptiveField(size=3, stride=1, offset=-1)
    with pytest.raises(ValueError):
        ft.receptive_field(net, nn.Conv2d(1, 1, 1), (1, 32, 32))


def test_top_activations_and_crops():
    acts = torch.zeros(4, 2, 3, 3)
    acts[1, 1, 2, 0] = 3.0
    acts[3, 1, 0, 2] = 3.0  # tie with image 1: the smaller index first
    acts[0, 1, 1, 1] = 1.0
    values, images, rows, cols = ft.top_activations(acts, channel=1, k=3)
    assert values.tolist() == [3.0, 3.0, 1.0] and images.tolist() == [1, 3, 0]
    assert rows.tolist() == [2, 0, 1] and cols.tolist() == [0, 2, 1]
    with pytest.raises(ValueError):
        ft.top_activations(acts, channel=2, k=1)
    pictures = torch.arange(2 * 36, dtype=torch.float32).view(2, 1, 6, 6)
    crops = ft.crop_patches(pictures, torch.tensor([1]), torch.tensor([0]), torch.tensor([1]),
                            ft.ReceptiveField(size=3, stride=2, offset=-1), fill=-1.0)
    # unit (0, 1): top-left corner (-1, 1): the first row lies outside the image
    assert crops.shape == (1, 1, 3, 3)
    assert crops[0, 0, 0].tolist() == [-1.0, -1.0, -1.0]
    assert crops[0, 0, 1:].tolist() == pictures[1, 0, 0:2, 1:4].tolist()
