"""The copy check: a renamed, reformatted copy of a withheld reference (or of the solution) is
flagged for review; the chapter's other correct solutions are not."""
from __future__ import annotations

import ast
import inspect
import random
import textwrap

import pytest

from autograder.tools import copycheck, withhold
from autograder.tools.build import chapter_names, load_solution
from autograder.tools.reference_cases import resolve
from autograder.tools.validity import ALTERNATIVES, variant_source

REFS, _ = withhold.load_registry()
CHAPTERS = chapter_names()


class _Rename(ast.NodeTransformer):
    """What a student does to a copied function: other names, no comments, no docstring, no hints."""

    def __init__(self, seed: int, keep: set[str]) -> None:
        self.rng, self.keep, self.names = random.Random(seed), keep, {}

    def _new(self, name: str) -> str:
        if name in self.keep or name in copycheck.BUILTINS:
            return name
        return self.names.setdefault(name, f"{self.rng.choice(['my', 'tmp', 'val', 'a'])}_{len(self.names)}_{name[::-1]}")

    def visit_FunctionDef(self, node):
        node.returns, node.decorator_list = None, []
        if ast.get_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node

    def visit_arg(self, node):
        node.arg, node.annotation = self._new(node.arg), None
        return node

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node


def student_copy(obj, name: str, seed: int = 0) -> str:
    """``obj``'s source as a student would paste it into the exercise ``name``: renamed and reformatted."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(obj))))
    fn = tree.body[0]
    fn.name = name
    keep = {"torch", "F", "np", "math", "nn"}
    tree = _Rename(seed, keep).visit(tree)
    header = f'"""My solution."""\nimport torch\nimport torch.nn.functional as F\n\n'
    return header + ast.unparse(ast.fix_missing_locations(tree)).replace("\n", "\n\n", 3)


def _exercise_function(chapter: str, grade_id: str) -> str:
    cell = next(c for c in load_solution(chapter).cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return copycheck.functions(copycheck.parse_cell(cell.source))[0].name


COPYABLE = sorted(k for k, r in REFS.items() if r.chapter in CHAPTERS and r.chapter <= "05"
                  and len(copycheck.tokens(copycheck._function_node(resolve(k)))) >= copycheck.MIN_TOKENS)


@pytest.mark.parametrize("key", COPYABLE)
def test_a_renamed_copy_of_a_withheld_reference_is_flagged(key):
    ref = REFS[key]
    chapter, grade_id = ref.exercise.split("/")
    source = student_copy(resolve(key), _exercise_function(chapter, grade_id), seed=len(key))
    findings = copycheck.check_source(chapter, grade_id, source)
    assert any(f.source == f"withheld reference {key}" and f.similarity >= copycheck.THRESHOLD for f in findings), (
        f"a renamed copy of {key} was not flagged: {findings}\n{source}")


def test_a_renamed_copy_of_the_solution_is_flagged():
    nb = load_solution("02_cnns")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv2d_loops")
    tree = _Rename(1, {"torch", "F"}).visit(copycheck.parse_cell(cell.source))
    findings = copycheck.check_source("02_cnns", "conv2d_loops", "# copied\n" + ast.unparse(tree))
    assert any(f.source == "chapter's solution of conv2d_loops" for f in findings), findings


def test_the_stub_and_short_answers_are_not_flagged():
    import nbformat
    from autograder.tools.build import CHAPTERS as RELEASED
    for chapter in ("02_cnns", "05_detection"):
        stub = nbformat.read(RELEASED / f"{chapter}.ipynb", as_version=4)
        assert copycheck.check_notebook(chapter, stub) == []
    # a one-line formula is what everyone writes: no evidence
    source = "def conv_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1):\n" \
             "    return (in_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1\n"
    assert copycheck.check_source("02_cnns", "conv_output_size", source) == []


ALTERNATIVE_FILES = sorted(p for chapter in CHAPTERS for p in (ALTERNATIVES / chapter).glob("*.py"))


@pytest.mark.parametrize("path", ALTERNATIVE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_chapters_other_correct_solutions_are_not_flagged(path):
    chapter = path.parent.name
    header, source = variant_source(path, load_solution(chapter))
    findings = copycheck.check_source(chapter, header["cell"], source)
    assert findings == [], f"{path.name} is a correct solution of its own but was flagged: {findings}"


def test_findings_read_as_review_notes():
    note = copycheck.Finding("conv2d_loops", "conv2d_loops", "withheld reference course_utils.ops.conv.conv2d_loop",
                             0.97).note()
    assert note.startswith("needs review: conv2d_loops:") and "0.97" in note


def test_the_autograder_marks_a_copier_for_review_only(monkeypatch):
    """The hook in autograde.REVIEW_CHECKS: a note for the copier, nothing for the others."""
    import copy
    from types import SimpleNamespace

    import nbformat

    from autograder.tools import autograde
    from autograder.tools.build import CHAPTERS as RELEASED
    assert autograde._copy_check in autograde.REVIEW_CHECKS
    stub = nbformat.read(RELEASED / "02_cnns.ipynb", as_version=4)
    copier = copy.deepcopy(stub)
    cell = next(c for c in copier.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv2d_loops")
    cell.source = student_copy(resolve("course_utils.ops.conv.conv2d_loop"), "conv2d_loops", seed=3)
    books = {"copier": copier, "honest": stub}
    monkeypatch.setattr(autograde, "submitted_notebook", lambda s, student: books[student])
    settings = SimpleNamespace(chapter="02_cnns")
    notes = autograde._copy_check(settings, {"copier": None, "honest": None, "absent": None})
    assert list(notes) == ["copier"], notes
    assert "conv2d_loop" in notes["copier"][0] and notes["copier"][0].startswith("needs review")
    assert autograde._copy_check(SimpleNamespace(chapter="00_no_such_chapter"), {"x": None}) == {}
