"""Property-based tests (Hypothesis) of linear, layers, summary, train, runtime and data.

Valid input: loop twins agree with their vectorized versions, finite input gives finite
output (also for huge finite coordinates and mixed float dtypes), empty inputs give empty
results. Malformed input (each argument in turn): ValueError/TypeError naming the argument,
before any work and within bounded time and memory (no table of 10**12 counts).
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from course_utils import layers as L
from course_utils import linear as LIN
from course_utils import runtime as RT
from course_utils import summary as SUM
from course_utils import train as T
from course_utils.data import voc_target
from tests.properties_support import (
    assert_finite,
    assert_refuses,
    call,
    close,
    few,
    int_errors,
    kind_errors,
    number_errors,
    refuse_all,
    tensor_errors,
    tensors,
)



# ==================================================================== linear


@st.composite
def point_sets(draw):
    m, n, d = draw(st.integers(0, 5)), draw(st.integers(0, 5)), draw(st.integers(1, 4))
    da, db = draw(st.sampled_from([torch.float32, torch.float64])), draw(st.sampled_from([torch.float32, torch.float64]))
    float64 = da == db == torch.float64  # huge and tiny finite coordinates, as far as the dtype holds them
    scale = draw(st.sampled_from([1.0, 1e3, 1e150, 1e-150] if float64 else [1.0, 1e3, 1e17, 1e-17]))
    a = draw(tensors((m, d))) * scale
    b = draw(tensors((n, d))) * scale
    if m and n and draw(st.booleans()):
        b[0] = a[0]  # a zero distance
    return a.to(da), b.to(db)


@given(case=point_sets())
def test_pairwise_distances_are_finite_and_agree(case):
    a, b = case
    out = call(LIN.pairwise_distances, a, b)
    loop = call(LIN.pairwise_distances_loop, a, b)
    assert out.shape == (len(a), len(b)) and bool((out >= 0).all())
    if bool(torch.isfinite(loop).all()):  # float32 overflow of 1e150 is inf in both: a property of the dtype
        assert_finite(out, "pairwise_distances")
        # |a|^2 + |b|^2 - 2 a.b cancels near a zero distance: the vectorized version (as torch.cdist's matmul
        # path) keeps half the digits there, sqrt(eps) relative to the coordinates' size
        size = max([float(t.abs().max()) for t in (a, b) if t.numel()], default=0.0)
        eps = torch.finfo(torch.float32 if torch.float32 in (a.dtype, b.dtype) else torch.float64).eps
        torch.testing.assert_close(out.double(), loop.double(), rtol=1e-4, atol=10 * math.sqrt(eps) * size)


@given(n=st.integers(1, 8), q=st.integers(0, 4), k=st.integers(1, 8), labels=st.sampled_from([3, 10**12]),
       seed=st.integers(0, 99))
def test_knn_versions_agree_on_huge_labels(n, q, k, labels, seed):
    k = min(k, n)
    g = torch.Generator().manual_seed(seed)
    train_x = torch.randint(-3, 4, (n, 2), generator=g).double()  # ties in distance
    train_y = torch.randint(0, 3, (n,), generator=g) * (labels // 3)
    test_x = torch.randint(-3, 4, (q, 2), generator=g).double()
    fast = call(LIN.knn_predict, train_x, train_y, test_x, k)
    assert fast.shape == (q,) and fast.dtype == torch.int64
    assert torch.equal(call(LIN.knn_predict_loop, train_x, train_y, test_x, k), fast)
    assert set(fast.tolist()) <= set(train_y.tolist())


@given(n=st.integers(0, 5), c=st.integers(1, 4), scale=st.sampled_from([1.0, 1e4]), margin=st.sampled_from([0.0, 1.0, 2.5]),
       seed=st.integers(0, 99))
def test_losses_are_finite_and_agree(n, c, scale, margin, seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(n, c, generator=g, dtype=torch.float64) * scale
    labels = torch.randint(0, c, (n,), generator=g)
    for fast, loop, extra in ((LIN.softmax_cross_entropy, LIN.softmax_cross_entropy_loop, ()),
                              (LIN.multiclass_hinge, LIN.multiclass_hinge_loop, (margin,))):
        loss, grad = call(fast, scores, labels, *extra)
        assert_finite((loss, grad), fast.__name__)
        assert grad.shape == scores.shape
        loss2, grad2 = call(loop, scores, labels, *extra)
        close(loss2, loss, loop.__name__, tol=1e-6 * scale)
        close(grad2, grad, loop.__name__ + " grad", tol=1e-6)
    w = scores
    for fn in (LIN.l2_regularization, LIN.l2_regularization_loop):
        loss, grad = call(fn, w, 0.5)
        assert_finite((loss, grad), fn.__name__)


PX = torch.zeros(4, 3)
PY = torch.tensor([0, 1, 1, 2])
SCORES = torch.zeros(4, 3)
LINEAR_CASES = [
    ((LIN.pairwise_distances, LIN.pairwise_distances_loop), "a", dict(b=PX),
     tensor_errors(PX, floating=True) + [torch.zeros(4, 2)]),
    ((LIN.pairwise_distances, LIN.pairwise_distances_loop), "b", dict(a=PX),
     tensor_errors(PX, floating=True) + [torch.zeros(4, 2)]),
    ((LIN.knn_predict, LIN.knn_predict_loop), "train_y", dict(train_x=PX, test_x=PX),
     kind_errors(PY) + [PY.float(), PY[:2], PY - 5, PY[None]]),
    ((LIN.knn_predict, LIN.knn_predict_loop), "test_x", dict(train_x=PX, train_y=PY),
     tensor_errors(PX, floating=True) + [torch.zeros(2, 5)]),
    ((LIN.knn_predict, LIN.knn_predict_loop), "k", dict(train_x=PX, train_y=PY, test_x=PX), int_errors(1, 4)),
    ((LIN.softmax_cross_entropy, LIN.softmax_cross_entropy_loop, LIN.multiclass_hinge, LIN.multiclass_hinge_loop),
     "scores", dict(labels=PY), tensor_errors(SCORES, floating=True)),
    ((LIN.softmax_cross_entropy, LIN.softmax_cross_entropy_loop, LIN.multiclass_hinge, LIN.multiclass_hinge_loop),
     "labels", dict(scores=SCORES), kind_errors(PY) + [PY.float(), PY[:2], PY + 3, PY - 1]),
    ((LIN.multiclass_hinge, LIN.multiclass_hinge_loop), "margin", dict(scores=SCORES, labels=PY),
     number_errors()),  # any finite margin is a hinge (multi_margin_loss's contract); negative ones too
    ((LIN.l2_regularization, LIN.l2_regularization_loop), "reg", dict(weight=SCORES), number_errors(0.0)),
    ((LIN.l2_regularization, LIN.l2_regularization_loop), "weight", dict(reg=0.1),  # NaN weights give a NaN penalty
     tensor_errors(SCORES, ndim=False, finite=False)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", LINEAR_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in LINEAR_CASES])
@given(seed=st.integers(0, 3))
def test_linear_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== layers


@given(n=st.integers(2, 4), c=st.integers(0, 3), hw=st.integers(1, 3), training=st.booleans(), tracked=st.booleans(),
       affine=st.booleans(), dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers(0, 99))
def test_batch_norm_versions_agree_with_torch(n, c, hw, training, tracked, affine, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, hw, hw, generator=g, dtype=dtype)
    gamma, beta = (torch.rand(c, generator=g, dtype=dtype) + 0.5, torch.randn(c, generator=g, dtype=dtype)) if affine \
        else (None, None)
    stats = (torch.randn(c, generator=g, dtype=dtype), torch.rand(c, generator=g, dtype=dtype) + 0.1) if tracked \
        else (None, None)
    outs = []
    for fn in (L.batch_norm_forward, L.batch_norm_forward_loop, nn.functional.batch_norm):
        mean, var = (s.clone() if s is not None else None for s in stats)
        if fn is nn.functional.batch_norm:  # torch wants running statistics in eval mode, and channels
            if c == 0:
                assert outs[0][0].shape == x.shape and outs[1][0].shape == x.shape
                return
            out = fn(x, mean, var, gamma, beta, training or not tracked)
        else:  # ours: batch statistics in both modes when no running statistics are given
            out = call(fn, x, gamma, beta, mean, var, training)
        outs.append((out, mean, var))
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    for (out, mean, var), name in zip(outs[:2], ("batch_norm_forward", "batch_norm_forward_loop")):
        assert_finite(out, name)
        close(out, outs[2][0], name, tol)
        if tracked:
            close(mean, outs[2][1], name + " running_mean", tol)
            close(var, outs[2][2], name + " running_var", tol)


BX = torch.randn(3, 2, 2, 2)
BN = (L.batch_norm_forward, L.batch_norm_forward_loop)
BN_ARGS = dict(x=BX, gamma=torch.ones(2), beta=torch.zeros(2), running_mean=torch.zeros(2), running_var=torch.ones(2),
               training=False)
LAYER_CASES = [
    (BN, "x", {k: v for k, v in BN_ARGS.items() if k != "x"}, kind_errors(BX) + [BX.long(), BX[0, 0, 0]]),
    (BN, "running_var", BN_ARGS,
     [torch.ones(2).long(), -torch.ones(2), torch.tensor([1.0, math.nan]), torch.ones(3), torch.ones(2).double()]),
    (BN, "running_mean", BN_ARGS, [torch.zeros(2).long(), torch.tensor([math.inf, 0.0]), torch.zeros(1), None]),
    (BN, "gamma", BN_ARGS, [torch.ones(3), torch.ones(2).long(), "g"]),
    (BN, "eps", BN_ARGS, number_errors(0.0)),
    (BN, "momentum", BN_ARGS, number_errors(0.0, 1.0)),
    (BN, "training", BN_ARGS, [1, "yes", None]),
    ((L.conv3x3, L.conv1x1, L.BasicBlock, L.Bottleneck), "stride", dict(in_channels=2, out_channels=2, channels=2),
     int_errors(1)),
    ((L.conv3x3, L.conv1x1, L.BasicBlock, L.Bottleneck), "in_channels", dict(out_channels=2, channels=2),
     int_errors(1)),
    ((L.BatchNorm2dScratch,), "num_features", {}, int_errors(1)),
    ((L.BatchNorm2dScratch,), "eps", dict(num_features=2), number_errors(0.0)),
    ((L.DepthwiseSeparableConv,), "kernel_size", dict(in_channels=2, out_channels=2), int_errors(1)),
    ((L.depthwise_separable_cost,), "C", dict(H=4, W=4), int_errors(1)),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", LAYER_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in LAYER_CASES])
@given(seed=st.integers(0, 3))
def test_layer_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


@given(c=st.integers(1, 3), stride=st.integers(1, 2), residual=st.booleans(), hw=st.integers(1, 5))
def test_blocks_refuse_wrong_channels_and_keep_shapes(c, stride, residual, hw):
    for block_type in (L.BasicBlock, L.Bottleneck):
        torch.manual_seed(0)
        block = block_type(c, 2, stride, residual).eval()
        out = call(block, torch.randn(1, c, hw, hw))
        assert out.shape[2:] == ((hw - 1) // stride + 1,) * 2
        assert_refuses(block, torch.randn(1, c + 1, hw, hw), name="x")


# ==================================================================== summary


@given(c=st.integers(1, 3), hw=st.integers(1, 6), depth=st.sampled_from([None, 0, 1, 2]))
def test_summarize_counts(c, hw, depth):
    model = nn.Sequential(nn.Conv2d(c, 2, 3, padding=1), nn.ReLU(), nn.Sequential(nn.Flatten(), nn.Linear(2 * hw * hw, 3)))
    s = call(SUM.summarize, model, (1, c, hw, hw), depth=depth)
    assert s.total_params == SUM.count_parameters(model) == sum(p.numel() for p in model.parameters())
    assert s.total_macs == 9 * c * 2 * hw * hw + 2 * hw * hw * 3


SUM_MODEL = nn.Linear(3, 2)
SUMMARY_CASES = [
    ((SUM.summarize,), "model", dict(input_size=(1, 3)), [None, "net", nn.Linear]),
    ((SUM.summarize,), "input_size", dict(model=SUM_MODEL), ["1x3", (1, -3), (1, 3.5), (10**9, 10**9), (1, True)]),
    ((SUM.summarize,), "depth", dict(model=SUM_MODEL, input_size=(1, 3)), [-1, 1.5, "2"]),
    ((SUM.summarize,), "dtype", dict(model=SUM_MODEL, input_size=(1, 3)), ["float32", torch.int64, 5]),
    ((SUM.summarize,), "device", dict(model=SUM_MODEL, input_size=(1, 3)), ["banana", 1.5]),
    ((SUM.count_parameters,), "model", {}, [None, "net", [SUM_MODEL]]),
    ((SUM.count_parameters,), "trainable_only", dict(model=SUM_MODEL), [1, "yes", None]),
    ((SUM.module_macs,), "module", dict(inputs=(torch.zeros(1, 3),), output=torch.zeros(1, 2)), [None, "linear"]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", SUMMARY_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in SUMMARY_CASES])
@given(seed=st.integers(0, 3))
def test_summary_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)


# ==================================================================== train


def _tiny_problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(8, 3, generator=g), torch.randint(0, 2, (8,), generator=g)
    loader = [(x[:4], y[:4]), (x[4:], y[4:])]
    torch.manual_seed(seed)
    model = nn.Linear(3, 2)
    return model, loader, torch.optim.SGD(model.parameters(), lr=0.1)


class CountingLoader:
    """A loader that records whether a batch was ever asked for (arguments are checked before)."""

    def __init__(self, batches):
        self.batches, self.used = batches, False

    def __iter__(self):
        self.used = True
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


TRAIN_CASES = [
    ("grad_clip", [v for v in number_errors(0.0) if v is not None] + [0.0]),  # None: no clipping
    ("device", ["banana", 1.5]),
    ("scheduler", [5, "step"]),
    ("metrics", [5, {"acc": 5}, ["acc"]]),
    ("forward_fn", [5, "forward"]),
    ("amp", ["maybe", 2]),
    ("model", [None, "net", nn.Linear]),
    ("loss_fn", [5, "mse"]),  # None: evaluate without a loss
    ("optimizer", [None, "sgd"]),
]


@few
@pytest.mark.parametrize("name, bad_values", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
@given(seed=st.integers(0, 3))
def test_training_functions_refuse_malformed_input_before_any_batch(name, bad_values, seed):
    model, batches, optimizer = _tiny_problem(seed)
    before = [p.detach().clone() for p in model.parameters()]
    loader = CountingLoader(batches)
    arguments = dict(model=model, loss_fn=nn.functional.cross_entropy, loader=loader, train_loader=loader,
                     optimizer=optimizer, epochs=1, progress=False)
    fns = [T.train_one_epoch, T.fit] + ([T.evaluate] if name in ("device", "metrics", "forward_fn", "amp", "model",
                                                                 "loss_fn") else [])
    refuse_all(fns, arguments, name, bad_values)
    assert not loader.used, f"a batch was drawn before {name} was checked"
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@few
@pytest.mark.parametrize("name, bad_values", [("on_epoch_end", [5, [print, 5]]), ("epochs", int_errors(1)),
                                              ("scheduler_step", ["sometimes", None]), ("log_every", int_errors(1))],
                         ids=["on_epoch_end", "epochs", "scheduler_step", "log_every"])
@given(seed=st.integers(0, 3))
def test_fit_refuses_malformed_input_before_any_batch(name, bad_values, seed):
    model, batches, optimizer = _tiny_problem(seed)
    loader = CountingLoader(batches)
    arguments = dict(model=model, loss_fn=nn.functional.cross_entropy, train_loader=loader, optimizer=optimizer,
                     epochs=1, progress=False)
    refuse_all([T.fit], arguments, name, bad_values)
    assert not loader.used, f"a batch was drawn before {name} was checked"


@given(n=st.integers(0, 6), c=st.integers(1, 5), k=st.integers(1, 5), seed=st.integers(0, 99))
def test_accuracies_are_fractions(n, c, k, seed):
    g = torch.Generator().manual_seed(seed)
    outputs, targets = torch.randn(n, c, generator=g), torch.randint(0, c, (n,), generator=g)
    if n == 0:
        return
    acc = call(T.accuracy, outputs, targets)
    assert 0.0 <= acc <= 1.0 and call(T.count_correct, outputs, targets) == round(acc * n)
    top = call(T.topk_accuracy, outputs, targets, min(k, c))
    assert acc <= top + 1e-12 <= 1.0 + 1e-12


ACC_OUT, ACC_T = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
ACCURACY_CASES = [
    ((T.accuracy, T.count_correct, T.topk_accuracy), "targets", dict(outputs=ACC_OUT, k=2),
     kind_errors(ACC_T) + [ACC_T[:2], ACC_T.float() + 0.5]),
    ((T.accuracy, T.count_correct, T.topk_accuracy), "outputs", dict(targets=ACC_T, k=2),
     kind_errors(ACC_OUT) + [ACC_OUT[:2]]),
    ((T.topk_accuracy,), "k", dict(outputs=ACC_OUT, targets=ACC_T), int_errors(1, 3)),
    ((T.seed_everything,), "seed", {}, [2**64, -1, 1.5, "0", None]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", ACCURACY_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in ACCURACY_CASES])
@given(seed=st.integers(0, 3))
def test_train_helpers_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    state = torch.random.get_rng_state()
    refuse_all(fns, arguments, name, bad_values)
    assert torch.equal(state, torch.random.get_rng_state()), "a refused call changed the random state"


# ==================================================================== runtime and data


@given(full=st.integers(), quick=st.integers())
def test_budget_and_is_quick(full, quick):
    assert isinstance(RT.is_quick(), bool)
    assert RT.budget(full, quick) == (quick if RT.is_quick() else full)


def test_get_device_refuses_unknown_devices():
    assert isinstance(RT.get_device(), torch.device)
    assert RT.get_device("cpu") == torch.device("cpu")
    assert_refuses(RT.get_device, "banana", name="prefer")


def _voc(**box):
    bndbox = dict(dict(xmin="1", ymin="2", xmax="10", ymax="20"), **box)
    return {"annotation": {"object": [{"name": "dog", "difficult": "0", "bndbox": bndbox}]}}


@given(x=st.integers(1, 500), y=st.integers(1, 500), w=st.integers(0, 500), h=st.integers(0, 500))
def test_voc_target_converts_valid_boxes(x, y, w, h):
    out = call(voc_target, _voc(xmin=str(x), ymin=str(y), xmax=str(x + w), ymax=str(y + h)))
    assert out["boxes"].tolist() == [[x - 1, y - 1, x + w, y + h]] and out["labels"].dtype == torch.int64


@pytest.mark.parametrize("annotation", [
    None, [], {"annotation": 5}, {"annotation": {"object": 5}}, {"annotation": {"object": [5]}},
    {"annotation": {"object": [{"bndbox": {"xmin": "1", "ymin": "1", "xmax": "2", "ymax": "2"}}]}},
    {"annotation": {"object": [{"name": "dog"}]}}, {"annotation": {"object": [{"name": "unicorn", "bndbox": {}}]}},
    _voc(xmin="11"), _voc(ymax="1"), _voc(xmax="nan"), _voc(xmax="inf"), _voc(ymin="two"), _voc(xmax=None),
])
def test_voc_target_refuses_malformed_annotations(annotation):
    assert_refuses(voc_target, annotation, name="annotation")


# ==================================================================== data: keypoint heatmaps and datasets

from course_utils import data as DATA  # noqa: E402 - the data section's own import


@given(k=st.integers(0, 3), h=st.integers(2, 12), w=st.integers(2, 12), stride=st.integers(1, 2),
       sigma=st.sampled_from([0.5, 1.0, 2.0]), seed=st.integers(0, 99))
def test_heatmaps_round_trip(k, h, w, stride, sigma, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(k, 2, generator=g, dtype=torch.float64) * torch.tensor([w - 1.0, h - 1.0], dtype=torch.float64)
    keypoints = torch.cat([xy, torch.ones(k, 1, dtype=torch.float64)], dim=1)
    maps = call(DATA.render_heatmaps, keypoints, (h, w), sigma, stride)
    assert maps.shape == (k, h // stride, w // stride) and maps.dtype == torch.float64
    assert_finite(maps, "render_heatmaps")
    decoded = call(DATA.heatmaps_to_keypoints, maps, stride)
    assert decoded.shape == (k, 3)
    assert_finite(decoded, "heatmaps_to_keypoints")


KP = torch.tensor([[3.0, 2.0, 1.0], [1.0, 1.0, 0.0]])
DATA_CASES = [
    ((DATA.render_heatmaps,), "keypoints", dict(size=(8, 8)),
     tensor_errors(KP, floating=True, real=False, ndim=False) + [torch.zeros(2, 2), torch.zeros(3), KP[None, None],
                                                                   KP.bool()]),
    ((DATA.render_heatmaps,), "size", dict(keypoints=KP), [None, 8, "8x8", (8,), (0, 8), (8.5, 8), (10**6, 10**6)]),
    ((DATA.render_heatmaps,), "sigma", dict(keypoints=KP, size=(8, 8)), number_errors(0.0) + [0.0]),
    ((DATA.render_heatmaps, DATA.heatmaps_to_keypoints), "stride", dict(keypoints=KP, size=(8, 8), heatmaps=torch.zeros(2, 4, 4)),
     int_errors(1)),
    ((DATA.heatmaps_to_keypoints,), "heatmaps", {},
     kind_errors(torch.zeros(2, 4, 4)) + [torch.zeros(4, 4), torch.zeros(2, 4, 4).long(), torch.full((2, 4, 4), math.nan)]),
    ((DATA.ShapesScenes, DATA.ActionClips, DATA.ArticulatedFigures), "n", {}, int_errors(0)),
    ((DATA.ShapesScenes, DATA.ActionClips, DATA.ArticulatedFigures), "image_size", dict(n=2), int_errors(1) + [10**6]),
    ((DATA.ShapesScenes, DATA.ActionClips, DATA.ArticulatedFigures, DATA.DigitsDataset), "seed", dict(n=2),
     [-1, 1.5, "0", 2**64, None]),
    ((DATA.ShapesScenes,), "size_range", dict(n=2), [(0.3, 0.1), (math.nan, 0.2), (0.1,), None, (-0.1, 0.2)]),
    ((DATA.ShapesScenes,), "pixel_noise", dict(n=2), number_errors(0.0)),
    ((DATA.ArticulatedFigures,), "occlusion_prob", dict(n=2), number_errors(0.0, 1.0)),
    ((DATA.DigitsDataset,), "split", {}, ["dev", None, 5]),
    ((DATA.detection_collate,), "batch", {}, [None, "batch", [5], [(torch.zeros(3, 4, 4),)]]),
]


@few
@pytest.mark.parametrize("fns, name, arguments, bad_values", DATA_CASES,
                         ids=[f"{c[0][0].__name__}-{c[1]}" for c in DATA_CASES])
@given(seed=st.integers(0, 3))
def test_data_functions_refuse_malformed_input(fns, name, arguments, bad_values, seed):
    torch.manual_seed(seed)
    refuse_all(fns, arguments, name, bad_values)
