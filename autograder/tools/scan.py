"""Static scan of a submission: what its code *can do* to the grading, not what it is named.

Tests run in the student's own kernel, so code in the notebook could make them pass
without doing the work. The tests themselves are built not to be fakeable
(``course_utils.grading`` converts results to plain values with exact type checks and
computes expected values without calling student objects), so an object with a clever
``__eq__`` earns nothing. What is left is code that changes the machinery around the
tests. The scan looks for *capabilities*, however the object was reached (through
``get_ipython()``, ``ipywidgets.get_ipython()``, ``matplotlib_inline...get_ipython()``,
an alias, a literal ``getattr``): a list of names a student must avoid would always
miss the next path, and would accuse honest students whose variable happens to be
called ``_i`` or ``vars``.

Every finding has a severity:

``flag``
    No honest use in an exercise: touching IPython's hooks by attribute
    (``input_transformers_*``, ``ast_transformers``, ``events`` callbacks,
    ``set_custom_exc``, ``displayhook``, ``run_cell``, ``register_magic_function``, the
    kernel's ``do_execute``, ...), ``sys.settrace``/``sys.setprofile``, rebinding
    builtins, patching a testing module (``numpy.testing``, ``torch.testing``,
    ``course_utils.grading``, or a library the tests compute expected values with),
    rebinding a name the tests use (``expect_close``, ``torch``) to code of its own, and
    reading the gradebook. The submission scores 0 and is flagged.
``review``
    Constructs that could *hide* the above and have rare honest uses: attribute or
    module access by a computed name (``getattr``/``setattr``/``__import__``/
    ``importlib`` with a non-literal), ``exec``/``eval``/``compile``, ``__dict__``/
    ``__globals__``/``__subclasses__`` and the like, ``gc``, ``ctypes``, frame and source
    access (``inspect``, ``traceback``, ``linecache``, ``sys._getframe``), threads and
    processes (code running outside the view of ``forbid``), unpickling, IPython magics
    other than the harmless ones, and modules the scan cannot read (a file the code
    wrote). The submission is graded normally and marked "needs review" for the
    instructor only (CSV and table, never the student's feedback).
``note``
    Everything else worth knowing (special methods such as ``__eq__``, a subclass of
    ``torch.Tensor``, a name shadowing a builtin the tests use, IPython history names,
    patching a library the tests do not rely on): an instructor note; graded normally.

Only cells the student wrote or changed are scanned (a cell whose source equals a cell
of the release is the course's own code; test cells are restored from the gradebook).
Cells are parsed after IPython's input transformation, so ``%magics`` and ``!shell``
lines are seen as the ``get_ipython()`` calls they are, and the code inside ``%time`` /
``%%time`` / ``%%capture`` is scanned too.

A static scan cannot see everything (code built from strings at run time is why the
computed-name constructs are marked for review); the grader also checks, inside the
kernel before each test cell, that IPython's hooks and the testing modules are as they
were at kernel start (:mod:`autograder.tools.safe_execute`).

Examples:
    >>> import nbformat
    >>> release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np")])
    >>> sub = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np"),
    ...     nbformat.v4.new_code_cell("np.testing.assert_allclose = lambda *a, **k: None")])
    >>> [(f.rule, f.severity) for f in scan_notebook(sub, release)]
    [('patches-testing', 'flag')]
    >>> sub.cells[1].source = "import ipywidgets\\nipywidgets.get_ipython().input_transformers_post.append(f)"
    >>> [(f.rule, f.severity) for f in scan_notebook(sub, release)]
    [('ipython-hook', 'flag')]
    >>> sub.cells[1].source = "for _i in range(3):\\n    vars = [_i]"
    >>> scan_notebook(sub, release)
    []
"""
from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import re
from dataclasses import asdict, dataclass

__all__ = ["Finding", "scan_notebook", "scan_source", "protected_names", "FLAG", "REVIEW", "NOTE",
           "flags", "reviews", "notes"]

FLAG, REVIEW, NOTE = "flag", "review", "note"

# rule -> severity (the rule names appear in the instructor's report)
RULES = {
    "ipython-hook": FLAG,        # an IPython/kernel hook, by attribute on any object
    "ipython-events": FLAG,      # registering IPython event callbacks
    "ipython-shell": FLAG,       # other internals of the shell object (user_ns, kernel, ...)
    "trace-hook": FLAG,          # sys.settrace / sys.setprofile and friends
    "rebinds-builtins": FLAG,    # writes into the builtins module
    "patches-testing": FLAG,     # replaces something in a module the tests rely on
    "rebinds-test-name": FLAG,   # binds a name the tests use to code of its own
    "reads-gradebook": FLAG,
    "dynamic-name": REVIEW,      # getattr/setattr/__import__/importlib with a computed name
    "dynamic-code": REVIEW,      # exec / eval / compile, code objects
    "introspection": REVIEW,     # __dict__, __globals__, __subclasses__, vars(), globals(), ...
    "frame-access": REVIEW,      # inspect, traceback, linecache, sys._getframe, frames, history
    "memory-access": REVIEW,     # gc, ctypes, cffi
    "processes": REVIEW,         # threads, subprocesses, shell commands
    "unpickle": REVIEW,
    "module-registry": REVIEW,   # sys.modules, import hooks, reloading
    "ipython-internals": REVIEW,  # imports of IPython / kernel internals
    "magic": REVIEW,             # IPython magics other than the harmless ones
    "unscanned-code": REVIEW,    # a module that is not installed (written by the code?), relative imports
    "reads-files": REVIEW,       # a database library (the gradebook is a database)
    "shadows-builtin": REVIEW,   # defines a function or class named like a builtin the tests call
    "patches-library": NOTE,     # patches a library the tests do not rely on
    "shadows-name": NOTE,        # binds, as data, a name the tests use (a builtin, a course name)
    "history": NOTE,             # IPython's history names (In, _i3, ...) read, never bound
    "special-method": NOTE,      # __eq__, __bool__, __torch_function__, ... in a class
    "type-spoof": NOTE,          # subclasses torch.Tensor / int / ..., metaclasses, type(name, bases, dict)
}

