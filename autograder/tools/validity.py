"""Grading validity: prove that every chapter's tests grade honestly, with real nbgrader.

For each chapter this builds a throw-away nbgrader course, submits *variants* of the
chapter as if they came from students, autogrades them with ``DLCV_QUICK=1`` (nbgrader's
``Autograde`` run in-process by two worker processes, one fresh kernel per submission) and
reads every test cell's score from the gradebook. ``python -m autograder.tools.validity
[CHAPTER ...]`` prints the report; ``tests/test_grading.py`` runs the same checks.

Words: an *exercise* is a solution cell (``"solution": true``); its *test cells* are the
graded cells whose names lead back to it (through the names cells define and load; the
latest exercise found is the owner). A *unit* is an exercise, or several exercises joined
by a line ``# validity: builds-on <exercise> ...`` in a test cell of one of them.

The checks
----------
* **Solution, with noise.** The solution with a warning and a line of stderr at the top of
  every solution cell must score full marks (nbgrader zeroes a cell that writes stderr
  unless configured not to). This one run stands for the plain solution too: noise only
  adds output, so a full score here implies a full score without it. Only when it fails is
  the plain solution graded as well, to tell "the solution fails" from "noise fails".
* **Stub.** The untouched student release must score 0 on every test cell.
* **Mutants** (``autograder/mutants/<chapter>/*.py``): common mistakes. Each must lose
  points, with an error message, on the test cells its header names (``# fails: ...``).
  Mutants that cannot interfere share a submission: different cells, and neither changed
  cell feeds (by names, transitively) a test cell the other must fail.
* **Alternatives** (``autograder/alternatives/<chapter>/*.py``): other correct solutions;
  must get full marks on every test cell of their unit.
* **Precision twins**, generated: for every exercise that defines functions, unless one of
  its test cells says ``# validity: dtype-stated``, the solution cell with each of its
  top-level functions wrapped so that it computes in the other float precision: floating
  ``torch.Tensor`` / ``numpy.ndarray`` arguments (also inside lists and tuples) are cast
  float64 -> float32 and float32 -> float64, the function is called, floating results are
  cast back to the dtype of the first floating argument, and arguments the function changed
  in place are copied back. Calls with an ``nn.Module`` argument, or without a floating
  argument, run unchanged; calls between wrapped functions are not cast twice. A twin is an
  alternative: it must get full marks.
* **Isolation.** No test cell may depend on another unit's result. Runs: the stub (no unit
  solved), the solution (all solved), and a *separating family* of subsets S_1..S_n of the
  units: in run k the units of S_k are solved (their solution cells) and every other
  exercise is the release's stub. Every test cell must score full marks in every run where
  its unit is solved and 0 in every run where it is not. The family gives each unit a
  distinct subset of {1..n} of size floor(n/2) (its code; unit u is in S_k iff k is in
  code(u)), with n the smallest number such that C(n, floor(n/2)) >= units. Two distinct
  codes of equal size never contain each other, so for every ordered pair of units (i, j)
  some run has j solved and i unsolved (n ~ log2(units) + 1 runs; bit codes and their
  complements would need 2 ceil(log2 units)).

  What this proves: for a test cell t of unit u and any other unit j, the four
  combinations (u solved?, j solved?) all occur (stub, solution, and a run on each side),
  and t scored full exactly when u was solved. So if t's score depends on whether u is
  solved and on at most one other unit, it depends on u alone: a submission with only u
  solved earns exactly u's points, and one with everything but u solved loses exactly u's
  points. It does not rule out a test that needs two other units at once (or either of
  two), which the tests' own rules (build every input in the cell) exclude anyway.

  The isolation table (``exercise -> points alone / points lost when only it is missing``)
  is derived from these runs, not from 2 x units extra runs: for "alone(u)", each test cell
  t of unit v is scored as in a run where u is solved and v is solved iff v = u (such a run
  exists by separation; for v = u, any run with u solved); "lost(u)" likewise from runs
  with u unsolved and v solved (v != u). Among the runs that qualify, the one closest to
  the submission in question (fewest units solved differently) is used. When isolation
  holds, all qualifying runs agree and the table is exact; when it does not, the runs that
  broke it are reported one by one, and the table shows the damage as the runs measured it.

  To save submissions, alternatives and precision twins ride in the isolation runs (in a
  run where their unit is solved, at most one per cell); the rest share all-solved
  submissions. If such a run shows any unexpected score, it is graded again without its
  alternatives, and the alternatives on their own, to say which one failed.
* **Answer leaks.** Quiz tests compare with ``course_utils.grading.expect_answer``, which
  appends each expected value to the file named by ``DLCV_RECORD_ANSWERS``; the solution
  run records them per test cell. Every value is then searched for in what the student can
  see when executing the release with every exercise unsolved: the stub run's outputs
  (stream text, the text, HTML, Markdown, LaTeX, JSON and SVG data of display outputs, and
  error messages and tracebacks; images are not read) and the release's own text (Markdown
  and code). Numbers are searched in several formats (repr, 3 to 8 significant digits,
  fixed 2 to 6 decimals, scientific, thousands separators, percent; at least 3 significant
  digits each); sequences as lists, tuples and space- or x-separated; strings as words. A
  value too generic to search (a bool, an int below 100, a float with fewer than 3
  significant digits, a string shorter than 4 characters, a sequence of at most 2 such) is a
  problem unless the quiz's test cell says ``# validity: generic-answer`` (then its author
  has checked by hand).
* **Static checks**: no solution or hidden-test line in the release; every visible
  ``assert`` has a message; every test cell is targeted by a mutant; declarations are
  known and name existing exercises.

Speed: in quick mode, the submissions other than the solution and the stub are *lean*: the
code cells that no test cell depends on (by names, through the dependency analysis below,
counting the sources of every variant) are removed, unless they change global state (at
module level: ``torch.set_num_threads``, ``set_default_dtype``, print options, warnings
filters, ``matplotlib.use``, ``os.environ``, ``sys.path``, rcParams, an imported module's
attribute, IPython magics; seeding is not counted), or may change in place an object that a
kept cell reads (a method call on it, an assignment into it, passing it to a function,
between the cell that defines the name and the reader). Plots, widgets and training cells
that no test reads are the ones that go. The solution and stub runs execute every cell, so
the real notebook is still graded end to end. Submissions of all chapters checked together
share one pool of two workers, and a chapter's submissions are queued as soon as it is
prepared. Each worker forks its kernels from a warm server that has imported
torch, torchvision, NumPy, Matplotlib and ipykernel once (``warmkernel.py``): every
notebook still gets a new kernel process with its own namespace, directory and
environment, and runs every import line itself, but pays 0.3 s instead of 2 to 4 s to
start. ``DLCV_VALIDITY_WARM=0`` starts plain kernels; ``DLCV_VALIDITY_LEAN=0`` grades
every submission in full; ``DLCV_KEEP_GRADING_DIRS=1`` keeps the course folders.

Variant files
-------------
A variant file changes one solution cell. Its header says which; its body is either a
*patch* against the current solution cell (the normal case) or a whole new cell (only for
a completely different implementation)::

    # mutant: output size forgets the +1
    # cell: conv_output_size
    # fails: test_conv_output_size
    @@
         size = size + 2 * padding
    -    return (size - kernel) // stride + 1
    +    return (size - kernel) // stride

A patch is one or more hunks, each starting with a line ``@@`` (anything after it is a
comment). In a hunk, ``-`` lines are removed, ``+`` lines added and `` `` (space) lines
are context kept as they are; the removed and context lines must appear, in order and
exactly once, in the current solution cell. A patch that no longer applies (because the
solution changed) fails loudly and names the file, instead of drifting silently. A
whole-cell variant (no ``@@``) should not repeat the solution's docstring.

The dependency analysis follows names, not objects: a cell that changes a shared object in
place (``model.train()``) is not seen as feeding later readers of it, and randomness drawn
from the global generator is not followed; tests build their inputs from seeded generators.
"""
from __future__ import annotations

import argparse
import ast
import copy
import functools
import itertools
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.tools.build import COURSE, load_solution, new_course_root, write_source
from autograder.tools.warmkernel import warm_modules

