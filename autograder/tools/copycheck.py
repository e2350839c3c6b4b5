"""Copy check at grading: is a student's solution a near copy of an answer we hold?

The student release withholds the readable reference of every graded exercise, but an
old release, or last year's solutions, may circulate. At grading, every function a student
wrote in a solution cell is compared with

* every reference of the chapter marked ``@reference_of`` in ``course_utils`` (the readable
  versions an old release shipped) and their twins (what the release ships now): a
  function whose similarity with one of them reaches :data:`THRESHOLD` is a near copy
  (more, :data:`MARGIN` above it, where the chapter's own solution already resembles that
  reference; functions the release itself gave in the cell are skipped);
* the chapter's own solution of that cell: a cell identical to it is a copy. Only identity
  counts here, because the chapter's other correct solutions (``autograder/alternatives``)
  are often the solution with one line changed and must not be flagged; a correct answer
  naturally resembles the solution, while it has no reason to resemble the references,
  which are written differently (loops, another vectorization, input checks).

Both sides are normalized at the AST level first: docstrings, comments, type hints and
formatting are gone, every identifier is renamed canonically (``v0, v1, ...`` in order of
first appearance; builtins and attribute names such as ``.shape`` or ``torch.zeros`` stay),
and string constants become one placeholder. They are compared as token sequences
(:class:`difflib.SequenceMatcher`); answers shorter than :data:`MIN_TOKENS` tokens (a
one-line formula, a quiz answer) are what anyone writes and are not evidence.

A near copy is **never zeroed automatically** and **never mentioned in the student's
feedback**: the grader marks the submission "needs review" for the instructor, in the grades
CSV and the table, with the function, the answer it resembles and the similarity.

    python -m autograder.tools.copycheck 02_cnns submission.ipynb [...]   # a report per notebook
"""
from __future__ import annotations

import argparse
import ast
import builtins
import difflib
import inspect
import io
import re
import sys
import textwrap
import tokenize
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

THRESHOLD = 0.85   # similarity of the normalized token sequences from which a function is a near copy
MIN_TOKENS = 60    # shorter answers (a one-line formula) are what anyone writes: no evidence either way
MARGIN = 0.05      # above the similarity of the chapter's own solution with the same answer
MAX_THRESHOLD = 0.98
BUILTINS = frozenset(dir(builtins)) | {"self", "cls"}


@dataclass(frozen=True)
class Finding:
    """One near copy: the student's function, the answer it resembles, how closely."""
    cell: str           # grade_id of the solution cell
    function: str       # the student's function (as they named it)
    source: str         # e.g. "reference course_utils.ops.conv.conv2d_loop" or "solution conv2d_loops"
    similarity: float

    def note(self) -> str:
        if self.source.startswith("chapter's solution"):
            return (f"needs review: {self.cell}: {self.function} is the {self.source}, "
                    f"identical after renaming and reformatting")
        return (f"needs review: {self.cell}: {self.function} is a near copy of the {self.source} "
                f"(similarity {self.similarity:.2f} after renaming and reformatting)")


# ---------------------------------------------------------------- normalization

class _Canonical(ast.NodeTransformer):
    """Rename identifiers in order of first appearance, drop docstrings, hints and string contents."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        if name in BUILTINS:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def _strip_body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                and not isinstance(s, ast.Pass)]
        return kept or [ast.Pass()]

    def visit_FunctionDef(self, node):
        node.name = self._name(node.name)
        node.returns = None
        node.decorator_list = []
        node.body = self._strip_body(node.body)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self._name(node.name)
        node.body = self._strip_body(node.body)
        self.generic_visit(node)
        return node

    def visit_arg(self, node):
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node):
        node.id = self._name(node.id)
        return node

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)

    def visit_Constant(self, node):
        if isinstance(node.value, (str, bytes)):
            return ast.copy_location(ast.Constant("S"), node)
        return node

    def visit_JoinedStr(self, node):
        return ast.copy_location(ast.Constant("S"), node)

    def visit_Import(self, node):
        for alias in node.names:
            alias.asname = self._name(alias.asname or alias.name.split(".")[0])
        return node

    def visit_ImportFrom(self, node):
        for alias in node.names:
            alias.asname = self._name(alias.asname or alias.name)
        return node


def parse_cell(source: str) -> ast.Module | None:
    """A code cell's AST; IPython magics and shell escapes are dropped. None if it does not parse."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    cleaned = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        return ast.parse(cleaned)
    except SyntaxError:
        return None


def tokens(node: ast.AST) -> list[str]:
    """The normalized token sequence of a function (or any node)."""
    import copy
    tree = _Canonical().visit(copy.deepcopy(node))
    text = ast.unparse(ast.fix_missing_locations(tree))
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
            continue
        out.append(tok.string if tok.type != tokenize.INDENT else "<indent>")
    return out


def functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The top-level functions of a cell (and the methods of its classes)."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found += [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return found


def similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


# ---------------------------------------------------------------- the answers we hold

@dataclass(frozen=True)
class Answer:
    source: str           # what to tell the instructor
    tokens: tuple[str, ...]
    threshold: float = THRESHOLD  # raised where the chapter's own solution already resembles this answer


def _function_node(obj) -> ast.FunctionDef | None:
    try:
        source = inspect.getsource(inspect.unwrap(obj))
    except (OSError, TypeError):
        return None
    tree = parse_cell(textwrap.dedent(source))
    found = functions(tree) if tree else []
    return found[0] if found else None