# -- flag: IPython and kernel hooks, by attribute name on any object. These names have no
# meaning outside IPython / ipykernel / the interpreter's tracing machinery.
IPYTHON_HOOKS = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager", "input_splitter",
    "ast_transformers", "set_custom_exc", "custom_exceptions", "CustomTB", "InteractiveTB", "SyntaxTB",
    "showtraceback", "_showtraceback", "showsyntaxerror", "displayhook", "__displayhook__", "display_pub",
    "display_trap", "displayhook_class", "excepthook", "__excepthook__", "run_cell", "run_cell_async",
    "_run_cell", "run_code", "run_ast_nodes", "transform_cell", "transform_ast", "should_run_async",
    "register_magic_function", "register_magics", "magics_manager", "register_post_execute", "set_hook",
    "pre_run_code_hook", "user_ns", "user_global_ns", "user_ns_hidden", "builtin_trap", "user_expressions",
    "do_execute", "execute_request", "dispatch_shell", "shell_handlers", "control_handlers",
    "prefilter_manager", "history_manager",
}
TRACE_HOOKS = {"settrace", "setprofile", "settrace_all_threads", "setprofile_all_threads", "_trace_hook",
               "_profile_hook", "f_trace", "f_trace_lines", "f_trace_opcodes", "monitoring"}
HOOK_RULE = {**{a: "ipython-hook" for a in IPYTHON_HOOKS}, **{a: "trace-hook" for a in TRACE_HOOKS}}
HOOK_RULE["history_manager"] = "frame-access"  # reading the input history: source access
IPYTHON_EVENTS = {"pre_execute", "pre_run_cell", "post_execute", "post_run_cell", "shell_initialized"}
EVENT_METHODS = {"register", "unregister", "callbacks", "trigger"}
# What a student cell may do with the shell object: the harmless magics.
ALLOWED_MAGICS = {"matplotlib", "time", "timeit", "capture", "pinfo", "pinfo2", "who", "whos", "precision",
                  "pprint", "html", "markdown", "latex", "svg", "autoreload", "aimport"}
# Magics that are harmless with these arguments only (students copy them from tutorials).
ALLOWED_MAGIC_ARGS = {"config": re.compile(r"^\s*InlineBackend\.\w+\s*=\s*[\w'\".]+\s*$"),
                      "load_ext": re.compile(r"^\s*autoreload\s*$")}
CODE_MAGICS = {"time", "timeit", "capture"}   # their argument or body is code: scan it

# -- flag: patching a module the tests rely on (a testing module, course_utils, the
# libraries the tests compute expected values with, the interpreter's own modules).
TEST_MODULES = ("numpy", "torch", "torchvision", "course_utils", "math", "unittest", "pytest", "operator",
                "functools", "builtins", "sys", "threading", "IPython", "ipykernel", "nbgrader")
CONFIG_STORES = ("torch.backends.", "torch._dynamo.config.", "torch._inductor.config.",
                 "torch._functorch.config.")  # configuration, not patching
# Stores that are not about the tests: output redirection, numpy's removed aliases that
# old snippets put back (np.float = float).
HARMLESS_STORES = {"sys.stdout", "sys.stderr", "sys.stdin", "sys.argv", "sys.ps1", "sys.ps2",
                   *(f"numpy.{a}" for a in ("float", "int", "bool", "object", "str", "complex", "long", "unicode"))}

# -- review
INTROSPECTION_ATTRS = {
    "__dict__", "__globals__", "__subclasses__", "__builtins__", "__code__", "__closure__", "__mro__",
    "__bases__", "__base__", "__defaults__", "__kwdefaults__", "__wrapped__", "__loader__", "__spec__",
    "__reduce__", "__reduce_ex__", "__getattribute__", "__setattr__", "__delattr__", "__import__",
    "co_code", "co_consts", "co_names",
}
FRAME_ATTRS = {"f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame",
               "gi_code", "cr_frame", "ag_frame", "__traceback__", "_getframe", "_current_frames"}