MUTANTS = COURSE / "mutants"
ALTERNATIVES = COURSE / "alternatives"
# One thread per kernel: two workers grade in parallel on two cores.
QUICK_ENV = {"DLCV_QUICK": "1", "PYTHONWARNINGS": "default", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
             "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
COURSE_ID = "dlcv"

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

DECLARATION = re.compile(r"^\s*#\s*validity\s*:\s*(\S+)\s*(.*?)\s*$")
DECLARATIONS = {"builds-on": "one or more exercise names", "dtype-stated": None, "generic-answer": None}


@dataclass
class Variant:
    """One variant of the solution: a notebook plus what its grades must look like."""
    student: str
    kind: str  # solution | stub | noisy | mutant | alternative | precision
    notebook: nbformat.NotebookNode
    description: str = ""
    cell: str | None = None
    fails: list[str] = field(default_factory=list)


@dataclass
class Submission:
    """What is actually graded: one notebook carrying one or more variants."""
    student: str
    kind: str  # solution | stub | noisy | mutant | alternative | isolation
    notebook: nbformat.NotebookNode
    members: list[Variant]
    solved: frozenset[int] | None = None  # units solved (isolation runs); None: all
    lean: bool = False
    env: dict = field(default_factory=dict)


@dataclass
class CellGrade:
    score: float
    max_score: float
    error: str | None  # "ename: evalue" of the cell's error output, if any


# ---------------------------------------------------------------- notebook helpers

def graded_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """Autograded test cells by grade id."""
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}


def solution_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


def regions(source: str, begin: str, end: str) -> list[str]:
    """Text between ``begin`` and ``end`` marker lines (markers excluded)."""
    found, current = [], None
    for line in source.splitlines():
        if begin in line:
            current = []
        elif end in line and current is not None:
            found.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return found


def visible_part(source: str) -> str:
    """A test cell's source without its hidden region."""
    out, hidden = [], False
    for line in source.splitlines():
        if BEGIN_HIDDEN in line:
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------- variant files (patches)

def parse_variant_file(path: Path) -> tuple[dict[str, str], str]:
    """Split a mutant/alternative file into its ``# key: value`` header and the cell body."""
    header, body_start = {}, 0
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"#\s*(mutant|alternative|cell|fails)\s*:\s*(.*)$", line)
        if not m:
            body_start = i
            break
        header[m.group(1)] = m.group(2).strip()
    else:
        body_start = len(lines)
    if "cell" not in header:
        raise ValueError(f"{path}: header must name the solution cell to replace (`# cell: <grade_id>`)")
    return header, "\n".join(lines[body_start:]).strip("\n") + "\n"


def variant_source(path: Path, solution_nb=None) -> tuple[dict[str, str], str]:
    """A variant file's header and the full source of the solution cell it produces
    (its patch applied to the current solution, or its whole-cell body)."""
    header, body = parse_variant_file(path)
    if not is_patch(body):
        return header, body
    if solution_nb is None:
        chapter = path.parent.name
        solution_nb = load_solution(chapter)
    cells = solution_cells(solution_nb)
    if header["cell"] not in cells:
        raise ValueError(f"{path}: no solution cell {header['cell']!r}; solution cells are {sorted(cells)}")
    return header, apply_patch(cells[header["cell"]].source, body, str(path))


def is_patch(body: str) -> bool:
    """True if a variant body is a patch (its first non-blank line starts with ``@@``)."""
    first = next((line for line in body.splitlines() if line.strip()), "")
    return first.startswith("@@")


def apply_patch(source: str, patch: str, origin: str) -> str:
    """Apply a variant's hunks (see the module docstring) to a solution cell's source."""
    lines = source.splitlines()
    hunks: list[list[str]] = []
    for line in patch.splitlines():
        if line.startswith("@@"):
            hunks.append([])
        elif not hunks:
            raise ValueError(f"{origin}: a patch must start with a line '@@'")
        elif line == "" or line[0] in "-+ ":
            hunks[-1].append(line if line else " ")
        else:
            raise ValueError(f"{origin}: patch line {line!r} must start with '-', '+', ' ' or '@@'")
    for k, hunk in enumerate(hunks, 1):
        old = [h[1:].rstrip() for h in hunk if h[0] in "- "]
        new = [h[1:].rstrip() for h in hunk if h[0] in "+ "]
        if not old:
            raise ValueError(f"{origin}: hunk {k} has no '-' or context line to anchor it")
        stripped = [line.rstrip() for line in lines]
        at = [i for i in range(len(lines) - len(old) + 1) if stripped[i:i + len(old)] == old]
        if len(at) != 1:
            why = "is not found" if not at else f"is found {len(at)} times (add context lines)"
            raise ValueError(f"{origin}: hunk {k} no longer applies to the solution cell: the block\n    "
                             + "\n    ".join(old) + f"\n{why}. Update the variant to the current solution.")
        lines[at[0]:at[0] + len(old)] = new
    return "\n".join(lines) + "\n"


def replace_cell(nb, grade_id: str, source: str, origin: str):
    """A copy of ``nb`` whose solution cell ``grade_id`` is changed by a variant body
    (a patch, or a whole new source)."""
    nb = copy.deepcopy(nb)
    cells = solution_cells(nb)
    if grade_id not in cells:
        raise ValueError(f"{origin}: no solution cell {grade_id!r}; solution cells are {sorted(cells)}")
    if is_patch(source):
        cells[grade_id].source = apply_patch(cells[grade_id].source, source, origin)
    else:
        cells[grade_id].source = source
    return nb


# ---------------------------------------------------------------- declarations, exercises, units

def declarations(nb) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """``# validity: <kind> [args]`` lines of the test cells: {test id: {kind: args}}, and
    the problems found (unknown kinds, missing or unknown exercise names)."""
    exercises = solution_cells(nb)
    found: dict[str, dict[str, list[str]]] = {}
    problems = []
    for gid, cell in graded_cells(nb).items():
        for line in cell.source.splitlines():
            m = DECLARATION.match(line)
            if not m:
                continue
            kind, args = m.group(1), m.group(2).replace(",", " ").split()
            if kind not in DECLARATIONS:
                problems.append(f"{gid}: unknown declaration `# validity: {kind}`; known: {sorted(DECLARATIONS)}")
                continue
            if DECLARATIONS[kind] and not args:
                problems.append(f"{gid}: `# validity: {kind}` needs {DECLARATIONS[kind]}")
            unknown = [a for a in args if kind == "builds-on" and a not in exercises]
            if unknown:
                problems.append(f"{gid}: `# validity: builds-on` names {unknown}, which are not exercises "
                                f"(solution cells: {sorted(exercises)})")
            found.setdefault(gid, {}).setdefault(kind, []).extend(a for a in args if a not in unknown)
    return found, problems


def exercise_of_tests(nb, closure: dict[int, set[int]] | None = None) -> dict[str, str | None]:
    """The exercise each test cell grades: the latest solution cell it depends on by names
    (the nearest solution cell above it if it depends on none; None if there is none)."""
    closure = closure if closure is not None else dependency_closure(nb)
    sol_index = {i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 and c.metadata.get("nbgrader", {}).get("solution")}
    owner = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"):
            deps = sorted(closure.get(i, set()) & sol_index)
            above = [j for j in sol_index if j < i]
            j = deps[-1] if deps else (max(above) if above else None)
            owner[c.metadata.nbgrader["grade_id"]] = nb.cells[j].metadata.nbgrader["grade_id"] if j is not None else None
    return owner


