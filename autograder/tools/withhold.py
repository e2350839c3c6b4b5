"""Withhold the readable references of graded exercises from the student release.

``course_utils`` marks every function that answers a graded exercise with
``@reference_of("<chapter>/<grade_id>", twin=...)`` (see :mod:`course_utils.references`).
This module turns the library into the student edition and proves the result:

* :func:`build_library` copies ``course_utils`` and, in every module with a marked function
  of a chapter that is not unlocked, replaces the function's body (at the AST level: the
  signature, the decorators and the leading input checks that are separate ``check_*`` /
  ``_check_*`` calls stay) by ``return <twin>(<the same arguments>)`` and its docstring by
  a short one that says the readable version is published when the chapter closes. A
  reference without a twin (a private helper of a withheld reference) is removed.
* :func:`withheld_lines` lists every non-trivial line of every withheld body (a line that
  also appears in what ships anyway, such as ``n, c, h, w = x.shape``, is trivial), for the
  release check to search in every file of the release; :func:`dangling_names` finds uses of
  a removed helper left in the release; :func:`near_copies_in_release` finds a withheld
  answer shipped under another name (a renamed copy in another module).
* :func:`agreement_problems` runs, in a fresh interpreter whose ``course_utils`` is the
  release's, the doctests of the original docstrings of every changed module and the cases
  of :mod:`autograder.tools.reference_cases`, and compares each result with the full
  library's.
* :func:`forbidden_course_utils` reads the ``forbid(...)`` lists of every chapter's hidden
  tests; :func:`unmarked_forbidden` names the course_utils functions they forbid that are
  marked neither ``reference_of`` nor ``not_an_answer``.

    python -m autograder.tools.withhold                 # what is withheld, per chapter
    python -m autograder.tools.withhold --unmarked      # forbidden functions not yet marked
"""
from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "course_utils"
MIN_LEN = 8  # shorter lines are never evidence (``return``, ``else:``)
CHECK_CALL = re.compile(r"^_?check(_|$)")  # check_tensor, _check_boxes, _check_conv_inputs, ...
KEPT_SECTIONS = ("Args", "Arguments", "Parameters", "Returns", "Raises", "Shape", "Yields")
NOTICE = ("The readable version of this function is the answer to the graded exercise ``{exercise}``; "
          "it is published when the chapter closes. Until then this edition calls ``{twin}``, which "
          "gives the same results with the library functions the exercise asks you not to use.")


# ---------------------------------------------------------------- the registry

def load_registry():
    """Import every module of ``course_utils`` (so that every decorator has run); return the registries."""
    import course_utils
    from course_utils.references import NOT_ANSWERS, REFERENCES
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        if info.name.rsplit(".", 1)[-1] in ("__main__",):
            continue
        importlib.import_module(info.name)
    return REFERENCES, NOT_ANSWERS


def parse_unlock(unlock) -> set[str]:
    """``"02_cnns,05_detection"`` (or a list) -> a set of chapter names."""
    if not unlock:
        return set()
    items = unlock.split(",") if isinstance(unlock, str) else list(unlock)
    return {item.strip() for item in items if item.strip()}


def withheld_references(unlock=()) -> list:
    """The registered references whose chapter is not unlocked, sorted by module and name."""
    unlocked = parse_unlock(unlock)
    refs, _ = load_registry()
    return sorted((r for r in refs.values() if r.chapter not in unlocked), key=lambda r: (r.module, r.qualname))


def module_path(module: str) -> Path:
    """``course_utils.ops.conv`` -> the file under ``course_utils/`` (a package gives its ``__init__.py``)."""
    parts = module.split(".")
    if parts[0] != "course_utils":
        raise ValueError(f"{module} is not part of course_utils")
    base = REPO.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


# ---------------------------------------------------------------- locating a function