REVIEW_MODULES = {
    "gc": "memory-access", "ctypes": "memory-access", "cffi": "memory-access", "_ctypes": "memory-access",
    "numpy.ctypeslib": "memory-access",
    "inspect": "frame-access", "traceback": "frame-access", "linecache": "frame-access", "dis": "frame-access",
    "pdb": "frame-access", "bdb": "frame-access", "trace": "frame-access", "tokenize": "frame-access",
    "code": "dynamic-code", "codeop": "dynamic-code", "runpy": "dynamic-code",
    "threading": "processes", "_thread": "processes", "multiprocessing": "processes",
    "concurrent": "processes", "subprocess": "processes", "pty": "processes", "torch.multiprocessing": "processes",
    "pickle": "unpickle", "_pickle": "unpickle", "marshal": "unpickle", "shelve": "unpickle", "dill": "unpickle",
    "cloudpickle": "unpickle", "copyreg": "unpickle", "joblib": "unpickle",
    "importlib.reload": "module-registry", "importlib.machinery": "module-registry", "importlib.abc": "module-registry",
    "importlib.util.spec_from_file_location": "unscanned-code", "importlib.util.module_from_spec": "unscanned-code",
    "importlib.invalidate_caches": "module-registry", "imp": "module-registry", "site": "module-registry",
    "sitecustomize": "module-registry", "usercustomize": "module-registry", "pkgutil": "module-registry",
    "zipimport": "module-registry",
    "ipykernel": "ipython-internals", "jupyter_client": "ipython-internals", "zmq": "ipython-internals",
    "traitlets": "ipython-internals", "tornado": "ipython-internals", "nbformat": "ipython-internals",
    "nbclient": "ipython-internals", "comm": "ipython-internals", "IPython.core": "ipython-internals",
    "IPython.terminal": "ipython-internals", "IPython.utils": "ipython-internals",
    "IPython.lib": "ipython-internals", "IPython.extensions": "ipython-internals",
    "unittest.mock": "module-registry", "mock": "module-registry",   # patch() by dotted name
    "torch.overrides": "introspection", "torch.library": "dynamic-code", "torch._C": "introspection",
    "torch.utils.cpp_extension": "dynamic-code", "sqlite3": "reads-files", "sqlalchemy": "reads-files",
}
SYS_REVIEW = {"modules": "module-registry", "meta_path": "module-registry", "path_hooks": "module-registry",
              "path_importer_cache": "module-registry", "_getframe": "frame-access",
              "_current_frames": "frame-access", "exc_info": None, "last_traceback": "frame-access",
              "last_value": "frame-access", "last_exc": "frame-access", "addaudithook": "trace-hook",
              "setswitchinterval": None, "setrecursionlimit": None}
OS_PROCESS = re.compile(r"^(system|popen|fork\w*|exec\w*|spawn\w*|posix_spawn\w*|kill\w*|setsid|setpgid|"
                        r"setuid|setgid|dup2?|openpty|ptrace|register_at_fork|pidfd_\w+|memfd_create)$")
TYPES_REVIEW = {"FunctionType", "CodeType", "ModuleType", "LambdaType", "FrameType", "TracebackType"}
BUILTIN_REVIEW = {  # builtin functions by name (when the student did not bind the name)
    "exec": "dynamic-code", "eval": "dynamic-code", "compile": "dynamic-code", "__import__": "dynamic-name",
    "vars": "introspection", "globals": "introspection", "locals": "introspection", "breakpoint": "frame-access",
}
# -- note
HISTORY_NAME = re.compile(r"^(In|Out|_ih|_oh|_dh|_i|_ii|_iii|_i\d+|_\d+|_|__|___)$")
SPECIAL_METHODS = {"__eq__", "__ne__", "__bool__", "__float__", "__int__", "__index__", "__complex__",
                   "__instancecheck__", "__subclasscheck__", "__getattr__", "__getattribute__", "__array__",
                   "__array_function__", "__array_ufunc__", "__array_interface__", "__torch_function__",
                   "__torch_dispatch__", "__class_getitem__", "__del__"}
SPOOFABLE_BASES = {"int", "float", "bool", "complex", "str", "bytes", "tuple", "list", "dict", "set",
                   "frozenset", "type", "torch.Tensor", "numpy.ndarray", "torch.nn.Parameter", "numpy.generic"}
BUILTIN_NAMES = set(dir(builtins))


@dataclass
class Finding:
    cell: str
    line: int
    rule: str
    detail: str
    severity: str = FLAG

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.rule}: {self.detail}"

    def to_dict(self) -> dict:
        return asdict(self)


def flags(findings: list[Finding]) -> list[Finding]:
    """Findings that zero the submission."""
    return [f for f in findings if f.severity == FLAG]


def reviews(findings: list[Finding]) -> list[Finding]:
    """Findings that mark the submission "needs review" (graded normally)."""
    return [f for f in findings if f.severity == REVIEW]


def notes(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == NOTE]