def exercise_units(nb, owner: dict[str, str | None], decl: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Exercises grouped into units (``builds-on`` joins them), in notebook order."""
    order = list(solution_cells(nb))
    parent = {e: e for e in order}

    def find(e):
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    for test, kinds in decl.items():
        for other in kinds.get("builds-on", []):
            if owner.get(test) in parent and other in parent:
                parent[find(owner[test])] = find(other)
    groups: dict[str, list[str]] = {}
    for e in order:
        groups.setdefault(find(e), []).append(e)
    return sorted(groups.values(), key=lambda g: order.index(g[0]))


def separating_family(n_units: int) -> list[frozenset[int]]:
    """Subsets S_1..S_n of range(n_units) such that for every ordered pair (i, j), i != j,
    some S_k contains j and not i. Each unit gets a distinct floor(n/2)-subset of range(n)
    as its code; S_k = units whose code contains k. Runs solving no unit or every unit are
    left out (the stub and the solution are those)."""
    if n_units < 2:
        return []
    n = 2
    while math.comb(n, n // 2) < n_units:
        n += 1
    codes = list(itertools.combinations(range(n), n // 2))[:n_units]
    family = [frozenset(u for u, code in enumerate(codes) if k in code) for k in range(n)]
    return [s for s in family if 0 < len(s) < n_units]


def is_separating(family: list[frozenset[int]], n_units: int) -> bool:
    """True if for every ordered pair (i, j), i != j, some set holds j and not i."""
    return all(any(j in s and i not in s for s in family)
               for i in range(n_units) for j in range(n_units) if i != j)


# ---------------------------------------------------------------- precision twins

PRECISION_WRAPPER = '''
def _validity_other_precision(_fn):
    """Validity tool: run _fn in the other float precision (float64 <-> float32)."""
    import functools as _ft
    import sys as _sys
    import types as _ty
    import numpy as _np
    import torch as _torch
    _state = _sys.modules.setdefault("_validity_precision_state", _ty.ModuleType("_validity_precision_state"))
    if not hasattr(_state, "depth"):
        _state.depth = 0
    _swap_t = {_torch.float64: _torch.float32, _torch.float32: _torch.float64}
    _swap_n = {_np.dtype("float64"): _np.dtype("float32"), _np.dtype("float32"): _np.dtype("float64")}

    class _Unchanged(Exception):
        pass

    @_ft.wraps(_fn)
    def _wrapped(*args, **kwargs):
        if _state.depth:
            return _fn(*args, **kwargs)
        first, changed = {}, []

        def down(x):
            if isinstance(x, _torch.nn.Module):
                raise _Unchanged
            if isinstance(x, _torch.Tensor) and x.dtype in _swap_t:
                first.setdefault("torch", x.dtype)
                y = x.to(_swap_t[x.dtype])
                changed.append((x, y, y.detach().clone()))
                return y
            if isinstance(x, _np.ndarray) and x.dtype in _swap_n:
                first.setdefault("numpy", x.dtype)
                y = x.astype(_swap_n[x.dtype])
                changed.append((x, y, y.copy()))
                return y
            if type(x) in (list, tuple):
                return type(x)(down(v) for v in x)
            return x

        def up(y):
            if isinstance(y, _torch.Tensor) and y.dtype in _swap_t and "torch" in first:
                return y.to(first["torch"])
            if isinstance(y, _np.ndarray) and y.dtype in _swap_n and "numpy" in first:
                return y.astype(first["numpy"])
            if isinstance(y, _np.floating) and "numpy" in first:
                return first["numpy"].type(y)
            if type(y) in (list, tuple):
                return type(y)(up(v) for v in y)
            if type(y) is dict:
                return {k: up(v) for k, v in y.items()}
            return y

        try:
            a = [down(v) for v in args]
            k = {n: down(v) for n, v in kwargs.items()}
        except _Unchanged:
            return _fn(*args, **kwargs)
        if not first:
            return _fn(*args, **kwargs)
        _state.depth += 1
        try:
            out = _fn(*a, **k)
        finally:
            _state.depth -= 1
        for orig, new, before in changed:  # in-place changes go back to the caller's arrays
            if isinstance(orig, _torch.Tensor):
                same = new.shape == before.shape and bool(((new.detach() == before) | (new.detach().isnan() & before.isnan())).all())
                if not same:
                    with _torch.no_grad():
                        orig.copy_(new.detach().to(orig.dtype))
            elif not _np.array_equal(new, before, equal_nan=True):
                orig[...] = new.astype(orig.dtype)
        return up(out)

    return _wrapped
'''


def top_level_functions(source: str) -> list[str]:
    """Names of the functions a cell defines at module level (none if it does not parse)."""
    tree = parse_cell(source)
    return [] if tree is None else [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def precision_twin(source: str) -> str | None:
    """The cell ``source`` with its top-level functions computing in the other float
    precision (see PRECISION_WRAPPER), or None if it defines no function."""
    names = top_level_functions(source)
    if not names:
        return None
    wraps = "\n".join(f"{n} = _validity_other_precision({n})" for n in names)
    return source.rstrip("\n") + "\n\n" + PRECISION_WRAPPER.strip("\n") + "\n\n\n" + wraps + "\n"


# ---------------------------------------------------------------- answer leaks

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TAG = re.compile(r"<[^>]+>")


def _sig_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0]
    digits = mantissa.replace("-", "").replace(".", "").replace(",", "").lstrip("0")
    return len(digits.rstrip("0")) if "." in mantissa else len(digits)


def is_generic(value) -> bool:
    """Too generic to search for in outputs (see the module docstring)."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 100
    if isinstance(value, float):
        if not math.isfinite(value):
            return True
        if value == int(value) and abs(value) < 1e15:
            return abs(value) < 100
        return _sig_digits(repr(value)) < 3
    if isinstance(value, str):
        return len(value.strip()) < 4
    if isinstance(value, (list, tuple)):
        return len(value) <= 2 and all(is_generic(v) for v in value)
    return len(repr(value)) < 4


def number_forms(value: float | int) -> set[str]:
    """The ways a number may be printed, each with at least 3 significant digits."""
    forms = set()
    if isinstance(value, bool):
        return forms
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value == int(value)
                                  and abs(value) < 1e15):
        n = int(value)
        forms |= {str(n), f"{n:,}", f"{n:_}", f"{n:,}".replace(",", " "), f"{n:,}".replace(",", "\u202f"),
                  f"{n}.0"}
        for div, suffixes in ((1e3, "kK"), (1e6, "M"), (1e9, "GB")):
            if abs(n) >= div:
                for d in (1, 2):
                    s = f"{n / div:.{d}f}"
                    if _sig_digits(s) >= 3:
                        forms |= {s + x for x in suffixes} | {s + " " + x for x in suffixes}
        if abs(n) >= 1000:
            forms |= {f"{n:.{d}e}" for d in (2, 3, 4)}
        return {f for f in forms if _sig_digits(f.replace("_", "").replace(" ", "").replace("\u202f", "")
                                              .rstrip("kKMGB")) >= 3 or abs(n) >= 100}
    v = float(value)
    if not math.isfinite(v):
        return forms
    candidates = {repr(v), str(v)}
    candidates |= {f"{v:.{k}g}" for k in range(3, 9)}
    candidates |= {f"{v:.{k}f}" for k in range(2, 7)}
    candidates |= {f"{v:.{k}e}" for k in range(2, 5)}
    candidates |= {f"{100 * v:.{k}f}%" for k in range(0, 3)} | {f"{100 * v:.{k}f} %" for k in range(0, 3)}
    return {c for c in candidates if _sig_digits(c.rstrip("% ")) >= 3}


def answer_patterns(value) -> list[re.Pattern]:
    """Regular expressions that find ``value`` printed in text (empty if generic)."""
    if is_generic(value):
        return []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        forms = number_forms(value)
        return [re.compile(r"(?<![\w.])" + re.escape(f) + r"(?![\d])(?!\.\d*[1-9])") for f in sorted(forms)]
    if isinstance(value, str):
        return [re.compile(r"(?<!\w)" + re.escape(value.strip()) + r"(?!\w)", re.IGNORECASE)]
    if isinstance(value, (list, tuple)):
        parts = []
        for v in value:
            if isinstance(v, float) and v == int(v):
                parts.append([str(int(v)), repr(v)])
            elif isinstance(v, (int, float)):
                parts.append([repr(v)])
            else:
                parts.append([repr(v), str(v)])
        pats = []
        for choice in itertools.product(*[p for p in parts]) if len(value) <= 6 else [tuple(p[0] for p in parts)]:
            for sep in (", ", ",", " ", " x ", "x", "\u00d7", " \u00d7 "):
                pats.append(re.compile(r"(?<![\w.])" + re.escape(sep.join(choice)) + r"(?![\d\w])"))
        return pats
    return [re.compile(re.escape(repr(value)))]


def output_texts(nb, where_prefix: str = "") -> list[tuple[str, str]]:
    """(where, text) for every text a student sees in the outputs of ``nb``'s cells. For
    test cells, whose hidden part nbgrader put back, an error counts by its message only:
    its traceback may quote hidden lines the student never sees."""
    texts = []
    for i, cell in enumerate(nb.cells):
        graded = bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
        where = f"{where_prefix}output of {cell.get('id') or i}"
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                texts.append((where, str(out.get("text", ""))))
            elif kind in ("execute_result", "display_data"):
                for mime, data in out.get("data", {}).items():
                    if mime.startswith("image/") and mime != "image/svg+xml":
                        continue
                    text = json.dumps(data) if not isinstance(data, str) else data
                    if mime in ("text/html", "image/svg+xml"):
                        text = TAG.sub(" ", text)
                    texts.append((f"{where} ({mime})", text))
            elif kind == "error":
                lines = [f"{out.get('ename')}: {out.get('evalue')}"] + ([] if graded else list(out.get("traceback", [])))
                texts.append((where, ANSI.sub("", "\n".join(lines))))
    return texts


