"""A layer-by-layer summary of a model: output shapes, parameters and multiply-adds.

:func:`summarize` runs one forward pass with forward hooks on the modules and
records, per layer, the output shape, the number of parameters and the number of
multiply-accumulate operations (MACs, "mult-adds"). One MAC is one ``a * b + c``;
hardware FLOP counters (``torch.utils.flop_counter``) count it as 2 FLOPs.

What counts as a mult-add (the convention of the papers, e.g. MobileNet's 569 M):

* ``Conv1d/2d/3d``: ``output elements * (in_channels / groups) * prod(kernel_size)``;
* ``ConvTranspose1d/2d/3d``: ``input elements * (out_channels / groups) * prod(kernel_size)``
  (each input value is scattered onto a kernel-sized patch of every output channel of its group);
* ``Linear``: ``output elements * in_features`` (``out_features * in_features`` per sample);
* bias additions are **not** counted (they are additions, not multiply-adds);
* BatchNorm, activations, pooling, upsampling, dropout, softmax, additions of residual
  branches: **0** (they are element-wise and cheap next to the convolutions; papers leave them out);
* operations called as functions in ``forward`` (``torch.matmul``, ``F.conv2d`` ...) are not
  seen by module hooks and are not counted.

All counts are for the whole input batch: use a batch of 1 for per-image numbers.
Shapes only matter, so a model built on the ``meta`` device can be summarized
without allocating any memory (see :func:`summarize`).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import torch
from torch import Tensor, nn

from .checks import check_bool, check_device, check_nonnegative_int, check_numel, check_positive_int
from .references import not_an_answer

__all__ = ["LayerRow", "Summary", "summarize", "count_parameters", "module_macs"]

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_T = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
# Containers without a forward of their own: their children are called by the parent.
_NOT_CALLED = (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


@not_an_answer("03_architectures/separable_conv_cost",
               why="a general tool: counting a built model's parameters is what the exercise does by hand")
def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter values of ``model`` (shared parameters counted once).

    Examples:
        >>> count_parameters(nn.Conv2d(3, 6, 5))  # 6 * 3 * 5 * 5 weights + 6 biases
        456
        >>> net = nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 1))
        >>> _ = net[0].requires_grad_(False)
        >>> count_parameters(net), count_parameters(net, trainable_only=True)
        (13, 3)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_bool(trainable_only, "trainable_only")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@not_an_answer("03_architectures/separable_conv_cost",
               why="a general tool that reads a layer's attributes; the exercise derives the formula")
def module_macs(module: nn.Module, inputs: tuple, output: Any) -> int:
    """Multiply-adds of one call of a leaf ``module`` (0 for layers that are not counted).

    See the module docstring for the convention.

    Examples:
        >>> conv = nn.Conv2d(3, 6, 5)
        >>> x = torch.zeros(1, 3, 32, 32)
        >>> module_macs(conv, (x,), conv(x))  # 28 * 28 * 6 outputs, 3 * 5 * 5 mult-adds each
        352800
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(inputs, tuple):
        raise TypeError(f"inputs must be the tuple of the module's positional inputs, got {type(inputs).__name__}")
    counted = _CONV + _CONV_T + (nn.Linear, nn.Bilinear)
    if isinstance(module, _CONV_T) and (not inputs or not isinstance(inputs[0], Tensor)):
        raise TypeError(f"inputs[0] must be the input tensor of {type(module).__name__}, got {inputs!r:.60}")
    if isinstance(module, counted) and not isinstance(module, _CONV_T) and not isinstance(output, Tensor):
        raise TypeError(f"output must be the output tensor of {type(module).__name__}, got {type(output).__name__}")
    if isinstance(module, _CONV):
        kernel = math.prod(module.kernel_size)
        return output.numel() * (module.in_channels // module.groups) * kernel
    if isinstance(module, _CONV_T):
        kernel = math.prod(module.kernel_size)
        return inputs[0].numel() * (module.out_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, nn.Bilinear):
        return output.numel() * module.in1_features * module.in2_features
    return 0


def _shape_of(out: Any) -> Any:
    """Output shape as a tuple of ints, or a nested tuple/dict for several outputs."""
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, dict):
        return {k: _shape_of(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return tuple(_shape_of(o) for o in out)
    return None


def _fmt_shape(shape: Any) -> str:
    if shape is None:
        return "-"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_fmt_shape(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, tuple) and all(isinstance(s, int) for s in shape):
        return "[" + ", ".join(str(s) for s in shape) + "]"
    return "(" + ", ".join(_fmt_shape(s) for s in shape) + ")"


def _human(n: int) -> str:
    """1234567 -> '1.23 M' (for the totals)."""
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


@dataclass
class LayerRow:
    """One line of a :class:`Summary`.

    ``params`` counts the parameters of the module (and of its children, for a row
    that stands for a whole block at a given ``depth``); ``macs`` the mult-adds of
    this call, for the whole batch.
    """

    name: str
    type: str
    output_shape: Any
    params: int
    macs: int
    depth: int = 0


@dataclass
class Summary:
    """The result of :func:`summarize`: a table of :class:`LayerRow` and the totals.

    ``total_params`` and ``trainable_params`` come from ``model.parameters()``, so a
    module called twice (weight sharing) is counted once there, while it gets one row
    (with its parameters) per call. ``total_macs`` sums the mult-adds of every call.
    Prints as a text table; renders as an HTML table in Jupyter; ``to_markdown()``
    gives a Markdown table for the book.
    """

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_macs: int
    input_shape: Any = None
    model_name: str = ""
    _columns: ClassVar[tuple[str, ...]] = ("Layer", "Type", "Output shape", "Params", "Mult-adds")

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def _cells(self) -> list[list[str]]:
        return [
            [r.name, r.type, _fmt_shape(r.output_shape), f"{r.params:,}", f"{r.macs:,}"]
            for r in self.rows
        ]

    def _footer(self) -> list[str]:
        return [
            f"Input shape: {_fmt_shape(self.input_shape)}",
            f"Total params: {self.total_params:,} ({_human(self.total_params)})",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Total mult-adds: {self.total_macs:,} ({_human(self.total_macs)})",
        ]

    def __str__(self) -> str:
        cells = self._cells()
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self._columns)]
        numeric = (False, False, False, True, True)

        def line(values: Sequence[str]) -> str:
            return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

        rule = "-" * len(line(["x" * w for w in widths]))
        out = [self.model_name] if self.model_name else []
        out += [rule, line(self._columns), rule] + [line(c) for c in cells] + [rule] + self._footer()
        return "\n".join(out)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:{'right' if i >= 3 else 'left'}'>{esc(c)}</th>"
                       for i, c in enumerate(self._columns))
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:{'right' if i >= 3 else 'left'}'>{esc(v)}</td>"
                             for i, v in enumerate(row)) + "</tr>"
            for row in self._cells()
        )
        foot = "<br>".join(esc(s) for s in self._footer())
        title = f"<b>{esc(self.model_name)}</b>" if self.model_name else ""
        return f"<div>{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{foot}</p></div>"

    def to_markdown(self) -> str:
        """The table in Markdown (numbers right-aligned), totals as a list below it."""
        lines = ["| " + " | ".join(self._columns) + " |", "|---|---|---|---:|---:|"]
        for row in self._cells():
            row[0] = f"`{row[0]}`"
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines + [""] + [f"- {s}" for s in self._footer()])

    def __repr__(self) -> str:
        return (f"Summary({self.model_name or 'model'}: {len(self.rows)} rows, total_params={self.total_params:,}, "
                f"total_macs={self.total_macs:,})")


