"""Grading validity: prove that every chapter's tests grade honestly, with real nbgrader.

For one chapter this builds a throw-away nbgrader course, submits several *variants*
of the chapter as if they came from students, autogrades them all with
``DLCV_QUICK=1`` and reads every graded cell's score from the gradebook:

* ``solution``     the solution notebook itself: must score full marks;
* ``stub``         the unmodified student release: must score 0 on every test cell;
* ``noisy``        the solution with warnings and stderr output added to every solution
                   cell: must still score full marks (nbgrader zeroes stderr by default);
* ``mutant-*``     common mistakes (``autograder/mutants/<chapter>/*.py``): each must
                   lose points on the test cells it names;
* ``alt-*``        other correct solutions (``autograder/alternatives/<chapter>/*.py``):
                   must score full marks, so tests do not only accept our own code.

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

Mutants that cannot interfere are graded together in one submission: two mutants are
batched only if they change different cells and neither changed cell feeds (through the
names the cells define and load, followed transitively) a test cell the other mutant
must fail. Alternatives on different cells are batched too: a batch that keeps full
marks proves every member does. This keeps a chapter with 30 mutants at a handful of
nbgrader runs. The analysis follows names, not objects: a cell that changes a shared
object in place (``model.train()``) is not seen as feeding later readers of it, so a
mutant test should call the exercise on fresh inputs, as the chapters' tests do.

Run ``python -m autograder.tools.validity 02_cnns`` for a report.
"""
from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.tools.build import (COURSE, REPO, generate_release, load_solution, nbgrader,
                                    new_course_root)

MUTANTS = COURSE / "mutants"
ALTERNATIVES = COURSE / "alternatives"
# Workers grade in parallel, one thread each, so kernels do not fight over the cores.
QUICK_ENV = {"DLCV_QUICK": "1", "PYTHONWARNINGS": "default", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@dataclass
class Variant:
    """One submission to grade: a notebook plus what its grades must look like."""
    student: str
    kind: str  # solution | stub | noisy | mutant | alternative
    notebook: nbformat.NotebookNode
    description: str = ""
    cell: str | None = None
    fails: list[str] = field(default_factory=list)


@dataclass
class Submission:
    """What is actually graded: one notebook carrying one or more variants."""
    student: str
    kind: str
    notebook: nbformat.NotebookNode
    members: list[Variant]


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


# ---------------------------------------------------------------- variants

def build_variants(name: str, release_nb) -> list[Variant]:
    solution = load_solution(name)
    variants = [Variant("solution", "solution", solution, "the solution"),
                Variant("stub", "stub", release_nb, "the unmodified student release")]

    noisy = copy.deepcopy(solution)
    for cell in solution_cells(noisy).values():
        cell.source = ("import sys as _sys, warnings as _warnings\n"
                       "_warnings.warn('a harmless warning', UserWarning)\n"
                       "print('harmless stderr output', file=_sys.stderr)\n" + cell.source)
    variants.append(Variant("noisy", "noisy", noisy, "solution plus warnings/stderr in every solution cell"))

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
    return variants


# ---------------------------------------------------------------- batching

def _cell_names(source: str) -> tuple[set[str], set[str], set[str]] | None:
    """Names a cell defines at module level, loads at module level, and loads inside
    function/class/lambda bodies (resolved only when called). None if it does not parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
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
    return defined, loaded_now - own, loaded_later - defined


def dependency_closure(nb, extra_sources: dict[str, list[str]] | None = None) -> dict[int, set[int]]:
    """For each code cell index, the earlier code cells whose effects it may depend on.

    A name loaded at module level comes from the nearest earlier cell that defines it
    (cells run top to bottom); a name loaded inside a function body is resolved when the
    function is called, so every earlier definer counts. ``extra_sources`` maps a cell id
    to other versions of its source (the mutants), whose names count too. A cell that
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
    for kind, prefix in (("mutant", "mutants"), ("alternative", "alts")):
        groups: list[list[Variant]] = []
        of_kind = [v for v in variants if v.kind == kind]
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
    singles = [Submission(v.student, v.kind, v.notebook, [v]) for v in variants if v.kind not in ("mutant", "alternative")]
    return singles + submissions


# ---------------------------------------------------------------- grading

def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"
    return None


def _grade_group(name: str, variants: list[Submission], base: Path, root: Path) -> subprocess.Popen:
    # Each worker grades in its own copy of one generated course (own gradebook, no locking).
    shutil.copytree(base, root)
    for v in variants:
        target = root / "submitted" / v.student / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(v.notebook, target)
    env = dict(os.environ)
    env.update(QUICK_ENV)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    log = open(root / "autograde.log", "w")
    return subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", name, "--force"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)


def _read_grades(name: str, root: Path, students: list[str]) -> dict[str, dict[str, CellGrade]]:
    from nbgrader.api import Gradebook, MissingEntry

    results = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "dlcv") as gb:
        assignment = gb.find_assignment(name)
        notebook = assignment.notebooks[0]
        for student in students:
            graded_nb_path = root / "autograded" / student / name / f"{name}.ipynb"
            graded_nb = nbformat.read(graded_nb_path, as_version=4) if graded_nb_path.exists() else None
            cells = graded_cells(graded_nb) if graded_nb is not None else {}
            per_cell = {}
            for cell in notebook.grade_cells:
                try:
                    grade = gb.find_grade(cell.name, notebook.name, name, student)
                    score = grade.score if grade.score is not None else 0.0
                except MissingEntry:
                    score = 0.0
                err = _cell_error(cells[cell.name]) if cell.name in cells else "cell missing from autograded notebook"
                per_cell[cell.name] = CellGrade(float(score), float(cell.max_score), err)
            results[student] = per_cell
    return results