def source_texts(nb) -> list[tuple[str, str]]:
    """(where, text) for the source of every cell of the release (prose and code)."""
    return [(f"{c.cell_type} cell {c.get('id') or i}", c.source) for i, c in enumerate(nb.cells)]


def find_leaks(answers: dict[str, list], generic_ok: set[str], texts: list[tuple[str, str]]) -> list[str]:
    """Problems: answers shown in ``texts``, and generic answers not declared generic."""
    problems = []
    for test, values in answers.items():
        for value in values:
            if is_generic(value):
                if test not in generic_ok:
                    problems.append(f"{test}: the quiz answer {value!r} is too generic to search for in the "
                                    f"outputs; check by hand that no cell shows it, then declare "
                                    f"`# validity: generic-answer` in the test cell")
                continue
            for where, text in texts:
                hit = next((m for p in answer_patterns(value) for m in [p.search(text)] if m), None)
                if hit:
                    a, b = max(0, hit.start() - 40), min(len(text), hit.end() + 40)
                    snippet = text[a:b].replace("\n", " ")
                    problems.append(f"{test}: the graded answer {value!r} shows in the {where}: ...{snippet}...")
                    break
    return problems


def read_answers(folder: Path) -> dict[str, list]:
    """Expected values recorded by expect_answer, per test cell (one JSON-lines file each)."""
    answers = {}
    for path in sorted(folder.glob("*.jsonl")):
        values = []
        for line in path.read_text().splitlines():
            if line.strip():
                values.append(json.loads(line)["expected"])
        if values:
            answers[path.stem] = values
    return answers


# ---------------------------------------------------------------- dependency analysis

@functools.lru_cache(maxsize=4096)
def parse_cell(source: str) -> ast.Module | None:
    """A code cell's AST after IPython's transformations (magics become calls); None if
    it does not parse. Cached: treat the tree as read-only."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def _top_level_imports(nb):
    """The import statements at the top level of ``nb``'s code cells."""
    for cell in nb.cells:
        tree = parse_cell(cell.source) if cell.cell_type == "code" else None
        for node in tree.body if tree is not None else []:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node


def _cell_names(source: str) -> tuple[set[str], set[str], set[str]] | None:
    """Names a cell defines at module level, loads at module level, and loads inside
    function/class/lambda bodies (resolved only when called). None if it does not parse."""
    found = _cell_names_cached(source)
    return None if found is None else tuple(set(x) for x in found)


@functools.lru_cache(maxsize=4096)
def _cell_names_cached(source: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]] | None:
    tree = parse_cell(source)
    if tree is None:
        return None
    defined, loaded_now, loaded_later = set(), set(), set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def local_names(scope) -> set[str]:
        """Names bound inside a function, lambda, class or comprehension (its locals)."""
        names = set()
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = scope.args
            names |= {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
            names |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        stack = list(ast.iter_child_nodes(scope))
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            if not isinstance(node, scopes) or isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                stack.extend(ast.iter_child_nodes(node))
        return names

    def visit(node, in_body: bool, hidden: frozenset = frozenset()):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not in_body:
            defined.add(node.name)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not in_body:
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        if isinstance(node, ast.Global):
            defined.update(node.names)
        if isinstance(node, ast.Name) and node.id not in hidden:
            if isinstance(node.ctx, ast.Load):
                (loaded_later if in_body else loaded_now).add(node.id)
            elif not in_body:
                defined.add(node.id)
        if isinstance(node, scopes):
            # A comprehension runs at once; a def, lambda or class body when it is called.
            delayed = in_body or not isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
            inner = hidden | frozenset(local_names(node))
            for child in ast.iter_child_nodes(node):
                visit(child, delayed, inner)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, in_body, hidden)

    visit(tree, False)
    # A name the cell assigns before it first reads it is the cell's own, not an input.
    first_store, first_load = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            table = first_load if isinstance(node.ctx, ast.Load) else first_store
            pos = (node.lineno, node.col_offset)
            table[node.id] = min(table.get(node.id, pos), pos)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pos = (node.lineno, node.col_offset)
            first_store[node.name] = min(first_store.get(node.name, pos), pos)
    own = {n for n in defined if n in first_store and first_store[n] < first_load.get(n, (10**9, 0))}
    return frozenset(defined), frozenset(loaded_now - own), frozenset(loaded_later - defined)


def dependency_closure(nb, extra_sources: dict[str, list[str]] | None = None) -> dict[int, set[int]]:
    """For each code cell index, the earlier code cells whose effects it may depend on.

    A name loaded at module level comes from the nearest earlier cell that defines it
    (cells run top to bottom); a name loaded inside a function body is resolved when the
    function is called, so every earlier definer counts. ``extra_sources`` maps a cell id
    to other versions of its source (the variants), whose names count too. A cell that
    does not parse depends on, and feeds, every other cell.
    """
    extra_sources = extra_sources or {}
    info = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parsed = [_cell_names(v) for v in [cell.source] + extra_sources.get(cell.get("id"), [])]
        info[i] = None if any(p is None for p in parsed) else tuple(
            set().union(*(p[k] for p in parsed)) for k in range(3))
    closure: dict[int, set[int]] = {}
    for i in sorted(info):
        earlier = sorted((j for j in closure), reverse=True)  # nearest first
        if info[i] is None:
            direct = set(earlier)
        else:
            _, now, later = info[i]
            direct = {j for j in earlier if info[j] is None}
            for name in now:
                for j in earlier:
                    if info[j] is not None and name in info[j][0]:
                        direct.add(j)
                        break
            direct |= {j for j in earlier if info[j] is not None and info[j][0] & later}
        closure[i] = set(direct).union(*(closure[j] for j in direct)) if direct else set()
    return closure


STATE_CALLS = re.compile(r"^(set_\w+|use\w*|filterwarnings|simplefilter|resetwarnings|chdir|putenv|rc|seterr)$")
STATE_CONTAINERS = {"environ", "path", "rcParams", "modules"}


