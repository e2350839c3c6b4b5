"""A check that runs *inside* the grading kernel: are the grading machinery's hooks as they
were when the kernel started?

:class:`~autograder.tools.safe_execute.SafeExecute` sends this file's source to every
grading kernel before the first cell runs (no student code has run yet) and calls
:func:`install`; before each test cell it evaluates ``check()`` (as a user expression of
an empty silent request, so no input transformer or cell hook is involved in asking).
A non-empty answer describes what changed: the rest of the notebook scores 0 and the
submission is flagged.

What is compared with the state at kernel start:

* IPython's hooks: the input transformers (cleanup, post, the transformer manager's
  lists), the AST transformers, the event callbacks, ``custom_exceptions``, the display
  hook and publisher, the traceback formatters, the compiler, the shell's and the
  kernel's execution methods (on the instance and the class) and the kernel's message
  handlers;
* the interpreter: ``sys.displayhook``/``excepthook``, the trace and profile functions
  and the functions that set them (``forbid`` relies on ``sys.setprofile``), the import
  hooks, the builtins module;
* the testing modules a notebook uses (``course_utils.grading``, ``numpy.testing``,
  ``torch.testing``, ``torch``, ``torch.Tensor``, ...): no attribute deleted or replaced
  by code defined outside the Python installation (private data such as a module's own
  cache excepted; libraries do wrap their own functions, as ``torch._dynamo`` wraps
  ``torch.manual_seed``), and ``sys.modules`` still holds the same module objects.

Entries may be *added* to the hook lists only by code that lives in the Python
installation (``%matplotlib inline`` and ``%load_ext autoreload`` register callbacks
this way); anything defined in a notebook cell is a violation.

Code that controls the kernel can subvert a check that runs in the same kernel: this is
defence in depth behind the static scan (:mod:`autograder.tools.scan`), and it closes
every path the scan did not foresee and the student did not think to hide. Standard
library only: it runs in the student's kernel, not in the grader.
"""
import builtins
import os
import sys
import threading

SHELL_OBJECTS = ("displayhook", "display_pub", "display_formatter", "display_trap", "compile", "InteractiveTB",
                 "SyntaxTB", "CustomTB", "custom_exceptions", "input_transformer_manager", "events",
                 "builtin_trap", "user_ns", "kernel", "ast_transformers", "input_transformers_post",
                 "history_manager")
SHELL_METHODS = ("run_cell", "run_cell_async", "_run_cell", "run_ast_nodes", "run_code", "transform_cell",
                 "transform_ast", "showtraceback", "_showtraceback", "showsyntaxerror", "should_run_async",
                 "user_expressions", "ex", "ev", "push", "set_custom_exc", "_get_exc_info", "get_exception_only")
KERNEL_METHODS = ("do_execute", "execute_request", "dispatch_shell", "process_one", "dispatch_queue",
                  "_publish_execute_input", "send_response")
_MISSING = object()


