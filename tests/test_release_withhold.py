"""The student release withholds the readable references, and the release check proves it."""
from __future__ import annotations

import ast
import textwrap

import pytest

from autograder.tools import release, withhold
from course_utils.references import Reference

LOCKED = withhold.withheld_references()


def _function(tree: ast.Module, qualname: str):
    try:
        return withhold.find_function(tree, qualname)
    except LookupError:
        return None


# ---------------------------------------------------------------- the transformation itself

DEMO = textwrap.dedent('''\
    from course_utils.references import reference_of


    def _check_x(x):
        if x < 0:
            raise ValueError("x must be >= 0")


    def _double_twin(x, *, times=2):
        return x * times


    @reference_of("00_demo/double", twin=_double_twin)
    def double(x, *, times=2):
        """Double ``x``, the long way.

        The trick: add ``x`` to itself ``times - 1`` times.

        Args:
            x: a number >= 0.

        Returns:
            ``x * times``.

        Examples:
            >>> double(3)
            6
        """
        _check_x(x)
        total = x  # start from one copy
        for _ in range(times - 1):
            total = total + x
        return total


    @reference_of("00_demo/double")
    def _helper_only_double_uses(x):
        return x + x


    class Box:
        @reference_of("00_demo/double", twin="operator.mul")
        def area(self, other):
            product_of_the_two = self * other
            return product_of_the_two
    ''')


def _demo_refs():
    def twin(x, *, times=2):
        return x * times
    twin.__module__, twin.__qualname__ = "demo", "_double_twin"  # as if defined next to the reference
    return [Reference("demo", "double", "00_demo/double", twin),
            Reference("demo", "_helper_only_double_uses", "00_demo/double", None),
            Reference("demo", "Box.area", "00_demo/double", "operator.mul")]


def test_transform_keeps_signature_and_checks_and_calls_the_twin():
    out = withhold.transform_source(DEMO, _demo_refs())
    tree = ast.parse(out)
    fn = _function(tree, "double")
    assert [d.func.id for d in fn.decorator_list] == ["reference_of"]
    assert ast.unparse(fn.args) == "x, *, times=2"
    doc = ast.get_docstring(fn)
    assert doc.startswith("Double ``x``, the long way.") and "00_demo/double" in doc and "published" in doc
    assert "Args:" in doc and "Returns:" in doc
    assert "The trick" not in doc and ">>>" not in doc  # prose and examples may explain the method
    body = [ast.unparse(s) for s in fn.body[1:]]
    assert body == ["_check_x(x)", "return _double_twin(x, times=times)"]
    assert "total = total + x" not in out and "start from one copy" not in out
    assert _function(tree, "_helper_only_double_uses") is None  # no twin: removed
    method = _function(tree, "Box.area")
    assert [ast.unparse(s) for s in method.body[1:]] == ["from operator import mul as _twin",
                                                          "return _twin(self, other)"]
    namespace = {}
    exec(compile(out.replace("from course_utils.references import reference_of",
                             "reference_of = lambda *a, **k: (lambda f: f)"), "demo", "exec"), namespace)
    assert namespace["double"](4, times=3) == 12 and namespace["Box"].area(3, 5) == 15
    with pytest.raises(ValueError):
        namespace["double"](-1)


# ---------------------------------------------------------------- the library as it ships

@pytest.fixture(scope="module")
def locked_library(tmp_path_factory):
    dst = tmp_path_factory.mktemp("release") / "course_utils"
    withhold.build_library(dst)
    return dst


def test_every_locked_reference_is_withheld(locked_library):
    assert LOCKED, "no reference is registered"
    for ref in LOCKED:
        path = locked_library / withhold.module_path(ref.module).relative_to(withhold.LIBRARY)
        fn = _function(ast.parse(path.read_text()), ref.qualname)
        if ref.twin is None:
            assert fn is None, f"{ref.key} has no twin and must not ship"
            continue
        body = fn.body[1:]
        assert body and isinstance(body[-1], ast.Return) and isinstance(body[-1].value, ast.Call), ref.key
        assert all(withhold._is_check(s) or isinstance(s, ast.ImportFrom) for s in body[:-1]), (
            f"{ref.key} ships more than its checks and the call of its twin: {ast.unparse(fn)}")
        assert "published when the chapter closes" in " ".join(ast.get_docstring(fn).split())