def _chain(node, through_subscripts: bool = False) -> tuple[str, list[str]] | None:
    """(root name, attribute names outermost first) of ``a.b.c`` (and ``a.b[k]`` with
    ``through_subscripts``); None if the chain passes through a call or anything else."""
    attrs = []
    while isinstance(node, ast.Attribute) or (through_subscripts and isinstance(node, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            attrs.append(node.attr)
        node = node.value
    return (node.id, attrs) if isinstance(node, ast.Name) else None


def changes_global_state(source: str, modules: set[str]) -> bool:
    """True if a cell, at module level, changes state that later cells may see without
    naming it: a call like ``torch.set_num_threads``, ``torch.set_default_dtype``,
    ``np.set_printoptions``, ``warnings.filterwarnings``, ``matplotlib.use``, ``plt.rc``,
    ``os.chdir`` on an imported module; a change to ``os.environ``, ``sys.path``,
    ``sys.modules`` or ``rcParams``; an assignment to an imported module's attribute
    (``torch.backends.cudnn.benchmark = True``); IPython magics and shell commands.
    Seeding the global random generators is not counted (tests seed their own)."""
    tree = parse_cell(source)
    if tree is None:
        return True

    def module_level(node):
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                yield from module_level(child)

    for node in module_level(tree):
        if isinstance(node, ast.Call):
            chain = _chain(node.func)
            if chain and chain[0] == "get_ipython" and not chain[1]:
                return True
            if chain and chain[1] and chain[0] in modules:
                if STATE_CALLS.match(chain[1][0]) or STATE_CONTAINERS & set(chain[1][1:]):
                    return True
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                chain = _chain(t, through_subscripts=True) if isinstance(t, (ast.Attribute, ast.Subscript)) else None
                if chain and chain[0] in modules:
                    return True
    return False


def imported_modules(nb) -> set[str]:
    """Names bound by module-level imports in any code cell."""
    return {(a.asname or a.name).split(".")[0] for node in _top_level_imports(nb) for a in node.names}


READ_ONLY_CALLS = {"print", "display", "len", "repr", "str", "type", "isinstance", "id", "float", "int", "bool",
                   "list", "tuple", "sorted", "sum", "min", "max", "abs", "round", "hasattr", "getattr"}


@functools.lru_cache(maxsize=4096)
def mutated_names(source: str, modules: frozenset[str] = frozenset()) -> frozenset[str]:
    """Names whose objects a cell may change in place, at module level: ``x.method(...)``,
    ``x.attr = ...``, ``x[k] = ...``, ``x += ...``, ``del x[k]``, or ``x`` passed to a call
    (``fit(model, ...)``), except to builtins that only read (``print``, ``len``, ...) and to
    functions of the imported ``modules`` unless their name ends with ``_`` (torch's in-place
    convention, ``nn.init.zeros_(w)``). Calling a module's function does not change the
    module (``changes_global_state`` covers module state). A cell that does not parse could
    change anything: ``{"*"}``."""
    tree = parse_cell(source)
    if tree is None:
        return frozenset({"*"})
    names = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            chain = _chain(node.func)
            if chain and chain[1] and chain[0] not in modules:
                names.add(chain[0])
            module_function = chain is not None and chain[0] in modules and not (chain[1] or [chain[0]])[0].endswith("_")
            if not (chain and not chain[1] and chain[0] in READ_ONLY_CALLS) and not module_function:
                names.update(a.id for a in node.args if isinstance(a, ast.Name))
                names.update(k.value.id for k in node.keywords if isinstance(k.value, ast.Name))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                chain = _chain(t, through_subscripts=True)
                if chain and (chain[1] or not isinstance(t, ast.Name) or isinstance(node, ast.AugAssign)):
                    names.add(chain[0])
        stack.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def lean_keep(nb, extra_sources: dict[str, list[str]] | None = None) -> set[int]:
    """Indices of the code cells a lean submission keeps: test cells, solution cells,
    every cell they depend on (by names, counting the variants' sources), cells that
    change global state (``changes_global_state``), and cells that may change in place an
    object a kept cell reads (``mutated_names``, between the cell that defines the name and
    the reader), each with what it depends on."""
    extra_sources = extra_sources or {}
    closure = dependency_closure(nb, extra_sources)
    modules = frozenset(imported_modules(nb))
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    sources = {i: [nb.cells[i].source] + extra_sources.get(nb.cells[i].get("id"), []) for i in code}
    names = {i: [_cell_names(src) for src in sources[i]] for i in code}
    keep = set()
    for i in code:
        meta = nb.cells[i].metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("solution") or changes_global_state(nb.cells[i].source, modules):
            keep |= {i} | closure.get(i, set())
    done: set[int] = set()
    while keep - done:
        i = min(keep - done)
        done.add(i)
        read = set()
        for found in names[i]:
            read |= set() if found is None else (found[1] | found[2])
        for n in read:
            definers = [j for j in code if j < i and any(f is not None and n in f[0] for f in names[j])]
            start = max(definers) if definers else -1
            for j in code:
                if start < j < i and j not in keep and any(
                        n in mutated_names(src, modules) or "*" in mutated_names(src, modules) for src in sources[j]):
                    keep |= {j} | closure.get(j, set())
    return keep


def make_lean(nb, keep: set[int]):
    """A copy of ``nb`` without the code cells not in ``keep`` (they carry no nbgrader
    metadata, so nbgrader does not put them back)."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for i, c in enumerate(nb.cells) if c.cell_type != "code" or i in keep]
    return nb


# ---------------------------------------------------------------- variants and submissions

def _noisy(solution):
    noisy = copy.deepcopy(solution)
    for cell in solution_cells(noisy).values():
        cell.source = ("import sys as _sys, warnings as _warnings\n"
                       "_warnings.warn('a harmless warning', UserWarning)\n"
                       "print('harmless stderr output', file=_sys.stderr)\n" + cell.source)
    return noisy


def build_variants(name: str, release_nb, solution=None, precision: bool = False) -> list[Variant]:
    """The solution, stub, noisy solution, mutant and alternative variants of a chapter
    (and, with ``precision``, the precision twins)."""
    solution = solution if solution is not None else load_solution(name)
    variants = [Variant("solution", "solution", solution, "the solution"),
                Variant("stub", "stub", release_nb, "the unmodified student release"),
                Variant("noisy", "noisy", _noisy(solution), "the solution plus warnings/stderr in every solution cell")]
    tests = graded_cells(solution)
    for kind, folder in (("mutant", MUTANTS / name), ("alternative", ALTERNATIVES / name)):
        for path in sorted(folder.glob("*.py")):
            header, body = parse_variant_file(path)
            fails = header.get("fails", "").split()
            if kind == "mutant":
                if not fails:
                    raise ValueError(f"{path}: a mutant must name the test cells it fails (`# fails: ...`)")
                unknown = [f for f in fails if f not in tests]
                if unknown:
                    raise ValueError(f"{path}: unknown test cells {unknown}; test cells are {sorted(tests)}")
            student = f"{'mutant' if kind == 'mutant' else 'alt'}-{path.stem}".replace("_", "-")
            variants.append(Variant(student, kind, replace_cell(solution, header["cell"], body, str(path)),
                                    header.get(kind, path.stem), header["cell"], fails))
    if precision:
        decl, _ = declarations(solution)
        owner = exercise_of_tests(solution)
        stated = {owner[t] for t, kinds in decl.items() if "dtype-stated" in kinds}
        for gid, cell in solution_cells(solution).items():
            twin = precision_twin(cell.source) if gid not in stated else None
            if twin:
                variants.append(Variant(f"prec-{gid}".replace("_", "-"), "precision",
                                        replace_cell(solution, gid, twin, "precision twin"),
                                        f"{gid} computing in the other float precision", gid))
    return variants


def batch_variants(solution, variants: list[Variant]) -> list[Submission]:
    """Group mutants (and alternatives) that cannot interfere into shared submissions."""
    index = {c.get("id"): i for i, c in enumerate(solution.cells)}
    extra: dict[str, list[str]] = {}
    for v in variants:
        if v.cell:
            extra.setdefault(v.cell, []).append(solution_cells(v.notebook)[v.cell].source)
    closure = dependency_closure(solution, extra)

    def interferes(a: Variant, b: Variant) -> bool:
        return any(index[a.cell] in closure[index[t]] or index[a.cell] == index[t] for t in b.fails)

    submissions: list[Submission] = []
    for kinds, prefix, kind in ((("mutant",), "mutants", "mutant"), (("alternative", "precision"), "alts", "alternative")):
        groups: list[list[Variant]] = []
        of_kind = [v for v in variants if v.kind in kinds]
        per_cell = {c: sum(v.cell == c for v in of_kind) for c in {v.cell for v in of_kind}}
        # First-fit, cells with the most variants first: they set the number of groups.
        for v in sorted(of_kind, key=lambda v: (-per_cell[v.cell], v.cell, v.student)):
            for group in groups:
                if all(v.cell != g.cell and not interferes(v, g) and not interferes(g, v) for g in group):
                    group.append(v)
                    break
            else:
                groups.append([v])
        for n, group in enumerate(groups, 1):
            nb = copy.deepcopy(solution)
            cells = solution_cells(nb)
            for v in group:
                cells[v.cell].source = solution_cells(v.notebook)[v.cell].source
            submissions.append(Submission(f"{prefix}-{n}", kind, nb, group))
    singles = [Submission(v.student, v.kind, v.notebook, [v]) for v in variants
               if v.kind not in ("mutant", "alternative", "precision")]
    return singles + submissions


@dataclass
class Plan:
    """Everything validity grades for one chapter, and what it needs to judge the grades."""
    name: str
    solution: nbformat.NotebookNode
    release: nbformat.NotebookNode
    variants: list[Variant]
    submissions: list[Submission]
    units: list[list[str]]
    unit_of_test: dict[str, int | None]
    points: dict[str, float]
    decl: dict[str, dict[str, list[str]]]
    problems: list[str]
    closure: dict[int, set[int]]
    extra: dict[str, list[str]]
    keep: set[int]


def _with_cells(solution, release, solved_exercises: set[str], sources: dict[str, str]):
    """The solution notebook with exercises outside ``solved_exercises`` as the release's
    stubs, and ``sources`` (exercise -> source) replacing solved ones."""
    nb = copy.deepcopy(solution)
    stubs = solution_cells(release)
    for gid, cell in solution_cells(nb).items():
        if gid not in solved_exercises:
            cell.source = stubs[gid].source
        elif gid in sources:
            cell.source = sources[gid]
    return nb


def plan_chapter(name: str, release_nb, solution=None) -> Plan:
    """Build every submission of a chapter (see the module docstring)."""
    solution = solution if solution is not None else load_solution(name)
    problems: list[str] = []
    decl, decl_problems = declarations(solution)
    problems += decl_problems
    variants = build_variants(name, release_nb, solution, precision=True)
    extra: dict[str, list[str]] = {}
    for v in variants:
        if v.cell:
            extra.setdefault(v.cell, []).append(solution_cells(v.notebook)[v.cell].source)
    for gid, cell in solution_cells(release_nb).items():
        extra.setdefault(gid, []).append(cell.source)
    closure = dependency_closure(solution, extra)
    owner = exercise_of_tests(solution, dependency_closure(solution))
    units = exercise_units(solution, owner, decl)
    unit_index = {e: k for k, unit in enumerate(units) for e in unit}
    unit_of_test = {t: unit_index.get(e) if e else None for t, e in owner.items()}
    points = {gid: float(c.metadata.nbgrader.get("points", 0)) for gid, c in graded_cells(solution).items()}
    keep = lean_keep(solution, extra)
    lean = os.environ.get("DLCV_VALIDITY_LEAN", "1") != "0"

    def finish(nb):
        return make_lean(nb, keep) if lean else nb

    submissions: list[Submission] = []
    by = {v.kind: v for v in variants if v.kind in ("solution", "stub", "noisy")}
    submissions.append(Submission("noisy", "noisy", by["noisy"].notebook, [by["noisy"]]))
    submissions.append(Submission("stub", "stub", by["stub"].notebook, [by["stub"]], solved=frozenset()))

    mutants = [v for v in variants if v.kind == "mutant"]
    for sub in batch_variants(solution, mutants):
        if sub.kind == "mutant":
            sub.notebook, sub.lean = finish(sub.notebook), lean
            submissions.append(sub)

    # Isolation runs, each carrying at most one alternative or twin per solved cell.
    family = separating_family(len(units))
    hosted: list[dict[str, Variant]] = [{} for _ in family]
    leftovers = []
    alts = [v for v in variants if v.kind in ("alternative", "precision")]
    load = [0] * len(family)
    defined_by = {gid: (_cell_names(c.source) or (set(), set(), set()))[0]
                  for gid, c in solution_cells(solution).items()}
    for v in sorted(alts, key=lambda v: (v.cell, v.student)):
        # The units the run must solve: the variant's own, and those of the exercises whose
        # names it reads (an alternative may call another exercise's function).
        names = _cell_names(solution_cells(v.notebook)[v.cell].source)
        read = set() if names is None else (names[1] | names[2])
        needs = {unit_index[v.cell]} | {unit_index[g] for g, d in defined_by.items() if g != v.cell and d & read}
        runs = [k for k, s in enumerate(family) if needs <= s and v.cell not in hosted[k]]
        if not runs:
            leftovers.append(v)
            continue
        k = min(runs, key=lambda k: (load[k], k))
        hosted[k][v.cell] = v
        load[k] += 1
    for k, solved in enumerate(family):
        exercises = {e for u in solved for e in units[u]}
        sources = {c: solution_cells(v.notebook)[c].source for c, v in hosted[k].items()}
        nb = _with_cells(solution, release_nb, exercises, sources)
        submissions.append(Submission(f"iso-{k + 1}", "isolation", finish(nb), list(hosted[k].values()),
                                      solved=solved, lean=lean))
    for sub in batch_variants(solution, leftovers):
        if sub.kind == "alternative":
            sub.notebook, sub.lean = finish(sub.notebook), lean
            submissions.append(sub)
    return Plan(name, solution, release_nb, variants, submissions, units, unit_of_test, points, decl,
                problems, closure, extra, keep)


def _answer_recording(nb, folder: Path):
    """A copy of ``nb`` with a cell before each test cell that sends the answers its
    expect_answer calls record to ``folder/<test id>.jsonl``."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id") if cell.metadata.get("nbgrader", {}).get("grade") else None
        if gid:
            cells.append(nbformat.v4.new_code_cell(
                f"import os as _os\n_os.environ['DLCV_RECORD_ANSWERS'] = {str(folder / (gid + '.jsonl'))!r}"))
        cells.append(cell)
    nb.cells = cells
    return nb


# ---------------------------------------------------------------- grading engine

@dataclass
class Task:
    chapter: str
    student: str
    notebook_path: str
    env: dict
    full: bool
    base: str = ""  # the chapter's generated course root, copied once per worker


@dataclass
class Outcome:
    chapter: str
    student: str
    grades: dict[str, CellGrade]
    autograded: str | None
    cpu: float
    wall: float
    error: str | None = None


def _generate(name: str, root: Path, solution=None) -> Path:
    """nbgrader generate_assignment, in this process; the release notebook. ``solution``:
    the chapter's solution notebook if already loaded."""
    from nbgrader.converters import GenerateAssignment
    # nbgrader runs `alembic` to create a gradebook: it must come from this environment.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    if solution is None:
        write_source(name, root)
    else:
        target = root / "source" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(solution, target)
    app = GenerateAssignment(coursedir=_coursedir(root, name), config=_config(root))
    app.force = True
    _quiet_start(app)
    return root / "release" / name / f"{name}.ipynb"


def _config(root: Path, kernel_name: str | None = None):
    from traitlets.config.loader import PyFileConfigLoader
    c = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    if kernel_name:
        c.Execute.kernel_name = kernel_name
    return c


def _coursedir(root: Path, name: str, student: str = "*"):
    from nbgrader.coursedir import CourseDirectory
    cd = CourseDirectory(config=_config(root))
    cd.root = str(root)
    cd.assignment_id = name
    cd.student_id = student
    return cd


def _quiet_start(app) -> str:
    import io
    import logging
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    app.log.addHandler(handler)
    app.log.propagate = False
    try:
        app.start()
    except BaseException as err:
        raise RuntimeError(f"{type(app).__name__} failed: {err}\n{buf.getvalue()[-4000:]}") from err
    finally:
        app.log.removeHandler(handler)
    return buf.getvalue()


def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"
    return None


def _read_grades(name: str, root: Path, student: str) -> dict[str, CellGrade]:
    from nbgrader.api import Gradebook, MissingEntry

    graded_nb_path = root / "autograded" / student / name / f"{name}.ipynb"
    graded_nb = nbformat.read(graded_nb_path, as_version=4) if graded_nb_path.exists() else None
    cells = graded_cells(graded_nb) if graded_nb is not None else {}
    per_cell = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gb:
        notebook = gb.find_assignment(name).notebooks[0]
        for cell in notebook.grade_cells:
            try:
                grade = gb.find_grade(cell.name, notebook.name, name, student)
                score = grade.score if grade.score is not None else 0.0
            except MissingEntry:
                score = 0.0
            err = _cell_error(cells[cell.name]) if cell.name in cells else "cell missing from autograded notebook"
            per_cell[cell.name] = CellGrade(float(score), float(cell.max_score), err)
    return per_cell


def _grade_one(task: Task, root: Path, kernel_name: str | None = None, cpu_log: Path | None = None) -> Outcome:
    import resource

    from nbgrader.converters import Autograde
    start, cpu0 = time.monotonic(), time.process_time()
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    log0 = cpu_log.stat().st_size if cpu_log and cpu_log.exists() else 0
    target = root / "submitted" / task.student / task.chapter / f"{task.chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(task.notebook_path, target)
    saved = dict(os.environ)
    os.environ.update(QUICK_ENV)
    os.environ.update(task.env)
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    try:
        app = Autograde(coursedir=_coursedir(root, task.chapter, task.student), config=_config(root, kernel_name))
        app.force = True
        app.create_student = True
        log = _quiet_start(app)
        (root / f"autograde-{task.student}.log").write_text(log)
        grades = _read_grades(task.chapter, root, task.student)
        error = None
    except Exception as err:  # noqa: BLE001  (reported as a problem of this submission)
        grades, error = {}, f"{type(err).__name__}: {err}"[-4000:]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + (ch1.ru_utime + ch1.ru_stime) - (ch0.ru_utime + ch0.ru_stime)
    if cpu_log and cpu_log.exists():  # warm kernels are the server's children: it logs their CPU time
        with open(cpu_log) as f:
            f.seek(log0)
            cpu += sum(float(line.split()[1]) for line in f if len(line.split()) == 2)
    autograded = root / "autograded" / task.student / task.chapter / f"{task.chapter}.ipynb"
    return Outcome(task.chapter, task.student, grades, str(autograded) if autograded.exists() else None,
                   cpu, time.monotonic() - start, error)


def _worker(wid: int, tmp: str, tasks, results, preload: list[str] | None) -> None:
    roots: dict[str, Path] = {}
    kernel_name = cpu_log = server = None
    if preload is not None:
        from autograder.tools import warmkernel
        here = Path(tempfile.mkdtemp(prefix=f"warm{wid}-", dir=tmp))
        sock = str(here / "s")
        env = {**os.environ, **QUICK_ENV,
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
        server = warmkernel.start_server(sock, preload, env)
        kernel_name = warmkernel.kernelspec(here, sock)
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(here), os.environ.get("JUPYTER_PATH", "")])
        cpu_log = Path(warmkernel.cpu_log(sock))
    try:
        while True:
            task = tasks.get()
            if task is None:
                return
            if task.chapter not in roots:
                roots[task.chapter] = Path(tempfile.mkdtemp(prefix=f"w{wid}-{task.chapter}-", dir=tmp)) / "course"
                shutil.copytree(task.base, roots[task.chapter])
            results.put(_grade_one(task, roots[task.chapter], kernel_name, cpu_log))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


