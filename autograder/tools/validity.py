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

A variant file replaces the source of one solution cell. Its header says which::

    # mutant: output size forgets the +1
    # cell: conv_output_size
    # fails: test_conv_output_size
    def conv_output_size(...):
        ...

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


def replace_cell(nb, grade_id: str, source: str, origin: str):
    nb = copy.deepcopy(nb)
    cells = solution_cells(nb)
    if grade_id not in cells:
        raise ValueError(f"{origin}: no solution cell {grade_id!r}; solution cells are {sorted(cells)}")
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


# ---------------------------------------------------------------- grading

def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}"
    return None


def _grade_group(name: str, variants: list[Variant], base: Path, root: Path) -> subprocess.Popen:
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


def grade_variants(name: str, variants: list[Variant], workers: int = 2,
                   workdir: Path | None = None) -> dict[str, dict[str, CellGrade]]:
    """Autograde all variants with real nbgrader, ``workers`` course roots in parallel."""
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
    start = time.time()
    results = grade_variants(name, variants, workers=workers)
    print(f"graded {len(variants)} variants of {name} in {time.time() - start:.0f} s")
    for v in variants:
        cells = results[v.student]
        total = sum(g.score for g in cells.values())
        full = sum(g.max_score for g in cells.values())
        print(f"  {v.student:<40} {total:5.1f} / {full:5.1f}  {v.description}")
        if v.kind in ("solution", "noisy", "alternative"):
            for gid, g in cells.items():
                if g.score < g.max_score:
                    problems.append(f"{v.student}: {gid} scored {g.score}/{g.max_score} ({g.error})")
        elif v.kind == "stub":
            for gid, g in cells.items():
                if g.score != 0:
                    problems.append(f"stub: {gid} scored {g.score}/{g.max_score}; a test passes on the stub")
        elif v.kind == "mutant":
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
