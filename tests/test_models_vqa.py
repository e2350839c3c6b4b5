"""Tests of course_utils.models.vqa."""
import torch

from course_utils.models.vqa import VQANet


def test_shapes_and_gradients():
    net = VQANet(30, 21, 16, 4, dim=8)
    out = net(torch.randn(3, 16, 4, 4), torch.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]]))
    assert out.shape == (3, 21) and torch.isfinite(out).all()
    out.square().sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_padding_does_not_change_the_answer():
    net = VQANet(30, 5, 16, 4, dim=8).eval()
    features = torch.randn(1, 16, 4, 4)
    torch.testing.assert_close(net(features, torch.tensor([[3, 4]])), net(features, torch.tensor([[3, 4, 0, 0]])))


def test_question_only_ignores_the_image():
    net = VQANet(30, 5, 16, 4, dim=8, use_image=False)
    tokens = torch.tensor([[3, 4]])
    torch.testing.assert_close(net(torch.randn(1, 16, 4, 4), tokens), net(None, tokens))
    assert not hasattr(net, "cell")
