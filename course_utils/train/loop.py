"""The training loop of the course: :func:`fit`, :func:`train_one_epoch`, :func:`evaluate`.

One epoch of supervised training is, for every batch ``(inputs, targets)``::

    outputs = model(inputs)            # forward
    loss = loss_fn(outputs, targets)   # a scalar tensor, the batch mean
    optimizer.zero_grad(); loss.backward(); optimizer.step()

Everything else here is bookkeeping around those lines: moving batches to the
device, epoch means weighted by batch size (the last batch is often smaller),
gradient clipping, mixed precision on CUDA, learning-rate schedules, a progress
bar, and data parallelism under ``torchrun``. Batches are pairs ``(inputs,
targets)``; targets may be a tensor, a list of dicts (detection) or any nesting.
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from course_utils.checks import check_bool, check_callable, check_device, check_in, check_number, check_positive_int
from course_utils.runtime import get_device

from .batch import batch_size_of, to_device
from .distributed import all_reduce_sum, distribute_loader, get_rank, is_distributed

__all__ = ["History", "fit", "train_one_epoch", "evaluate"]

MetricFn = Callable[[Any, Any], "float | Tensor"]
ForwardFn = Callable[[nn.Module, Any, Any], Any]
EpochCallback = Callable[[int, dict], "bool | None"]
DEFAULT_LOG_EVERY = 10  # batches between progress-bar postfix updates


# --------------------------------------------------------------------------- history


class History:
    """Per-epoch values recorded by :func:`fit`, readable as a dict of lists.

    Keys: ``epoch`` (1, 2, ...), ``train_loss``, ``train_<m>`` for each metric ``m``,
    ``val_loss`` and ``val_<m>`` when there is a validation loader, ``lr`` (learning
    rate of the first parameter group at the start of the epoch) and ``epoch_time``
    (seconds). Read them as ``history["val_loss"]`` or ``history.val_loss``.
    ``course_utils.viz.plot_history(history)`` (or ``history.plot()``) draws them.

    Examples:
        >>> h = History()
        >>> h.append({"epoch": 1, "train_loss": 0.9}); h.append({"epoch": 2, "train_loss": 0.5})
        >>> h.train_loss, h.num_epochs, h.best("train_loss")
        ([0.9, 0.5], 2, (2, 0.5))
    """

    def __init__(self, data: Mapping[str, Sequence[float]] | None = None) -> None:
        self._data: dict[str, list[float]] = {str(k): list(v) for k, v in (data or {}).items()}

    def append(self, values: Mapping[str, float]) -> None:
        """Record one epoch; a key seen for the first time is back-filled with ``nan``."""
        n = self.num_epochs
        for key, value in values.items():
            self._data.setdefault(key, [math.nan] * n).append(float(value))
        for key, column in self._data.items():
            if len(column) == n:  # key missing this epoch
                column.append(math.nan)

    @property
    def num_epochs(self) -> int:
        """Number of recorded epochs."""
        return max((len(v) for v in self._data.values()), default=0)

    def keys(self) -> list[str]:
        return list(self._data)

    def items(self):
        return self._data.items()

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self._data[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it has {sorted(self._data)}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __getattr__(self, name: str) -> list[float]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"History has no {name!r}; it has {sorted(self._data)}") from None

    def as_dict(self) -> dict[str, list[float]]:
        """A plain ``dict`` of copies of the per-epoch lists (e.g. to save as JSON)."""
        return {k: list(v) for k, v in self._data.items()}

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """``(epoch, value)`` where ``key`` was lowest (``mode="min"``) or highest (``"max"``)."""
        check_in(mode, "mode", ("min", "max"))
        values = self[key]
        finite = [(v, i) for i, v in enumerate(values) if not math.isnan(v)]
        if not finite:
            raise ValueError(f"History has no finite values for {key!r}")
        value, i = min(finite) if mode == "min" else max(finite)
        epochs = self._data.get("epoch")
        return (int(epochs[i]) if epochs else i + 1), value

    def plot(self, metrics: Sequence[str] | None = None):
        """Plot the curves with :func:`course_utils.viz.plot_history`; returns the Figure."""
        from course_utils.viz import plot_history  # matplotlib only when plotting

        return plot_history(self, metrics)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self._data.items() if v and k != "epoch"}
        return f"History(epochs={self.num_epochs}, last={last})"


# --------------------------------------------------------------------------- helpers


def _progress_bar(**kwargs):
    """A ``tqdm.auto`` bar: a widget in Jupyter, text in a terminal.

    In a Jupyter kernel the bar never goes to stderr (nbgrader counts any stderr
    output of a graded cell as a failure): the widget is displayed as cell output,
    and the text fallback (without ipywidgets) writes to stdout.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm warns (on stderr) when ipywidgets is missing
        from tqdm.auto import tqdm
    if "ipykernel" in sys.modules:
        kwargs.setdefault("file", sys.stdout)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(**kwargs)


