"""Static scan of a submission for code that could fake a pass or subvert grading.

Tests run in the student's own kernel, so code in the notebook can make them pass
without doing the work: an object whose ``__eq__`` always says yes, monkeypatching
``numpy.testing`` or ``course_utils.grading``, an IPython AST or input transformer that
deletes ``assert`` statements, ``set_custom_exc``, event hooks, a thread that runs the
forbidden reference outside ``forbid``'s view. No check inside the kernel can stop code
that controls the kernel, so the grader reads the code *before* it runs.

Only cells the student wrote or changed are scanned (a cell whose source equals a cell
of the release is the course's own code; test cells are restored from the gradebook).
Cells are parsed after IPython's input transformation, so ``%magics`` and ``!shell``
lines are seen as the ``get_ipython()`` calls they are. A finding zeroes the submission
and flags it for the instructor (the report names cell, line and rule); nothing in this
course's exercises needs any of these constructs.

Runaway code (infinite loops, ``os._exit``, memory bombs, ignoring SIGINT) is not a
finding: the sandbox and the hardened executor deal with it at run time, and the cells
that ran before it keep their points.

Examples:
    >>> import nbformat
    >>> release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np")])
    >>> sub = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np"),
    ...     nbformat.v4.new_code_cell("np.testing.assert_allclose = lambda *a, **k: None")])
    >>> [f.rule for f in scan_notebook(sub, release)]
    ['patches-library']
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import re
from dataclasses import asdict, dataclass

__all__ = ["Finding", "scan_notebook", "scan_source", "protected_names"]

# Modules whose import alone is a finding: interpreter, kernel and import-machinery
# internals, dynamic code, threads and processes (a thread started earlier escapes
# forbid()'s profiler), serialisers that run code.
FORBIDDEN_MODULES = (
    "builtins", "inspect", "gc", "ctypes", "cffi", "linecache", "dis", "importlib", "imp", "types",
    "ipykernel", "jupyter_client", "zmq", "nbgrader", "nbformat", "nbclient", "traitlets", "tornado",
    "unittest.mock", "mock", "pytest", "_pytest", "threading", "_thread", "concurrent", "multiprocessing",
    "asyncio", "subprocess", "pty", "socket", "pickle", "_pickle", "marshal", "shelve", "dill",
    "cloudpickle", "copyreg", "code", "codeop", "runpy", "atexit", "pdb", "bdb", "trace", "sysconfig",
    "site", "posix", "torch.utils.cpp_extension", "torch.library", "torch.overrides", "torch._C",
    "numpy.ctypeslib", "sitecustomize", "usercustomize", "IPython.core", "IPython.terminal",
    "IPython.utils", "IPython.lib",
)
ALLOWED_FROM_IPYTHON_DISPLAY = {"display", "Image", "HTML", "Markdown", "Latex", "Math", "SVG", "JSON",
                                "Video", "Audio", "IFrame", "FileLink", "set_matplotlib_formats"}
SYS_ALLOWED = {"exit", "version", "version_info", "platform", "maxsize", "float_info", "int_info",
               "byteorder", "stdout", "stderr", "argv", "getsizeof", "float_repr_style"}
OS_FORBIDDEN = re.compile(r"^(system|popen|fork\w*|exec\w*|spawn\w*|posix_spawn\w*|kill\w*|setsid|setpgid|"
                          r"setuid|setgid|dup2?|openpty|symlink|link|chroot|ptrace|register_at_fork|"
                          r"pidfd_\w+|memfd_create)$")
FORBIDDEN_NAMES = {"get_ipython", "__builtins__", "__import__", "exec", "eval", "compile", "globals",
                   "vars", "setattr", "delattr", "breakpoint", "In", "Out", "_ih", "_oh", "_dh",
                   "__IPYTHON__", "_i", "_ii", "_iii", "__", "___"}
HISTORY_NAME = re.compile(r"^_(i|o)?\d+$|^_i{1,3}$")
# Dunder methods that let an object pretend to be a correct answer (equal to anything,
# truthy, numerically close, a tensor, an instance of anything) or run code behind
# the test's back.
FORBIDDEN_METHODS = {
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__", "__int__",
    "__index__", "__complex__", "__abs__", "__round__", "__trunc__", "__floor__", "__ceil__", "__hash__",
    "__instancecheck__", "__subclasscheck__", "__getattr__", "__getattribute__", "__setattr__",
    "__array__", "__array_function__", "__array_ufunc__", "__array_priority__", "__array_interface__",
    "__torch_function__", "__torch_dispatch__", "__del__", "__init_subclass__", "__set_name__",
    "__get__", "__set__", "__delete__", "__class__", "__sub__", "__rsub__", "__isub__", "__neg__",
    "__pos__", "__add__", "__radd__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__len__", "__contains__", "__iter__",
    "__format__", "__repr__", "__str__",
}
# nn.Module / Dataset code legitimately defines these two.
FORBIDDEN_METHODS -= {"__len__", "__iter__", "__repr__", "__str__"}
FORBIDDEN_ATTRS = {
    "__dict__", "__class__", "__globals__", "__builtins__", "__code__", "__closure__", "__subclasses__",
    "__bases__", "__base__", "__mro__", "__getattribute__", "__setattr__", "__delattr__", "__import__",
    "__loader__", "__spec__", "__self__", "__func__", "__defaults__", "__kwdefaults__", "__wrapped__",
    "__reduce__", "__reduce_ex__", "__traceback__", "__eq__", "__ne__", "__bool__", "__torch_function__",
    "tb_frame", "tb_next", "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "f_trace",
    "gi_frame", "gi_code", "cr_frame", "ag_frame", "co_code", "co_consts",
}
SPOOFABLE_BASES = {"int", "float", "bool", "complex", "str", "bytes", "tuple", "list", "dict", "set",
                   "frozenset", "type", "torch.Tensor", "numpy.ndarray", "torch.nn.Parameter",
                   "torch.testing", "object.__class__"}
ALLOWED_MAGICS = {"matplotlib", "time", "timeit"}
# Attribute writes into a module that are configuration, not cheating.
ALLOWED_MODULE_STORES = ("torch.backends.",)


@dataclass
class Finding:
    cell: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.rule}: {self.detail}"

    def to_dict(self) -> dict:
        return asdict(self)


def _transform(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001  (IPython missing or odd input: scan as plain Python)
        return source


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None unless the chain starts at a Name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return None


@functools.lru_cache(maxsize=1024)
def _installed(module: str) -> bool:
    top = module.split(".")[0]
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _forbidden_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES)


def protected_names(release_nb) -> dict[str, str]:
    """Names the course's own cells bind by import (``np`` -> ``numpy``): a student cell
    may import them again, but not bind them to anything else."""
    sources = tuple(c.source for c in release_nb.cells if c.cell_type == "code"
                    and not c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    return dict(_protected(sources))


@functools.lru_cache(maxsize=32)
def _protected(sources: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names: dict[str, str] = {}
    for source in sources:
        try:
            tree = ast.parse(_transform(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            for name, target in _import_bindings(node):
                names[name] = target
    return tuple(names.items())


def _import_bindings(node: ast.AST) -> list[tuple[str, str]]:
    if isinstance(node, ast.Import):
        return [((a.asname or a.name.split(".")[0]), (a.name if a.asname else a.name.split(".")[0])) for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [((a.asname or a.name), f"{node.module}.{a.name}") for a in node.names if a.name != "*"]
    return []


class _Scanner(ast.NodeVisitor):
    def __init__(self, cell: str, protected: dict[str, str], aliases: dict[str, str]):
        self.cell = cell
        self.protected = protected
        self.aliases = aliases  # name -> dotted path of the module object it refers to
        self.findings: list[Finding] = []

    def flag(self, node: ast.AST, rule: str, detail: str) -> None:
        self.findings.append(Finding(self.cell, getattr(node, "lineno", 0), rule, detail))

    def resolve(self, node: ast.AST) -> str | None:
        parts = _dotted(node)
        if not parts or parts[0] not in self.aliases:
            return None
        return ".".join([self.aliases[parts[0]], *parts[1:]])

    # -- bindings
    def bind(self, node: ast.AST, name: str, target: str | None = None) -> None:
        if name in self.protected and self.protected[name] != target:
            self.flag(node, "rebinds-course-name",
                      f"`{name}` is the course's `{self.protected[name]}`; the student code binds it to something else")
        if target is not None:
            self.aliases[name] = target
        else:
            self.aliases.pop(name, None)

    def visit_Import(self, node):
        self._imports(node)

    def visit_ImportFrom(self, node):
        if node.level:
            self.flag(node, "relative-import", "relative imports load files that were not scanned")
        self._imports(node)

    def _imports(self, node):
        for name, target in _import_bindings(node):
            module = target if isinstance(node, ast.Import) else node.module
            if _forbidden_module(target) or _forbidden_module(module):
                self.flag(node, "forbidden-module", f"imports `{target}`")
            elif module.split(".")[0] == "IPython" and not (
                    module == "IPython.display" and target.rsplit(".", 1)[-1] in ALLOWED_FROM_IPYTHON_DISPLAY):
                self.flag(node, "ipython-internals", f"imports `{target}`")
            elif module.split(".")[0] in ("sys", "os") and isinstance(node, ast.ImportFrom):
                self._check_module_attr(node, target)
            elif not _installed(module):
                self.flag(node, "unknown-module", f"imports `{module}`, which is not installed (a file the code wrote?)")
            self.bind(node, name, target)

    def visit_Assign(self, node):
        self.visit(node.value)
        alias = self.resolve(node.value)
        for t in node.targets:
            self._target(t, alias)

    def visit_AnnAssign(self, node):
        if node.value:
            self.visit(node.value)
        self._target(node.target, None)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self._target(node.target, None)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self._target(node.target, None)

    def visit_For(self, node):
        self.visit(node.iter)
        self._target(node.target, None)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node):
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._target(node.optional_vars, None)

    def visit_ExceptHandler(self, node):
        if node.type:
            self.visit(node.type)
        if node.name:
            self.bind(node, node.name)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Delete(self, node):
        for t in node.targets:
            self._target(t, None, delete=True)

    def _target(self, t, alias, delete=False):
        if isinstance(t, ast.Name):
            self.bind(t, t.id, alias)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                self._target(e, None, delete)
        elif isinstance(t, ast.Starred):
            self._target(t.value, None, delete)
        elif isinstance(t, ast.Attribute):
            if t.attr in FORBIDDEN_ATTRS or t.attr in FORBIDDEN_METHODS:
                self.flag(t, "dunder-write", f"writes `.{t.attr}`")
            where = self.resolve(t)
            if where and not where.startswith(ALLOWED_MODULE_STORES):
                self.flag(t, "patches-library", f"{'deletes' if delete else 'replaces'} `{where}`")
            self.visit(t.value)
        elif isinstance(t, ast.Subscript):
            where = self.resolve(t.value)
            if where and (where.startswith("sys.") or where.endswith("__dict__")):
                self.flag(t, "patches-library", f"writes into `{where}`")
            self.visit(t)

    def visit_FunctionDef(self, node):
        for d in node.decorator_list:
            self.visit(d)
        self.bind(node, node.name)
        inner = _Scanner(self.cell, {}, dict(self.aliases))
        for stmt in node.body:
            inner.visit(stmt)
        for arg in node.args.defaults + node.args.kw_defaults:
            if arg is not None:
                self.visit(arg)
        self.findings += inner.findings

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.visit(node.body)

    def visit_ClassDef(self, node):
        for d in node.decorator_list:
            self.visit(d)
        for base in node.bases:
            name = self.resolve(base) or (base.id if isinstance(base, ast.Name) else None)
            if name in SPOOFABLE_BASES:
                self.flag(node, "spoofs-type", f"class {node.name} subclasses `{name}`")
            self.visit(base)
        for kw in node.keywords:
            if kw.arg == "metaclass":
                self.flag(node, "metaclass", f"class {node.name} sets a metaclass")
            self.visit(kw.value)
        self.bind(node, node.name)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in FORBIDDEN_METHODS:
                self.flag(stmt, "fake-object", f"class {node.name} defines {stmt.name}")
            if isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Name) and t.id in FORBIDDEN_METHODS:
                        self.flag(stmt, "fake-object", f"class {node.name} sets {t.id}")
        inner = _Scanner(self.cell, {}, dict(self.aliases))
        for stmt in node.body:
            inner.visit(stmt)
        self.findings += inner.findings

    # -- uses
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and (node.id in FORBIDDEN_NAMES or HISTORY_NAME.match(node.id)):
            self.flag(node, "forbidden-name", f"uses `{node.id}`")

    def visit_Attribute(self, node):
        if node.attr in FORBIDDEN_ATTRS:
            self.flag(node, "dunder-access", f"uses `.{node.attr}`")
        where = self.resolve(node)
        if where:
            self._check_module_attr(node, where)
        self.visit(node.value)

    def _check_module_attr(self, node, where: str) -> None:
        head, _, rest = where.partition(".")
        attr = rest.split(".")[0] if rest else ""
        if head == "sys" and attr and attr not in SYS_ALLOWED:
            self.flag(node, "interpreter-internals", f"uses `{where}`")
        elif head == "os" and attr and OS_FORBIDDEN.match(attr):
            self.flag(node, "process-control", f"uses `{where}`")
        elif _forbidden_module(where):
            self.flag(node, "forbidden-module", f"uses `{where}`")

    def visit_Call(self, node):
        func = node.func
        magic = _magic_call(node)
        if magic is not None:
            if magic not in ALLOWED_MAGICS:
                self.flag(node, "magic", f"runs the IPython magic or shell command `{magic}`")
            for a in node.args[1:]:
                self.visit(a)
            return
        if isinstance(func, ast.Name):
            if func.id == "type" and len(node.args) == 3:
                self.flag(node, "fake-object", "builds a class with type(name, bases, dict)")
            if func.id == "getattr" and len(node.args) >= 2:
                name = node.args[1]
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                    self.flag(node, "dynamic-attribute", "getattr with a computed attribute name")
                elif name.value in FORBIDDEN_ATTRS:
                    self.flag(node, "dunder-access", f"getattr(..., {name.value!r})")
        for kw in node.keywords:
            if kw.arg == "weights_only" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                self.flag(node, "unpickle", "loads a pickle with weights_only=False (runs arbitrary code)")
            if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                self.flag(node, "unpickle", "numpy load with allow_pickle (runs arbitrary code)")
        self.generic_visit(node)


def _magic_call(node: ast.Call) -> str | None:
    """``get_ipython().run_line_magic('time', ...)`` -> "time"; shell escapes -> "!"."""
    f = node.func
    if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call)
            and isinstance(f.value.func, ast.Name) and f.value.func.id == "get_ipython"):
        return None
    if f.attr in ("run_line_magic", "run_cell_magic") and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value)
    if f.attr in ("system", "getoutput"):
        return "!"
    return f"get_ipython().{f.attr}"


def scan_source(source: str, cell: str = "?", protected: dict[str, str] | None = None,
                aliases: dict[str, str] | None = None) -> list[Finding]:
    """Findings for one cell's source (``aliases`` carries import bindings across cells)."""
    code = _transform(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []  # it will fail when run; nothing to gain
    aliases = {} if aliases is None else aliases
    scanner = _Scanner(cell, protected or {}, aliases)
    for stmt in tree.body:
        scanner.visit(stmt)
    return scanner.findings


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def scan_notebook(submission, release) -> list[Finding]:
    """Findings for every code cell of ``submission`` that the student wrote or changed.

    Cells equal to a cell of ``release`` and test cells (restored from the gradebook
    before grading) are skipped.
    """
    release_sources = {_normal(c.source) for c in release.cells if c.cell_type == "code"}
    locked_ids = {c.metadata.nbgrader["grade_id"] for c in release.cells
                  if c.get("metadata", {}).get("nbgrader", {}).get("locked")}
    protected = protected_names(release)
    aliases = dict(protected)
    findings: list[Finding] = []
    for i, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        label = meta.get("grade_id") or f"#{i}"
        if meta.get("grade_id") in locked_ids or _normal(cell.source) in release_sources:
            continue  # the course's own code; its imports are in `aliases` already
        findings += scan_source(cell.source, label, protected, aliases)
    return findings