def _transform(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001  (IPython missing or odd input: scan as plain Python)
        return source


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(_transform(source))
    except (SyntaxError, ValueError):
        return None


@functools.lru_cache(maxsize=1024)
def _installed(module: str) -> bool:
    top = module.split(".")[0]
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _under(module: str, prefixes) -> str | None:
    for m in prefixes:
        if module == m or module.startswith(m + "."):
            return m
    return None


def _import_bindings(node: ast.AST) -> list[tuple[str, str]]:
    if isinstance(node, ast.Import):
        return [((a.asname or a.name.split(".")[0]), (a.name if a.asname else a.name.split(".")[0])) for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [((a.asname or a.name), f"{node.module}.{a.name}") for a in node.names if a.name != "*"]
    return []


def _str(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name a piece of code binds, in any scope."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(n for n, _ in _import_bindings(node))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
    return names


# ---------------------------------------------------------------- what the course binds and the tests use

def protected_names(release_nb) -> dict[str, str]:
    """Names the course's own cells bind by import (``np`` -> ``numpy``): a student cell
    may import them again, but not bind them to anything else."""
    return dict(_course_names(_release_sources(release_nb))[0])


def _nbmeta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _release_sources(release_nb) -> tuple[tuple[str, str], ...]:
    """(kind, source) of each code cell: kind is solution, test or course."""
    out = []
    for c in release_nb.cells:
        if c.cell_type != "code":
            continue
        meta = _nbmeta(c)
        kind = "solution" if meta.get("solution") else "test" if meta.get("grade") else "course"
        out.append((kind, c.source))
    return tuple(out)


@functools.lru_cache(maxsize=32)
def _course_names(sources: tuple[tuple[str, str], ...]):
    """(imports of non-solution cells, other names bound by course cells, names solution stubs bind)."""
    imports: dict[str, str] = {}
    defined: set[str] = set()
    solution: set[str] = set()
    for kind, source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        if kind == "solution":
            solution |= _bound_names(tree)
            continue
        for node in ast.walk(tree):
            for name, target in _import_bindings(node):
                imports[name] = target
        if kind == "course":
            defined |= {n for n in _module_level_bindings(tree)}
    return tuple(imports.items()), frozenset(defined), frozenset(solution)


def _module_level_bindings(tree: ast.Module) -> set[str]:
    names = set()
    for stmt in tree.body:
        for node in _walk_no_scopes(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


def _walk_no_scopes(node):
    """ast.walk that does not enter function or class bodies (but yields the defs)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) and n is not node:
            continue
        todo.extend(ast.iter_child_nodes(n))


@functools.lru_cache(maxsize=32)
def _test_facing(test_sources: tuple[str, ...]) -> frozenset[str]:
    """Names the test cells read from outside themselves (a name a test cell binds before
    it reads it is its own)."""
    names: set[str] = set()
    for source in test_sources:
        tree = _parse(source)
        if tree is None:
            continue
        own: set[str] = set()
        for stmt in tree.body:
            for node in _walk_no_scopes(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in own:
                    names.add(node.id)
            own |= _module_level_bindings(ast.Module(body=[stmt], type_ignores=[]))
            for node in ast.walk(stmt):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    own |= {n for n, _ in _import_bindings(node)}
    return frozenset(names)


@dataclass
class _Context:
    """What the scan knows about the notebook around a cell."""
    protected: dict[str, str]       # course imports: name -> module path
    course_defined: frozenset       # other names course cells bind at module level
    solution_names: frozenset       # names the exercise stubs bind (the student's own)
    test_facing: frozenset          # names test cells read from outside themselves
    student_bound: frozenset        # every name the student's cells bind, any scope


# ---------------------------------------------------------------- the scanner

class _Scope:
    def __init__(self, aliases: dict[str, str], module_level: bool, parent: "_Scope | None" = None):
        self.aliases = aliases          # name -> dotted path of the module object it refers to
        self.shells: set[str] = set(parent.shells) if parent else set()      # names bound to the IPython shell
        self.getters: set[str] = set(parent.getters) if parent else set()    # names bound to a get_ipython function
        self.events: set[str] = set(parent.events) if parent else set()      # names bound to shell.events
        self.module_level = module_level
        self.globals: set[str] = set()  # `global` declarations inside a function


class _Scanner(ast.NodeVisitor):
    def __init__(self, cell: str, ctx: _Context, scope: _Scope):
        self.cell = cell
        self.ctx = ctx
        self.scope = scope
        self.findings: list[Finding] = []
        self._seen: set[tuple] = set()

    def flag(self, node: ast.AST, rule: str, detail: str) -> None:
        key = (getattr(node, "lineno", 0), rule)
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(Finding(self.cell, getattr(node, "lineno", 0), rule, detail, RULES[rule]))

    # ------------------------------------------------------------ resolution

    def resolve(self, node: ast.AST) -> str | None:
        """Dotted module path an expression refers to, when it is known statically."""
        if isinstance(node, ast.Name):
            if node.id == "__builtins__":
                return "builtins"
            return self.scope.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Subscript):  # sys.modules['x']
            if self.resolve(node.value) == "sys.modules" and _str(node.slice):
                return _str(node.slice)
            return None
        if isinstance(node, ast.Call) and node.args and _str(node.args[0]):
            func = self.resolve(node.func) or (node.func.id if isinstance(node.func, ast.Name) else None)
            if func in ("__import__", "builtins.__import__", "importlib.import_module"):
                return _str(node.args[0])
        return None

    def is_shell(self, node: ast.AST) -> bool:
        """Is ``node`` the IPython shell (``get_ipython()``, however the function was reached)?"""
        if isinstance(node, ast.Name):
            return node.id in self.scope.shells
        if isinstance(node, ast.Call):
            func = node.func
            if self.is_getter(func):
                return True
            if isinstance(func, ast.Attribute) and func.attr == "instance":  # InteractiveShell.instance()
                owner = func.value
                name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
                return name.endswith("Shell")
        return False

    def is_getter(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.scope.getters or (node.id == "get_ipython" and node.id not in self.ctx.student_bound) \
                or (self.scope.aliases.get(node.id) or "").endswith(".get_ipython")
        if isinstance(node, ast.Attribute):
            return node.attr == "get_ipython"
        return False

    def is_events(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.scope.events
        return isinstance(node, ast.Attribute) and node.attr == "events" and self.is_shell(node.value)

    def is_builtin(self, name: str) -> bool:
        return name in BUILTIN_NAMES and name not in self.ctx.student_bound

    # ------------------------------------------------------------ bindings

    def bind(self, node: ast.AST, name: str, value, how: str) -> None:
        """``name`` is bound by ``how`` (assign, def, class, import, delete, other) to
        ``value``: an expression for assign, the dotted module path for import, else None."""
        scope = self.scope
        if how == "import":
            alias = value
        else:
            alias = self.resolve(value) if how == "assign" and value is not None else None
        if scope.module_level or name in scope.globals:
            self._check_rebinding(node, name, value, how, alias)
        scope.aliases.pop(name, None)
        scope.shells.discard(name)
        scope.getters.discard(name)
        scope.events.discard(name)
        if alias:
            scope.aliases[name] = alias
        if how == "assign" and value is not None:
            if self.is_shell(value):
                scope.shells.add(name)
            elif self.is_getter(value):
                scope.getters.add(name)
            elif self.is_events(value):
                scope.events.add(name)

    def _check_rebinding(self, node, name, value, how, alias) -> None:
        ctx = self.ctx
        if name not in ctx.test_facing or name in ctx.solution_names:
            return
        code_like = how in ("def", "class") or isinstance(value, ast.Lambda)
        if name in ctx.protected:
            if alias == ctx.protected[name]:
                return
            if code_like or how in ("import", "delete") or isinstance(value, (ast.Name, ast.Attribute)):
                self.flag(node, "rebinds-test-name",
                          f"`{name}` is the course's `{ctx.protected[name]}`, which the tests use; "
                          f"the code binds it to something else")
            else:
                self.flag(node, "shadows-name", f"binds `{name}` (the course's `{ctx.protected[name]}`, used by the tests) to a value")
        elif name in BUILTIN_NAMES or name in ctx.course_defined:
            # A helper named like a builtin (or like a course helper) is rare but can be
            # honest; the tests' own comparisons live in course_utils.grading, out of reach.
            what = "the builtin" if name in BUILTIN_NAMES else "the course's"
            if code_like:
                self.flag(node, "shadows-builtin", f"defines `{name}`, which shadows {what} `{name}` the tests use")
            else:
                self.flag(node, "shadows-name", f"binds `{name}`, which shadows {what} `{name}` the tests use")

    def _target(self, t, value, how="assign"):
        if isinstance(t, ast.Name):
            self.bind(t, t.id, value, how)
        elif isinstance(t, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(t.elts) else None
            for i, e in enumerate(t.elts):
                self._target(e, values[i] if values else None, how if values else ("delete" if how == "delete" else "other"))
        elif isinstance(t, ast.Starred):
            self._target(t.value, None, "other")
        elif isinstance(t, ast.Attribute):
            self._store_attribute(t, delete=how == "delete")
            self.visit(t.value)
        elif isinstance(t, ast.Subscript):
            self._store_subscript(t)
            self.visit(t.value)
            self.visit(t.slice)

    def _store_attribute(self, t: ast.Attribute, delete: bool = False) -> None:
        verb = "deletes" if delete else "replaces"
        self._attr_name(t, t.attr, store=True)
        where = self.resolve(t)
        if where:
            self._module_store(t, where, verb)
        elif t.attr == "__class__":
            self.flag(t, "introspection", "writes `.__class__`")
        elif isinstance(t.value, ast.Call) and isinstance(t.value.func, ast.Name) and t.value.func.id == "type" \
                and self.is_builtin("type"):
            self.flag(t, "introspection", f"writes `.{t.attr}` on `type(...)` (a class reached through an object)")
        elif t.attr.startswith("__") and t.attr.endswith("__") and t.attr in SPECIAL_METHODS:
            self.flag(t, "special-method", f"sets `{t.attr}` on an object")

    def _module_store(self, node, where: str, verb: str) -> None:
        if where.startswith(CONFIG_STORES):
            return
        root = _under(where, TEST_MODULES)
        if where in HARMLESS_STORES or (root in ("sys", "threading") and where.split(".")[1] not in HOOK_RULE):
            self.flag(node, "patches-library", f"{verb} `{where}`")
        elif root == "builtins":
            self.flag(node, "rebinds-builtins", f"{verb} the builtin `{where.split('.', 1)[-1]}`")
        elif root:
            self.flag(node, "patches-testing", f"{verb} `{where}`")
        else:
            self.flag(node, "patches-library", f"{verb} `{where}`")

    def _store_subscript(self, t: ast.Subscript) -> None:
        base = self.resolve(t.value)
        key = _str(t.slice)
        if base == "sys.modules":
            self.flag(t, "patches-testing", f"replaces the module `{key}` in sys.modules" if key
                      else "writes into sys.modules")
        elif base == "builtins" or (base and base.endswith(".__dict__") and base[:-9] == "builtins"):
            self.flag(t, "rebinds-builtins", f"writes the builtin `{key}`" if key else "writes into the builtins")
        elif base and base.endswith(".__dict__"):
            self._module_store(t, base[:-9] + (f".{key}" if key else ""), "replaces")
        elif isinstance(t.value, ast.Call) and isinstance(t.value.func, ast.Name) and self.is_builtin(t.value.func.id) \
                and t.value.func.id in ("vars", "globals", "locals"):
            arg = self.resolve(t.value.args[0]) if t.value.args else None
            if arg == "builtins":
                self.flag(t, "rebinds-builtins", "writes into the builtins through vars()")
            elif arg:
                self._module_store(t, arg + (f".{key}" if key else ""), "replaces")
            elif t.value.func.id == "globals" and key in self.ctx.test_facing and key not in self.ctx.solution_names \
                    and (key in self.ctx.protected or key in BUILTIN_NAMES or key in self.ctx.course_defined):
                self.flag(t, "rebinds-test-name", f"rebinds `{key}`, which the tests use, through globals()")

    # ------------------------------------------------------------ statements

    def visit_Import(self, node):
        self._imports(node)

    def visit_ImportFrom(self, node):
        if node.level:
            self.flag(node, "unscanned-code", "relative import: loads files the scan did not read")
        self._imports(node)

    def _imports(self, node):
        for name, target in _import_bindings(node):
            module = target if isinstance(node, ast.Import) else node.module
            self._module_use(node, target, imported=True)
            if module.split(".")[0] not in ("__future__",) and not _installed(module):
                self.flag(node, "unscanned-code", f"imports `{module}`, which is not installed (a file the code wrote?)")
            self.bind(node, name, target, "import")
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == "*" for a in node.names):
            self._module_use(node, node.module, imported=True)

    def _module_use(self, node, path: str, imported: bool = False) -> None:
        """Checks on a module path the code imports or reaches (``sys._getframe``)."""
        parts = path.split(".")
        head = parts[0]
        if head == "nbgrader":
            self.flag(node, "reads-gradebook", f"uses `{path}`")
            return
        for i in range(len(parts), 0, -1):
            rule = REVIEW_MODULES.get(".".join(parts[:i]))
            if rule:
                self.flag(node, rule, f"{'imports' if imported else 'uses'} `{path}`")
                return
        if head == "sys" and len(parts) > 1:
            attr = parts[1]
            if attr in HOOK_RULE:
                self.flag(node, HOOK_RULE[attr], f"uses `{path}`")
            elif SYS_REVIEW.get(attr):
                self.flag(node, SYS_REVIEW[attr], f"uses `{path}`")
        elif head == "os" and len(parts) > 1 and OS_PROCESS.match(parts[1]):
            self.flag(node, "processes", f"uses `{path}`")
        elif head == "types" and len(parts) > 1 and parts[1] in TYPES_REVIEW:
            self.flag(node, "dynamic-code", f"uses `{path}`")
        elif head == "IPython" and imported and len(parts) > 1 and parts[1] not in ("display", "get_ipython"):
            self.flag(node, "ipython-internals", f"imports `{path}`")

    def visit_Assign(self, node):
        self.visit(node.value)
        for t in node.targets:
            self._target(t, node.value)

    def visit_AnnAssign(self, node):
        if node.value:
            self.visit(node.value)
        self.visit(node.annotation)
        self._target(node.target, node.value if node.value is not None else None,
                     "assign" if node.value is not None else "other")

    def visit_AugAssign(self, node):
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.bind(node.target, node.target.id, None, "other")
        else:
            self._target(node.target, None, "other")

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self._target(node.target, node.value)

    def visit_For(self, node):
        self.visit(node.iter)
        self._target(node.target, None, "other")
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node):
        self.visit(node.iter)
        for cond in node.ifs:
            self.visit(cond)

    def visit_withitem(self, node):
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._target(node.optional_vars, None, "other")

    def visit_ExceptHandler(self, node):
        if node.type:
            self.visit(node.type)
        if node.name:
            self.bind(node, node.name, None, "other")
        for stmt in node.body:
            self.visit(stmt)

    def visit_Delete(self, node):
        for t in node.targets:
            self._target(t, None, "delete")

    def visit_Global(self, node):
        self.scope.globals.update(node.names)

    def _in_scope(self, body, module_level=False, args: ast.arguments | None = None):
        outer = self.scope
        self.scope = _Scope(dict(outer.aliases), module_level, parent=outer)
        if args is not None:
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    self.scope.aliases.pop(a.arg, None)
                    self.scope.shells.discard(a.arg)
        try:
            for stmt in body:
                self.visit(stmt)
        finally:
            self.scope = outer

    def visit_FunctionDef(self, node):
        for d in node.decorator_list:
            self.visit(d)
        for arg in node.args.defaults + node.args.kw_defaults:
            if arg is not None:
                self.visit(arg)
        self.bind(node, node.name, None, "def")
        self._in_scope(node.body, args=node.args)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for arg in node.args.defaults + node.args.kw_defaults:
            if arg is not None:
                self.visit(arg)
        self._in_scope([ast.Expr(node.body)], args=node.args)

    def visit_ClassDef(self, node):
        for d in node.decorator_list:
            self.visit(d)
        for base in node.bases:
            name = self.resolve(base) or (base.id if isinstance(base, ast.Name) and self.is_builtin(base.id) else None)
            if name in SPOOFABLE_BASES:
                self.flag(node, "type-spoof", f"class `{node.name}` subclasses `{name}`")
            self.visit(base)
        for kw in node.keywords:
            if kw.arg == "metaclass":
                self.flag(node, "type-spoof", f"class `{node.name}` sets a metaclass")
            self.visit(kw.value)
        self.bind(node, node.name, None, "class")
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in SPECIAL_METHODS:
                self.flag(stmt, "special-method", f"class `{node.name}` defines `{stmt.name}`")
            if isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Name) and t.id in SPECIAL_METHODS:
                        self.flag(stmt, "special-method", f"class `{node.name}` sets `{t.id}`")
        self._in_scope(node.body)

    # ------------------------------------------------------------ expressions

    def visit_Constant(self, node):
        s = _str(node)
        if s is None:
            return
        if s in HOOK_RULE and s != "monitoring":
            self.flag(node, HOOK_RULE[s], f"names the hook `{s}` in a string")
        elif s in IPYTHON_EVENTS:
            self.flag(node, "ipython-events", f"names the IPython event `{s}`")
        if "gradebook" in s.lower():
            self.flag(node, "reads-gradebook", "refers to the gradebook")

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            return
        name = node.id
        if name == "__builtins__":
            self.flag(node, "introspection", "uses `__builtins__`")
        elif name in BUILTIN_REVIEW and self.is_builtin(name):
            self.flag(node, BUILTIN_REVIEW[name], f"uses `{name}`")
        elif HISTORY_NAME.match(name) and name not in self.ctx.student_bound:
            self.flag(node, "history", f"reads IPython's history name `{name}`")

    def visit_Attribute(self, node):
        self._attr_name(node, node.attr, store=False)
        where = self.resolve(node)
        if where:
            self._module_use(node, where)
        elif self.is_shell(node.value):
            self._shell_attr(node, node.attr)
        elif node.attr in EVENT_METHODS and self.is_events(node.value):
            self.flag(node, "ipython-events", f"uses the shell's `events.{node.attr}`")
        self.visit(node.value)

    def _attr_name(self, node, attr: str, store: bool) -> None:
        """Rules that hold whatever object the attribute is taken from."""
        if attr in HOOK_RULE:
            if attr == "monitoring" and self.resolve(node.value if isinstance(node, ast.Attribute) else node) != "sys":
                return
            self.flag(node, HOOK_RULE[attr], f"{'writes' if store else 'uses'} `.{attr}`")
        elif attr == "events" and isinstance(node, ast.Attribute) and self.is_shell(node.value):
            self.flag(node, "ipython-events", "uses the shell's `events`")
        elif attr in INTROSPECTION_ATTRS:
            self.flag(node, "introspection", f"{'writes' if store else 'uses'} `.{attr}`")
        elif attr in FRAME_ATTRS:
            self.flag(node, "frame-access", f"uses `.{attr}`")

    def _shell_attr(self, node, attr: str) -> None:
        if attr in HOOK_RULE or attr == "events":
            return  # already reported by name
        if attr in ("run_line_magic", "run_cell_magic", "system", "getoutput"):
            return  # judged on the call (visit_Call)
        self.flag(node, "ipython-shell", f"uses the IPython shell's `{attr}`")

    def visit_Call(self, node):
        func = node.func
        # get_ipython().run_line_magic('time', 'code') and friends (what %magics become)
        if isinstance(func, ast.Attribute) and self.is_shell(func.value):
            if func.attr in ("run_line_magic", "run_cell_magic"):
                self._magic(node, func.attr)
                return
            if func.attr in ("system", "getoutput"):
                self.flag(node, "processes", "runs a shell command (`!...`)")
                for a in node.args[1:]:
                    self.visit(a)
                return
        # events.register('post_run_cell', f)
        if isinstance(func, ast.Attribute) and func.attr in ("register", "unregister") and node.args \
                and _str(node.args[0]) in IPYTHON_EVENTS:
            self.flag(node, "ipython-events", f"registers a callback for the IPython event `{_str(node.args[0])}`")
        if isinstance(func, ast.Name) and func.id == "__import__" and self.is_builtin("__import__") \
                and node.args and _str(node.args[0]):
            self._module_use(node, _str(node.args[0]), imported=True)  # __import__('x') is an import
            for a in [*node.args, *node.keywords]:
                self.visit(a)
            return
        if isinstance(func, ast.Name) and self.is_builtin(func.id):
            self._builtin_call(node, func.id)
        elif isinstance(func, ast.Name) or isinstance(func, ast.Attribute):
            path = self.resolve(func)
            if path == "importlib.import_module" or path == "builtins.__import__":
                if not (node.args and _str(node.args[0])):
                    self.flag(node, "dynamic-name", f"`{path}` with a computed module name")
                else:
                    self._module_use(node, _str(node.args[0]), imported=True)
            elif path in ("builtins.setattr", "builtins.delattr", "builtins.getattr"):
                self._builtin_call(node, path.split(".")[1])
            elif path and (path.endswith("mock.patch") or path.endswith("mock.patch.object")) and node.args:
                target = _str(node.args[0]) or self.resolve(node.args[0])
                if target and _under(target, TEST_MODULES):
                    self.flag(node, "patches-testing", f"patches `{target}` with mock")
        for kw in node.keywords:
            if kw.arg == "weights_only" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                self.flag(node, "unpickle", "loads a pickle with weights_only=False (runs arbitrary code)")
            if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                self.flag(node, "unpickle", "numpy load with allow_pickle (runs arbitrary code)")
        self.generic_visit(node)

    def _builtin_call(self, node, name: str) -> None:
        args = node.args
        if name in ("getattr", "setattr", "delattr", "hasattr") and len(args) >= 2:
            attr = _str(args[1])
            if attr is None:
                if name != "hasattr":
                    self.flag(node, "dynamic-name", f"`{name}` with a computed attribute name")
                base = self.resolve(args[0])
                if name in ("setattr", "delattr") and base:
                    self._module_store(node, f"{base}.<computed>", "replaces" if name == "setattr" else "deletes")
                return
            fake = ast.Attribute(value=args[0], attr=attr, ctx=ast.Load())
            ast.copy_location(fake, node)
            if name in ("setattr", "delattr"):
                self._store_attribute(fake, delete=name == "delattr")
            else:
                self._attr_name(fake, attr, store=False)
                where = self.resolve(fake)
                if where:
                    self._module_use(node, where)
                elif self.is_shell(args[0]):
                    self._shell_attr(node, attr)
        elif name == "type" and len(args) == 3:
            self.flag(node, "type-spoof", "builds a class with `type(name, bases, dict)`")

    def _magic(self, node: ast.Call, kind: str) -> None:
        name = _str(node.args[0]) if node.args else None
        arg = _str(node.args[1]) if len(node.args) > 1 else None
        if name in ALLOWED_MAGIC_ARGS and arg is not None and ALLOWED_MAGIC_ARGS[name].match(arg):
            return
        if name not in ALLOWED_MAGICS:
            self.flag(node, "magic", f"runs the IPython magic `%{name or '?'}`")
            return
        if name in CODE_MAGICS:
            pieces = [_str(a) for a in node.args[1:]]
            for piece in pieces:
                if piece and piece.strip():
                    self._scan_code(node, _strip_magic_options(piece))

    def _scan_code(self, node, code: str) -> None:
        try:
            tree = ast.parse(_transform(code))
        except (SyntaxError, ValueError):
            self.flag(node, "unscanned-code", "a magic runs code the scan cannot read")
            return
        for stmt in tree.body:
            ast.increment_lineno(stmt, getattr(node, "lineno", 1) - 1)
            self.visit(stmt)


def _strip_magic_options(arg: str) -> str:
    """``-n 3 -r 1 x = f()`` -> ``x = f()`` (options of %time/%timeit/%%capture)."""
    return re.sub(r"^\s*(?:-{1,2}\w+(?:\s+(?!-)[\w.]+)?\s+)*", "", arg, count=1) if arg.lstrip().startswith("-") else arg


# ---------------------------------------------------------------- notebooks

def scan_source(source: str, cell: str = "?", protected: dict[str, str] | None = None,
                aliases: dict[str, str] | None = None, context: _Context | None = None,
                scope: _Scope | None = None) -> list[Finding]:
    """Findings for one cell's source. ``aliases`` (or ``scope``, which also knows the
    names bound to the IPython shell) carries what earlier cells bound."""
    tree = _parse(source)
    if tree is None:
        return []  # it will fail when run; nothing to gain
    if context is None:
        context = _Context(protected or {}, frozenset(), frozenset(), frozenset(protected or {}),
                           frozenset(_bound_names(tree)))
    if scope is None:
        scope = _Scope({} if aliases is None else aliases, module_level=True)
    scanner = _Scanner(cell, context, scope)
    for stmt in tree.body:
        scanner.visit(stmt)
    return scanner.findings


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def scan_notebook(submission, release, tests=None) -> list[Finding]:
    """Findings for every code cell of ``submission`` that the student wrote or changed.

    Cells equal to a cell of ``release`` and test cells (restored from the gradebook
    before grading) are skipped. ``tests`` is the notebook whose test cells are graded
    (the source, with hidden tests); by default the release's visible tests. Use
    :func:`flags`, :func:`reviews` and :func:`notes` to sort the findings.
    """
    release_sources = {_normal(c.source) for c in release.cells if c.cell_type == "code"}
    locked_ids = {_nbmeta(c)["grade_id"] for c in release.cells if _nbmeta(c).get("locked")}
    imports, course_defined, solution_names = _course_names(_release_sources(release))
    protected = dict(imports)
    test_nb = tests if tests is not None else release
    test_sources = tuple(c.source for c in test_nb.cells if c.cell_type == "code" and _nbmeta(c).get("grade"))
    student = []
    for i, cell in enumerate(submission.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = _nbmeta(cell)
        if meta.get("grade_id") in locked_ids or _normal(cell.source) in release_sources:
            continue  # the course's own code; its imports are in `protected` already
        student.append((meta.get("grade_id") or f"#{i}", cell.source))
    bound: set[str] = set()
    for _, source in student:
        tree = _parse(source)
        if tree is not None:
            bound |= _bound_names(tree)
    context = _Context(protected, course_defined, solution_names, _test_facing(test_sources), frozenset(bound))
    scope = _Scope(dict(protected), module_level=True)
    findings: list[Finding] = []
    for label, source in student:
        findings += scan_source(source, label, context=context, scope=scope)
    return findings