def test_no_withheld_line_is_left_in_the_library(locked_library):
    evidence = withhold.withheld_lines()
    assert len(evidence) > 100  # the readable bodies are long: the check has something to look for
    for path in locked_library.rglob("*.py"):
        shipped = {withhold.code_part(line) for line in path.read_text().splitlines()}
        leaked = sorted(set(evidence) & shipped)
        assert not leaked, f"{path.name} still contains withheld lines: {leaked[:5]}"


def test_unchanged_modules_are_copied_byte_for_byte(locked_library):
    changed = {withhold.module_path(r.module) for r in LOCKED}
    for path in withhold.LIBRARY.rglob("*.py"):
        if path not in changed:
            assert (locked_library / path.relative_to(withhold.LIBRARY)).read_bytes() == path.read_bytes(), path


def test_unlock_ships_the_chapters_readable_references(tmp_path):
    unlock = "02_cnns,05_detection"
    dst = tmp_path / "course_utils"
    withhold.build_library(dst, unlock)
    still = withhold.withheld_references(unlock)
    assert {r.chapter for r in still}.isdisjoint({"02_cnns", "05_detection"})
    assert "01_linear_models" in {r.chapter for r in still}
    for module, qualname, readable in (("course_utils.ops.conv", "conv2d_loop", True),
                                       ("course_utils.ops.boxes", "nms_loop", True),
                                       ("course_utils.ops.boxes", "_nms_blocks", True),
                                       ("course_utils.linear", "knn_predict_loop", False)):
        original = withhold.module_path(module)
        source, shipped_source = original.read_text(), (dst / original.relative_to(withhold.LIBRARY)).read_text()
        want = ast.get_source_segment(source, withhold.find_function(ast.parse(source), qualname))
        got = ast.get_source_segment(shipped_source, withhold.find_function(ast.parse(shipped_source), qualname))
        assert (got == want) == readable, f"{module}.{qualname} should ship {'readable' if readable else 'withheld'}"
    assert not any(o.startswith(("02_cnns", "05_detection")) for o in withhold.withheld_lines(unlock).values())


def test_nothing_in_the_release_needs_a_removed_helper(tmp_path):
    folder, _ = release.build(tmp_path / "student-release")
    assert withhold.dangling_names(folder) == []
    (folder / "course_utils" / "extra.py").write_text("from course_utils.ops.boxes import _nms_blocks\n")
    assert any("_nms_blocks" in p for p in withhold.dangling_names(folder))


def test_release_check_finds_a_withheld_body_line(tmp_path):
    """A clean build passes; a withheld line pasted anywhere (here in the README) is reported."""
    folder, archive = release.build(tmp_path / "student-release")
    assert release.secret_findings(folder, archive) == []
    line = next(line for line, origin in withhold.withheld_lines().items() if "conv2d_loop" in origin)
    readme = folder / "README.md"
    readme.write_text(readme.read_text() + f"\n    {line}  # copied from an old release\n")
    problems = release.secret_findings(folder, archive)
    assert any("withheld reference 02_cnns/conv2d_loops" in p and "README.md" in p for p in problems), problems


def test_a_renamed_copy_of_a_reference_elsewhere_in_the_library_is_found(locked_library):
    """The line search cannot see a withheld body shipped under other names; the near-copy search can."""
    import inspect
    import textwrap

    from course_utils.ops import conv
    source = textwrap.dedent(inspect.getsource(conv.conv2d_loop)).split('"""')[-1]  # the body, no docstring
    renamed = source.replace("out", "result").replace("patch", "window").replace("h_out", "rows")
    planted = locked_library / "extra_helpers.py"
    planted.write_text("import torch\nfrom course_utils.ops.conv import conv_output_size, pad2d, _check_conv_inputs\n\n\n"
                       "def my_convolution(x, weight, bias=None, stride=1, padding=0):" + renamed)
    try:
        found = withhold.near_copies_in_release(locked_library.parent)
    finally:
        planted.unlink()
    assert any("extra_helpers.py: my_convolution" in p and "conv2d_loop" in p for p in found), found
