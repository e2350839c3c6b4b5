"""Check a chapter notebook before you hand it in, the way it will be graded.

    python -m course_utils.selfcheck chapters/02_cnns.ipynb      (or: make check NB=chapters/02_cnns.ipynb)

The notebook is executed from top to bottom in a fresh kernel, as the grader does: quick
mode (``DLCV_QUICK=1``, short training), every cell run even after an error, and the
notebook's own visible tests. The notebook file itself is not modified. Then every
exercise is listed with the result of each of its test cells:

* **passed**: the test cell ran without an error;
* **FAILED**, with the test's message: fix this before you hand in;
* **not attempted**: the exercise still raises the ``NotImplementedError`` of its stub.

The exit status is 1 when a test failed (or the notebook could not be run), 0 otherwise,
so scripts can rely on it (nbgrader's own ``validate`` exits 0 even when tests fail).
With ``--strict``, exercises not attempted count as failures too.

Passing here is necessary, not sufficient: grading adds hidden tests on other sizes and
edge cases, and restores the original test cells if you changed them (the report warns
when it sees a changed test cell).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["CellResult", "Exercise", "execute", "analyse", "format_report", "main"]

STUB_MESSAGE = "Exercise: replace this line with your code"
# How the grader runs a notebook (autograder/tools/validity.py and autograde.py do the same).
GRADING_ENV = {"DLCV_QUICK": "1", "MPLBACKEND": "Agg"}
CELL_TIMEOUT = 300  # seconds per cell, as in autograder/nbgrader_config.py
MAX_MESSAGE = 600   # characters of a failure message shown


@dataclass
class CellResult:
    """One graded test cell after execution."""
    grade_id: str
    points: float
    status: str  # "passed" | "failed" | "not attempted"
    message: str = ""
    edited: bool = False  # the cell differs from the released version (grading restores it)


@dataclass
class Exercise:
    """A solution cell and the test cells that follow it."""
    grade_id: str
    tests: list[CellResult] = field(default_factory=list)
    error: str = ""  # the exercise cell's own error, if any (other than the stub's)

    @property
    def status(self) -> str:
        kinds = {t.status for t in self.tests}
        if "failed" in kinds:
            return "failed"
        if kinds == {"passed"}:
            return "passed"
        return "not attempted" if kinds == {"not attempted"} else "partly attempted"


# ---------------------------------------------------------------- execution

def execute(path: str | os.PathLike, *, timeout: int = CELL_TIMEOUT, quick: bool = True,
            progress: bool = False) -> nbformat.NotebookNode:
    """Run a copy of the notebook at ``path`` in a fresh kernel, every cell even after errors.

    The kernel starts in the notebook's folder with the grading environment
    (``DLCV_QUICK=1`` unless ``quick=False``, ``MPLBACKEND=Agg``). Returns the executed copy.
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    saved = {k: os.environ.get(k) for k in GRADING_ENV}
    env = dict(GRADING_ENV)
    if not quick:
        env["DLCV_QUICK"] = "0"
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    done = [0]

    def on_cell_executed(cell, cell_index, execute_reply):
        done[0] += 1
        if progress:
            print(f"\r  running cell {done[0]}/{code_cells}", end="", file=sys.stderr, flush=True)

    try:
        os.environ.update(env)  # the kernel inherits this process's environment
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, allow_errors=True,
                                interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent)}},
                                on_cell_executed=on_cell_executed)
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if progress:
            print(file=sys.stderr)
    return nb


# ---------------------------------------------------------------- analysis

def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _checksum(cell) -> str:
    """nbgrader's checksum of a cell (nbgrader.utils.compute_checksum), to notice edited test cells."""
    meta = _nbgrader(cell)
    m = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(bool(meta.get("grade"))), str(bool(meta.get("solution"))),
                 str(bool(meta.get("locked"))), meta.get("grade_id", "")):
        m.update(part.encode("utf-8"))
    if meta.get("grade"):
        m.update(str(float(meta.get("points", 0))).encode("utf-8"))
    return m.hexdigest()