def _row_modules(model: nn.Module, depth: int | None) -> dict[nn.Module, tuple[str, int]]:
    """The modules that get a row, with their qualified names and depths.

    ``depth=None``: every leaf (module without children). ``depth=d``: the modules
    ``d`` levels below the model, and the leaves above that level. Containers that are
    never called themselves (``ModuleList``) are looked through.
    """
    rows: dict[nn.Module, tuple[str, int]] = {}

    def walk(module: nn.Module, name: str, level: int) -> None:
        children = list(module.named_children())
        at_depth = depth is not None and level >= depth and not isinstance(module, _NOT_CALLED)
        if not children or at_depth:
            rows.setdefault(module, (name or type(module).__name__, level))
            return
        for child_name, child in children:
            walk(child, f"{name}.{child_name}" if name else child_name, level + 1)

    walk(model, "", 0)
    return rows


@not_an_answer("03_architectures/layer_table", "03_architectures/separable_conv_cost",
               why="a general tool that runs a model with hooks; the exercises compute the table by hand")
@torch.no_grad()
def summarize(
    model: nn.Module,
    input_size: Sequence[int] | None = None,
    *,
    example_input: Tensor | Sequence[Tensor] | None = None,
    depth: int | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Summary:
    """Run one forward pass and tabulate every layer: output shape, params, mult-adds.

    Give either ``input_size`` (a zero tensor of that shape is made, on the device and
    with the floating dtype of the model's parameters unless ``device``/``dtype`` say
    otherwise) or ``example_input`` (a tensor, or a tuple of tensors passed as
    positional arguments). The model runs in eval mode under ``torch.no_grad()`` (so
    BatchNorm running statistics are untouched and a batch of 1 works); the train/eval
    flag of every module is restored afterwards.

    A model on the ``meta`` device is summarized without computing anything, which
    makes big models cheap::

        with torch.device("meta"):
            model = VGG("vgg16")
        summarize(model, (1, 3, 224, 224))

    Args:
        model: any ``nn.Module``.
        input_size: shape of the input, e.g. ``(1, 3, 224, 224)`` (batch dimension included).
        example_input: the input itself, instead of ``input_size``.
        depth: ``None`` lists every leaf module; ``1`` lists the model's children
            (each row sums the params and mult-adds of everything inside), ``2`` the
            level below, and so on.
        dtype, device: for the zero input made from ``input_size``.

    Returns:
        :class:`Summary` with ``rows``, ``total_params``, ``trainable_params`` and
        ``total_macs`` (all for the whole batch).

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 28 * 28, 10))
        >>> s = summarize(net, (1, 3, 32, 32))
        >>> [(r.name, r.output_shape, r.params, r.macs) for r in s.rows[:2]]
        [('0', (1, 6, 28, 28), 456, 352800), ('1', (1, 6, 28, 28), 0, 0)]
        >>> s.total_params, s.total_macs  # 352800 + 4704 * 10
        (47506, 399840)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if (input_size is None) == (example_input is None):
        raise ValueError("give exactly one of input_size and example_input")
    if depth is not None:
        check_nonnegative_int(depth, "depth")
    if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")
    if device is not None:
        device = check_device(device, "device")

    if example_input is None:
        if not isinstance(input_size, (tuple, list, torch.Size)) or not all(isinstance(s, int) for s in input_size):
            raise TypeError(f"input_size must be a sequence of ints such as (1, 3, 224, 224), got {input_size!r}")
        for i, s in enumerate(input_size):
            check_positive_int(s, f"input_size[{i}]")
        ref = next((p for p in model.parameters() if p.is_floating_point()), None)
        device = device if device is not None else (ref.device if ref is not None else "cpu")
        dtype = dtype if dtype is not None else (ref.dtype if ref is not None else torch.get_default_dtype())
        if torch.device(device).type != "meta":  # a meta input allocates nothing
            check_numel(math.prod(input_size), "input_size", input_size)
        args: tuple = (torch.zeros(tuple(input_size), dtype=dtype, device=device),)
    elif isinstance(example_input, Tensor):
        args = (example_input,)
    elif isinstance(example_input, (tuple, list)) and all(isinstance(t, Tensor) for t in example_input):
        args = tuple(example_input)
    else:
        raise TypeError(f"example_input must be a Tensor or a tuple of Tensors, got {type(example_input).__name__}")

    row_of = _row_modules(model, depth)
    # Map every leaf to the row it reports to: itself, or its ancestor at `depth`.
    leaf_to_row: dict[nn.Module, nn.Module] = {}
    for row_module in row_of:
        for sub in row_module.modules():
            if not list(sub.children()):
                leaf_to_row.setdefault(sub, row_module)

    rows: list[LayerRow] = []
    pending: dict[nn.Module, int] = {}  # MACs of leaves whose row has not been emitted yet

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        if module in leaf_to_row:
            target = leaf_to_row[module]
            pending[target] = pending.get(target, 0) + module_macs(module, inputs, output)
        if module in row_of:  # a row module's hook fires after all of its children's
            name, level = row_of[module]
            rows.append(LayerRow(name, type(module).__name__, _shape_of(output),
                                 sum(p.numel() for p in module.parameters()), pending.pop(module, 0), level))

    watched = set(row_of) | set(leaf_to_row)
    handles = [m.register_forward_hook(hook) for m in watched]
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        model(*args)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    for module, macs in pending.items():  # leaves called by a parent whose row module never ran
        name, level = row_of[module]
        params = sum(p.numel() for p in module.parameters())
        rows.append(LayerRow(name, type(module).__name__, None, params, macs, level))

    input_shape = _shape_of(args[0]) if len(args) == 1 else _shape_of(args)
    return Summary(
        rows=rows,
        total_params=count_parameters(model),
        trainable_params=count_parameters(model, trainable_only=True),
        total_macs=sum(r.macs for r in rows),
        input_shape=input_shape,
        model_name=type(model).__name__,
    )
