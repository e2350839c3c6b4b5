"""Generate the demo class: synthetic submissions for a chapter, reproducibly.

    python -m autograder.tools.demo 02_cnns          # writes autograder/demo/02_cnns/<student>/...
    python -m autograder.tools.demo                  # every demo chapter that exists

Each student gets ``<chapter>.ipynb`` (built from the student release, as a student
would hand it in) and ``timestamp.txt``. The class, for any chapter:

========  =====================================================================
ada       correct, in the student's own words: the chapter's alternatives (first per cell;
          the solution only in cells that have none, which the copy check does not compare)
ben       correct in other styles: the second alternative per cell
cleo      correct in other styles: the last alternative per cell, plus scratch cells
dev       partially correct: a few common mistakes (mutants)
eli       partially correct: other mistakes, in about half of the exercises
fay       wrong: a mistake in every exercise that has one, the rest left undone
gus       nothing done: the untouched release
hana      correct but two days late
ivan      correct but 30 seconds late (only a collector that keeps seconds sees it)
jay       tampered: test cells emptied, replaced by ``pass``, deleted, stripped of
          metadata, re-weighted, while the exercises are left undone
kim       crashing: ``os._exit`` halfway through; earlier exercises are correct
lou       looping: an exercise halfway through loops forever and ignores SIGINT
max       faking passes: an object equal to everything and a patched test helper
nia       skipping the work: calls the library instead (mutants named ``*calls*``)
oli       memory bomb in one exercise; the others are correct
pia       nothing done; installs an input transformer that turns every later cell
          into ``pass``, reaching the shell through ``ipywidgets.get_ipython()``
quin      the same through ``matplotlib_inline.backend_inline.get_ipython()``
ros       correct, and leaks: the last exercise's cell prints every cell run so far
          (hidden tests included), read from ``linecache``, in base64, hex and reversed
sam       correct except the last function exercise, which raises an
          ``AssertionError`` whose message is the input history (``In``), encoded
tom       correct by copying: the reference solution verbatim (full marks, and "needs
          review" from the copy check)
========  =====================================================================

Every student built on "correct" code (dev to sam) starts from ada's: the alternatives,
not the solution, so that an honest demo student is never a verbatim copy of the
solution, which the copy check marks "needs review" (issue 23). No honest student (ada to
ivan) is flagged or marked "needs review"; tom shows that a copy is.

pia and quin must score 0 and be flagged; ros and sam must earn exactly what they
would without the leak, and their feedback must hold no hidden-test line in any form.

The notebooks are not committed (about 100 KB each); ``make autograde`` writes them
when they are missing or older than their inputs.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.tools.build import CHAPTERS, REPO, chapter_names, load_solution, new_course_root
from autograder.tools.validity import (ALTERNATIVES, BEGIN_SOLUTION, END_SOLUTION, MUTANTS, graded_cells,
                                       parse_variant_file, solution_cells, variant_source)

DEMO = REPO / "autograder" / "demo"
DEMO_CHAPTERS = ("02_cnns", "05_detection")
DEADLINE = "2026-05-03 23:59:00"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
GENERATOR_VERSION = "3"
# The hostile students' code (kept here so that the tests can refer to it).
BYPASS_WIDGETS = ("# hostile demo student: no exercise done, every later cell becomes `pass`\n"
                  "import ipywidgets\n"
                  "ipywidgets.get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n")
BYPASS_MPL_INLINE = ("# hostile demo student: the same through matplotlib_inline\n"
                     "from matplotlib_inline import backend_inline\n"
                     "backend_inline.get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n")
LEAK_PRINT = ("# hostile demo student: print every cell run so far (the hidden tests too), encoded\n"
              "import base64 as _b64, linecache as _lc\n"
              "_cells = {**_lc.cache, **getattr(_lc, '_ipython_cache', {})}\n"
              "_seen = [''.join(v[2]) for k, v in _cells.items()  # the notebook's cells, not library files\n"
              "         if ('ipykernel' in k or k.startswith('<')) and isinstance(v, tuple) and len(v) > 2]\n"
              "_blob = '\\n'.join(_seen)\n"
              "print(_b64.b64encode(_blob.encode()).decode())\n"
              "print(_blob.encode().hex())\n"
              "print(_blob[::-1])\n")
LEAK_ASSERT = ("\n\n# hostile demo student: the test's error message carries the input history, encoded\n"
               "def {name}(*args, **kwargs):\n"
               "    import base64\n"
               "    raise AssertionError(base64.b64encode('\\n'.join(In).encode()).decode() + '\\n'.join(In)[::-1])\n")


def is_skipping(mutant_stem: str) -> bool:
    """Mutants named ``..._calls_...`` call the library instead of doing the exercise."""
    return re.search(r"(^|_)calls(_|$)", mutant_stem) is not None


def release_notebook(chapter: str):
    """The student release: chapters/<chapter>.ipynb, or a fresh build when it is missing."""
    path = CHAPTERS / f"{chapter}.ipynb"
    if path.exists():
        return nbformat.read(path, as_version=4)
    from autograder.tools.build import generate_release
    with tempfile.TemporaryDirectory() as tmp:
        return nbformat.read(generate_release(chapter, new_course_root(Path(tmp) / "c")), as_version=4)


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if BEGIN_SOLUTION not in line and END_SOLUTION not in line)


def _variants(chapter: str, folder: Path) -> dict[str, list[tuple[str, str]]]:
    """cell grade_id -> [(file stem, cell source), ...] for the mutants or alternatives of a chapter."""
    out: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((folder / chapter).glob("*.py")):
        header, body = variant_source(path)
        out.setdefault(header["cell"], []).append((path.stem, body))
    return out


class ClassBuilder:
    """Builds every demo student's notebook for one chapter."""

    def __init__(self, chapter: str):
        self.chapter = chapter
        self.release = release_notebook(chapter)
        solution = load_solution(chapter)
        self.answers = {gid: _strip_markers(c.source) for gid, c in solution_cells(solution).items()}
        self.order = [gid for gid in self.answers if gid in solution_cells(self.release)]
        self.tests = list(graded_cells(self.release))
        self.mutants = _variants(chapter, MUTANTS)
        self.alternatives = _variants(chapter, ALTERNATIVES)

    def notebook(self, code: dict[str, str]):
        """The release with solution cells replaced by ``code[grade_id]`` (others stay stubs)."""
        nb = copy.deepcopy(self.release)
        for gid, cell in solution_cells(nb).items():
            if gid in code:
                cell.source = code[gid]
        return nb

    def reference(self) -> dict[str, str]:
        """The solution of every exercise, verbatim (what the copy check marks "needs review")."""
        return {gid: self.answers[gid] for gid in self.order}

    def correct(self, pick: int = 0) -> dict[str, str]:
        """Correct code that is not a copy of the solution: for every exercise that has
        alternatives, the ``pick``-th (cycling; ``-1`` the last); the solution elsewhere
        (cells without alternatives are not compared by the copy check)."""
        code = self.reference()
        for gid, alts in self.alternatives.items():
            if gid in code:
                code[gid] = _strip_markers(alts[pick % len(alts)][1])
        return code

    def students(self) -> dict[str, tuple[object, str]]:
        """student -> (notebook, timestamp text in the LMS's ``YYYY-MM-DD-HH-MM-SS`` form)."""
        half = self.order[len(self.order) // 2] if self.order else None
        after_half = self.order[len(self.order) // 2:]
        cls: dict[str, object] = {}
        cls["ada"] = self.notebook(self.correct())
        cls["ben"] = self.notebook(self.correct(1))
        cleo = self.notebook(self.correct(-1))
        cleo.cells.insert(1, nbformat.v4.new_code_cell("# my scratch work\nscratch = [i * i for i in range(5)]\nscratch",
                                                       id="cleo-scratch"))
        cleo.cells.append(nbformat.v4.new_markdown_cell("Notes to self: all exercises done.", id="cleo-notes"))
        cls["cleo"] = cleo
        mutated = [gid for gid in self.order if gid in self.mutants]
        dev = self.correct()
        for gid in mutated[::4]:
            dev[gid] = self.mutants[gid][0][1]
        cls["dev"] = self.notebook(dev)
        eli = self.correct()
        for gid in mutated[1::2]:
            eli[gid] = self.mutants[gid][-1][1]
        cls["eli"] = self.notebook(eli)
        cls["fay"] = self.notebook({gid: self.mutants[gid][0][1] for gid in mutated})
        cls["gus"] = copy.deepcopy(self.release)
        cls["hana"] = self.notebook(self.correct())
        cls["ivan"] = self.notebook(self.correct())
        cls["jay"] = self._tampered()
        kim = self.correct()
        if half:
            kim[half] = "import os\nos._exit(1)\n" + kim[half]
        cls["kim"] = self.notebook(kim)
        lou = self.correct()
        if half:
            lou[half] = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
                         + lou[half])
        cls["lou"] = self.notebook(lou)
        cls["max"] = self._faker()
        calls = {gid: body for gid, items in self.mutants.items() for stem, body in items if is_skipping(stem)}
        if calls:
            nia = self.correct()
            nia.update(calls)
            cls["nia"] = self.notebook(nia)
        oli = self.correct()
        target = after_half[1] if len(after_half) > 1 else half
        if target:
            oli[target] = "_hog = bytearray(64 * 2**30)  # a memory bomb\n" + oli[target]
        cls["oli"] = self.notebook(oli)
        if self.order:
            cls["pia"] = self._after_first_exercise(BYPASS_WIDGETS)
            cls["quin"] = self._after_first_exercise(BYPASS_MPL_INLINE)
            ros = self.correct()
            ros[self.order[-1]] = LEAK_PRINT + ros[self.order[-1]]
            cls["ros"] = self.notebook(ros)
        leaky = self.last_function_exercise()
        if leaky:
            sam = self.correct()
            gid, name = leaky
            sam[gid] = sam[gid].rstrip() + LEAK_ASSERT.format(name=name)
            cls["sam"] = self.notebook(sam)
        cls["tom"] = self.notebook(self.reference())
        stamps = {name: f"2026-05-0{2 + i // 10}-{9 + i % 10:02d}-{(7 * i) % 60:02d}-{(13 * i) % 60:02d}"
                  for i, name in enumerate(cls)}
        stamps["hana"] = "2026-05-05-23-10-00"
        stamps["ivan"] = "2026-05-03-23-59-30"
        return {name: (nb, stamps[name]) for name, nb in cls.items()}

    def _after_first_exercise(self, code: str):
        """The untouched release with a cell of ``code`` right after the first exercise."""
        nb = copy.deepcopy(self.release)
        first = next(i for i, c in enumerate(nb.cells)
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == self.order[0])
        nb.cells.insert(first + 1, nbformat.v4.new_code_cell(code, id="hostile-cell"))
        return nb

    def last_function_exercise(self) -> tuple[str, str] | None:
        """(grade_id, function name) of the last exercise whose solution defines a function."""
        for gid in reversed(self.order):
            m = re.search(r"^def (\w+)\(", self.answers[gid], re.M)
            if m:
                return gid, m.group(1)
        return None

    def _tampered(self):
        nb = copy.deepcopy(self.release)
        tests = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        for i, cell in enumerate(tests):
            kind = i % 5
            if kind == 0:
                cell.source = "pass"
            elif kind == 1:
                cell.source = "assert True, 'always passes'"
            elif kind == 2:
                cell.metadata.pop("nbgrader")
                cell.source = "pass  # metadata stripped"
            elif kind == 3:
                cell.metadata.nbgrader["points"] = 100
                cell.source = "pass"
            else:
                cell.source = "__delete__"
        nb.cells = [c for c in nb.cells if c.source != "__delete__"]
        return nb

    def _faker(self):
        code: dict[str, str] = {}  # nothing done: every point would have to come from the fakes
        if self.order:
            first = self.order[0]
            code[first] = ("class AlwaysRight:\n    def __eq__(self, other):\n        return True\n\n"
                           "import course_utils.grading as _g\n_g.expect_equal = lambda *a, **k: None\n"
                           "_g.expect_close = lambda *a, **k: None\n" + self.release_stub(first))
        return self.notebook(code)

    def release_stub(self, gid: str) -> str:
        return solution_cells(self.release)[gid].source


def _inputs_stamp(chapter: str) -> str:
    import hashlib
    h = hashlib.sha256(GENERATOR_VERSION.encode())
    for path in [REPO / "solutions" / f"{chapter}.py", CHAPTERS / f"{chapter}.ipynb", Path(__file__),
                 *sorted((MUTANTS / chapter).glob("*.py")), *sorted((ALTERNATIVES / chapter).glob("*.py"))]:
        if path.exists():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def write_class(chapter: str, out: Path | None = None) -> Path:
    """Write ``<out>/<student>/<chapter>.ipynb`` + ``timestamp.txt`` for every demo student."""
    out = out or DEMO / chapter
    out.mkdir(parents=True, exist_ok=True)
    for name, (nb, stamp) in ClassBuilder(chapter).students().items():
        folder = out / name
        folder.mkdir(exist_ok=True)
        nbformat.write(nb, folder / f"{chapter}.ipynb")
        (folder / "timestamp.txt").write_text(stamp + "\n")
    (out / ".generated").write_text(json.dumps({"inputs": _inputs_stamp(chapter)}))
    return out


def ensure_demo(chapter: str) -> Path:
    """The demo class folder of ``chapter``, (re)generated when its inputs changed."""
    out = DEMO / chapter
    stamp = out / ".generated"
    try:
        if json.loads(stamp.read_text())["inputs"] == _inputs_stamp(chapter):
            return out
    except (OSError, ValueError, KeyError):
        pass
    return write_class(chapter, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--out", help="folder for one chapter's class (default autograder/demo/<chapter>)")
    args = parser.parse_args(argv)
    chapters = args.chapters or [c for c in DEMO_CHAPTERS if c in chapter_names()]
    for chapter in chapters:
        path = write_class(chapter, Path(args.out) if args.out and len(chapters) == 1 else None)
        print(f"wrote the demo class of {chapter} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