def _prefixes():
    """Folders whose code is trusted: the Python installation and course_utils."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(os.__file__)}
    for path in sys.path:
        if "site-packages" in path or "dist-packages" in path:
            found.add(path)
    cu = sys.modules.get("course_utils")
    if cu is not None and getattr(cu, "__file__", None):
        found.add(os.path.dirname(os.path.dirname(os.path.abspath(cu.__file__))) + os.sep + "course_utils")
    return tuple(os.path.abspath(p).rstrip(os.sep) + os.sep for p in found if p)


class Guard:
    def __init__(self, watch):
        from IPython.core.getipython import get_ipython
        self.shell = get_ipython()
        self.prefixes = _prefixes()
        self.modules = {}
        for name in watch:
            obj = _resolve(name)
            if obj is not None:
                self.modules[name] = obj
        self.modules.setdefault("builtins", builtins)
        if "course_utils" in sys.modules:  # course_utils was imported above: trust its folder too
            self.prefixes = _prefixes()
        self.start = self.state()

    # ------------------------------------------------------------ what is compared

    def state(self):
        ip = self.shell
        ids, seqs, dicts = {}, {}, {}
        ids["shell class"] = id(type(ip))
        for attr in SHELL_OBJECTS:
            ids[f"shell.{attr}"] = id(getattr(ip, attr, None))
        for name in SHELL_METHODS:
            ids[f"shell.{name} (instance)"] = id(vars(ip).get(name, _MISSING))
            ids[f"{type(ip).__name__}.{name}"] = id(getattr(type(ip), name, None))
        kernel = getattr(ip, "kernel", None)
        if kernel is not None:
            ids["kernel class"] = id(type(kernel))
            for name in KERNEL_METHODS:
                ids[f"kernel.{name} (instance)"] = id(vars(kernel).get(name, _MISSING))
                ids[f"{type(kernel).__name__}.{name}"] = id(getattr(type(kernel), name, None))
            dicts["kernel.shell_handlers"] = dict(getattr(kernel, "shell_handlers", {}))
        manager = getattr(ip, "input_transformer_manager", None)
        seqs["input_transformers_cleanup"] = list(getattr(manager, "cleanup_transforms", []))
        seqs["input transformer manager line_transforms"] = list(getattr(manager, "line_transforms", []))
        seqs["input transformer manager token_transformers"] = list(getattr(manager, "token_transformers", []))
        seqs["input_transformers_post"] = list(getattr(ip, "input_transformers_post", []))
        seqs["ast_transformers"] = list(getattr(ip, "ast_transformers", []))
        for event, callbacks in dict(getattr(getattr(ip, "events", None), "callbacks", {})).items():
            seqs[f"events[{event!r}]"] = list(callbacks)
        for name in ("displayhook", "excepthook", "settrace", "setprofile", "gettrace", "getprofile"):
            ids[f"sys.{name}"] = id(getattr(sys, name, None))
        ids["sys.gettrace()"] = id(sys.gettrace())
        ids["sys.getprofile()"] = id(sys.getprofile())
        for name in ("settrace", "setprofile", "_trace_hook", "_profile_hook"):
            ids[f"threading.{name}"] = id(getattr(threading, name, None))
        ids["sys.modules"] = id(sys.modules)
        seqs["sys.meta_path"] = list(sys.meta_path)
        seqs["sys.path_hooks"] = list(sys.path_hooks)
        for name, obj in self.modules.items():
            dicts[name] = {k: v for k, v in list(vars(obj).items()) if _watched(k, v)}
            if name in sys.modules or isinstance(obj, type(sys)):
                ids[f"sys.modules[{name!r}]"] = id(sys.modules.get(name))
        return ids, seqs, dicts

    def trusted(self, obj) -> bool:
        """Was ``obj`` defined in the Python installation (not in a notebook cell)?"""
        func = getattr(obj, "__func__", obj)
        code = getattr(func, "__code__", None)
        if code is not None:
            return os.path.abspath(code.co_filename).startswith(self.prefixes)
        cls = obj if isinstance(obj, type) else type(obj)
        module = sys.modules.get(getattr(cls, "__module__", None) or "")
        file = getattr(module, "__file__", None)
        if not file or not os.path.abspath(file).startswith(self.prefixes):
            return False
        return getattr(module, getattr(cls, "__qualname__", "").split(".")[0], None) is not None

    # ------------------------------------------------------------ the check

    def check(self) -> str:
        ids0, seqs0, dicts0 = self.start
        ids, seqs, dicts = self.state()
        problems = []
        for key, value in ids0.items():
            if ids.get(key) != value:
                problems.append(f"{key} was replaced")
        for key, before in seqs0.items():
            now = seqs.get(key, [])
            now_ids = {id(x) for x in now}
            if any(id(x) not in now_ids for x in before):
                problems.append(f"an entry of {key} was removed")
            before_ids = {id(x) for x in before}
            added = [x for x in now if id(x) not in before_ids and not self.trusted(x)]
            if added:
                problems.append(f"{key} gained {_describe(added[0])}")
        for key in seqs:
            if key not in seqs0 and any(not self.trusted(x) for x in seqs[key]):
                problems.append(f"{key} gained an entry")
        for name, before in dicts0.items():
            now = dicts.get(name, {})
            # Replaced by code of the installation is fine (importing torch._dynamo wraps
            # torch.manual_seed); removed, or replaced by a notebook's code, is not.
            changed = [k for k, v in before.items()
                       if k not in now or (now[k] is not v and not self.trusted(now[k]))]
            if name == "builtins":
                changed += [k for k, v in now.items() if k not in before and not self.trusted(v)]
            if changed:
                problems.append(f"{name}: {', '.join(sorted(changed)[:5])} replaced or removed")
        return "; ".join(problems)[:1000]


def _watched(name: str, value) -> bool:
    """Module attributes compared by identity: everything but private data (a module's own
    caches, such as ``_resolved_groups``, change as it works)."""
    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
        return callable(value) or isinstance(value, type(sys))
    return True


def _describe(obj) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{name!r} defined in {getattr(obj, '__module__', None) or type(obj).__module__}"


def _resolve(dotted):
    """Import ``a.b.C`` (module ``a.b``, attribute ``C``); None when it cannot be imported."""
    import importlib
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # noqa: BLE001  (not installed, or broken: the notebook will say so itself)
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


_guard = None


def install(watch=()):
    """Record the state at kernel start (call before any student code runs)."""
    global _guard
    _guard = Guard(list(watch))
    return len(_guard.start[0])


def check() -> str:
    """'' when nothing changed since :func:`install`, else what changed."""
    if _guard is None:
        return "the grading check was never installed"
    try:
        return _guard.check()
    except Exception as err:  # noqa: BLE001  (something the check relies on was broken)
        return f"the grading check failed: {type(err).__name__}: {err}"[:1000]