def _kind(value: Any) -> str:
    return type(value).__name__


def _check_model(model, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {_kind(model)}")
    return model


def _check_loader(loader, name: str) -> None:
    if isinstance(loader, (str, bytes, Tensor, Mapping)) or not hasattr(loader, "__iter__"):
        raise TypeError(f"{name} must be an iterable of (inputs, targets) batches (a DataLoader or a list), "
                        f"got {_kind(loader)}")


def _check_metrics(metrics) -> dict[str, MetricFn]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict name -> fn(outputs, targets), got {_kind(metrics)}")
    for key, fn in metrics.items():
        if not isinstance(key, str):
            raise TypeError(f"metrics must have string names, got {key!r}")
        check_callable(fn, f"metrics[{key!r}]")
    return dict(metrics)


def _check_scheduler(scheduler) -> None:
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"scheduler must be a learning-rate scheduler (with a step() method) or None, "
                        f"got {_kind(scheduler)}")


def _check_grad_clip(grad_clip) -> float | None:
    if grad_clip is None:
        return None
    # > 0 and finite: -1 would climb the gradient, 0 freeze every update and nan poison the weights
    return check_number(grad_clip, "grad_clip", low=0.0, low_open=True)


def _check_step_args(model, loss_fn, loader, loader_name, optimizer, device, metrics, scheduler, grad_clip, amp,
                     forward_fn, progress, log_every) -> tuple[torch.device | None, dict, float | None]:
    """Every argument of a training epoch, checked before the first batch."""
    _check_model(model)
    check_callable(loss_fn, "loss_fn")
    _check_loader(loader, loader_name)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {_kind(optimizer)}")
    device = None if device is None else check_device(device, "device")
    metrics = _check_metrics(metrics)
    _check_scheduler(scheduler)
    grad_clip = _check_grad_clip(grad_clip)
    check_in(amp, "amp", ("auto", True, False))
    if forward_fn is not None:
        check_callable(forward_fn, "forward_fn")
    check_bool(progress, "progress")
    check_positive_int(log_every, "log_every")
    return device, metrics, grad_clip


def _resolve_amp(amp: bool | str, device: torch.device) -> bool:
    check_in(amp, "amp", ("auto", True, False))
    # Mixed precision pays off (and GradScaler is defined) on CUDA only; elsewhere it is a no-op.
    return bool(amp) and device.type == "cuda"


def _split_batch(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        "each batch must be a pair (inputs, targets); got "
        + (f"a {type(batch).__name__} of length {len(batch)}" if isinstance(batch, (tuple, list)) else type(batch).__name__)
    )


def _check_loss(loss: Any) -> Tensor:
    if not isinstance(loss, Tensor) or loss.ndim != 0:
        shape = list(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise TypeError(f"loss_fn must return a scalar tensor (the batch mean), got {shape}")
    return loss


def _metric_value(fn: MetricFn, name: str, outputs: Any, targets: Any) -> float:
    value = fn(outputs, targets)
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"metric {name!r} must return a float or a one-element tensor, got shape {list(value.shape)}")
        value = value.item()
    return float(value)


def _device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