def _error(cell) -> tuple[str, str] | None:
    """(ename, evalue) of a code cell's error output, or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", "Error"), out.get("evalue", "")
    return None


def _is_stub_error(err: tuple[str, str] | None) -> bool:
    return err is not None and err[0] == "NotImplementedError" and STUB_MESSAGE in err[1]


def analyse(nb: nbformat.NotebookNode) -> list[Exercise]:
    """Exercises of an executed notebook, each with the result of its test cells.

    A test cell belongs to the nearest solution cell above it. It is *not attempted* when
    it failed on the stub's ``NotImplementedError`` (raised by the test itself, or by the
    exercise cell, so that the names it should define do not exist).
    """
    exercises: list[Exercise] = []
    current: Exercise | None = None
    current_cell = None
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or not meta:
            continue
        if meta.get("solution") and not meta.get("grade"):
            current = Exercise(meta.get("grade_id", f"exercise {len(exercises) + 1}"))
            current_cell = cell
            err = _error(cell)
            if err is not None and not _is_stub_error(err):
                current.error = f"{err[0]}: {err[1]}"
            exercises.append(current)
            continue
        if not meta.get("grade"):
            continue
        if current is None:  # a test cell before any exercise
            current = Exercise("(no exercise cell)")
            exercises.append(current)
        err = _error(cell)
        edited = "checksum" in meta and meta["checksum"] != _checksum(cell)
        points = float(meta.get("points", 0) or 0)
        if err is None:
            status, message = "passed", ""
        elif _is_stub_error(err) or (current_cell is not None and _is_stub_error(_error(current_cell))):
            status, message = "not attempted", ""
        else:
            status, message = "failed", f"{err[0]}: {err[1]}".strip()
            if current.error:
                message += f"\n(the exercise cell itself raised {current.error})"
        current.tests.append(CellResult(meta.get("grade_id", "?"), points, status, message, edited))
    return [e for e in exercises if e.tests]


def other_errors(nb: nbformat.NotebookNode) -> list[str]:
    """Errors of cells that are neither exercises nor tests (grading runs them too)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or _nbgrader(cell).get("solution") or _nbgrader(cell).get("grade"):
            continue
        err = _error(cell)
        if err is not None:
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            found.append(f"cell {i + 1} ({first[:60]}): {err[0]}: {err[1]}".strip())
    return found


# ---------------------------------------------------------------- report

def _shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def format_report(name: str, exercises: list[Exercise], others: list[str] = (), *, seconds: float | None = None) -> str:
    """The text printed by the command line."""
    lines = [f"Self-check of {name}: visible tests only, quick mode, as when it is graded"
             + (f" ({seconds:.0f} s)" if seconds is not None else ""), ""]
    width = max([len(e.grade_id) for e in exercises] + [8])
    twidth = max([len(t.grade_id) for e in exercises for t in e.tests] + [9])
    for ex in exercises:
        for i, t in enumerate(ex.tests):
            head = ex.grade_id if i == 0 else ""
            label = {"passed": "passed", "failed": "FAILED", "not attempted": "not attempted"}[t.status]
            pts = f"{t.points:g} pt" if t.points != 1 else "1 pt"
            lines.append(f"  {head:<{width}}  {t.grade_id:<{twidth}}  {pts:>6}  {label}")
            if t.status == "failed":
                lines += textwrap.indent(_shorten(t.message), " " * 8).splitlines()
            if t.edited:
                lines.append(" " * 8 + "warning: this test cell was changed; grading uses the original")
    tests = [t for e in exercises for t in e.tests]
    count = {s: sum(t.status == s for t in tests) for s in ("passed", "failed", "not attempted")}
    points = {s: sum(t.points for t in tests if t.status == s) for s in count}
    lines += ["", f"{count['passed']} test cells passed ({points['passed']:g} of {sum(points.values()):g} points), "
                  f"{count['failed']} failed, {count['not attempted']} not attempted."]
    if others:
        lines += ["", "Other cells raised errors (they run when grading too, and later tests may depend on them):"]
        lines += ["  " + _shorten(o, 300) for o in others[:8]]
        if len(others) > 8:
            lines.append(f"  ... and {len(others) - 8} more")
    lines += ["", "Hidden tests run when your work is graded: passing these visible tests is necessary, not sufficient."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.selfcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", help="the chapter notebook to check, e.g. chapters/02_cnns.ipynb")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell (default %(default)s)")
    parser.add_argument("--full", action="store_true", help="full training budgets instead of quick mode")
    parser.add_argument("--strict", action="store_true", help="exercises not attempted count as failures")
    args = parser.parse_args(argv)
    path = Path(args.notebook)
    if not path.is_file():
        print(f"selfcheck: no such notebook: {path}", file=sys.stderr)
        return 2
    start = time.time()
    try:
        nb = execute(path, timeout=args.timeout, quick=not args.full, progress=sys.stderr.isatty())
    except Exception as err:  # the kernel died or could not start: the notebook cannot be graded as it is
        print(f"selfcheck: could not run {path}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    exercises = analyse(nb)
    if not exercises:
        print(f"selfcheck: {path} has no graded test cells (is it a chapter notebook?)", file=sys.stderr)
        return 2
    print(format_report(path.name, exercises, other_errors(nb), seconds=time.time() - start))
    tests = [t for e in exercises for t in e.tests]
    bad = {"failed", "not attempted"} if args.strict else {"failed"}
    return 1 if any(t.status in bad for t in tests) else 0


if __name__ == "__main__":
    sys.exit(main())
