"""Inputs on which a withheld reference and its twin must agree.

``CASES["module.qualname"]`` is a function that receives the function under test (the
readable reference, its twin, or the student edition's version) and yields its results on
fixed, seeded inputs: ordinary sizes, float32 and float64, ties, empty inputs, and a
wrong input or two (an error is recorded by its type). ``tests/test_references.py`` runs
every case on the reference and on its twin; the release check
(:func:`autograder.tools.withhold.agreement_problems`) runs them in the student edition and
compares with the full library. Cases import only ``torch`` and ``course_utils`` (whichever
``course_utils`` the interpreter finds), so this file also runs against a release.

A chapter that marks a new reference adds its cases here, one decorated function::

    @case("course_utils.ops.flow.lucas_kanade")
    def _lucas_kanade(fn):
        yield fn(...)
"""
from __future__ import annotations

import importlib
import math
from typing import Callable, Iterator

import torch

CASES: dict[str, Callable[[Callable], Iterator]] = {}


def case(*keys: str):
    """Register the decorated generator as the cases of every ``module.qualname`` in ``keys``."""
    def register(fn):
        for key in keys:
            CASES[key] = fn
        return fn
    return register


def call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)``, or ``("raised", "<ExceptionType>")`` if it raises."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the type is part of the contract, the wording may differ
        return ("raised", type(exc).__name__)


