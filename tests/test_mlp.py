"""Tests for course_utils.mlp: parameter counts vs nn.Linear, hand backprop vs autograd."""
import pytest
import torch
from torch import nn

from course_utils.gradcheck import gradient_check
from course_utils.mlp import make_mlp, mlp_parameter_count, two_layer_forward_backward


@pytest.mark.parametrize("sizes", [[2, 1], [2, 4, 1], [2, 4, 4, 3], [64, 128, 10], [7, 3, 5, 2, 9]])
@pytest.mark.parametrize("bias", [True, False])
def test_parameter_count_matches_nn_linear(sizes, bias):
    net = make_mlp(sizes, bias=bias)
    assert mlp_parameter_count(sizes, bias=bias) == sum(p.numel() for p in net.parameters())
    assert sum(isinstance(m, nn.ReLU) for m in net) == len(sizes) - 2


def test_lecture_examples_and_big_mlp_on_meta_device():
    assert [mlp_parameter_count(s) for s in ([2, 1], [2, 4, 1], [2, 4, 4, 3])] == [3, 17, 47]
    sizes = [285 * 350, 1000, 1000, 1000, 3]
    with torch.device("meta"):
        net = make_mlp(sizes)
    assert mlp_parameter_count(sizes) == sum(p.numel() for p in net.parameters()) == 101_756_003


def test_make_mlp_activations_and_checks():
    net = make_mlp([3, 5, 2], activation="tanh", flatten=False)
    assert isinstance(net[1], nn.Tanh) and net(torch.zeros(4, 3)).shape == (4, 2)
    with pytest.raises(ValueError, match="at least 2"):
        mlp_parameter_count([5])
    with pytest.raises(ValueError, match="positive"):
        mlp_parameter_count([5, 0, 2])
    with pytest.raises(ValueError, match="activation"):
        make_mlp([2, 2], activation="swish")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_two_layer_backward_matches_autograd(dtype):
    g = torch.Generator().manual_seed(0)
    n, d, h, c = 6, 5, 7, 3
    x, W1, b1 = torch.randn(n, d, generator=g, dtype=dtype), torch.randn(h, d, generator=g, dtype=dtype), torch.randn(h, generator=g, dtype=dtype)
    W2, b2 = torch.randn(c, h, generator=g, dtype=dtype), torch.randn(c, generator=g, dtype=dtype)
    up = torch.randn(n, c, generator=g, dtype=dtype)
    scores, grads = two_layer_forward_backward(x, W1, b1, W2, b2, up)
    leaves = {k: v.clone().requires_grad_(True) for k, v in dict(x=x, W1=W1, b1=b1, W2=W2, b2=b2).items()}
    ref = nn.functional.linear(torch.relu(nn.functional.linear(leaves["x"], leaves["W1"], leaves["b1"])), leaves["W2"], leaves["b2"])
    ref.backward(up)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(scores, ref.detach(), atol=tol, rtol=tol)
    for k, leaf in leaves.items():
        torch.testing.assert_close(grads[k], leaf.grad, atol=tol, rtol=tol)


def test_two_layer_backward_gradcheck_and_checks():
    g = torch.Generator().manual_seed(1)
    x, W1, b1 = torch.randn(3, 2, generator=g, dtype=torch.float64), torch.randn(4, 2, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    W2, b2, up = torch.randn(2, 4, generator=g, dtype=torch.float64), torch.randn(2, generator=g, dtype=torch.float64), torch.randn(3, 2, generator=g, dtype=torch.float64)
    _, grads = two_layer_forward_backward(x, W1, b1, W2, b2, up)
    loss = lambda w: (two_layer_forward_backward(x, w, b1, W2, b2, up)[0] * up).sum()  # noqa: E731
    assert gradient_check(loss, W1.clone(), grads["W1"]) < 1e-7
    with pytest.raises(ValueError, match="W2"):
        two_layer_forward_backward(x, W1, b1, torch.zeros(2, 3, dtype=torch.float64), b2, up)
