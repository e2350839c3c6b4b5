import math
import random
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.train import (
    History,
    accuracy,
    all_reduce_sum,
    batch_size_of,
    count_correct,
    ddp_setup,
    distribute_loader,
    distributed_loader,
    evaluate,
    fit,
    get_rank,
    get_world_size,
    is_distributed,
    seed_everything,
    to_device,
    topk_accuracy,
    train_one_epoch,
)

CPU = torch.device("cpu")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny models: several threads only contend for the cores of a busy machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def blobs(n=96, seed=0):
    """Two well separated Gaussian blobs in 2D: (x Tensor[n, 2], y Tensor[n] int64)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None] * 2.0 - 1.0) * 1.5  # [n, 2]
    return x, y


def loader(x, y, batch_size=16, shuffle=False):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(0) if shuffle else None)


def linear_model(seed=0, d_in=2, d_out=2):
    torch.manual_seed(seed)
    return nn.Linear(d_in, d_out)


# ------------------------------------------------------------------ fit


class TestFit:
    def test_loss_decreases_and_accuracy_rises(self):
        x, y = blobs()
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
        torch.manual_seed(0)
        hist = fit(model, F.cross_entropy, loader(x, y, shuffle=True), loader(x, y), epochs=5, device=CPU,
                   optimizer=torch.optim.Adam(model.parameters(), lr=0.05), metrics={"acc": accuracy},
                   progress=False)
        assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]
        assert hist.val_acc[-1] > 0.95

    def test_history_keys_and_lengths(self):
        x, y = blobs()
        model = linear_model()
        hist = fit(model, F.cross_entropy, loader(x, y), loader(x, y, batch_size=50), epochs=3, device=CPU,
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                   metrics={"acc": accuracy, "top1": lambda o, t: torch.tensor(topk_accuracy(o, t, k=1))},
                   progress=False)
        expected = {"epoch", "train_loss", "train_acc", "train_top1", "val_loss", "val_acc", "val_top1", "lr", "epoch_time"}
        assert set(hist.keys()) == expected
        assert all(len(hist[k]) == 3 for k in expected)
        assert hist.epoch == [1, 2, 3] and hist.num_epochs == 3
        assert hist.train_acc == pytest.approx(hist.train_top1)
        assert all(t >= 0 for t in hist.epoch_time)
        # the last val values are those of the final weights on the whole validation set (two
        # batches, 50 and 46: the sample-weighted mean of the batch means is the full-data mean),
        # computed here without evaluate(), which fit itself calls
        with torch.no_grad():
            logits = model(x)
        assert hist.val_loss[-1] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
        assert hist.val_acc[-1] == pytest.approx((logits.argmax(1) == y).double().mean().item())
        assert isinstance(hist.as_dict(), dict) and hist.as_dict() is not hist.as_dict()

    def test_without_validation_has_no_val_keys(self):
        x, y = blobs(32)
        model = linear_model()
        hist = fit(model, F.cross_entropy, loader(x, y), epochs=1, device=CPU,
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress=False)
        assert not any(k.startswith("val_") for k in hist.keys())

    def test_train_loss_is_the_sample_weighted_mean(self):
        # lr = 0: weights never change, so the epoch train loss is the full-data loss
        x, y = blobs(10)
        model = linear_model()
        hist = fit(model, F.cross_entropy, loader(x, y, batch_size=4), epochs=1, device=CPU,
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.0), progress=False)
        with torch.no_grad():
            expected = F.cross_entropy(model(x), y).item()
        assert hist.train_loss[0] == pytest.approx(expected, rel=1e-6)

    def test_grad_clip_bounds_the_step(self):
        # SGD without momentum: step = -lr * clipped gradient, so its norm is lr * max_norm
        x, y = blobs(16)
        x = x * 100.0  # huge inputs -> huge gradient
        for clip in (0.5, None):
            model = linear_model()
            before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
            fit(model, F.cross_entropy, loader(x, y, batch_size=16), epochs=1, device=CPU, grad_clip=clip,
                optimizer=torch.optim.SGD(model.parameters(), lr=1.0), progress=False)
            after = torch.cat([p.detach().flatten() for p in model.parameters()])
            # reference gradient computed by hand
            ref = linear_model()
            F.cross_entropy(ref(x), y).backward()
            grad = torch.cat([p.grad.flatten() for p in ref.parameters()])
            if clip is None:
                torch.testing.assert_close(before - after, grad)
            else:
                assert grad.norm() > 10 * clip  # clipping really happens
                torch.testing.assert_close(before - after, grad * clip / grad.norm(), rtol=1e-4, atol=1e-6)
                assert (before - after).norm().item() == pytest.approx(clip, rel=1e-4)

    def test_progress_false_prints_nothing(self, capfd):
        x, y = blobs(32)
        model = linear_model()
        fit(model, F.cross_entropy, loader(x, y), loader(x, y), epochs=2, device=CPU,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), metrics={"acc": accuracy}, progress=False)
        out, err = capfd.readouterr()
        assert out == "" and err == ""

    def test_progress_true_shows_a_bar_with_values(self, capfd):
        x, y = blobs(32)
        model = linear_model()
        fit(model, F.cross_entropy, loader(x, y), loader(x, y), epochs=2, device=CPU, log_every=1,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), metrics={"acc": accuracy}, progress=True)
        out, err = capfd.readouterr()
        text = out + err
        assert "epochs" in text and "val_acc" in text and "2/2" in text

    def test_dict_batches_and_dict_outputs(self):
        class DictModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def forward(self, batch):
                return {"logits": self.fc(batch["x"]), "aux": [batch["x"].sum()]}

        class DictData(torch.utils.data.Dataset):
            def __init__(self, x, y):
                self.x, self.y = x, y

            def __len__(self):
                return len(self.y)

            def __getitem__(self, i):
                return {"x": self.x[i], "name": f"s{i}"}, {"label": self.y[i]}

        x, y = blobs(40)
        model = DictModel()
        data = DataLoader(DictData(x, y), batch_size=8)
        seen = []

        def loss_fn(outputs, targets):
            seen.append((set(outputs), set(targets)))
            return F.cross_entropy(outputs["logits"], targets["label"])

        metric = {"acc": lambda o, t: accuracy(o["logits"], t["label"])}
        hist = fit(model, loss_fn, data, data, epochs=2, device=CPU, metrics=metric,
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.5), progress=False)
        assert seen[0] == ({"logits", "aux"}, {"label"})
        assert hist.train_loss[-1] < hist.train_loss[0]
        with torch.no_grad():  # the final validation accuracy, without evaluate() (which fit calls)
            expected_acc = (model.fc(x).argmax(1) == y).double().mean().item()
        assert hist.val_acc[-1] == pytest.approx(expected_acc)

    def test_forward_fn_for_models_that_take_targets(self):
        x, y = blobs(32)
        model = linear_model()

        def forward_fn(m, inputs, targets):
            return F.cross_entropy(m(inputs), targets)  # the model "returns its loss"

        hist = fit(model, lambda out, t: out, loader(x, y), loader(x, y), epochs=2, device=CPU,
                   forward_fn=forward_fn, optimizer=torch.optim.SGD(model.parameters(), lr=0.5), progress=False)
        assert hist.train_loss[-1] < hist.train_loss[0] and hist.val_loss[-1] < hist.val_loss[0]

    @pytest.mark.parametrize("step, expected_lrs", [("epoch", [1.0, 0.5, 0.25]), ("batch", [1.0, 0.125, 0.015625])])
    def test_scheduler_stepping(self, step, expected_lrs):
        x, y = blobs(48)  # 3 batches of 16
        model = linear_model()
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        hist = fit(model, F.cross_entropy, loader(x, y), epochs=3, device=CPU, optimizer=opt, scheduler=sched,
                   scheduler_step=step, progress=False)
        assert hist.lr == pytest.approx(expected_lrs)

    def test_reduce_on_plateau_is_stepped_with_the_val_loss(self):
        x, y = blobs(32)
        model = linear_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        seen = []

        class Spy(torch.optim.lr_scheduler.ReduceLROnPlateau):
            def step(self, metrics):
                seen.append(float(metrics))
                super().step(metrics)

        hist = fit(model, F.cross_entropy, loader(x, y), loader(x, y, batch_size=5), epochs=3, device=CPU,
                   optimizer=opt, scheduler=Spy(opt), progress=False)
        assert seen == pytest.approx(hist.val_loss)
        with pytest.raises(ValueError, match="ReduceLROnPlateau"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, device=CPU, optimizer=opt, scheduler=Spy(opt),
                scheduler_step="batch", progress=False)

    def test_callback_can_stop_early(self):
        x, y = blobs(32)
        model = linear_model()
        calls = []
        hist = fit(model, F.cross_entropy, loader(x, y), epochs=10, device=CPU,
                   optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress=False,
                   on_epoch_end=[lambda e, logs: calls.append((e, sorted(logs))), lambda e, logs: e == 2])
        assert hist.num_epochs == 2 and [c[0] for c in calls] == [1, 2]
        assert "train_loss" in calls[0][1]

    def test_amp_is_a_noop_on_cpu(self):
        x, y = blobs(32)
        results = []
        for amp in (True, False):
            model = linear_model()
            fit(model, F.cross_entropy, loader(x, y), epochs=1, device=CPU, amp=amp,
                optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress=False)
            results.append(model.weight.detach().clone())
        torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)

    def test_diverging_loss_raises(self):
        x, y = blobs(32)
        x[5] = float("nan")
        model = linear_model()
        with pytest.raises(FloatingPointError, match="diverged"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, device=CPU,
                optimizer=torch.optim.SGD(model.parameters(), lr=0.1), progress=False)

    def test_input_errors(self):
        x, y = blobs(32)
        model = linear_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        kw = dict(device=CPU, optimizer=opt, progress=False)
        with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
            fit(model, F.cross_entropy, loader(x, y), epochs=0, **kw)
        with pytest.raises(ValueError, match="amp must be one of"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, amp="yes", **kw)
        with pytest.raises(ValueError, match="scheduler_step"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, scheduler_step="step", **kw)
        with pytest.raises(ValueError, match="grad_clip"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, grad_clip=0.0, **kw)
        with pytest.raises(TypeError, match="optimizer must be"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, device=CPU, optimizer="sgd", progress=False)
        with pytest.raises(TypeError, match="pair"):
            fit(model, F.cross_entropy, [(x, y, y)], epochs=1, **kw)
        with pytest.raises(TypeError, match="scalar tensor"):
            fit(model, lambda o, t: F.cross_entropy(o, t, reduction="none"), loader(x, y), epochs=1, **kw)
        with pytest.raises(ValueError, match="must not be named 'loss'"):
            fit(model, F.cross_entropy, loader(x, y), epochs=1, metrics={"loss": accuracy}, **kw)
        with pytest.raises(ValueError, match="no batches"):
            fit(model, F.cross_entropy, [], epochs=1, **kw)

    def test_arguments_are_checked_before_the_first_batch(self):
        # model=None, device="banana", on_epoch_end=5 and scheduler=5 used to fail late (after a
        # whole epoch) or with an internal message
        x, y = blobs(32)
        model = linear_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        batches = []

        class Spy:
            def __iter__(self):
                batches.append(1)
                return iter(loader(x, y))

        kw = dict(epochs=1, optimizer=opt, progress=False)
        cases = [
            (dict(model=None), TypeError, "model must be a torch.nn.Module, got NoneType"),
            (dict(device="banana"), ValueError, "device must name a device"),
            (dict(device=3.5), TypeError, "device must be a torch.device"),
            (dict(on_epoch_end=5), TypeError, "on_epoch_end must be callable"),
            (dict(on_epoch_end=[print, 5]), TypeError, r"on_epoch_end\[1\] must be callable"),
            (dict(scheduler=5), TypeError, "scheduler must be a learning-rate scheduler"),
            (dict(loss_fn="cross_entropy"), TypeError, "loss_fn must be callable"),
            (dict(metrics={"acc": 0.5}), TypeError, r"metrics\['acc'\] must be callable"),
            (dict(metrics=[accuracy]), TypeError, "metrics must be a dict"),
            (dict(val_loader=5), TypeError, "val_loader must be an iterable"),
            (dict(train_loader=torch.zeros(3)), TypeError, "train_loader must be an iterable"),
            (dict(grad_clip=-1.0), ValueError, "grad_clip must be > 0, got -1.0"),
            (dict(grad_clip=math.nan), ValueError, "grad_clip must be a finite number > 0, got nan"),
            (dict(forward_fn=1), TypeError, "forward_fn must be callable"),
            (dict(progress="yes"), TypeError, "progress must be True or False"),
            (dict(log_every=0), ValueError, "log_every must be a positive integer"),
        ]
        for change, error, message in cases:
            args = dict(model=model, loss_fn=F.cross_entropy, train_loader=Spy(), **kw)
            args.update(change)
            with pytest.raises(error, match=message):
                fit(**args)
        assert batches == []  # not one batch was drawn

    @pytest.mark.parametrize("clip", [-1.0, 0.0, math.nan, math.inf, "1"])
    def test_train_one_epoch_refuses_a_bad_grad_clip(self, clip):
        # -1 used to run gradient ascent, 0 to skip every update and nan to poison the weights
        x, y = blobs(16)
        model = linear_model()
        before = model.weight.detach().clone()
        with pytest.raises(TypeError if isinstance(clip, str) else ValueError, match="grad_clip must be"):
            train_one_epoch(model, F.cross_entropy, loader(x, y), torch.optim.SGD(model.parameters(), lr=1.0),
                            grad_clip=clip)
        assert torch.equal(model.weight, before)

    def test_train_one_epoch_and_evaluate_check_their_arguments(self):
        x, y = blobs(16)
        model = linear_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
            train_one_epoch(model, F.cross_entropy, loader(x, y), "sgd")
        with pytest.raises(TypeError, match="loader must be an iterable"):
            train_one_epoch(model, F.cross_entropy, None, opt)
        with pytest.raises(TypeError, match="scaler must be a torch.amp.GradScaler"):
            train_one_epoch(model, F.cross_entropy, loader(x, y), opt, scaler=1)
        with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
            evaluate("model", loader(x, y))
        with pytest.raises(ValueError, match="device must name a device"):
            evaluate(model, loader(x, y), device="banana")
        with pytest.raises(TypeError, match="loss_fn must be callable"):
            evaluate(model, loader(x, y), loss_fn=0)

    def test_train_one_epoch_returns_means(self):
        x, y = blobs(20)
        model = linear_model()
        out = train_one_epoch(model, F.cross_entropy, loader(x, y, batch_size=8),
                              torch.optim.SGD(model.parameters(), lr=0.0), metrics={"acc": accuracy})
        with torch.no_grad():
            logits = model(x)
        assert out["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
        assert out["acc"] == pytest.approx(accuracy(logits, y))
        assert model.training


# ------------------------------------------------------------------ evaluate


class TestEvaluate:
    def test_weighted_by_batch_size_with_uneven_last_batch(self):
        x, y = blobs(10)
        model = linear_model()
        # batches of 4, 4, 2: a plain mean of batch means would weight the last 2 samples double
        res = evaluate(model, loader(x, y, batch_size=4), F.cross_entropy, {"acc": accuracy})
        with torch.no_grad():
            logits = model(x)
        assert res["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
        assert res["acc"] == pytest.approx((logits.argmax(1) == y).float().mean().item())
        batch_means = [F.cross_entropy(model(xb), yb).item() for xb, yb in loader(x, y, batch_size=4)]
        assert res["loss"] != pytest.approx(sum(batch_means) / 3, rel=1e-6)

    @pytest.mark.parametrize("mode", ["train", "eval"])
    def test_mode_restored_and_no_grad(self, mode):
        x, y = blobs(8)
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        model.train(mode == "train")
        seen = {}

        def probe(outputs, targets):
            seen["grad"] = outputs.requires_grad
            seen["training"] = model.training
            return 0.0

        evaluate(model, loader(x, y), metrics={"probe": probe})
        assert seen == {"grad": False, "training": False}
        assert model.training == (mode == "train")

    def test_mode_restored_after_an_error(self):
        model = linear_model().train()
        with pytest.raises(RuntimeError):
            evaluate(model, [(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))])  # wrong input width
        assert model.training

    def test_empty_loader_gives_nan_and_device_moves_model(self):
        model = linear_model()
        res = evaluate(model, [], F.cross_entropy, {"acc": accuracy}, device="cpu")
        assert set(res) == {"loss", "acc"} and all(math.isnan(v) for v in res.values())
        assert evaluate(model, []) == {}

    def test_detection_style_targets(self):
        images = torch.randn(5, 3, 4, 4)
        targets = [{"boxes": torch.zeros(i, 4), "labels": torch.zeros(i, dtype=torch.long)} for i in range(5)]
        data = [(images[:3], targets[:3]), (images[3:], targets[3:])]
        counts = lambda outputs, t: float(np.mean([len(d["boxes"]) for d in t]))  # noqa: E731
        res = evaluate(nn.Identity(), data, metrics={"boxes_per_image": counts})
        assert res["boxes_per_image"] == pytest.approx(2.0)  # (0+1+2+3+4) / 5 images


# ------------------------------------------------------------------ metrics


class TestMetrics:
    def test_accuracy_and_count_against_a_loop(self):
        g = torch.Generator().manual_seed(1)
        logits = torch.randn(50, 7, generator=g)
        y = torch.randint(0, 7, (50,), generator=g)
        correct = sum(int(max(range(7), key=lambda c: logits[i, c]) == y[i]) for i in range(50))
        assert count_correct(logits, y) == correct
        assert accuracy(logits, y) == pytest.approx(correct / 50)
        assert accuracy(logits.argmax(1), y) == pytest.approx(correct / 50)  # integer predictions
        assert accuracy(logits, F.one_hot(y, 7).float()) == pytest.approx(correct / 50)  # one-hot targets

    def test_topk_against_a_loop_and_torchmetrics(self):
        g = torch.Generator().manual_seed(2)
        logits = torch.randn(40, 10, generator=g)
        y = torch.randint(0, 10, (40,), generator=g)
        for k in (1, 3, 10):
            hits = sum(int(y[i] in sorted(range(10), key=lambda c: -logits[i, c])[:k]) for i in range(40))
            assert topk_accuracy(logits, y, k=k) == pytest.approx(hits / 40)
        assert topk_accuracy(logits, y, k=1) == pytest.approx(accuracy(logits, y))
        assert topk_accuracy(logits, y, k=10) == 1.0
        torchmetrics = pytest.importorskip("torchmetrics")
        ref = torchmetrics.functional.accuracy(logits, y, task="multiclass", num_classes=10, top_k=3, average="micro")
        assert topk_accuracy(logits, y, k=3) == pytest.approx(ref.item())

    def test_pixel_accuracy_for_segmentation(self):
        logits = torch.zeros(2, 3, 4, 4)
        logits[:, 1] = 1.0  # predict class 1 everywhere
        target = torch.ones(2, 4, 4, dtype=torch.long)
        target[0, 0, :] = 2  # 4 wrong pixels out of 32
        assert accuracy(logits, target) == pytest.approx(28 / 32)

    def test_empty_and_errors(self):
        assert math.isnan(accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))
        assert count_correct(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)) == 0
        assert math.isnan(topk_accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), k=2))
        with pytest.raises(ValueError, match="one more dimension"):
            accuracy(torch.zeros(4), torch.zeros(4, dtype=torch.long))
        with pytest.raises(ValueError, match="same shape"):
            accuracy(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))
        with pytest.raises(ValueError, match="at most the number of classes"):
            topk_accuracy(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), k=5)
        with pytest.raises(TypeError, match="Tensor"):
            accuracy([0.1, 0.9], [1])


# ------------------------------------------------------------------ batches, seeding, history


def test_to_device_nested_structures():
    Pair = namedtuple("Pair", "image target")
    batch = [
        {"image": torch.zeros(2, 3), "boxes": [torch.zeros(1, 4), torch.ones(2, 4)], "id": "img7", "n": 3},
        (torch.zeros(1), None),
        Pair(torch.zeros(1), OrderedDict(a=torch.zeros(2))),
    ]
    out = to_device(batch, "meta")  # "meta" tensors: a real device move without needing a GPU
    assert isinstance(out, list) and isinstance(out[1], tuple) and isinstance(out[2], Pair)
    assert out[0]["image"].device.type == "meta" and all(b.device.type == "meta" for b in out[0]["boxes"])
    assert out[0]["id"] == "img7" and out[0]["n"] == 3 and out[1][1] is None
    assert isinstance(out[2].target, OrderedDict) and out[2].target["a"].device.type == "meta"
    assert batch[0]["image"].device.type == "cpu"  # the input is not modified


def test_batch_size_of():
    assert batch_size_of(torch.zeros(7, 3)) == 7
    assert batch_size_of([{}, {}]) == 2
    assert batch_size_of({"label": torch.zeros(4)}) == 4
    assert batch_size_of(torch.tensor(1.0), inputs=torch.zeros(6, 2)) == 6  # scalar targets: use the inputs
    with pytest.raises(TypeError, match="batch size"):
        batch_size_of(None, None)


def test_seed_everything_repeats_every_generator():
    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3)

    g = seed_everything(123)
    a = draw()
    g2 = seed_everything(123)
    b = draw()
    assert a[:2] == b[:2] and torch.equal(a[2], b[2])
    assert isinstance(g, torch.Generator)
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=g2))
    with pytest.raises(ValueError, match="non-negative"):
        seed_everything(-1)


def test_seed_everything_checks_before_seeding_anything():
    # 2**64 used to fail in torch.manual_seed after Python's and NumPy's generators were reseeded
    random.seed(1)
    np.random.seed(1)
    expected = random.random(), float(np.random.rand())
    random.seed(1)
    np.random.seed(1)
    with pytest.raises(ValueError, match=r"seed must be at most 18446744073709551615, got 18446744073709551616"):
        seed_everything(2**64)
    assert (random.random(), float(np.random.rand())) == expected  # untouched
    with pytest.raises(TypeError, match="seed must be an int, got float"):
        seed_everything(1.5)
    with pytest.raises(TypeError, match="deterministic must be True or False"):
        seed_everything(0, deterministic="no")
    assert isinstance(seed_everything(2**64 - 1), torch.Generator)


def test_history_object():
    h = History()
    h.append({"epoch": 1, "train_loss": 1.0})
    h.append({"epoch": 2, "train_loss": 0.4, "val_loss": 0.5})  # a new key is back-filled with nan
    assert h.num_epochs == 2 and math.isnan(h.val_loss[0]) and h.val_loss[1] == 0.5
    assert h.best("train_loss") == (2, 0.4) and h.best("train_loss", mode="max") == (1, 1.0)
    assert "train_loss" in h and list(h) == ["epoch", "train_loss", "val_loss"]
    with pytest.raises(AttributeError, match="has no 'val_acc'"):
        h.val_acc
    with pytest.raises(KeyError, match="has no 'x'"):
        h["x"]
    assert "epochs=2" in repr(h)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = h.plot()
    assert [ax.get_title() for ax in fig.axes] == ["loss"]
    plt.close(fig)


def test_distributed_helpers_in_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("DLCV_DEVICE", "cpu")
    assert ddp_setup() == CPU  # without torchrun: no process group, the usual device
    assert not is_distributed() and get_rank() == 0 and get_world_size() == 1
    data = TensorDataset(torch.arange(10.0), torch.arange(10))
    plain = distributed_loader(data, 4, shuffle=False)
    assert [b[1].tolist() for b in plain] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    shuffled = [b[1].tolist() for b in distributed_loader(data, 4, seed=3)]
    assert shuffled == [b[1].tolist() for b in distributed_loader(data, 4, seed=3)]
    assert distribute_loader(plain) is plain
    t = torch.ones(3)
    assert all_reduce_sum(t) is t and t.tolist() == [1.0, 1.0, 1.0]