# Imported by the warm-kernel server: heavy libraries that do not look for IPython when they
# are imported (tqdm.auto, ipywidgets and the course's own modules do, so kernels import them).
class GradingPool:
    """``workers`` processes that grade tasks as they are submitted (each with its own copy
    of each chapter's course root and gradebook). With ``preload`` (a module list), their
    kernels are forked from a warm server (warmkernel.py)."""

    def __init__(self, tmp: Path, workers: int = 2, preload: list[str] | None = None):
        import multiprocessing as mp
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
        if preload is not None and not (hasattr(os, "fork") and hasattr(__import__("socket"), "AF_UNIX")):
            preload = None
        self.todo, self.done = ctx.Queue(), ctx.Queue()
        self.procs = [ctx.Process(target=_worker, args=(w, str(tmp), self.todo, self.done, preload), daemon=True)
                      for w in range(max(1, workers))]
        for p in self.procs:
            p.start()
        self.pending = 0

    def submit(self, task: Task) -> None:
        self.todo.put(task)
        self.pending += 1

    def wait(self) -> dict[tuple[str, str], Outcome]:
        """The outcomes of every task submitted since the last wait."""
        out = {}
        while self.pending:
            try:
                o = self.done.get(timeout=30)
            except Exception:  # noqa: BLE001  (queue.Empty: check that the workers are alive)
                if not any(p.is_alive() for p in self.procs):
                    raise RuntimeError("validity workers died before finishing") from None
                continue
            out[(o.chapter, o.student)] = o
            self.pending -= 1
        return out

    def close(self) -> None:
        for _ in self.procs:
            self.todo.put(None)
        for p in self.procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()


