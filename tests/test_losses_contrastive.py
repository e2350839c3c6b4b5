"""NT-Xent and InfoNCE: vectorized vs loop vs twin vs the SimCLR formula on hand-made cases."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.losses.contrastive import _nt_xent_twin, info_nce, nt_xent, nt_xent_loop, nt_xent_targets


def formula(z1, z2, tau):
    """Chen et al. 2020, eq. 1, in plain Python floats."""
    views = [v.double() for v in torch.cat([z1, z2])]
    n2 = len(views)
    losses = []
    for a in range(n2):
        sim = [float(views[a] @ views[k] / (views[a].norm() * views[k].norm())) / tau for k in range(n2)]
        denominator = sum(math.exp(sim[k]) for k in range(n2) if k != a)
        losses.append(-(sim[(a + n2 // 2) % n2] - math.log(denominator)))
    return losses


def test_hand_made_cases():
    basis = torch.eye(2)
    assert nt_xent(basis, basis, 1.0).item() == pytest.approx(math.log(math.e + 2) - 1, abs=1e-6)
    assert nt_xent(basis, basis, 0.25).item() == pytest.approx(math.log(math.e ** 4 + 2) - 4, abs=1e-5)
    swapped = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert nt_xent(basis, swapped, 1.0).item() == pytest.approx(math.log(2 + math.e), abs=1e-6)
    one = torch.tensor([[0.3, -2.0]])
    assert nt_xent(one, -one, 0.1).item() == pytest.approx(0.0, abs=1e-6)  # N = 1: no negatives


@pytest.mark.parametrize("n,d,tau", [(1, 3, 0.5), (2, 2, 1.0), (5, 4, 0.2), (9, 16, 0.07), (4, 1, 2.0)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vectorized_loop_twin_and_formula_agree(n, d, tau, dtype):
    g = torch.Generator().manual_seed(n * 31 + d)
    z1, z2 = torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, d, generator=g, dtype=dtype)
    expected = torch.tensor(formula(z1, z2, tau), dtype=torch.float64)
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    for fn in (nt_xent, nt_xent_loop, _nt_xent_twin):
        per_anchor = fn(z1, z2, tau, reduction="none")
        assert per_anchor.dtype == dtype and per_anchor.shape == (2 * n,)
        torch.testing.assert_close(per_anchor.double(), expected, atol=tol, rtol=tol)
        torch.testing.assert_close(fn(z1, z2, tau).double(), expected.mean(), atol=tol, rtol=tol)
        torch.testing.assert_close(fn(z1, z2, tau, reduction="sum").double(), expected.sum(), atol=tol * n, rtol=tol)


def test_scale_invariance_and_gradients():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    z2 = torch.randn(6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.allclose(nt_xent(z1, z2, 0.3), nt_xent(3 * z1, 0.5 * z2, 0.3))
    assert torch.autograd.gradcheck(lambda a, b: nt_xent(a, b, 0.3), (z1, z2))
    nt_xent_loop(z1, z2, 0.3).backward()
    assert z1.grad is not None and torch.isfinite(z1.grad).all()


def test_small_temperature_is_stable():
    z = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    for fn in (nt_xent, nt_xent_loop):
        assert torch.isfinite(fn(z, z + 0.01, 1e-3))


def test_empty_and_errors():
    assert nt_xent(torch.zeros(0, 3), torch.zeros(0, 3)).item() == 0.0
    assert nt_xent(torch.zeros(0, 3), torch.zeros(0, 3), reduction="none").shape == (0,)
    assert nt_xent_loop(torch.zeros(0, 3), torch.zeros(0, 3), reduction="none").shape == (0,)
    with pytest.raises(ValueError, match="same shape"):
        nt_xent(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(torch.ones(2, 3), torch.ones(2, 3), temperature=0.0)
    with pytest.raises(TypeError):
        nt_xent(torch.ones(2, 3, dtype=torch.int64), torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="reduction"):
        nt_xent(torch.ones(2, 3), torch.ones(2, 3), reduction="max")


def test_targets():
    assert nt_xent_targets(2).tolist() == [2, 3, 0, 1]


def test_info_nce_matches_nt_xent_with_batch_negatives():
    g = torch.Generator().manual_seed(2)
    z1, z2 = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    views = torch.cat([z1, z2])
    # anchor a of z1: its negatives are every view except itself and its positive
    negatives = torch.stack([views[[k for k in range(10) if k not in (a, a + 5)]] for a in range(5)])  # [5, 8, 3]
    expected = nt_xent(z1, z2, 0.4, reduction="none")[:5]
    torch.testing.assert_close(info_nce(z1, z2, negatives, 0.4, reduction="none"), expected)
    shared = info_nce(z1, z2, z2, 0.4, reduction="none")  # [K, D] negatives shared by all queries
    manual = -torch.log_softmax(torch.cat([F.cosine_similarity(z1, z2)[:, None],
                                           F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T], 1) / 0.4, 1)[:, 0]
    torch.testing.assert_close(shared, manual)
    assert info_nce(z1, z2, torch.zeros(5, 0, 3, dtype=torch.float64)).abs().max() < 1e-12  # no negatives: loss 0


def test_cases_found_by_the_property_tests():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g, dtype=torch.float64)
    # mixed dtypes: nt_xent promotes (torch.cat); the loop used to crash in torch.dot
    torch.testing.assert_close(nt_xent_loop(z1, z2), nt_xent(z1, z2))
    with pytest.raises(ValueError, match="n must be"):
        nt_xent_targets(-1)
    with pytest.raises(TypeError, match="n must be an int"):
        nt_xent_targets("2")