def grade_variants(name: str, variants: list[Submission], workers: int = 2,
                   workdir: Path | None = None) -> dict[str, dict[str, CellGrade]]:
    """Autograde all submissions with real nbgrader, ``workers`` course roots in parallel."""
    tmp = tempfile.mkdtemp(prefix=f"validity-{name}-", dir=workdir)
    base = new_course_root(Path(tmp) / "base")
    generate_release(name, base)
    groups = [variants[i::workers] for i in range(workers)]
    groups = [g for g in groups if g]
    procs = []
    for i, group in enumerate(groups):
        procs.append((group, Path(tmp) / f"course{i}", _grade_group(name, group, base, Path(tmp) / f"course{i}")))
    results = {}
    for group, root, proc in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"nbgrader autograde failed for {name}; see {root / 'autograde.log'}:\n"
                               + (root / "autograde.log").read_text()[-4000:])
        results.update(_read_grades(name, root, [v.student for v in group]))
    if not os.environ.get("DLCV_KEEP_GRADING_DIRS"):  # kept on failure (above) for debugging
        shutil.rmtree(tmp, ignore_errors=True)
    return results


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


def untargeted_tests(name: str) -> list[str]:
    """Graded test cells that no mutant targets."""
    solution = load_solution(name)
    targeted = set()
    for path in (MUTANTS / name).glob("*.py"):
        targeted.update(parse_variant_file(path)[0].get("fails", "").split())
    return sorted(set(graded_cells(solution)) - targeted)


# ---------------------------------------------------------------- report

def check_chapter(name: str, workers: int = 2) -> list[str]:
    """Run every validity check for one chapter; return a list of problems (empty = valid)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        release_nb = nbformat.read(generate_release(name, new_course_root(Path(tmp) / "c")), as_version=4)
    solution = load_solution(name)
    problems += [f"leaked into the release: {line}" for line in leaked_lines(solution, release_nb)]
    problems += [f"visible assert without a message: {a}" for a in asserts_without_message(solution)]
    problems += [f"no mutant targets test cell {t}" for t in untargeted_tests(name)]
    variants = build_variants(name, release_nb)
    submissions = batch_variants(solution, variants)
    # Largest first, so the two workers finish at about the same time.
    submissions.sort(key=lambda sub: sub.kind in ("solution", "stub", "noisy"))
    start = time.time()
    results = grade_variants(name, submissions, workers=workers)
    print(f"graded {len(variants)} variants of {name} as {len(submissions)} submissions "
          f"in {time.time() - start:.0f} s")
    for sub in submissions:
        cells = results[sub.student]
        total = sum(g.score for g in cells.values())
        full = sum(g.max_score for g in cells.values())
        print(f"  {sub.student:<14} {total:5.1f} / {full:5.1f}  " + "; ".join(v.description for v in sub.members))
        if sub.kind in ("solution", "noisy", "alternative"):
            for gid, g in cells.items():
                if g.score < g.max_score:
                    who = ", ".join(v.student for v in sub.members)
                    problems.append(f"{who}: {gid} scored {g.score}/{g.max_score} ({g.error})")
        elif sub.kind == "stub":
            for gid, g in cells.items():
                if g.score != 0:
                    problems.append(f"stub: {gid} scored {g.score}/{g.max_score}; a test passes on the stub")
        elif sub.kind == "mutant":
            for v in sub.members:
                for gid in v.fails:
                    g = cells[gid]
                    if g.score >= g.max_score:
                        problems.append(f"{v.student} ({v.description}): {gid} still scored full marks")
                    elif not g.error or g.error.rstrip().endswith(":"):
                        problems.append(f"{v.student}: {gid} failed without a message ({g.error})")
    return problems


def main(argv=None) -> int:
    from autograder.tools.build import chapter_names
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    bad = 0
    for name in args.chapters or chapter_names():
        problems = check_chapter(name, args.workers)
        for p in problems:
            print(f"PROBLEM {name}: {p}")
        bad += len(problems)
    print("grading validity holds" if not bad else f"{bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