def grade_tasks(tasks: list[Task], tmp: Path, workers: int = 2,
                preload: list[str] | None = None) -> dict[tuple[str, str], Outcome]:
    """Grade a list of tasks (full runs first) and return their outcomes."""
    pool = GradingPool(tmp, workers, preload)
    try:
        for t in sorted(tasks, key=lambda t: not t.full):
            pool.submit(t)
        return pool.wait()
    finally:
        pool.close()


# ---------------------------------------------------------------- static checks

def leaked_lines(solution_nb, release_nb, min_len: int = 8) -> list[str]:
    """Lines of solution or hidden-test regions that appear in the release."""
    release_lines = {line.strip() for cell in release_nb.cells for line in cell.source.splitlines()}
    leaks = []
    for cell in solution_nb.cells:
        for region in (regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
                       + regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)):
            for line in region.splitlines():
                s = line.strip()
                if len(s) >= min_len and not s.startswith("#") and s in release_lines:
                    leaks.append(f"{cell.get('id')}: {s}")
    return leaks


def asserts_without_message(solution_nb) -> list[str]:
    """Visible-test ``assert`` statements that carry no message for the student."""
    bad = []
    for grade_id, cell in graded_cells(solution_nb).items():
        tree = ast.parse(visible_part(cell.source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and node.msg is None:
                bad.append(f"{grade_id} line {node.lineno}: {ast.unparse(node)[:80]}")
    return bad


def untargeted_tests(name: str, solution=None) -> list[str]:
    """Graded test cells that no mutant targets."""
    solution = solution if solution is not None else load_solution(name)
    targeted = set()
    for path in (MUTANTS / name).glob("*.py"):
        targeted.update(parse_variant_file(path)[0].get("fails", "").split())
    return sorted(set(graded_cells(solution)) - targeted)


# ---------------------------------------------------------------- judging

def _expected_full(plan: Plan, sub: Submission, test: str) -> bool:
    """Whether ``test`` must score full marks in ``sub`` (alternatives, solution, isolation)."""
    if sub.solved is None:
        return True
    unit = plan.unit_of_test.get(test)
    return unit is not None and unit in sub.solved


def _culprits(plan: Plan, sub: Submission, test: str) -> list[Variant]:
    """The members of ``sub`` that can have changed ``test``'s score (by names)."""
    index = {c.get("id"): i for i, c in enumerate(plan.solution.cells)}
    t = index[test]
    return [v for v in sub.members if v.cell and (index[v.cell] in plan.closure.get(t, set()) or index[v.cell] == t)]


def judge(plan: Plan, sub: Submission, cells: dict[str, CellGrade]) -> list[str]:
    """The problems ``sub``'s grades show."""
    problems = []
    if sub.kind == "mutant":
        for v in sub.members:
            for gid in v.fails:
                g = cells[gid]
                if g.score >= g.max_score:
                    problems.append(f"{v.student} ({v.description}): {gid} still scored full marks")
                elif not g.error or g.error.rstrip().endswith(":"):
                    problems.append(f"{v.student}: {gid} failed without a message ({g.error})")
        return problems
    for gid, g in cells.items():
        full = _expected_full(plan, sub, gid)
        if full and g.score < g.max_score:
            if sub.kind in ("alternative", "isolation") and sub.members:
                who = ", ".join(v.student for v in _culprits(plan, sub, gid)) or sub.student
            else:
                who = sub.student
            what = ("(isolation: solved " + ", ".join(_unit_name(plan, u) for u in sorted(sub.solved)) + ") "
                    if sub.kind == "isolation" else "")
            problems.append(f"{who}: {gid} scored {g.score}/{g.max_score} {what}({g.error})")
        elif not full and g.score != 0:
            if sub.kind == "stub":
                problems.append(f"stub: {gid} scored {g.score}/{g.max_score}; a test passes on the stub")
            else:
                problems.append(f"{sub.student}: {gid} scored {g.score}/{g.max_score} although its exercise "
                                f"{_unit_name(plan, plan.unit_of_test.get(gid))} is unsolved (solved: "
                                + ", ".join(_unit_name(plan, u) for u in sorted(sub.solved)) + ")")
    return problems


def _unit_name(plan: Plan, unit: int | None) -> str:
    return "+".join(plan.units[unit]) if unit is not None else "(no exercise)"


def isolation_table(plan: Plan, runs: list[tuple[frozenset[int] | None, dict[str, CellGrade]]]) -> tuple[list[str], list[str]]:
    """Lines of the isolation table and the problems it shows (see the module docstring)."""
    n = len(plan.units)
    every = frozenset(range(n))
    runs = [(every if s is None else s, cells) for s, cells in runs]
    total = sum(plan.points.values())
    lines, problems = [], []
    own = {u: sum(p for t, p in plan.points.items() if plan.unit_of_test.get(t) == u) for u in range(n)}

    def predicted(test: str, wanted: dict[int, bool], target: frozenset[int]) -> float | None:
        """The score of ``test`` in the runs that match ``wanted`` (unit -> solved?), taken
        from the matching runs closest to the solved set ``target``."""
        matching = [(len(solved ^ target), cells[test].score) for solved, cells in runs
                    if test in cells and all((u in solved) == want for u, want in wanted.items())]
        if not matching:
            return None
        best = min(d for d, _ in matching)
        return min(score for d, score in matching if d == best)

    width = max([len(_unit_name(plan, u)) for u in range(n)] + [8])
    for u in range(n):
        alone = lost_keep = 0.0
        unknown = False
        for test in plan.points:
            v = plan.unit_of_test.get(test)
            if v is None:
                continue
            a = predicted(test, {u: True} if v == u else {u: True, v: False}, frozenset({u}))
            b = predicted(test, {u: False} if v == u else {u: False, v: True}, every - {u})
            unknown |= a is None or b is None
            alone += a or 0.0
            lost_keep += b or 0.0
        lost = total - lost_keep
        flag = "" if (alone == own[u] and lost == own[u]) or unknown else "   <- not isolated"
        if unknown:
            flag = "   (not derivable from the runs)"
        lines.append(f"  {_unit_name(plan, u):<{width}}  alone {alone:5.1f}  lost {lost:5.1f}  own {own[u]:5.1f}{flag}")
        if flag and not unknown:
            problems.append(f"isolation: {_unit_name(plan, u)} alone earns {alone} and missing it costs {lost}; "
                            f"its own points are {own[u]}")
    return lines, sorted(set(problems), key=problems.index)


# ---------------------------------------------------------------- the report

def _fast_alembic() -> None:
    """nbgrader runs the `alembic` command (a new Python process) to learn the schema
    version each time it creates a gradebook: ask it once."""
    import nbgrader.api
    if not hasattr(nbgrader.api.get_alembic_version, "cache_info"):
        nbgrader.api.get_alembic_version = functools.lru_cache(maxsize=1)(nbgrader.api.get_alembic_version)


def check_chapters(names: list[str], workers: int = 2, log=print) -> dict[str, list[str]]:
    """Run every validity check for the chapters; return the problems per chapter.

    The grading workers start first; each chapter's submissions are queued as soon as the
    chapter is prepared (its release generated and its variants built), so preparing the
    next chapter overlaps with grading the previous ones."""
    from autograder.tools.build import solution_path
    start, cpu_start = time.monotonic(), time.process_time()
    tmp = Path(tempfile.mkdtemp(prefix="validity-"))
    problems: dict[str, list[str]] = {}
    plans: dict[str, Plan] = {}
    bases: dict[str, Path] = {}
    _fast_alembic()
    warm = os.environ.get("DLCV_VALIDITY_WARM", "1") != "0"
    preload = warm_modules([solution_path(n).read_text() for n in names]) if warm else None
    pool = GradingPool(tmp, workers, preload)
    try:
        for name in names:
            base = new_course_root(tmp / f"base-{name}")
            solution = load_solution(name)
            release_nb = nbformat.read(_generate(name, base, solution), as_version=4)
            bases[name] = base
            probs = [f"leaked into the release: {line}" for line in leaked_lines(solution, release_nb)]
            probs += [f"visible assert without a message: {a}" for a in asserts_without_message(solution)]
            probs += [f"no mutant targets test cell {t}" for t in untargeted_tests(name, solution)]
            try:
                plan = plan_chapter(name, release_nb, solution)
            except ValueError as err:  # a patch that does not apply, a bad header
                problems[name] = probs + [str(err)]
                continue
            problems[name] = probs + plan.problems
            plans[name] = plan
            answers = tmp / f"answers-{name}"
            answers.mkdir()
            for sub in sorted(plan.submissions, key=lambda sub: sub.lean):  # full runs first
                nb = _answer_recording(sub.notebook, answers) if sub.kind == "noisy" else sub.notebook
                path = tmp / f"{name}-{sub.student}.ipynb"
                nbformat.write(nb, path)
                pool.submit(Task(name, sub.student, str(path), dict(sub.env), not sub.lean, str(base)))
        prepared, prep_cpu = time.monotonic() - start, time.process_time() - cpu_start
        outcomes = pool.wait()
        # Second round: tell apart what a merged run could not.
        extra_subs: dict[str, list[Submission]] = {}
        for name, plan in plans.items():
            for sub in plan.submissions:
                o = outcomes[(name, sub.student)]
                if o.error or not judge(plan, sub, o.grades):
                    continue
                more = []
                if sub.kind == "noisy":
                    by = {v.kind: v for v in plan.variants}
                    more.append(Submission("solution", "solution", by["solution"].notebook, [by["solution"]]))
                elif sub.kind == "isolation" and sub.members:
                    exercises = {e for u in sub.solved for e in plan.units[u]}
                    nb = _with_cells(plan.solution, plan.release, exercises, {})
                    lean = sub.lean
                    more.append(Submission(sub.student + "-pure", "isolation", make_lean(nb, plan.keep) if lean else nb,
                                           [], solved=sub.solved, lean=lean))
                    nb = copy.deepcopy(plan.solution)
                    for v in sub.members:
                        solution_cells(nb)[v.cell].source = solution_cells(v.notebook)[v.cell].source
                    more.append(Submission(sub.student + "-alts", "alternative",
                                           make_lean(nb, plan.keep) if lean else nb, sub.members, lean=lean))
                for m in more:
                    path = tmp / f"{name}-{m.student}.ipynb"
                    nbformat.write(m.notebook, path)
                    pool.submit(Task(name, m.student, str(path), {}, not m.lean, str(bases[name])))
                extra_subs.setdefault(name, []).extend(more)
        outcomes.update(pool.wait())
        for name, plan in plans.items():
            problems[name] += _report(plan, extra_subs.get(name, []), outcomes, tmp, log)
        cpu = sum(o.cpu for o in outcomes.values())
        log(f"validity of {', '.join(names)}: {len(outcomes)} submissions graded in {time.monotonic() - start:.0f} s "
            f"wall; CPU: {prep_cpu:.0f} s preparing (in {prepared:.0f} s wall, overlapping the grading), "
            f"{cpu:.0f} s in the graders and kernels")
    finally:
        pool.close()
        if not os.environ.get("DLCV_KEEP_GRADING_DIRS"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"grading folders kept in {tmp}")
    return problems


def _report(plan: Plan, extra: list[Submission], outcomes: dict[tuple[str, str], Outcome], tmp: Path, log) -> list[str]:
    name = plan.name
    problems: list[str] = []
    replaced = {s.student.rsplit("-", 1)[0] for s in extra if s.student.endswith(("-pure", "-alts"))}
    cpu = sum(o.cpu for (ch, _), o in outcomes.items() if ch == name)
    count = {k: sum(v.kind == k for v in plan.variants) for k in ("mutant", "alternative", "precision")}
    stated = sorted(t for t, kinds in plan.decl.items() if "dtype-stated" in kinds)
    log(f"{name}: {count['mutant']} mutants, {count['alternative']} alternatives, {count['precision']} precision "
        f"twins (tests declaring dtype-stated: {', '.join(stated) or 'none'}), {len(plan.units)} units, "
        f"graded as {len(plan.submissions) + len(extra)} submissions ({cpu:.0f} s CPU); lean submissions keep "
        f"{len(plan.keep)} of {sum(c.cell_type == 'code' for c in plan.solution.cells)} code cells")
    runs = []
    for sub in plan.submissions + extra:
        o = outcomes[(name, sub.student)]
        if o.error:
            problems.append(f"{sub.student}: nbgrader could not grade it: {o.error}")
            continue
        total = sum(g.score for g in o.grades.values())
        full = sum(g.max_score for g in o.grades.values())
        what = "; ".join(v.description for v in sub.members) or (
            "solved: " + ", ".join(_unit_name(plan, u) for u in sorted(sub.solved)) if sub.kind == "isolation" else "")
        log(f"  {sub.student:<14} {total:5.1f} / {full:5.1f}  {o.cpu:5.1f} s  {what}"[:300])
        if sub.student in replaced:
            continue  # judged through its -pure and -alts runs
        problems += judge(plan, sub, o.grades)
        if sub.kind in ("noisy", "solution", "stub", "isolation") and not (sub.kind == "noisy" and any(
                s.kind == "solution" for s in extra)):
            runs.append((sub.solved, o.grades))
    # Answer leaks: the recorded answers against what the stub run shows.
    answers = read_answers(tmp / f"answers-{name}")
    stub = outcomes[(name, "stub")]
    generic_ok = {t for t, kinds in plan.decl.items() if "generic-answer" in kinds}
    if stub.autograded:
        texts = output_texts(nbformat.read(stub.autograded, as_version=4), "stub run's ") + source_texts(plan.release)
        problems += [f"answer leak: {p}" for p in find_leaks(answers, generic_ok, texts)]
    unused = generic_ok - set(answers)
    problems += [f"{t}: declares generic-answer but records no quiz answer (expect_answer)" for t in sorted(unused)]
    lines, iso_problems = isolation_table(plan, runs)
    log(f"  isolation ({len(plan.units)} units; points alone / lost when only it is missing / own):")
    for line in lines:
        log(line)
    log(f"  {sum(len(v) for v in answers.values())} quiz answers recorded in {len(answers)} test cells, "
        "searched in the stub run's outputs and the release's text")
    return problems + iso_problems


def check_chapter(name: str, workers: int = 2) -> list[str]:
    """Run every validity check for one chapter; return a list of problems (empty = valid)."""
    return check_chapters([name], workers)[name]


def main(argv=None) -> int:
    from autograder.tools.build import chapter_names
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    results = check_chapters(args.chapters or chapter_names(), args.workers)
    bad = 0
    for name, problems in results.items():
        for p in problems:
            print(f"PROBLEM {name}: {p}")
        bad += len(problems)
    print("grading validity holds" if not bad else f"{bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