class _Means:
    """Running sums of batch means weighted by batch size, reduced over processes at the end."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        self.sums = [0.0] * len(self.names)
        self.count = 0

    def add(self, values: Sequence[float], n: int) -> None:
        for i, v in enumerate(values):
            self.sums[i] += v * n
        self.count += n

    def current(self) -> dict[str, float]:
        return {k: (s / self.count if self.count else math.nan) for k, s in zip(self.names, self.sums)}

    def result(self, device: torch.device, reduce: bool) -> dict[str, float]:
        if reduce:
            # float64: sums of thousands of per-sample values must not lose digits
            t = torch.tensor(self.sums + [float(self.count)], dtype=torch.float64, device=device)
            t = all_reduce_sum(t).tolist()
            self.sums, self.count = t[:-1], int(t[-1])
        return self.current()


def _fmt(values: Mapping[str, float]) -> dict[str, str]:
    return {k: f"{v:.4g}" for k, v in values.items() if not math.isnan(v)}


# --------------------------------------------------------------------------- one epoch


def train_one_epoch(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor],
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    *,
    device: torch.device | str | None = None,
    metrics: Mapping[str, MetricFn] | None = None,
    scheduler: Any = None,
    grad_clip: float | None = None,
    amp: bool | str = "auto",
    scaler: "torch.amp.GradScaler | None" = None,
    forward_fn: ForwardFn | None = None,
    progress: bool = False,
    log_every: int = DEFAULT_LOG_EVERY,
    desc: str = "train",
) -> dict[str, float]:
    """Train for one pass over ``loader``; return the epoch means of the loss and metrics.

    Args:
        model: the network, already on ``device`` (possibly wrapped in DDP).
        loss_fn: ``loss_fn(outputs, targets) -> Tensor[]``, the mean over the batch.
        loader: yields ``(inputs, targets)``.
        optimizer: any ``torch.optim`` optimizer.
        device: where batches go; default the model's device.
        metrics: name -> ``fn(outputs, targets)`` returning the batch mean (float or tensor).
        scheduler: stepped after *every batch* when given (per-epoch stepping is :func:`fit`'s job).
        grad_clip: clip the global gradient norm to this value (``clip_grad_norm_``), a
            positive finite number, or None.
        amp: mixed precision on CUDA (``"auto"``/True); ignored elsewhere.
        scaler: a ``GradScaler`` to reuse across epochs (created if None).
        forward_fn: ``forward_fn(model, inputs, targets) -> outputs``; default ``model(inputs)``.
        progress: show a bar over the batches.
        log_every: batches between updates of the bar's loss/metric display.

    Returns:
        ``{"loss": ..., <metric>: ...}``: means over all samples of the epoch (over all
        processes under DDP). Metrics are measured in train mode while the weights change.
    """
    device, metrics, grad_clip = _check_step_args(model, loss_fn, loader, "loader", optimizer, device, metrics,
                                                  scheduler, grad_clip, amp, forward_fn, progress, log_every)
    if scaler is not None and not isinstance(scaler, torch.amp.GradScaler):
        raise TypeError(f"scaler must be a torch.amp.GradScaler or None, got {_kind(scaler)}")
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {_kind(desc)}")
    device = device if device is not None else _device_of(model)
    use_amp = _resolve_amp(amp, device)
    if scaler is None:
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    means = _Means(["loss", *metrics])
    model.train()
    total = len(loader) if hasattr(loader, "__len__") else None
    bar = _progress_bar(total=total, desc=desc, leave=False, disable=not progress)
    try:
        for step, batch in enumerate(loader):
            inputs, targets = _split_batch(to_device(batch, device))
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                outputs = forward_fn(model, inputs, targets) if forward_fn is not None else model(inputs)
                loss = _check_loss(loss_fn(outputs, targets))
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise FloatingPointError(
                    f"the loss is {loss_value} at batch {step}: training diverged; "
                    "try a lower learning rate, gradient clipping (grad_clip) or check the inputs"
                )
            scaler.scale(loss).backward()
            if grad_clip is not None:
                scaler.unscale_(optimizer)  # clip the true gradients, not the loss-scaled ones
                nn.utils.clip_grad_norm_(model.parameters(), max_norm=grad_clip)
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            with torch.no_grad():
                detached = outputs.detach() if isinstance(outputs, Tensor) else outputs
                values = [loss_value] + [_metric_value(fn, k, detached, targets) for k, fn in metrics.items()]
            means.add(values, batch_size_of(targets, inputs))
            bar.update(1)
            if progress and (step + 1) % log_every == 0:
                bar.set_postfix(_fmt(means.current()), refresh=False)
    finally:
        bar.close()
    if means.count == 0:
        raise ValueError("the train loader yielded no batches")
    return means.result(device, reduce=is_distributed())


# --------------------------------------------------------------------------- evaluation


def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[Any, Any], Tensor] | None = None,
    metrics: Mapping[str, MetricFn] | None = None,
    device: torch.device | str | None = None,
    *,
    amp: bool | str = "auto",
    forward_fn: ForwardFn | None = None,
    progress: bool = False,
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader``, in eval mode without gradients.

    Batch means are weighted by batch size, so an uneven last batch counts exactly as
    much as its samples. The model's train/eval mode is restored afterwards. Under
    ``torchrun``, a loader with a ``DistributedSampler`` is summed over all processes;
    any other loader is evaluated in full by every process.

    Args:
        model: the network.
        loader: yields ``(inputs, targets)``.
        loss_fn: ``loss_fn(outputs, targets) -> Tensor[]``, or None to skip the loss.
        metrics: name -> ``fn(outputs, targets)`` returning the batch mean.
        device: where to run; default the model's device (the model is moved if given).
        amp: mixed precision on CUDA (``"auto"``/True); ignored elsewhere.
        forward_fn: ``forward_fn(model, inputs, targets) -> outputs``; default ``model(inputs)``.
        progress: show a bar over the batches.

    Returns:
        ``{"loss": ..., <metric>: ...}`` (``loss`` only with ``loss_fn``); values are
        ``nan`` for an empty loader.

    Examples:
        >>> from course_utils.train import accuracy
        >>> data = [(torch.eye(3), torch.tensor([0, 1, 2])), (torch.eye(3)[:1], torch.tensor([1]))]
        >>> evaluate(nn.Identity(), data, metrics={"acc": accuracy})
        {'acc': 0.75}
    """
    _check_model(model)
    _check_loader(loader, "loader")
    if loss_fn is not None:
        check_callable(loss_fn, "loss_fn")
    metrics = _check_metrics(metrics)
    check_in(amp, "amp", ("auto", True, False))
    if forward_fn is not None:
        check_callable(forward_fn, "forward_fn")
    check_bool(progress, "progress")
    if device is None:
        device = _device_of(model)
    else:
        device = check_device(device, "device")
        model.to(device)
    use_amp = _resolve_amp(amp, device)
    names = (["loss"] if loss_fn is not None else []) + list(metrics)
    means = _Means(names)
    was_training = model.training
    model.eval()
    bar = _progress_bar(total=len(loader) if hasattr(loader, "__len__") else None, desc="eval", leave=False,
                        disable=not progress)
    try:
        with torch.no_grad():
            for batch in loader:
                inputs, targets = _split_batch(to_device(batch, device))
                with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                    outputs = forward_fn(model, inputs, targets) if forward_fn is not None else model(inputs)
                    values = [_check_loss(loss_fn(outputs, targets)).item()] if loss_fn is not None else []
                values += [_metric_value(fn, k, outputs, targets) for k, fn in metrics.items()]
                means.add(values, batch_size_of(targets, inputs))
                bar.update(1)
    finally:
        bar.close()
        model.train(was_training)
    sharded = isinstance(getattr(loader, "sampler", None), DistributedSampler)
    return means.result(device, reduce=sharded and is_distributed())


# --------------------------------------------------------------------------- fit


def fit(
    model: nn.Module,
    loss_fn: Callable[[Any, Any], Tensor],
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    scheduler_step: str = "epoch",
    device: torch.device | str | None = None,
    metrics: Mapping[str, MetricFn] | None = None,
    grad_clip: float | None = None,
    amp: bool | str = "auto",
    progress: bool = True,
    log_every: int = DEFAULT_LOG_EVERY,
    on_epoch_end: EpochCallback | Sequence[EpochCallback] | None = None,
    forward_fn: ForwardFn | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs, evaluating on ``val_loader`` after each one.

    Args:
        model: the network; moved to ``device`` and trained in place.
        loss_fn: ``loss_fn(outputs, targets) -> Tensor[]``, the batch mean. ``outputs`` is
            whatever the model returns (a tensor, tuple or dict), passed through as is.
        train_loader: yields ``(inputs, targets)``; inputs/targets may be tensors or any
            nesting of lists, tuples and dicts of tensors (moved with :func:`to_device`).
        val_loader: evaluated with :func:`evaluate` after every epoch, or None.
        epochs: number of passes over ``train_loader``.
        optimizer: built on ``model.parameters()``.
        scheduler: a learning-rate scheduler, or None. ``ReduceLROnPlateau`` is stepped
            with the validation loss (train loss without validation).
        scheduler_step: ``"epoch"`` (default) or ``"batch"`` (e.g. ``OneCycleLR``).
        device: default :func:`course_utils.runtime.get_device` (``cuda:LOCAL_RANK`` or
            the CPU under ``torchrun``).
        metrics: name -> ``fn(outputs, targets)`` returning the batch mean as a float or
            one-element tensor, e.g. ``{"accuracy": accuracy}``; recorded as
            ``train_<name>`` (measured during the epoch, in train mode) and ``val_<name>``.
        grad_clip: clip the global gradient norm to this value after ``backward()`` (a positive
            finite number, or None).
        amp: automatic mixed precision (float16 autocast + GradScaler) when True or
            ``"auto"`` *and* the device is CUDA; a no-op on CPU/MPS. False disables it.
        progress: a ``tqdm.auto`` bar over epochs with the latest values, and one over
            the batches of the current epoch (a widget in Jupyter, text on stderr in a
            terminal, stdout in a kernel without ipywidgets). ``False`` prints nothing at
            all. Under ``torchrun`` only rank 0 shows it.
        log_every: batches between updates of the running loss in the batch bar.
        on_epoch_end: ``callback(epoch, logs)`` or a list of them, called after each epoch
            with ``logs`` the values just appended to the history; returning True stops
            training (early stopping).
        forward_fn: ``forward_fn(model, inputs, targets) -> outputs`` for models whose call
            is not ``model(inputs)`` (e.g. torchvision detectors take targets in training).

    Returns:
        The :class:`History` of per-epoch values.

    Under ``torchrun`` (after :func:`course_utils.train.ddp_setup`) the model is wrapped in
    ``DistributedDataParallel``, a train loader without a ``DistributedSampler`` is
    rebuilt with one (its ``batch_size`` becomes per process), and the recorded train
    values are averaged over all processes.

    Examples:
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
        >>> data = list(zip(x.split(16), y.split(16)))
        >>> model = nn.Linear(2, 2)
        >>> h = fit(model, nn.functional.cross_entropy, data, data, epochs=3, device="cpu",
        ...         optimizer=torch.optim.SGD(model.parameters(), lr=0.5), progress=False)
        >>> h.num_epochs, h.train_loss[-1] < h.train_loss[0], sorted(h.keys())
        (3, True, ['epoch', 'epoch_time', 'lr', 'train_loss', 'val_loss'])
    """
    # Every argument is checked here, before the first batch: a mistake must not cost an epoch.
    check_positive_int(epochs, "epochs")
    check_in(scheduler_step, "scheduler_step", ("epoch", "batch"))
    device, metrics, grad_clip = _check_step_args(model, loss_fn, train_loader, "train_loader", optimizer, device,
                                                  metrics, scheduler, grad_clip, amp, forward_fn, progress, log_every)
    if val_loader is not None:
        _check_loader(val_loader, "val_loader")
    callbacks = [] if on_epoch_end is None else (list(on_epoch_end) if isinstance(on_epoch_end, (list, tuple)) else [on_epoch_end])
    for i, callback in enumerate(callbacks):
        check_callable(callback, "on_epoch_end" if callback is on_epoch_end else f"on_epoch_end[{i}]")
    if "loss" in metrics:
        raise ValueError("metrics must not be named 'loss': the history already records train_loss and val_loss")

    distributed = is_distributed()
    if device is None:
        if distributed:
            device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
        else:
            device = get_device()
    model.to(device)
    net: nn.Module = model
    if distributed:
        if not isinstance(model, DistributedDataParallel):
            net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        train_loader = distribute_loader(train_loader)
    use_amp = _resolve_amp(amp, device)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if plateau and scheduler_step == "batch":
        raise ValueError("ReduceLROnPlateau needs a validation value: use scheduler_step='epoch'")

    show = progress and get_rank() == 0
    history = History()
    epoch_bar = _progress_bar(total=epochs, desc="epochs", unit="epoch", disable=not show)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            sampler = getattr(train_loader, "sampler", None)
            if isinstance(sampler, DistributedSampler):
                sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
            lr = optimizer.param_groups[0]["lr"]
            train = train_one_epoch(
                net, loss_fn, train_loader, optimizer, device=device, metrics=metrics,
                scheduler=scheduler if scheduler_step == "batch" else None, grad_clip=grad_clip, amp=amp,
                scaler=scaler, forward_fn=forward_fn, progress=show, log_every=log_every,
                desc=f"epoch {epoch}/{epochs}",
            )
            logs = {"epoch": epoch, **{f"train_{k}": v for k, v in train.items()}}
            if val_loader is not None:
                val = evaluate(model, val_loader, loss_fn, metrics, amp=amp, forward_fn=forward_fn)
                logs.update({f"val_{k}": v for k, v in val.items()})
            if scheduler is not None and scheduler_step == "epoch":
                if plateau:
                    scheduler.step(logs.get("val_loss", logs["train_loss"]))
                else:
                    scheduler.step()
            logs["lr"] = lr
            logs["epoch_time"] = time.perf_counter() - start
            history.append(logs)
            epoch_bar.set_postfix(_fmt({k: v for k, v in logs.items() if k not in ("epoch", "epoch_time", "lr")}),
                                  refresh=False)
            epoch_bar.update(1)
            stop = False
            for callback in callbacks:
                stop = bool(callback(epoch, dict(logs))) or stop
            if stop:
                break
    finally:
        epoch_bar.close()
    return history
