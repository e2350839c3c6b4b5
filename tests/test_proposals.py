"""course_utils.classic.proposals.selective_search on scenes whose answer is known."""
import pytest
import torch

from course_utils.ops.boxes import box_iou
from course_utils.classic.proposals import selective_search


def _two_squares():
    img = torch.full((3, 48, 48), 0.2)
    img[0, 4:20, 6:30] = 0.9  # a red rectangle
    img[2, 28:44, 30:46] = 1.0  # a blue one
    return img


def test_finds_the_objects_and_the_whole_image():
    img = _two_squares()
    boxes = selective_search(img, scales=(30.0, 100.0))
    assert boxes.dtype == torch.float32 and boxes.ndim == 2 and boxes.shape[1] == 4
    assert len({tuple(b) for b in boxes.tolist()}) == len(boxes)  # distinct
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 48).all() and (boxes[:, 3] <= 48).all()
    assert (boxes[:, 2:] > boxes[:, :2]).all()
    truth = torch.tensor([[6.0, 4.0, 30.0, 20.0], [30.0, 28.0, 46.0, 44.0]])
    assert (box_iou(truth, boxes).max(dim=1).values >= 0.9).all()
    assert [0.0, 0.0, 48.0, 48.0] in boxes.tolist()


def test_deterministic_and_more_scales_more_boxes():
    img = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
    one = selective_search(img, scales=(50.0,))
    assert torch.equal(one, selective_search(img, scales=(50.0,)))
    two = selective_search(img, scales=(50.0, 200.0))
    assert len(two) >= len(one) and torch.equal(two[: len(one)], one)


def test_uniform_image_gives_one_box():
    assert selective_search(torch.full((3, 8, 12), 0.5)).tolist() == [[0.0, 0.0, 12.0, 8.0]]


def test_errors():
    with pytest.raises(TypeError):
        selective_search(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\[3, H, W\]"):
        selective_search(torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match="scales"):
        selective_search(torch.zeros(3, 8, 8), scales=())
    with pytest.raises(ValueError, match="scales"):
        selective_search(torch.zeros(3, 8, 8), scales=(-1.0,))