def find_function(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The ``def`` of ``qualname`` (``"f"`` or ``"Class.method"``) in a parsed module."""
    if "<locals>" in qualname:
        raise ValueError(f"{qualname}: a nested function cannot be withheld; move it to module level")
    scope: list[ast.stmt] = tree.body
    parts = qualname.split(".")
    for i, name in enumerate(parts):
        last = i == len(parts) - 1
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        found = [n for n in scope if isinstance(n, kinds) and n.name == name]
        if not found:
            raise LookupError(f"no {'def' if last else 'class'} {name!r} for {qualname}")
        node = found[-1]  # a later definition wins, as at import time
        if last:
            return node  # type: ignore[return-value]
        scope = node.body
    raise AssertionError("unreachable")


def _docstring_node(fn) -> ast.Expr | None:
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _is_check(stmt: ast.stmt) -> bool:
    """A separate input-check call: ``check_x(...)``, ``_check_x(...)``, ``a, b = _check_x(...)``."""
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return bool(CHECK_CALL.match(name))


@dataclass
class Located:
    """Where a marked function's parts are, as 1-based inclusive line numbers of its module."""
    ref: object
    node: ast.FunctionDef
    start: int              # first line of the decorators (or of the def)
    end: int                # last line of the function
    doc: tuple[int, int] | None
    body_start: int         # first line replaced (the docstring's, or the first statement's)
    kept: list[tuple[int, int]] = field(default_factory=list)  # the leading checks that stay
    body_lines: list[int] = field(default_factory=list)        # code lines that go (not doc, not kept)


def locate(source: str, tree: ast.Module, ref) -> Located:
    fn = find_function(tree, ref.qualname)
    doc = _docstring_node(fn)
    stmts = fn.body[1:] if doc else fn.body
    kept = []
    for stmt in stmts:
        if not _is_check(stmt):
            break
        kept.append((stmt.lineno, stmt.end_lineno))
    start = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
    body_start = doc.lineno if doc else fn.body[0].lineno
    doc_span = (doc.lineno, doc.end_lineno) if doc else None
    kept_set = {i for a, b in kept for i in range(a, b + 1)}
    doc_set = set(range(doc_span[0], doc_span[1] + 1)) if doc_span else set()
    first_code = stmts[0].lineno if stmts else fn.end_lineno + 1
    body_lines = [i for i in range(first_code, fn.end_lineno + 1) if i not in kept_set and i not in doc_set]
    return Located(ref, fn, start, fn.end_lineno, doc_span, body_start, kept, body_lines)


# ---------------------------------------------------------------- the new body

def _call_arguments(fn: ast.FunctionDef) -> str:
    a = fn.args
    parts = [arg.arg for arg in [*a.posonlyargs, *a.args]]
    if a.vararg:
        parts.append(f"*{a.vararg.arg}")
    parts += [f"{arg.arg}={arg.arg}" for arg in a.kwonlyargs]
    if a.kwarg:
        parts.append(f"**{a.kwarg.arg}")
    return ", ".join(parts)


def twin_dotted(ref) -> str:
    """The twin's full dotted name."""
    twin = ref.twin
    if isinstance(twin, str):
        return twin
    if "<" in twin.__qualname__:
        raise ValueError(f"{ref.key}: the twin must be a named function, not {twin.__qualname__}")
    return f"{twin.__module__}.{twin.__qualname__}"


def twin_reference(ref) -> tuple[str, str | None]:
    """How the new body names the twin: ``(expression, import line or None)``."""
    dotted = twin_dotted(ref)
    module, _, name = dotted.rpartition(".")
    if module == ref.module:  # defined next to the reference: call it by name
        return name, None
    # import the longest importable module prefix, then reach the attribute
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        mod = ".".join(parts[:cut])
        try:
            importlib.import_module(mod)
        except ImportError:
            continue
        rest = parts[cut:]
        return "_twin" + "".join(f".{p}" for p in rest[1:]), f"from {mod} import {rest[0]} as _twin"
    raise ValueError(f"{ref.key}: cannot import the twin {dotted!r}")


def _sections(doc: str) -> list[str]:
    """The Args/Returns/Raises sections of a Google-style docstring (cleaned), as lines."""
    lines = inspect.cleandoc(doc).splitlines()
    out, keep = [], False
    for line in lines:
        header = re.match(r"^(\w[\w ]*):\s*$", line)
        if header:
            keep = header.group(1) in KEPT_SECTIONS
            while out and not out[-1].strip():
                out.pop()
            if keep and out:
                out.append("")
        elif line and not line[0].isspace():
            keep = False  # prose after a section ends it
        if keep:
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


def new_docstring(ref, original: str | None, twin_name: str) -> str:
    summary = inspect.cleandoc(original).splitlines()[0].strip() if original else ref.qualname.split(".")[-1]
    notice = textwrap.fill(NOTICE.format(exercise=ref.exercise, twin=twin_name), width=88)
    lines = [summary, "", *notice.splitlines()]
    sections = _sections(original) if original else []
    if sections:
        lines += ["", *sections]
    return "\n".join(lines)


def _render_docstring(text: str, indent: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    body = "\n".join((indent + line) if line else "" for line in text.splitlines())
    return f'{indent}"""{body[len(indent):]}\n{indent}"""'


def new_body(loc: Located, lines: list[str]) -> list[str]:
    """The lines that replace a twinned reference's docstring and body: the new docstring,
    the kept checks, and the call of the twin."""
    fn = loc.node
    indent = " " * fn.body[0].col_offset
    name, import_line = twin_reference(loc.ref)
    shown = name if import_line is None else twin_dotted(loc.ref)
    new = _render_docstring(new_docstring(loc.ref, ast.get_docstring(fn, clean=False), shown), indent).splitlines()
    for a, b in loc.kept:
        new += lines[a - 1:b]
    if import_line:
        new.append(indent + import_line)
    new.append(f"{indent}return {name}({_call_arguments(fn)})")
    return new


def transform_source(source: str, refs: list) -> str:
    """``source`` with every reference of ``refs`` (all of this module) withheld."""
    tree = ast.parse(source)
    lines = source.splitlines()
    located = sorted((locate(source, tree, r) for r in refs), key=lambda loc: loc.start, reverse=True)
    for loc in located:  # bottom up: earlier line numbers stay valid
        if loc.ref.twin is None:
            lines[loc.start - 1:loc.end] = []
            continue
        lines[loc.body_start - 1:loc.end] = new_body(loc, lines)
    text = "\n".join(lines) + "\n"
    return re.sub(r"\n{4,}", "\n\n\n", text)  # a removed function leaves no gap wider than two blank lines


# ---------------------------------------------------------------- the student library

def by_module(refs) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in refs:
        out.setdefault(r.module, []).append(r)
    return out


def build_library(dst: Path, unlock=()) -> list[str]:
    """Copy ``course_utils`` to ``dst`` with the references of locked chapters withheld.

    Returns the relative paths (``course_utils/ops/conv.py``) of the modules that changed."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(LIBRARY, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    changed = []
    for module, refs in sorted(by_module(withheld_references(unlock)).items()):
        src = module_path(module)
        (dst / src.relative_to(LIBRARY)).write_text(transform_source(src.read_text(), refs))
        changed.append(str(src.relative_to(REPO)))
    return changed


# ---------------------------------------------------------------- evidence

def code_part(line: str) -> str:
    """A stripped line without a trailing ``# comment`` (not inside a string, roughly)."""
    s = line.strip()
    m = re.match(r"^(.*?[^\s])\s+#[^\"']*$", s)
    return m.group(1) if m else s


def _evidence(line: str) -> str | None:
    s = code_part(line)
    return s if len(s) >= MIN_LEN and not s.startswith("#") else None


def shipped_library_lines(unlock=()) -> set[str]:
    """Every line (stripped, and without its trailing comment) of the library as it ships,
    computed from the repository's sources: all of ``course_utils`` except withheld bodies."""
    refs = by_module(withheld_references(unlock))
    out: set[str] = set()
    for path in LIBRARY.rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        source = path.read_text()
        lines = source.splitlines()
        gone: set[int] = set()
        if module in refs:
            tree = ast.parse(source)
            for r in refs[module]:
                loc = locate(source, tree, r)
                if r.twin is None:
                    gone |= set(range(loc.start, loc.end + 1))
                else:
                    gone |= set(loc.body_lines)
                    if loc.doc:
                        gone |= set(range(loc.doc[0], loc.doc[1] + 1))
                    for line in new_body(loc, lines):  # the new docstring ships (its summary, Args, ...)
                        out.add(line.strip())
        for i, line in enumerate(lines, 1):
            if i not in gone:
                out.add(line.strip())
                out.add(code_part(line))
    return out


def withheld_lines(unlock=(), public: set[str] | None = None) -> dict[str, str]:
    """Non-trivial code line of a withheld body -> ``"<exercise> <module.qualname>"``.

    A line is trivial when it also appears in what ships anyway (``public``, by default the
    shipped library), or is shorter than ``MIN_LEN``, or is a comment."""
    public = shipped_library_lines(unlock) if public is None else public
    out: dict[str, str] = {}
    for module, refs in by_module(withheld_references(unlock)).items():
        source = module_path(module).read_text()
        tree = ast.parse(source)
        lines = source.splitlines()
        for r in refs:
            loc = locate(source, tree, r)
            span = range(loc.start, loc.end + 1) if r.twin is None else loc.body_lines
            for i in span:
                ev = _evidence(lines[i - 1])
                if ev and ev not in public and lines[i - 1].strip() not in public:
                    out.setdefault(ev, f"{r.exercise} {r.key}")
    return out


def _names_used(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"[A-Za-z_]\w*", source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.name.rsplit(".", 1)[-1])
    return names


def dangling_names(release: Path, unlock=()) -> list[str]:
    """Uses, anywhere in the release's code, of a reference withheld entirely (no twin)."""
    import nbformat
    removed = {r.qualname.rsplit(".", 1)[-1]: r for r in withheld_references(unlock) if r.twin is None}
    if not removed:
        return []
    problems = []
    for path in sorted(release.rglob("*")):
        if path.suffix == ".py":
            sources = [path.read_text()]
        elif path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            sources = [c.source for c in nb.cells if c.cell_type == "code"]
        else:
            continue
        used = set().union(*(_names_used(s) for s in sources)) if sources else set()
        for name in sorted(used & set(removed)):
            problems.append(f"{path.relative_to(release)}: uses {name}, which is withheld without a twin "
                            f"({removed[name].exercise})")
    return problems


def near_copies_in_release(release: Path, unlock=()) -> list[str]:
    """Functions shipped in the release's ``course_utils`` that are near copies of a withheld
    reference under another name (the copy check's normalization and threshold): an answer
    left behind that the line search cannot see."""
    import difflib

    from autograder.tools import copycheck
    from autograder.tools.reference_cases import resolve
    withheld = withheld_references(unlock)
    answers = []
    for r in withheld:
        node = copycheck._function_node(copycheck._safe(resolve, r.key))
        toks = copycheck.tokens(node) if node is not None else []
        if len(toks) >= copycheck.MIN_TOKENS:
            answers.append((r, toks))
    skip = {(r.module, r.qualname) for r in withheld}
    skip |= {tuple(twin_dotted(r).rsplit(".", 1)) for r in withheld if r.twin is not None}
    problems = []
    for path in sorted((release / "course_utils").rglob("*.py")):
        module = ".".join(path.relative_to(release).with_suffix("").parts).removesuffix(".__init__")
        try:
            tree = ast.parse(path.read_text())
        except SyntaxError:
            continue
        scopes = [("", tree)] + [(f"{n.name}.", n) for n in tree.body if isinstance(n, ast.ClassDef)]
        for prefix, scope in scopes:
            for node in scope.body:
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                if (module, prefix + node.name) in skip:
                    continue
                mine = copycheck.tokens(node)
                if len(mine) < copycheck.MIN_TOKENS:
                    continue
                for ref, toks in answers:
                    matcher = difflib.SequenceMatcher(None, mine, toks, autojunk=False)
                    if matcher.real_quick_ratio() >= copycheck.THRESHOLD and matcher.quick_ratio() >= copycheck.THRESHOLD \
                            and matcher.ratio() >= copycheck.THRESHOLD:
                        problems.append(f"{path.relative_to(release)}: {prefix}{node.name} is a near copy of the withheld "
                                        f"{ref.key} ({ref.exercise}, similarity {matcher.ratio():.2f}): mark it "
                                        f"@reference_of too, or call the reference instead")
                        break
    return problems


# ---------------------------------------------------------------- agreement with the full library

AGREEMENT_SCRIPT = r"""
import doctest, importlib, json, sys, traceback
from pathlib import Path
release, spec, out = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), sys.argv[3]  # spec: a file (one argument is at most 128 KiB)
sys.path.insert(0, str(release))
import course_utils
assert Path(course_utils.__file__).resolve().is_relative_to(release.resolve()), course_utils.__file__
problems = []
# 1. The doctests of the original docstrings, run against the student edition's modules.
parser = doctest.DocTestParser()
for module, tests in spec["doctests"].items():
    mod = importlib.import_module(module)
    for name, lineno, text in tests:
        test = parser.get_doctest(text, dict(mod.__dict__), f"{module}.{name}", module, lineno)
        runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.ELLIPSIS)
        lines = []
        runner.run(test, out=lines.append)
        if runner.failures:
            problems.append(f"doctest of {module}.{name} (line {lineno}) differs in the student edition:\n"
                            + "".join(lines)[-1500:])
# 2. The differential cases: results saved for the parent to compare with the full library.
import importlib.util, torch
mod_spec = importlib.util.spec_from_file_location("_reference_cases", spec["cases_file"])
cases = importlib.util.module_from_spec(mod_spec)
mod_spec.loader.exec_module(cases)
results = {}
for key in spec["keys"]:
    try:
        results[key] = cases.run_case(key)
    except Exception:
        problems.append(f"cases of {key} fail in the student edition:\n{traceback.format_exc()[-1500:]}")
torch.save({"problems": problems, "results": results}, out)
"""


def _doctests_of(path: Path) -> list[tuple[str, int, str]]:
    """``(name, line, docstring)`` of every docstring with examples in a source file (not imported)."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                doc = ast.get_docstring(child, clean=False)
                if doc and ">>>" in doc:
                    found.append((name, child.lineno, inspect.cleandoc(doc)))
                visit(child, name + ".")
    doc = ast.get_docstring(tree, clean=False)
    if doc and ">>>" in doc:
        found.append(("__doc__", 1, inspect.cleandoc(doc)))
    visit(tree, "")
    return found


def agreement_problems(release: Path, unlock=(), changed: list[str] | None = None, python: str | None = None,
                       timeout: float = 600) -> list[str]:
    """Compare the student edition in ``release`` with the full library (see the module docstring).

    ``changed`` are the modules the build rewrote (default: those with withheld references);
    every other file of ``release/course_utils`` must be a byte-for-byte copy of the repository's."""
    from autograder.tools import reference_cases
    withheld = withheld_references(unlock)
    removed = {r.key for r in withheld if r.twin is None}
    modules = sorted({r.module for r in withheld})
    problems = []
    shipped = release / "course_utils"
    for path in sorted(LIBRARY.rglob("*.py")):
        rel = path.relative_to(REPO)
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        target = release / rel
        if not target.exists():
            problems.append(f"{rel} is missing from the release")
        elif module not in modules and target.read_bytes() != path.read_bytes():
            problems.append(f"{rel} differs from the repository's although nothing in it is withheld")
    doctests = {}
    for module in modules:
        tests = [t for t in _doctests_of(module_path(module)) if f"{module}.{t[0]}" not in removed]
        if tests:
            doctests[module] = tests
    keys = sorted(k for k in reference_cases.CASES if k not in removed)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.pt"
        spec = Path(tmp) / "spec.json"  # the doctests of ten chapters' modules pass the 128 KiB argument limit
        spec.write_text(json.dumps({"doctests": doctests, "cases_file": reference_cases.__file__, "keys": keys}))
        env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1"}
        proc = subprocess.run([python or sys.executable, "-c", AGREEMENT_SCRIPT, str(shipped.parent), str(spec), str(out)],
                              cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not out.exists():
            return problems + [f"the agreement check could not run in the student edition:\n{proc.stderr[-2000:]}"]
        import torch
        data = torch.load(out, weights_only=False)
    problems += data["problems"]
    for key in keys:
        if key not in data["results"]:
            continue
        try:
            expected = reference_cases.run_case(key)
        except Exception as exc:  # the full library itself fails: a broken case
            problems.append(f"cases of {key} fail in the full library: {exc!r}")
            continue
        diff = reference_cases.difference(data["results"][key], expected)
        if diff:
            problems.append(f"{key}: the student edition differs from the full library: {diff}")
    return problems


# ---------------------------------------------------------------- what the hidden tests forbid

def _import_aliases(nb) -> dict[str, str]:
    """Name -> dotted path, from every ``import`` in the notebook's code cells."""
    aliases: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        aliases[a.asname] = a.name
                    else:
                        aliases[a.name.split(".")[0]] = a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _dotted(expr: ast.expr, aliases: dict[str, str], consts: dict[str, list]) -> list[str | None]:
    """The dotted names an argument of ``forbid(...)`` stands for (None: not resolvable statically)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.Starred):
        return _dotted(expr.value, aliases, consts)
    if isinstance(expr, ast.Name):
        if expr.id in consts:
            return [d for e in consts[expr.id] for d in _dotted(e, aliases, consts)]
        return [aliases.get(expr.id)]
    if isinstance(expr, ast.Attribute):
        base = _dotted(expr.value, aliases, consts)
        return [f"{b}.{expr.attr}" if b else None for b in base]
    if isinstance(expr, (ast.Tuple, ast.List)):
        return [d for e in expr.elts for d in _dotted(e, aliases, consts)]
    return [None]


def forbidden_targets(chapter: str) -> dict[str, list[str]]:
    """``grade_id`` of each graded exercise -> the dotted names its hidden tests forbid."""
    from autograder.tools.build import load_solution
    nb = load_solution(chapter)
    aliases = _import_aliases(nb)
    consts: dict[str, list] = {}
    out: dict[str, list[str]] = {}
    exercise = None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            exercise = meta.get("grade_id")
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Tuple, ast.List)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        consts[target.id] = list(node.value.elts)
        if not meta.get("grade") or exercise is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "forbid":
                for arg in node.args:
                    for dotted in _dotted(arg, aliases, consts):
                        if dotted and dotted not in out.setdefault(exercise, []):
                            out[exercise].append(dotted)
    return out


def _resolve(dotted: str):
    from course_utils.grading import resolve
    try:
        return resolve(dotted)
    except Exception:
        return None


def forbidden_course_utils(chapter: str) -> dict[str, list[str]]:
    """``grade_id`` -> the ``module.qualname`` of every course_utils function its hidden tests forbid."""
    out: dict[str, list[str]] = {}
    for exercise, targets in forbidden_targets(chapter).items():
        for dotted in targets:
            obj = _resolve(dotted)
            if obj is None:
                if dotted.startswith("course_utils."):
                    out.setdefault(exercise, []).append(f"{dotted} (cannot be imported)")
                continue
            obj = inspect.unwrap(obj) if callable(obj) else obj
            module = getattr(obj, "__module__", "") or ""
            if module.startswith("course_utils."):
                key = f"{module}.{obj.__qualname__}"
                if key not in out.setdefault(exercise, []):
                    out[exercise].append(key)
    return {k: v for k, v in out.items() if v}


def unmarked_forbidden(chapters: list[str] | None = None) -> list[str]:
    """``"<chapter>/<grade_id>: module.qualname"`` for every forbidden course_utils function that is
    registered neither with ``reference_of`` nor with ``not_an_answer``."""
    from autograder.tools.build import chapter_names
    refs, not_answers = load_registry()
    problems = []
    for chapter in chapters or chapter_names():
        for exercise, keys in forbidden_course_utils(chapter).items():
            for key in keys:
                if key not in refs and key not in not_answers:
                    problems.append(f"{chapter}/{exercise}: {key}")
    return problems


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unlock", default="", help="chapters whose references ship readable, e.g. 02_cnns,05_detection")
    parser.add_argument("--unmarked", action="store_true", help="list forbidden course_utils functions not marked")
    args = parser.parse_args(argv)
    if args.unmarked:
        problems = unmarked_forbidden()
        for p in problems:
            print(f"UNMARKED: {p}")
        print(f"{len(problems)} forbidden course_utils functions are marked neither reference_of nor not_an_answer")
        return 1 if problems else 0
    unlocked = parse_unlock(args.unlock)
    refs, _ = load_registry()
    for r in sorted(refs.values(), key=lambda r: (r.exercise, r.key)):
        state = "ships readable (unlocked)" if r.chapter in unlocked else (
            "withheld, no twin" if r.twin is None else f"withheld, calls {twin_reference(r)[0]}")
        print(f"{r.exercise:45s} {r.key:60s} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