def resolve(key: str) -> Callable:
    """``"course_utils.layers.BasicBlock.forward"`` -> the function (importing the longest module prefix)."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(key)


def snapshot(x):
    """A detached, picklable copy of a result (a module becomes its state dict)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().clone()
    if isinstance(x, torch.nn.Module):
        return {k: v.detach().cpu().clone() for k, v in x.state_dict().items()}
    if isinstance(x, dict):
        return {k: snapshot(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(snapshot(v) for v in x) if isinstance(x, list) else tuple(snapshot(v) for v in x)
    return x


def run_case(key: str, fn: Callable | None = None) -> list:
    """The results of ``CASES[key]`` on ``fn`` (default: the function ``key`` names)."""
    return [snapshot(r) for r in CASES[key](resolve(key) if fn is None else fn)]


TOLERANCE = {torch.float64: (1e-9, 1e-12), torch.float32: (1e-5, 1e-6), torch.float16: (1e-2, 1e-3),
             torch.bfloat16: (1e-2, 1e-2)}


def difference(got, expected, where: str = "result") -> str | None:
    """None if ``got`` equals ``expected`` (tensors: same dtype and shape, values within the
    tolerance of their dtype, NaN where NaN); otherwise where and how they differ."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{where}: got {type(got).__name__}, expected a tensor"
        if got.dtype != expected.dtype or got.shape != expected.shape:
            return f"{where}: got {got.dtype} {list(got.shape)}, expected {expected.dtype} {list(expected.shape)}"
        if expected.is_floating_point():
            rtol, atol = TOLERANCE.get(expected.dtype, (1e-5, 1e-6))
            if not torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
                worst = (got.double() - expected.double()).abs().nan_to_num(nan=math.inf).max().item()
                return f"{where}: values differ by up to {worst:.3g}"
            return None
        return None if torch.equal(got, expected) else f"{where}: values differ"
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{where}: got keys {sorted(got) if isinstance(got, dict) else type(got).__name__}, expected {sorted(expected)}"
        return next((d for k in expected if (d := difference(got[k], expected[k], f"{where}[{k!r}]"))), None)
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"{where}: got {got!r:.80}, expected {expected!r:.80}"
        return next((d for i, (g, e) in enumerate(zip(got, expected))
                     if (d := difference(g, e, f"{where}[{i}]"))), None)
    if isinstance(expected, float) and isinstance(got, float):
        if math.isnan(expected) and math.isnan(got):
            return None
        return None if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12) else f"{where}: {got} != {expected}"
    if type(got) is not type(expected) or got != expected:
        return f"{where}: got {got!r:.80} ({type(got).__name__}), expected {expected!r:.80} ({type(expected).__name__})"
    return None


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- 01 linear models

@case("course_utils.linear.knn_predict", "course_utils.linear.knn_predict_loop")
def _knn(fn):
    g = _gen(1)
    train_x, train_y = torch.randn(40, 5, generator=g), torch.randint(0, 4, (40,), generator=g)
    test_x = torch.randn(12, 5, generator=g)
    for k in (1, 3, 40):
        yield fn(train_x, train_y, test_x, k)
    grid_x = torch.randint(0, 3, (30, 2), generator=g).double()  # many equal distances and tied votes
    grid_y = torch.randint(0, 5, (30,), generator=g)
    for k in (1, 2, 4, 7):
        yield fn(grid_x, grid_y, torch.randint(0, 3, (9, 2), generator=g).double(), k)
    yield fn(train_x, train_y + 3, test_x, 2)  # labels that do not start at 0
    yield fn(train_x, train_y, test_x[:0], 2)
    yield call(fn, train_x, train_y, test_x, 41)


@case("course_utils.linear.knn_predict")
def _knn_chunked(fn):
    yield from _knn(fn)
    g = _gen(2)
    x, y = torch.randint(0, 4, (25, 3), generator=g).float(), torch.randint(0, 3, (25,), generator=g)
    yield fn(x, y, torch.randint(0, 4, (17, 3), generator=g).float(), 5, chunk=4)


def _scores_labels(seed):
    g = _gen(seed)
    yield torch.randn(9, 6, generator=g), torch.randint(0, 6, (9,), generator=g)
    yield torch.randn(5, 3, generator=g, dtype=torch.float64) * 50, torch.randint(0, 3, (5,), generator=g)
    yield torch.randint(-2, 3, (8, 4), generator=g).double(), torch.randint(0, 4, (8,), generator=g)  # exact ties
    yield torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64)


@case("course_utils.linear.softmax_cross_entropy", "course_utils.linear.softmax_cross_entropy_loop")
def _softmax(fn):
    for scores, labels in _scores_labels(3):
        yield fn(scores, labels)
    yield fn(torch.tensor([[-96.8, 437.9, 61.95]]), torch.tensor([0]))
    yield call(fn, torch.zeros(2, 3), torch.tensor([0, 3]))


@case("course_utils.linear.multiclass_hinge", "course_utils.linear.multiclass_hinge_loop")
def _hinge(fn):
    for scores, labels in _scores_labels(4):
        for margin in (1.0, 0.5):
            yield fn(scores, labels, margin=margin)
    yield call(fn, torch.zeros(2, 3), torch.tensor([0.0, 1.0]))


@case("course_utils.optim.sgd_momentum_step")
def _sgd(fn):
    g = _gen(5)
    settings = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
                dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)]
    for dtype in (torch.float32, torch.float64):
        for kw in settings:
            p, v = torch.randn(3, 2, generator=g, dtype=dtype), None
            for _ in range(3):
                p, v = fn(p, torch.randn(3, 2, generator=g, dtype=dtype), v, **kw)
                yield p, v
    yield call(fn, torch.zeros(2), torch.zeros(2), lr=0.1, momentum=0.5, nesterov=True, dampening=0.5)


@case("course_utils.mlp.two_layer_forward_backward")
def _backprop(fn):
    g = _gen(6)
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(7, 4, generator=g, dtype=dtype)
        W1, b1 = torch.randn(5, 4, generator=g, dtype=dtype), torch.randn(5, generator=g, dtype=dtype)
        W2, b2 = torch.randn(3, 5, generator=g, dtype=dtype), torch.randn(3, generator=g, dtype=dtype)
        yield fn(x, W1, b1, W2, b2, torch.randn(7, 3, generator=g, dtype=dtype))
    x = torch.tensor([[1.0, -1.0], [0.0, 0.0]])  # pre-activations exactly 0: the ReLU's gradient there is 0
    yield fn(x, torch.eye(2), torch.zeros(2), torch.tensor([[1.0, 1.0]]), torch.zeros(1), torch.ones(2, 1))
    yield call(fn, torch.zeros(2, 3), torch.zeros(4, 2), torch.zeros(4), torch.zeros(1, 4), torch.zeros(1), torch.zeros(2, 1))


@case("course_utils.mlp.mlp_parameter_count")
def _mlp_count(fn):
    for sizes in ([2, 4, 1], [285 * 350, 1000, 1000, 1000, 3], (64, 10), [3, 3, 3, 3]):
        yield fn(sizes), fn(sizes, bias=False)
    yield call(fn, [5])
    yield call(fn, [4, 0, 2])


@case("course_utils.hparam.sample_log_uniform")
def _log_uniform(fn):
    for low, high in ((1e-6, 1e-2), (0.5, 2.0), (3.0, 3000.0)):
        yield fn(low, high, 1000, torch.Generator().manual_seed(3))
    yield fn(1e-4, 1.0, 500, seed=7), fn(1e-4, 1.0, 0)
    yield call(fn, 0.0, 1.0, 10), call(fn, 1.0, 0.5, 10)


# ---------------------------------------------------------------- 02 CNNs

@case("course_utils.ops.conv.conv_output_size")
def _conv_size(fn):
    for args in ((32, 5), (227, 11, 4), (224, 3, 1, 1), (7, 3, 2, 1), (10, 3, 1, 0, 2), (5, 7, 1, 1), (6, 2, 3)):
        for exact in (True, False):
            yield call(fn, *args, exact=exact)
    yield call(fn, 5, 3, 0), call(fn, 5.0, 3), call(fn, 4, 9)


def _conv_inputs(seed):
    g = _gen(seed)
    yield torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64), torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64), \
        torch.randn(4, generator=g, dtype=torch.float64)
    yield torch.randn(1, 2, 5, 9, generator=g), torch.randn(5, 2, 2, 4, generator=g), None


@case("course_utils.ops.conv.conv2d_loop", "course_utils.ops.conv.conv2d_im2col")
def _conv2d(fn):
    for x, w, b in _conv_inputs(7):
        for stride, padding in ((1, 0), (2, 1), (3, 2)):
            yield fn(x, w, b, stride=stride, padding=padding)
    yield call(fn, torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 2, 2))
    yield call(fn, torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3))


@case("course_utils.ops.conv.im2col")
def _im2col(fn):
    g = _gen(8)
    x = torch.randn(2, 3, 7, 5, generator=g)
    for k, s, p in ((2, 1, 0), ((2, 3), 1, 0), (3, 2, 1), (1, 1, 0)):
        yield fn(x, k, stride=s, padding=p)
    yield fn(torch.randint(0, 9, (1, 2, 4, 4), generator=g), 2)
    yield call(fn, torch.zeros(3, 4, 4), 2)


@case("course_utils.ops.conv.max_pool2d_loop", "course_utils.ops.conv.max_pool2d")
def _max_pool(fn):
    g = _gen(9)
    x = torch.randn(2, 3, 7, 7, generator=g, dtype=torch.float64)
    for k, s in ((2, None), (3, 2), (3, 1), (7, None)):
        yield fn(x, k) if s is None else fn(x, k, stride=s)
    yield fn(torch.randint(-5, 5, (1, 2, 6, 4), generator=g), 2)
    yield fn(torch.ones(1, 1, 4, 4), 2)  # ties
    yield call(fn, x, 8)


@case("course_utils.ops.conv.avg_pool2d_loop")
def _avg_pool(fn):
    g = _gen(10)
    x = torch.randn(2, 3, 7, 7, generator=g)
    for k, s in ((2, None), (3, 2), (3, 1)):
        yield fn(x, k) if s is None else fn(x, k, stride=s)
    yield call(fn, torch.ones(1, 1, 4, 4, dtype=torch.int64), 2)


# ---------------------------------------------------------------- 03 architectures

@case("course_utils.ops.conv.receptive_field")
def _receptive_field(fn):
    for layers in ([], [(3, 1)] * 3, [(3, 1), (2, 2), (3, 1)], [(7, 2), (3, 2), (3, 1), (3, 2), (5, 3)],
                   [(3, 1), (3, 1), (2, 2)] * 5):
        yield fn(layers)
    yield call(fn, [(3, 0)]), call(fn, [(0, 1)])


@case("course_utils.layers.batch_norm_forward", "course_utils.layers.batch_norm_forward_loop")
def _batch_norm(fn):
    g = _gen(11)
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(4, 3, 5, 5, generator=g, dtype=dtype) * 3 + 1
        gamma, beta = torch.randn(3, generator=g, dtype=dtype), torch.randn(3, generator=g, dtype=dtype)
        for training in (True, False):
            rm, rv = torch.randn(3, generator=g, dtype=dtype), torch.rand(3, generator=g, dtype=dtype) + 0.5
            y = fn(x, gamma, beta, rm, rv, training, momentum=0.3, eps=1e-3)
            yield y, rm, rv
        yield fn(x, None, None, None, None, training=False)
        yield fn(x[:, :, 0, 0], gamma, None, None, None, training=True)  # [N, C]
    yield call(fn, torch.zeros(1, 3, 1, 1), None, None, torch.zeros(3), torch.ones(3), True)
    yield call(fn, torch.zeros(2, 3), torch.ones(4), None, None, None, True)


def _blocks(fn, cls_name, configs):
    import copy

    import course_utils.layers as layers
    cls = getattr(layers, cls_name)
    for i, args in enumerate(configs):
        torch.manual_seed(100 + i)
        block = cls(*args).double()
        x = torch.randn(2, args[0], 7, 6, generator=_gen(i), dtype=torch.float64)
        for training in (True, False):
            block.train(training)
            work = copy.deepcopy(block)
            yield fn(work, x), work


@case("course_utils.layers.BasicBlock.forward")
def _basic_block(fn):
    yield from _blocks(fn, "BasicBlock", [(8, 8, 1, True), (8, 16, 2, True), (8, 8, 1, False), (4, 8, 2, False)])


@case("course_utils.layers.Bottleneck.forward")
def _bottleneck(fn):
    yield from _blocks(fn, "Bottleneck", [(16, 4, 1, True), (8, 4, 2, True), (16, 4, 1, False)])


@case("course_utils.layers.depthwise_separable_cost")
def _separable(fn):
    for args in ((128, 28, 28), (32, 7, 9, 5, 64), (3, 4, 4, 2), (16, 8, 8, 1), (1, 1, 1)):
        yield fn(*args)
    yield call(fn, 0, 4, 4), call(fn, 3, 4, 4, 3, 0)


@case("course_utils.train.accuracy.topk_accuracy")
def _topk(fn):
    g = _gen(12)
    for n, c in ((50, 6), (7, 2), (30, 1), (333, 10)):  # random scores: no ties at the k-th place
        scores, targets = torch.randn(n, c, generator=g), torch.randint(0, c, (n,), generator=g)
        for k in range(1, c + 1):
            yield fn(scores, targets, k)
    yield fn(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64), 2)
    yield call(fn, torch.zeros(2, 3), torch.zeros(2, dtype=torch.int64), 4)


# ---------------------------------------------------------------- 04 segmentation

@case("course_utils.ops.conv.activation_bytes")
def _activation_bytes(fn):
    yield fn(200, 400, 400), fn(200, 400, 400, batch=20, layers=100), fn(8, 10, 12, batch=5, layers=3, bytes_per_value=2)
    yield call(fn, 0, 4, 4), call(fn, 3, 4, 4, bytes_per_value=1.5)


@case("course_utils.ops.upsample.max_unpool2d", "course_utils.ops.upsample.max_unpool2d_loop")
def _unpool(fn):
    import torch.nn.functional as F
    g = _gen(13)
    for shape, k in (((1, 2, 7, 5), 2), ((3, 1, 9, 6), 3), ((2, 4, 5, 8), 2), ((1, 1, 1, 1), 1)):
        values, idx = F.max_pool2d(torch.randn(*shape, generator=g, dtype=torch.float64), k, return_indices=True)
        yield fn(values, idx, shape[2:])
        yield fn(values.float(), idx, shape[2]) if shape[2] == shape[3] else fn(values.float(), idx, list(shape[2:]))
    yield fn(torch.tensor([[[[5]]]]), torch.tensor([[[[3]]]]), (2, 2))
    yield call(fn, torch.ones(1, 1, 1, 1), torch.tensor([[[[4]]]]), (2, 2))


@case("course_utils.ops.upsample.bilinear_upsample", "course_utils.ops.upsample.bilinear_upsample_loop")
def _bilinear(fn):
    g = _gen(14)
    for shape, scale, dtype in (((1, 1, 1, 1), 3, torch.float32), ((1, 2, 1, 4), 2, torch.float64),
                                ((2, 3, 5, 4), 3, torch.float64), ((1, 1, 6, 6), 1, torch.float32)):
        x = torch.randn(*shape, generator=g, dtype=dtype)
        for align in (False, True):
            yield fn(x, scale, align_corners=align)
    yield call(fn, torch.ones(1, 1, 2, 2, dtype=torch.int64), 2)


@case("course_utils.ops.upsample.interpolation_matrix")
def _interp_matrix(fn):
    for n_in, n_out in ((1, 1), (2, 4), (3, 7), (5, 10), (4, 3), (2, 1)):
        for align in (False, True):
            yield fn(n_in, n_out, align, dtype=torch.float64)
    yield fn(3, 6)
    yield call(fn, 0, 3)


@case("course_utils.ops.upsample.conv_transpose_output_size")
def _transpose_size(fn):
    for args in ((1, 1), (2, 3, 2), (2, 3, 2, 1, 1), (7, 3, 3, 2, 2), (10, 5, 4, 3, 3), (3, 1, 1), (16, 4, 2, 1),
                 (9, 7, 1, 3), (4, 3, 1, 0, 0, 2), (2, 3, 2, 0, 2), (1, 1, 1, 1)):
        yield call(fn, *args)
    yield call(fn, 0, 3), call(fn, 2, 3, 2.0)


@case("course_utils.ops.upsample.conv_transpose2d", "course_utils.ops.upsample.conv_transpose2d_loop")
def _transpose(fn):
    g = _gen(15)
    for xs, ws, s, p, op in (((1, 1, 2, 2), (1, 1, 3, 3), 2, 0, 0), ((2, 3, 4, 5), (3, 2, 3, 2), 2, 1, 1),
                             ((1, 2, 3, 3), (2, 4, 4, 4), 3, 2, 2), ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 0),
                             ((2, 2, 3, 4), (2, 3, 3, 3), (2, 1), (1, 0), (1, 0))):
        x = torch.randn(*xs, generator=g, dtype=torch.float64)
        w = torch.randn(*ws, generator=g, dtype=torch.float64)
        b = torch.randn(ws[1], generator=g, dtype=torch.float64)
        yield fn(x, w, b, stride=s, padding=p, output_padding=op)
        yield fn(x.float(), w.float(), None, stride=s, padding=p, output_padding=op)
    yield call(fn, torch.zeros(1, 2, 3, 3), torch.zeros(3, 1, 2, 2))
    yield call(fn, torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 2, 2), stride=2, output_padding=2)


@case("course_utils.ops.upsample.conv_matrix")
def _conv_matrix(fn):
    g = _gen(16)
    for w, size, s, p in ((torch.tensor([1.0, 2.0, 3.0]), 4, 1, 0), (torch.randn(3, generator=g), 7, 2, 1),
                          (torch.randn(2, 3, generator=g), (4, 5), 1, 0), (torch.randn(3, 3, generator=g), (5, 5), 2, 1),
                          (torch.tensor([[1, 2], [3, 4]]), 3, 1, 1), (torch.randn(3, 3, generator=g, dtype=torch.float64), 3, 1, 1)):
        yield fn(w, size, stride=s, padding=p)
    yield call(fn, torch.ones(5), 3), call(fn, torch.ones(2, 2, 2), 3)


def _label_maps(seed):
    g = _gen(seed)
    target = torch.randint(0, 6, (4, 16, 16), generator=g)
    pred = torch.where(torch.rand(4, 16, 16, generator=g) < 0.7, target, torch.randint(0, 6, (4, 16, 16), generator=g))
    return pred, target


@case("course_utils.metrics.segmentation.confusion_matrix", "course_utils.metrics.segmentation.confusion_matrix_loop")
def _confusion(fn):
    pred, target = _label_maps(17)
    yield fn(pred, target, 7), fn(pred.flatten(), target.flatten(), 7), fn(torch.tensor([1]), torch.tensor([1]), 3)
    yield fn(pred, target, 7, ignore_index=0), fn(pred, target.masked_fill(target == 5, 255), 6, ignore_index=255)
    yield fn(pred.int(), target.to(torch.uint8), 6)
    yield fn(torch.zeros(0, dtype=torch.int64), torch.zeros(0, dtype=torch.int64), 3)
    yield call(fn, pred, target, 5), call(fn, pred.float(), target, 7)


def _confusion_matrices():
    from course_utils.metrics.segmentation import confusion_matrix
    pred, target = _label_maps(18)
    return [confusion_matrix(pred, target, 7), torch.zeros(3, 3, dtype=torch.int64),
            torch.tensor([[10 ** 9, 3], [7, 2 * 10 ** 9]]), torch.tensor([[3, 0], [0, 0]]),
            torch.tensor([[1, 1, 0], [0, 2, 0], [1, 0, 0]]), torch.tensor([[4.0, 1.0], [2.0, 0.0]])]


@case("course_utils.metrics.segmentation.per_class_iou", "course_utils.metrics.segmentation.pixel_accuracy")
def _iou(fn):
    for cm in _confusion_matrices():
        yield fn(cm)
    yield call(fn, torch.zeros(2, 3)), call(fn, torch.zeros(4))


@case("course_utils.metrics.segmentation.mean_iou")
def _miou(fn):
    for cm in _confusion_matrices():
        yield fn(cm), fn(cm, return_counted=True)
    yield call(fn, torch.zeros(2, 3))


# ---------------------------------------------------------------- 05 detection

def _boxes(n, seed, dtype=torch.float32, inverted=0.0, scale=50.0):
    g = _gen(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale / 3
    boxes = torch.cat([xy, xy + wh], dim=1)
    if inverted:
        flip = torch.rand(n, generator=g) < inverted
        boxes[flip] = boxes[flip][:, [2, 1, 0, 3]]
    return boxes.round().to(dtype) if not dtype.is_floating_point else boxes.to(dtype)


@case("course_utils.ops.boxes.box_iou", "course_utils.ops.boxes.box_iou_loop",
      "course_utils.ops.boxes.generalized_box_iou", "course_utils.ops.boxes.generalized_box_iou_loop")
def _iou_boxes(fn):
    for dtype in (torch.float32, torch.float64, torch.int64, torch.int16):
        for inverted in (0.0, 0.3):
            a, b = _boxes(13, 19, dtype, inverted), _boxes(9, 20, dtype, inverted)
            a[0], b[0], a[2] = a[1], torch.tensor([3, 3, 3, 3]).to(dtype), torch.tensor([3, 3, 3, 3]).to(dtype)
            yield fn(a, b)
    yield fn(_boxes(4, 21, torch.float64), _boxes(5, 22, torch.float32))
    yield fn(torch.zeros(0, 4), _boxes(3, 23)), fn(torch.zeros(0, 4), torch.zeros(0, 4))
    yield fn(torch.tensor([[0.0, 0.0, 5.0, 0.0], [0.0, 0.0, 5.0, 5.0]]), torch.tensor([[0.0, 0.0, 5.0, 0.0]]))
    yield call(fn, torch.zeros(2, 3), torch.zeros(2, 4))


@case("course_utils.ops.boxes._pair_iou")
def _pair(fn):
    yield fn([0, 0, 2, 2], [1, 1, 3, 3]), fn([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]), fn([0, 0, 1, 1], [5, 5, 6, 6])
    yield fn([4.0, 0.0, 1.0, 3.0], [0.0, 0.0, 5.0, 5.0]), fn([0.5, 0.25, 10.0, 7.5], [1.0, 2.0, 11.0, 3.0])


def _nms_scenes():
    for trial in range(40):
        n = [0, 1, 5, 30, 60][trial % 5]
        dtype = (torch.float32, torch.float64)[trial % 2]
        boxes = _boxes(n, 100 + trial, dtype, 0.1 if trial % 3 == 0 else 0.0, scale=30.0)
        g = _gen(200 + trial)
        scores = torch.randint(0, 5, (n,), generator=g).to(dtype) if trial % 4 == 0 else torch.rand(n, generator=g, dtype=dtype)
        yield boxes, scores, [0.0, 0.3, 0.5, 0.7, 1.0][trial % 5], torch.randint(0, 3, (n,), generator=g)


@case("course_utils.ops.boxes.nms", "course_utils.ops.boxes.nms_loop")
def _nms(fn):
    for boxes, scores, threshold, _ in _nms_scenes():
        yield fn(boxes, scores, threshold)
    yield fn(_boxes(6, 24).half(), torch.rand(6, generator=_gen(1)).half(), 0.5)
    yield call(fn, _boxes(3, 25), torch.rand(3), 1.5), call(fn, _boxes(3, 25).long(), torch.rand(3), 0.5)


@case("course_utils.ops.boxes.batched_nms", "course_utils.ops.boxes.batched_nms_loop")
def _batched_nms(fn):
    for boxes, scores, threshold, ids in _nms_scenes():
        yield fn(boxes, scores, ids, threshold)
    yield call(fn, _boxes(3, 26), torch.rand(3), torch.tensor([0.0, 1.0, 1.0]), 0.5)


@case("course_utils.ops.boxes.encode_boxes", "course_utils.ops.boxes.encode_boxes_loop")
def _encode(fn):
    for dtype in (torch.float32, torch.float64):
        anchors, boxes = _boxes(20, 27, dtype), _boxes(20, 28, dtype)
        for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
            yield fn(anchors, boxes, weights)
    yield fn(torch.zeros(0, 4), torch.zeros(0, 4))
    yield call(fn, _boxes(2, 29), _boxes(2, 30), (1.0, 1.0, 0.0, 1.0))


@case("course_utils.ops.boxes.decode_boxes", "course_utils.ops.boxes.decode_boxes_loop")
def _decode(fn):
    g = _gen(31)
    for dtype in (torch.float32, torch.float64):
        anchors = _boxes(20, 32, dtype)
        deltas = torch.randn(20, 4, generator=g, dtype=dtype) * 3
        deltas[0, 2] = 20.0  # beyond the clip
        for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
            yield fn(deltas, anchors, weights)
        yield fn(deltas, anchors, clip=1.0)
    yield fn(torch.zeros(0, 4), torch.zeros(0, 4))
    yield call(fn, torch.zeros(2, 4), torch.zeros(2, 4).long())


@case("course_utils.ops.anchors.num_anchors")
def _num_anchors(fn):
    for size, sizes, ratios in (((37, 62), [128, 256, 512], [0.5, 1.0, 2.0]), ((8, 8), [16, 32], [1.0]),
                                ((1, 1), [64], [0.25, 0.5, 1.0, 2.0]), (5, (32,), (1.0, 2.0))):
        yield fn(size, sizes, ratios)
    yield call(fn, (4, 4), [], [1.0]), call(fn, (0, 4), [8], [1.0])


@case("course_utils.ops.anchors.anchors_per_location")
def _anchors_per_location(fn):
    for sizes, ratios in (((32, 64, 128), (0.5, 1.0, 2.0)), ([16], [1.0]), ([8, 16], [0.25, 0.5, 1.0, 2.0])):
        yield fn(sizes, ratios)
    yield call(fn, [8], [-1.0])


def _detections():
    g = _gen(33)
    for d, p in ((50, 0.5), (200, 0.3), (30, 0.9), (10, 0.1), (1, 1.0)):
        scores = torch.rand(d, generator=g, dtype=torch.float64)
        hits = torch.rand(d, generator=g) < p
        yield scores, hits, int(hits.sum()) + 2
    yield torch.tensor([0.5, 0.5, 0.5, 0.2]), torch.tensor([False, True, True, False]), 3
    yield torch.tensor([0.9, 0.8]), torch.tensor([False, False]), 4
    yield torch.tensor([0.3, 0.9, 0.1]), torch.tensor([True, True, True]), 3
    yield torch.zeros(0), torch.zeros(0, dtype=torch.bool), 2


@case("course_utils.metrics.detection.precision_recall_curve")
def _pr_curve(fn):
    for scores, hits, num_gt in _detections():
        yield fn(scores, hits, num_gt)
    yield fn(torch.tensor([0.3, 0.9]), torch.tensor([False, False]), 0)  # no ground truth: recall NaN
    yield call(fn, torch.tensor([0.3, 0.9]), torch.tensor([True, False]), 0)  # more hits than objects: refused
    yield call(fn, torch.rand(3), torch.tensor([1, 0, 1]), 2)


@case("course_utils.metrics.detection.average_precision")
def _ap(fn):
    from course_utils.metrics.detection import precision_recall_curve
    for scores, hits, num_gt in _detections():
        precision, recall, _ = precision_recall_curve(scores, hits, num_gt)
        for method in ("voc11", "voc_all", "coco101"):
            yield fn(precision, recall, method)
        yield fn(precision.tolist(), recall.tolist())
    yield call(fn, torch.tensor([1.0, 0.5]), torch.tensor([0.5, 0.25]), "voc_all")
    yield call(fn, torch.tensor([1.0]), torch.tensor([0.5]), "voc12")


@case("course_utils.losses.focal.sigmoid_focal_loss")
def _sigmoid_focal_loss(fn):
    g = _gen(58)
    for dtype in (torch.float32, torch.float64):
        logits = torch.randn(4, 6, generator=g, dtype=dtype) * 5
        targets = (torch.rand(4, 6, generator=g) < 0.3).to(dtype)
        yield fn(logits, targets)
        yield fn(logits, targets, 0.5, 0.0)
        yield fn(logits, targets, alpha=-1.0, gamma=1.5, reduction="sum")
        yield fn(logits, targets, reduction="mean")
    yield fn(torch.tensor([100.0, -100.0]), torch.tensor([0, 1]))
    yield fn(torch.zeros(0, 3), torch.zeros(0, 3))
    yield call(fn, torch.zeros(3), torch.zeros(4))
    yield call(fn, torch.zeros(2), torch.tensor([0.0, 2.0]))
    yield call(fn, torch.zeros(2), torch.zeros(2), 0.25, -1.0)


# ---------------------------------------------------------------- 07 self-supervised learning

@case("course_utils.losses.contrastive.nt_xent", "course_utils.losses.contrastive.nt_xent_loop")
def _nt_xent(fn):
    g = _gen(71)
    for n, d, tau in ((1, 3, 0.5), (4, 2, 1.0), (6, 5, 0.1)):
        for dtype in (torch.float32, torch.float64):
            z1, z2 = torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, d, generator=g, dtype=dtype)
            yield fn(z1, z2, tau)
            yield fn(z1, z2, tau, reduction="none")
            yield fn(z1, z2, temperature=tau, reduction="sum")
    yield fn(torch.zeros(0, 3), torch.zeros(0, 3))
    yield call(fn, torch.zeros(2, 3), torch.zeros(3, 3))
    yield call(fn, torch.ones(2, 3), torch.ones(2, 3), 0.0)


@case("course_utils.ops.color.rgb_to_lab")
def _rgb_to_lab(fn):
    g = _gen(72)
    for shape in ((3, 1, 1), (2, 3, 4, 5), (3, 6, 2)):
        yield fn(torch.rand(shape, generator=g, dtype=torch.float64) ** 2)
    yield fn(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64).view(3, 1, 1))
    yield fn(torch.zeros(0, 3, 2, 2, dtype=torch.float64)).shape
    yield call(fn, torch.rand(2, 4, 4))


@case("course_utils.ops.color.rgb_to_lab_pixel")
def _rgb_to_lab_pixel(fn):
    for rgb in ((1.0, 0.0, 0.0), (0.2, 0.7, 0.1), (0.01, 0.02, 0.03), (0.9, 0.5, 0.95)):
        yield fn(*rgb)


@case("course_utils.ops.color.ab_to_bin")
def _ab_to_bin(fn):
    g = _gen(73)
    for dtype in (torch.float32, torch.float64):
        ab = torch.randn(2, 2, 3, 4, generator=g, dtype=dtype) * 80
        yield fn(ab)
        yield fn(ab, 20.0, 120.0)
    edges = torch.tensor([[-110.0, -0.5, 0.0, 110.0, 300.0], [109.99, -110.0, 10.0, -300.0, 0.0]]).view(1, 2, 1, 5)
    yield fn(edges)
    yield fn(torch.zeros(0, 2, 3, 3))
    yield call(fn, torch.zeros(1, 3, 2, 2))


@case("course_utils.data.pretext.sample_patch_pairs")
def _patch_pairs(fn):
    # The reference and its twin draw in different orders: compare the rules, not the draws.
    for size, patch, gap, jitter in (((32, 32), 8, 2, 1), ((40, 34), 6, 3, 2), ((24, 30), 8, 0, 0)):
        centre, neighbour, labels = fn(size, 3000, patch, gap, jitter, _gen(74))
        offsets = torch.tensor([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)])
        shift = neighbour - centre - offsets[labels] * (patch + gap)
        yield (centre.dtype, neighbour.dtype, labels.dtype, tuple(centre.shape), sorted(set(labels.tolist())),
               sorted(set(shift.flatten().tolist())), centre.min(0).values.tolist(), centre.max(0).values.tolist())
    yield call(fn, (20, 20), 3, 8, 2, 0)


@case("course_utils.metrics.probe.knn_predict", "course_utils.metrics.probe.knn_predict_loop")
def _knn_probe(fn):
    g = _gen(75)
    for dtype in (torch.float32, torch.float64):
        train_x = torch.randn(30, 4, generator=g, dtype=dtype)
        train_y = torch.randint(0, 5, (30,), generator=g)
        test_x = torch.randn(9, 4, generator=g, dtype=dtype)
        for k in (1, 2, 5, 30):
            yield fn(train_x, train_y, test_x, k)
    yield fn(torch.tensor([[1.0, 0.1], [1.0, -0.2], [-1.0, 0.0]]), torch.tensor([1, 0, 0]), torch.tensor([[1.0, 0.0]]), 2)
    yield fn(torch.randn(4, 2, generator=g), torch.tensor([0, 1, 2, 3]), torch.zeros(0, 2), 1)
    yield call(fn, torch.randn(3, 2, generator=g), torch.tensor([0, 1, 0]), torch.randn(1, 2, generator=g), 4)


@case("course_utils.models.ssl.simclr_step")
def _simclr_step(fn):
    from course_utils.losses.contrastive import nt_xent
    from course_utils.models.ssl import ConvEncoder
    torch.manual_seed(76)
    encoder = ConvEncoder(width=4)
    head = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    optimizer = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9)
    g = _gen(76)
    for _ in range(2):
        v1, v2 = torch.rand(5, 1, 8, 8, generator=g), torch.rand(5, 1, 8, 8, generator=g)
        yield fn(encoder, head, v1, v2, optimizer, nt_xent, 0.5)
        yield encoder
        yield head


# ---------------------------------------------------------------- 08 video

def _moving_texture(height, width, dx, dy, seed, dtype=torch.float64):
    """A smooth random texture and its copy moved by (dx, dy) pixels (exact Fourier shift)."""
    from course_utils.ops.flow import shift_image
    img = torch.rand(1, 1, height, width, generator=_gen(seed), dtype=torch.float64)
    for _ in range(2):
        img = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(img, (1, 1, 1, 1), mode="circular"), 3, stride=1)
    img = img[0, 0]
    return img.to(dtype), shift_image(img, dx, dy).to(dtype)


@case("course_utils.ops.flow.lucas_kanade_patch")
def _lk_patch(fn):
    for side, (dx, dy), dtype in ((3, (0.2, -0.1), torch.float64), (5, (0.3, 0.2), torch.float64),
                                  (7, (-0.4, 0.1), torch.float32), (9, (0.1, 0.5), torch.float64)):
        yield fn(*_moving_texture(side, side, dx, dy, side, dtype))
    yield fn(*_moving_texture(4, 9, 0.25, 0.3, 1))  # not square
    flat = torch.full((5, 5), 0.3, dtype=torch.float64)
    yield fn(flat, flat + 0.1)  # singular: zeros
    stripes = torch.tensor([0.0, 1.0, 0.2, 0.9, 0.4], dtype=torch.float64).repeat(5, 1)
    yield fn(stripes, stripes.roll(1, dims=1))  # an edge: the aperture problem
    yield call(fn, torch.zeros(1, 4), torch.zeros(1, 4))
    yield call(fn, torch.zeros(3, 3), torch.zeros(3, 4))


@case("course_utils.ops.flow.lucas_kanade", "course_utils.ops.flow.lucas_kanade_loop")
def _lk_dense(fn):
    for (h, w), radius, dtype in (((12, 14), 2, torch.float64), ((9, 9), 1, torch.float64), ((16, 10), 3, torch.float32)):
        yield fn(*_moving_texture(h, w, 0.3, -0.2, h + w, dtype), radius)
    flat = torch.full((6, 6), 0.5, dtype=torch.float64)
    yield fn(flat, flat + 0.1, 1)
    yield call(fn, torch.zeros(4, 4), torch.zeros(4, 4), 4)
    yield call(fn, torch.zeros(4, 4), torch.zeros(4, 5), 1)


@case("course_utils.data.video.video_bytes")
def _video_bytes(fn):
    for args in ((16, 112, 112), (30 * 60, 480, 640), (8, 24, 32, 1), (5, 6, 7, 4, 2), (1, 1, 1, 1, 1)):
        yield fn(*args)
    yield fn(16, 112, 112, bytes_per_value=4)
    yield call(fn, 0, 4, 4)
    yield call(fn, 2.5, 4, 4)


@case("course_utils.data.video.sliding_windows")
def _sliding_windows(fn):
    video = torch.rand(2, 13, 3, 4, generator=_gen(80))
    for clip_frames, step, stride in ((4, 1, 1), (4, 3, 1), (3, 2, 3), (13, 1, 1), (5, 4, 2)):
        yield fn(video, clip_frames, step, stride)
    yield fn(torch.stack([video, video + 1]), 4, 2)
    yield call(fn, video, 14)
    yield call(fn, torch.zeros(3, 4, 4), 2)


@case("course_utils.models.video.average_over_windows")
def _average_over_windows(fn):
    torch.manual_seed(81)
    net = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool3d(1),
                              torch.nn.Flatten(), torch.nn.Linear(4, 6)).eval()
    video = torch.rand(3, 12, 5, 5, generator=_gen(81))
    with torch.no_grad():
        for clip_frames, step in ((4, 1), (4, 3), (12, 2), (1, 5)):
            yield fn(net, video, clip_frames, step)
        yield fn(net.double(), video.double(), 5, 2)
    yield call(fn, net, video, 13)


@case("course_utils.models.video.conv3d_block")
def _conv3d_block(fn):
    for in_c, out_c, pool in ((3, 8, (1, 2, 2)), (4, 6, 2), (5, 7, [2, 1, 1])):
        torch.manual_seed(82)
        block = fn(in_c, out_c, pool)
        yield block
        yield block(torch.rand(2, in_c, 4, 6, 6, generator=_gen(82)))


@case("course_utils.models.video.conv3d_output_shape")
def _conv3d_output_shape(fn):
    for args in (((3, 16, 112, 112), 64, 3, 1, 1), ((3, 32, 224, 224), 8, (5, 7, 7), (1, 2, 2), (2, 3, 3)),
                 ((8, 7, 9, 11), 4, 2, 2, 0), ((1, 3, 3, 3), 1, [3, 3, 3], 1, 0)):
        yield fn(*args)
    yield call(fn, (3, 16, 112), 8, 3)
    yield call(fn, (3, 2, 8, 8), 8, 3)


@case("course_utils.models.video.conv3d_parameters")
def _conv3d_parameters(fn):
    for args in ((3, 64, 3), (64, 128, (3, 3, 3)), (3, 8, (5, 7, 7)), (16, 32, 3, False)):
        yield fn(*args)


@case("course_utils.models.video.conv2plus1d_parameters")
def _conv2plus1d_parameters(fn):
    for args in ((64, 64), (3, 64), (64, 64, 3, 3, 64), (16, 32, 5, 3, 10), (128, 256, 3, 3), (3, 64, 1, 7)):
        yield fn(*args)


# ---------------------------------------------------------------- 09 pose


@case("course_utils.ops.keypoints.gaussian_heatmaps", "course_utils.ops.keypoints.gaussian_heatmaps_loop")
def _gaussian_heatmaps(fn):
    g = _gen(90)
    for dtype in (torch.float32, torch.float64):
        points = torch.rand(4, 2, generator=g, dtype=dtype) * 12 - 1
        yield fn(points, 9, 11, 1.5)
        yield fn(torch.cat([points, torch.ones(4, 1, dtype=dtype)], 1), 3, 5, 0.7)
    yield fn(torch.zeros(0, 2), 4, 4, 1.0)
    yield call(fn, torch.zeros(2, 2), 4, 4, 0.0)


@case("course_utils.ops.keypoints.argmax_keypoints", "course_utils.ops.keypoints.argmax_keypoints_loop")
def _argmax_keypoints(fn):
    g = _gen(91)
    yield fn(torch.rand(2, 3, 5, 7, generator=g))
    yield fn(torch.rand(3, 4, 6, generator=g, dtype=torch.float64))
    yield fn(torch.randint(0, 2, (2, 2, 4, 4), generator=g).float())  # many ties: the first maximum
    yield fn(torch.zeros(0, 3, 4))
    yield call(fn, torch.zeros(4, 4))


@case("course_utils.ops.keypoints.soft_argmax", "course_utils.ops.keypoints.soft_argmax_loop")
def _soft_argmax(fn):
    g = _gen(92)
    yield fn(torch.randn(2, 3, 5, 7, generator=g))
    yield fn(torch.randn(3, 4, 6, generator=g, dtype=torch.float64) * 5, 2.0)
    peak = torch.zeros(1, 4, 5)
    peak[0, 2, 3] = 1000.0
    yield fn(peak)
    yield fn(torch.zeros(1, 3, 5), beta=0.5)


@case("course_utils.ops.keypoints.hflip_keypoints")
def _ops_hflip_keypoints(fn):
    from course_utils.data.figures import FLIP_PAIRS
    g = _gen(93)
    points = torch.rand(15, 3, generator=g) * 63
    yield fn(points, 64, FLIP_PAIRS)
    yield fn(torch.rand(2, 5, 2, generator=g, dtype=torch.float64) * 9, 10, [(0, 4), (1, 2)])
    yield call(fn, points, 64, [(0, 1), (1, 2)])


@case("course_utils.ops.keypoints.hflip_image_and_keypoints")
def _hflip_image_and_keypoints(fn):
    g = _gen(94)
    yield fn(torch.rand(3, 8, 12, generator=g), torch.rand(5, 3, generator=g) * 11, [(0, 1), (2, 4)])
    yield fn(torch.rand(1, 4, 4, generator=g, dtype=torch.float64), torch.rand(2, 3, generator=g, dtype=torch.float64) * 3,
             [])


@case("course_utils.data.figures.hflip_keypoints")
def _figures_hflip_keypoints(fn):
    g = _gen(95)
    yield fn(torch.rand(15, 3, generator=g) * 63, 64)
    yield fn(torch.rand(4, 15, 3, generator=g, dtype=torch.float64) * 40, 48)
    yield call(fn, torch.rand(14, 3, generator=g), 64)


@case("course_utils.metrics.keypoints.pck", "course_utils.metrics.keypoints.pck_loop")
def _pck(fn):
    g = _gen(96)
    for dtype in (torch.float32, torch.float64):
        target = torch.cat([torch.rand(6, 15, 2, generator=g, dtype=dtype) * 50,
                            (torch.rand(6, 15, 1, generator=g) > 0.3).to(dtype)], 2)
        target[:, 0, 2] = 1
        predicted = target[..., :2] + torch.randn(6, 15, 2, generator=g, dtype=dtype) * 3
        for alpha in (0.05, 0.1, 0.2):
            yield fn(predicted, target, alpha)
    target = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 32.0, 1.0], [16.0, 16.0, 0.0]]])
    yield fn(torch.tensor([[[0.0, 8.0], [0.0, 32.0], [60.0, 60.0]]]), target, 0.25)  # exactly at the threshold
    yield call(fn, torch.zeros(2, 3, 2), torch.zeros(2, 4, 3))


@case("course_utils.metrics.keypoints.oks", "course_utils.metrics.keypoints.oks_loop")
def _oks(fn):
    from course_utils.metrics.keypoints import COCO_SIGMAS
    g = _gen(97)
    for dtype in (torch.float32, torch.float64):
        target = torch.cat([torch.rand(17, 2, generator=g, dtype=dtype) * 100,
                            torch.randint(0, 3, (17, 1), generator=g).to(dtype)], 1)
        target[0, 2] = 2
        predicted = target[:, :2] + torch.randn(17, 2, generator=g, dtype=dtype) * 5
        yield fn(predicted, target, 900.0, COCO_SIGMAS)
        yield fn(predicted, target, 150.5, torch.tensor(COCO_SIGMAS))
    yield call(fn, torch.zeros(3, 2), torch.zeros(3, 3), 0.0, [0.1] * 3)


@case("course_utils.models.hourglass.Hourglass.forward")
def _hourglass_forward(fn):
    import copy

    from course_utils.models.hourglass import Hourglass
    for i, (depth, channels, size) in enumerate(((1, 4, (4, 6)), (2, 8, (8, 8)), (3, 4, (16, 8)))):
        torch.manual_seed(110 + i)
        block = Hourglass(depth, channels).double()
        x = torch.randn(2, channels, *size, generator=_gen(110 + i), dtype=torch.float64)
        for training in (True, False):
            block.train(training)
            work = copy.deepcopy(block)
            yield fn(work, x), work


@case("course_utils.models.hourglass.hourglass_sizes")
def _hourglass_sizes(fn):
    for size in (64, 100, 128, 200, 255, 256, 384):
        for depth in (1, 2, 3, 4):
            yield call(fn, size, depth)


# ---------------------------------------------------------------- 10 visualization

def _tiny_net(seed: int, in_channels: int = 3, num_classes: int = 4, dtype: torch.dtype = torch.float32,
              batch_norm: bool = False) -> torch.nn.Module:
    """A small CNN with seeded weights (variance 1 / fan-in), in eval mode."""
    from torch import nn
    g = _gen(seed)
    layers = [nn.Conv2d(in_channels, 5, 3, padding=1), nn.ReLU(), nn.Conv2d(5, 6, 3, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(6))
    layers += [nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, num_classes)]
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.is_floating_point():
                u = torch.rand(t.shape, generator=g)
                t.copy_((2 * u - 1) * math.sqrt(3 / t[0].numel()) if t.ndim > 1
                        else (u + 0.5 if name.endswith("running_var") else u - 0.5))
    return net.to(dtype).eval()


@case("course_utils.explain.features.nearest_neighbors", "course_utils.explain.features.nearest_neighbors_loop")
def _nearest_neighbors(fn):
    g = _gen(120)
    for dtype in (torch.float32, torch.float64):
        queries = torch.randint(-6, 7, (7, 3), generator=g).to(dtype) / 2  # half steps: exact distances, real ties
        gallery = torch.randint(-6, 7, (25, 3), generator=g).to(dtype) / 2
        for k in (1, 5, 25):
            yield fn(queries, gallery, k)
    yield fn(torch.randn(4, 16, generator=g), torch.randn(30, 16, generator=g), 3)
    yield fn(torch.zeros(0, 3), torch.ones(4, 3), 2)
    yield call(fn, torch.zeros(2, 3), torch.ones(4, 3), 5)
    yield call(fn, torch.zeros(2, 3), torch.ones(4, 2), 1)


@case("course_utils.explain.occlusion.occlusion_map")
def _occlusion_map(fn):
    g = _gen(121)
    for i, (shape, patch, stride, fill) in enumerate((((3, 12, 12), 4, 2, 0.0), ((1, 9, 14), 3, 3, 0.5),
                                                     ((3, 8, 8), 8, 1, 1.0), ((2, 10, 7), 1, 4, -0.3))):
        net = _tiny_net(130 + i, in_channels=shape[0], batch_norm=i % 2 == 0)
        yield fn(net, torch.rand(shape, generator=g), i % 4, patch, stride, fill)
    yield fn(_tiny_net(134, dtype=torch.float64), torch.rand(3, 6, 6, generator=g, dtype=torch.float64), 1, 2, 2)
    yield call(fn, _tiny_net(135), torch.rand(3, 4, 4, generator=g), 0, 5, 1)


@case("course_utils.explain.saliency.saliency_map")
def _saliency_map(fn):
    g = _gen(122)
    for i, (shape, dtype) in enumerate((((5, 3, 9, 9), torch.float32), ((3, 1, 7, 12), torch.float64),
                                        ((1, 2, 5, 5), torch.float32))):
        net = _tiny_net(140 + i, in_channels=shape[1], num_classes=5, dtype=dtype, batch_norm=i != 1)
        images = torch.rand(shape, generator=g, dtype=dtype)
        yield fn(net, images, torch.randint(0, 5, (shape[0],), generator=g)), images
    yield call(fn, _tiny_net(143), torch.rand(2, 3, 4, 4, generator=g), torch.tensor([0]))


@case("course_utils.explain.cam.class_activation_map", "course_utils.explain.cam.class_activation_map_loop")
def _class_activation_map(fn):
    g = _gen(123)
    for n, c, h, w, k, dtype in ((4, 8, 5, 6, 3, torch.float32), (2, 16, 7, 7, 10, torch.float64),
                                 (1, 1, 1, 1, 1, torch.float32), (0, 4, 3, 3, 2, torch.float32)):
        features = torch.rand(n, c, h, w, generator=g, dtype=dtype)
        yield fn(features, torch.randn(k, c, generator=g, dtype=dtype), torch.randint(0, k, (n,), generator=g))
    yield call(fn, torch.rand(2, 3, 2, 2), torch.randn(4, 3), torch.tensor([0, 4]))
    yield call(fn, torch.rand(2, 3, 2, 2), torch.randn(4, 2), torch.tensor([0, 1]))


@case("course_utils.explain.bias.cue_reliance")
def _cue_reliance(fn):
    g = _gen(124)
    for i, (n, k) in enumerate(((30, 4), (9, 2), (60, 6))):
        images = torch.rand(n, 3, 6, 6, generator=g)
        labels, backgrounds = torch.randint(0, k, (n,), generator=g), torch.randint(0, k, (n,), generator=g)
        backgrounds[0] = (labels[0] + 1) % k
        yield fn(_tiny_net(150 + i, num_classes=k), images, labels, backgrounds)
    yield call(fn, _tiny_net(153), torch.rand(3, 3, 4, 4, generator=g), torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2]))


@case("course_utils.explain.adversarial.fgsm")
def _fgsm(fn):
    g = _gen(125)
    for i, (shape, epsilon, dtype) in enumerate((((6, 3, 8, 8), 0.05, torch.float32), ((3, 1, 10, 6), 0.3, torch.float64),
                                                 ((2, 3, 5, 5), 0.0, torch.float32), ((4, 2, 6, 6), 1.0, torch.float32))):
        net = _tiny_net(160 + i, in_channels=shape[1], dtype=dtype, batch_norm=i == 1)
        images = torch.rand(shape, generator=g, dtype=dtype)
        yield fn(net, images, torch.randint(0, 4, (shape[0],), generator=g), epsilon), images
    yield call(fn, _tiny_net(164), torch.rand(2, 3, 4, 4, generator=g), torch.tensor([0, 1]), -0.1)


@case("course_utils.explain.adversarial.pgd_attack")
def _pgd_attack(fn):
    g = _gen(126)
    for i, (shape, epsilon, step, steps, start, dtype) in enumerate((
            ((5, 3, 8, 8), 0.1, 0.03, 6, False, torch.float32), ((3, 1, 9, 9), 0.2, 0.08, 4, True, torch.float64),
            ((2, 3, 6, 6), 0.05, 0.05, 1, False, torch.float32), ((4, 2, 5, 7), 0.3, 0.1, 0, True, torch.float32),
            ((6, 3, 6, 6), 0.0, 0.1, 3, False, torch.float32))):
        net = _tiny_net(170 + i, in_channels=shape[1], dtype=dtype, batch_norm=i == 0)
        images = torch.rand(shape, generator=g, dtype=dtype)
        labels = torch.randint(0, 4, (shape[0],), generator=g)
        yield fn(net, images, labels, epsilon, step, steps, random_start=start, generator=_gen(180 + i)), images
    yield call(fn, _tiny_net(175), torch.rand(2, 3, 4, 4, generator=g), torch.tensor([0, 1]), 0.1, 0.1, -1)


# ---------------------------------------------------------------- 06 transformers

@case("course_utils.ops.rnn.rnn_forward", "course_utils.ops.rnn.rnn_forward_loop")
def _rnn_forward(fn):
    g = _gen(61)
    for b, t, i, h, dtype in ((1, 1, 1, 1, torch.float32), (2, 5, 3, 4, torch.float32), (3, 7, 2, 6, torch.float64),
                              (4, 0, 3, 2, torch.float32)):
        x = torch.randn(b, t, i, generator=g, dtype=dtype) * 2
        h0 = torch.randn(b, h, generator=g, dtype=dtype)
        weights = [torch.randn(*shape, generator=g, dtype=dtype) * 0.5 for shape in ((h, i), (h, h), (h,), (h,))]
        yield fn(x, h0, *weights)
    yield call(fn, torch.zeros(2, 3, 4), torch.zeros(2, 5), torch.zeros(5, 3), torch.zeros(5, 5), torch.zeros(5),
               torch.zeros(5))


@case("course_utils.models.decoding.softmax_with_temperature")
def _softmax_temperature(fn):
    g = _gen(62)
    yield fn(torch.tensor([5.0, 1.0]), 1.0)
    yield fn(torch.tensor([5.0, 1.0]), 5.0)
    for shape, temperature, dtype in (((4, 11), 0.3, torch.float64), ((3, 2, 5), 7.0, torch.float32),
                                      ((9,), 1.0, torch.float32), ((2, 6), 100.0, torch.float64)):
        yield fn(torch.randn(shape, generator=g, dtype=dtype) * 10, temperature)
    yield fn(torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -1002.0]]))
    yield fn(torch.zeros(0, 4), 2.0)
    yield call(fn, torch.zeros(3), 0.0)
    yield call(fn, torch.zeros(3), -1.0)


def _corpus(seed, size, max_refs, vocabulary=8):
    import random
    rng = random.Random(seed)
    words = "a an red blue green star circle ring two above below of".split()[:vocabulary]
    candidates = [[rng.choice(words) for _ in range(rng.randint(1, 9))] for _ in range(size)]
    references = [[[rng.choice(words) for _ in range(rng.randint(1, 9))] for _ in range(rng.randint(1, max_refs))]
                  for _ in range(size)]
    return candidates, references


@case("course_utils.metrics.text.bleu")
def _bleu(fn):
    reference = [["a red star .".split()]]
    yield fn(["a red star .".split()], reference)
    yield fn(["a a a a".split()], reference, n=1)
    yield fn(["a red star".split()], reference, n=2)
    yield fn(["the the the".split()], [["the cat".split(), "the the".split()]], 1)
    yield fn(["a red star .".split()], [["a red star".split(), "a big red star .".split()]], 1)
    yield fn(["two blue".split()], reference, 2)
    yield fn([], [], 2)
    for seed, size, refs, n in ((1, 10, 1, 1), (2, 10, 3, 2), (3, 25, 2, 3), (4, 6, 4, 1), (5, 1, 1, 2)):
        yield fn(*_corpus(seed, size, refs, vocabulary=4), n)
    yield call(fn, ["a"], reference)
    yield call(fn, [["a"]], [[]])
    yield call(fn, [["a"]], reference, 0)


def _qkv(g, shape, dtype):
    b, h, tq, tk, d, dv = shape
    return (torch.randn(b, h, tq, d, generator=g, dtype=dtype), torch.randn(b, h, tk, d, generator=g, dtype=dtype),
            torch.randn(b, h, tk, dv, generator=g, dtype=dtype))


@case("course_utils.ops.attention.scaled_dot_product_attention",
      "course_utils.ops.attention.scaled_dot_product_attention_loop")
def _sdpa(fn):
    g = _gen(63)
    for shape, dtype in (((2, 3, 4, 5, 8, 3), torch.float32), ((1, 2, 6, 6, 16, 4), torch.float64),
                         ((3, 1, 1, 3, 4, 2), torch.float32)):
        q, k, v = _qkv(g, shape, dtype)
        yield fn(q, k, v)
        mask = torch.rand(shape[0], 1, shape[2], shape[3], generator=g) > 0.4
        mask[..., 0] = True
        yield fn(q, k, v, mask)
    q, k, v = _qkv(g, (2, 1, 5, 5, 4, 3), torch.float32)
    yield fn(q[:, 0], k[:, 0], v[:, 0], torch.ones(5, 5, dtype=torch.bool).tril())  # causal
    lengths = torch.tensor([5, 2])
    yield fn(q[:, 0], k[:, 0], v[:, 0], (torch.arange(5)[None, :] < lengths[:, None])[:, None, :])  # padding
    blind = torch.ones(5, 5, dtype=torch.bool)
    blind[1] = False  # a query with no key: zero weights, zero output
    yield fn(q[:, 0] * 6, k[:, 0] * 6, v[:, 0], blind)
    yield call(fn, q, k[..., :3], v)
    yield call(fn, q, k, v, torch.ones(5, 5))


@case("course_utils.ops.attention.split_heads")
def _split_heads(fn):
    g = _gen(64)
    for shape, heads in (((2, 3, 8), 4), ((3, 7, 12), 3), ((1, 1, 6), 6), ((4, 5, 16), 1), ((2, 0, 8), 2)):
        yield fn(torch.randn(shape, generator=g, dtype=torch.float64), heads)
    yield fn(torch.arange(24).reshape(1, 3, 8), 2)
    yield call(fn, torch.zeros(1, 2, 10), 4)
    yield call(fn, torch.zeros(2, 10), 2)


@case("course_utils.ops.attention.merge_heads")
def _merge_heads(fn):
    g = _gen(65)
    for shape in ((2, 4, 3, 2), (1, 1, 5, 7), (3, 6, 0, 2)):
        yield fn(torch.randn(shape, generator=g))
    yield fn(torch.arange(24).reshape(1, 2, 3, 4))
    yield call(fn, torch.zeros(2, 3, 4))


@case("course_utils.ops.positional.sinusoidal_encoding", "course_utils.ops.positional.sinusoidal_encoding_loop")
def _sinusoidal(fn):
    for p, d in ((1, 2), (6, 4), (50, 16), (0, 8), (3, 64)):
        yield fn(p, d)
        yield fn(p, d, dtype=torch.float64)
    yield fn(20, 8, base=100.0, dtype=torch.float64)
    yield call(fn, 4, 5)
    yield call(fn, 4, 6, base=1.0)


@case("course_utils.ops.patches.patchify", "course_utils.ops.patches.patchify_loop")
def _patchify(fn):
    g = _gen(66)
    for shape, p, dtype in (((1, 1, 4, 4), 2, torch.float32), ((2, 3, 6, 9), 3, torch.float32),
                            ((3, 2, 12, 4), 4, torch.float64), ((1, 5, 3, 6), 1, torch.float32),
                            ((0, 3, 4, 4), 2, torch.float32)):
        yield fn(torch.randn(shape, generator=g, dtype=dtype), p)
    yield fn(torch.arange(2 * 8 * 8).reshape(1, 2, 8, 8), 4)
    yield call(fn, torch.zeros(1, 3, 6, 9), 4)
    yield call(fn, torch.zeros(3, 6, 9), 3)


@case("course_utils.models.vit.vit_embedding_size")
def _vit_embedding_size(fn):
    for args in ((224, 16, 3, 768), (16, 4, 1, 32), (384, 16, 3, 1024), (224, 14, 3, 1280), (8, 8, 2, 5)):
        yield fn(*args)
    yield call(fn, 30, 16, 3, 768)
    yield call(fn, 32, 8, 0, 4)


def _seeded_module(module, seed, dtype=torch.float64):
    g = _gen(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=g, dtype=p.dtype) * 2 - 1) * 0.5)
    return module.to(dtype).eval()


@case("course_utils.models.transformer.MultiHeadSelfAttention.forward")
def _mha_forward(fn):
    from course_utils.models.transformer import MultiHeadSelfAttention
    g = _gen(67)
    for i, (dim, heads, b, t, dtype) in enumerate(((16, 4, 2, 5, torch.float64), (12, 1, 3, 4, torch.float32),
                                                   (24, 6, 1, 7, torch.float64))):
        module = _seeded_module(MultiHeadSelfAttention(dim, heads), 200 + i, dtype)
        x = torch.randn(b, t, dim, generator=g, dtype=dtype)
        yield fn(module, x)
        yield fn(module, x, torch.ones(t, t, dtype=torch.bool).tril(), True)
        lengths = torch.randint(1, t + 1, (b,), generator=g)
        padding = torch.arange(t)[None, :] < lengths[:, None]  # [B, T]
        yield fn(module, x, padding[:, None, None, :], return_attention=True)
    yield call(fn, module, torch.zeros(2, 24))


@case("course_utils.models.transformer.TransformerBlock.attention")
def _block_attention(fn):
    from course_utils.models.transformer import TransformerBlock
    g = _gen(68)
    for i, (args, shape) in enumerate((((16, 4, 2.0, True), (2, 6, 16)), ((12, 1, 4.0, False), (3, 5, 12)),
                                       ((24, 6, 1.0, True), (1, 1, 24)))):
        block = _seeded_module(TransformerBlock(*args), 210 + i)
        yield fn(block, torch.randn(shape, generator=g, dtype=torch.float64))


@case("course_utils.models.transformer.TransformerBlock.forward")
def _block_forward(fn):
    from course_utils.models.transformer import TransformerBlock
    g = _gen(69)
    for i, (args, shape, dtype) in enumerate((((16, 4, 2.0, True), (2, 6, 16), torch.float64),
                                              ((16, 4, 2.0, False), (2, 6, 16), torch.float64),
                                              ((24, 3, 4.0, True), (3, 9, 24), torch.float32),
                                              ((8, 2, 3.0, False), (2, 1, 8), torch.float32))):
        block = _seeded_module(TransformerBlock(*args), 220 + i, dtype)
        yield fn(block, torch.randn(shape, generator=g, dtype=dtype))
    yield call(fn, block, torch.zeros(2, 8))
