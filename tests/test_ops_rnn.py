"""Tests of course_utils.ops.rnn against nn.RNN with the same weights."""
import pytest
import torch

from course_utils.ops import rnn as R

DTYPES = [torch.float32, torch.float64]


def _rnn(i, h, dtype, seed=0):
    torch.manual_seed(seed)
    return torch.nn.RNN(i, h, batch_first=True).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b, t, i, h", [(1, 1, 1, 1), (2, 5, 3, 4), (4, 9, 6, 8)])
def test_rnn_matches_nn_rnn(dtype, b, t, i, h):
    rnn = _rnn(i, h, dtype)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(b, t, i, generator=g).to(dtype)
    h0 = torch.randn(b, h, generator=g).to(dtype)
    expected, last = rnn(x, h0[None])
    weights = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == torch.float32 else dict(atol=1e-12, rtol=1e-12)
    for fn in (R.rnn_forward, R.rnn_forward_loop, R._rnn_twin):
        outputs, final = fn(x, h0, *weights)
        torch.testing.assert_close(outputs, expected, **tol)
        torch.testing.assert_close(final, last[0], **tol)


def test_rnn_gradients_match():
    rnn = _rnn(3, 4, torch.float64)
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.zeros(2, 4, dtype=torch.float64)
    expected, _ = rnn(x, h0[None])
    (gx,) = torch.autograd.grad(expected.sum(), x)
    outputs, _ = R.rnn_forward_loop(x, h0, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    (gx2,) = torch.autograd.grad(outputs.sum(), x)
    torch.testing.assert_close(gx2, gx)


def test_empty_sequence_returns_h0():
    rnn = _rnn(3, 4, torch.float32)
    h0 = torch.randn(2, 4)
    for fn in (R.rnn_forward, R.rnn_forward_loop, R._rnn_twin):
        outputs, last = fn(torch.zeros(2, 0, 3), h0, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
        assert outputs.shape == (2, 0, 4) and torch.equal(last, h0)


def test_rnn_checks_shapes():
    rnn = _rnn(3, 4, torch.float32)
    with pytest.raises(ValueError):
        R.rnn_forward(torch.zeros(2, 5, 2), torch.zeros(2, 4), rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    with pytest.raises(ValueError):
        R.rnn_forward(torch.zeros(2, 5, 3), torch.zeros(1, 4), rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)


def test_hidden_state_gradients_geometric():
    """A linear recurrence h_t = g h_{t-1}: the gradient reaching h_t is g^(T - t)."""
    for gain in (0.5, 1.5):
        h = torch.ones(3, 2, requires_grad=True)
        states = []
        for _ in range(6):
            h = gain * h
            states.append(h)
        norms = R.hidden_state_gradients(states, states[-1].sum())
        expected = torch.tensor([gain ** (5 - t) for t in range(6)]) * 2 ** 0.5
        torch.testing.assert_close(norms, expected)
    assert R.hidden_state_gradients([], torch.tensor(0.0)).shape == (0,)


def test_mixed_dtypes_are_refused_by_name():
    """Found by the property tests: a float64 h0 or weight with float32 x crashed in a matmul."""
    x, h0 = torch.zeros(2, 3, 4), torch.zeros(2, 5)
    weights = [torch.zeros(5, 4), torch.zeros(5, 5), torch.zeros(5), torch.zeros(5)]
    for fn in (R.rnn_forward, R.rnn_forward_loop):
        with pytest.raises(TypeError, match="h0 must have the dtype of x"):
            fn(x, h0.double(), *weights)
        with pytest.raises(TypeError, match="weight_ih must have the dtype of x"):
            fn(x, h0, weights[0].double(), *weights[1:])