@lru_cache(maxsize=None)
def references(chapter: str) -> tuple[Answer, ...]:
    """The chapter's marked references and their twins, normalized (the long enough ones)."""
    from autograder.tools.reference_cases import resolve
    from autograder.tools.withhold import load_registry
    from course_utils.references import resolve_twin

    refs, _ = load_registry()
    honest = _solution_functions(chapter)
    found: list[Answer] = []
    for ref in sorted(refs.values(), key=lambda r: r.key):
        if ref.chapter != chapter:
            continue
        for label, obj in ((f"withheld reference {ref.key}", _safe(resolve, ref.key)),
                           (f"twin of {ref.key}", _safe(resolve_twin, ref))):
            node = _function_node(obj) if obj is not None else None
            if node is not None:
                toks = tuple(tokens(node))
                if len(toks) >= MIN_TOKENS:
                    # An honest answer may resemble a reference as much as the chapter's own solution does.
                    baseline = max((similarity(list(toks), list(h)) for h in honest), default=0.0)
                    found.append(Answer(label, toks, min(MAX_THRESHOLD, max(THRESHOLD, baseline + MARGIN))))
    return tuple(found)


@lru_cache(maxsize=None)
def _solution_functions(chapter: str) -> tuple[tuple[str, ...], ...]:
    """The normalized functions of the chapter's solution cells (what an honest answer looks like)."""
    from autograder.tools.build import load_solution
    found = []
    for cell in load_solution(chapter).cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            tree = parse_cell(cell.source)
            found += [tuple(tokens(fn)) for fn in (functions(tree) if tree else [])]
    return tuple(found)


@lru_cache(maxsize=None)
def given_code(chapter: str) -> dict[str, frozenset[tuple[str, ...]]]:
    """``grade_id`` -> the normalized functions of the release's stub cell: code we gave, not the student's."""
    import nbformat
    from autograder.tools.build import CHAPTERS
    path = CHAPTERS / f"{chapter}.ipynb"
    out: dict[str, frozenset] = {}
    if not path.exists():
        return out
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution"):
            tree = parse_cell(cell.source)
            out[meta["grade_id"]] = frozenset(tuple(tokens(fn)) for fn in (functions(tree) if tree else []))
    return out


@lru_cache(maxsize=None)
def solutions(chapter: str) -> dict[str, tuple[str, ...]]:
    """``grade_id`` -> the normalized tokens of the chapter's solution cell, for the cells that
    define a function and are long enough to be evidence (quiz cells are left out: every right
    answer is the same)."""
    from autograder.tools.build import load_solution
    out = {}
    for cell in load_solution(chapter).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        tree = parse_cell(cell.source)
        if tree is None or not functions(tree):
            continue
        toks = tuple(tokens(tree))
        if len(toks) >= MIN_TOKENS:
            out[meta["grade_id"]] = toks
    return out


def _safe(fn, arg):
    try:
        return fn(arg)
    except Exception:
        return None


# ---------------------------------------------------------------- checking a submission

def check_source(chapter: str, grade_id: str, source: str, threshold: float = THRESHOLD) -> list[Finding]:
    """Near copies in one solution cell's ``source``.

    Each function is compared with every reference and twin of the chapter (``threshold``);
    the whole cell with the chapter's solution of that cell, which it must match exactly
    after normalization: the chapter's other correct solutions (``autograder/alternatives``)
    are often the solution with one line changed, and they must not be flagged."""
    tree = parse_cell(source)
    if tree is None:
        return []
    findings = []
    held = references(chapter)
    given = given_code(chapter).get(grade_id, frozenset())
    for fn in functions(tree) if held else []:
        mine = tokens(fn)
        if tuple(mine) in given:
            continue  # the release gave this function: nothing the student wrote
        scored = [(similarity(mine, list(a.tokens)), a) for a in held]
        hits = [(score, a) for score, a in scored if score >= max(threshold, a.threshold)]
        if hits:
            score, answer = max(hits, key=lambda t: t[0])
            findings.append(Finding(grade_id, fn.name, answer.source, round(score, 3)))
    solution = solutions(chapter).get(grade_id)
    if solution is not None and tuple(tokens(tree)) == solution:
        names = ", ".join(fn.name for fn in functions(tree)) or "the cell"
        findings.append(Finding(grade_id, names, f"chapter's solution of {grade_id}", 1.0))
    return findings


def check_notebook(chapter: str, nb, threshold: float = THRESHOLD) -> list[Finding]:
    """Near copies in every solution cell of a submitted notebook (an nbformat notebook or a path)."""
    import nbformat
    if not hasattr(nb, "cells"):
        nb = nbformat.read(str(nb), as_version=4)
    findings = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            findings += check_source(chapter, meta["grade_id"], cell.source, threshold)
    return findings


def review_check(settings, results) -> dict[str, list[str]]:
    """The autograder's review check (``autograde.REVIEW_CHECKS``): a "needs review" note per near copy.

    Reads each student's graded submission; a chapter without a solution source (a test
    course) has nothing to compare with. A failure here never stops grading."""
    from autograder.tools import autograde
    try:
        solutions(settings.chapter)
    except FileNotFoundError:
        return {}
    notes: dict[str, list[str]] = {}
    for student in results:
        try:
            findings = check_notebook(settings.chapter, autograde.submitted_notebook(settings, student))
        except Exception:  # no notebook, or an unreadable one: the grader reports that already
            continue
        if findings:
            notes[student] = [f.note() for f in findings]
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    flagged = 0
    for path in args.notebooks:
        findings = check_notebook(args.chapter, path, args.threshold)
        flagged += bool(findings)
        for f in findings:
            print(f"{path}: {f.note()}")
        if not findings:
            print(f"{path}: no near copy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
