"""nbgrader's ``Execute`` preprocessor, hardened for hostile submissions.

Stock nbgrader gives up on a notebook whose kernel dies (``os._exit``, a segfault, the
memory limit) or does not answer an interrupt (a loop that ignores SIGINT): the
notebook's autograded copy is deleted and the submission waits for manual grading. Here
instead:

* a cell that times out is interrupted; if the kernel does not come back within
  ``kill_grace`` seconds it is killed;
* once the kernel is dead, the cell that killed it and every later code cell get an
  error output, so every test cell that did not run scores 0 and nothing needs manual
  grading;
* the whole notebook has a wall-clock budget (``notebook_timeout``);
* output is capped while it streams in (``max_output_bytes`` per notebook), so 100 MB
  of prints cannot fill the grader's memory;
* in test cells, ``execute_result`` outputs are dropped (nbgrader would read a number
  there as partial credit, and student code can publish one through the display hook)
  and ``clear_output`` is ignored (it could erase the error of a failed test);
* **runtime check** (``guard``): before the first cell, the kernel records the state of
  IPython's hooks and of the testing modules (:mod:`autograder.tools.kernel_guard`);
  before each test cell it compares. If something changed, that test cell and every
  later cell are not run (they score 0, error ``GradingTampered``) and the submission is
  flagged. The request that asks is an empty, silent one whose answer is a user
  expression, so no input transformer or cell hook sits between the question and the
  answer.

* code cells after the last test cell are not run (``skip_after_last_test``): nothing
  they do can change a score, and in the chapters they train the models the prose
  discusses (a third or more of a notebook's time).

``report_file`` (when set) receives a JSON summary for the grader: whether the check
was installed, what it found, and the seconds the notebook's cells took to execute.
"""
from __future__ import annotations

import ast
import inspect
import json
import re
import time
from pathlib import Path

from jupyter_core.utils import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode

KERNEL_DIED = "KernelDied"
NOT_RUN = "CellNotRun"
TAMPERED = "GradingTampered"
GUARD_SOURCE = Path(__file__).with_name("kernel_guard.py")
GUARD_MODULE = "_dlcv_guard"
# What the runtime check watches, when the notebook imports it (importing a module the
# notebook never uses would only cost time).
WATCH_CANDIDATES = ("math", "operator", "functools", "unittest", "numpy", "numpy.testing", "torch", "torch.testing",
                    "torch.Tensor", "torch.nn.functional", "torchvision", "torchvision.ops", "course_utils.grading",
                    "course_utils.references")
_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][\w.]*)", re.M)


def watched_modules(nb) -> list[str]:
    """The entries of :data:`WATCH_CANDIDATES` whose top-level package the notebook imports."""
    roots = {m.split(".")[0] for c in nb.cells if c.get("cell_type") == "code" for m in _IMPORT.findall(c.source)}
    return [m for m in WATCH_CANDIDATES if m.split(".")[0] in roots]


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def _is_grade_cell(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def _size(out: NotebookNode) -> int:
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    data = out.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values()) + len(str(out.get("traceback", "")))


class SafeExecute(Execute):
    """Execute that survives dead kernels and runaway cells (see the module docstring)."""

    kill_grace = Float(10.0, help="Seconds an interrupted cell gets to stop before the kernel is killed.").tag(config=True)
    notebook_timeout = Integer(900, help="Wall-clock seconds for the whole notebook.").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output kept per notebook while it runs.").tag(config=True)
    guard = Bool(True, help="Check IPython's hooks and the testing modules before each test cell.").tag(config=True)
    guard_watch = List(Unicode(), default_value=None, allow_none=True,
                       help="Modules (or classes) the runtime check watches; default: watched_modules(nb).").tag(config=True)
    guard_timeout = Integer(120, help="Seconds the kernel gets to install or answer the runtime check.").tag(config=True)
    report_file = Unicode("", help="Where to write a JSON summary for the grader (empty: nowhere).").tag(config=True)
    skip_after_last_test = Bool(True, help="Do not run the code cells after the last graded cell.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._dead_reason: str | None = None
        self._dead_ename = NOT_RUN
        self._deadline = time.monotonic() + self.notebook_timeout
        self._output_bytes = 0
        self._capped = False
        self._guard_status: str | None = None if self.guard else "off"
        self._tampered: str | None = None
        self._checks = 0
        self._cell_seconds = 0.0
        self._times = {"start": time.monotonic()}  # the grader's own costs around the cells
        self._watch = list(self.guard_watch) if self.guard_watch is not None else watched_modules(nb)
        graded = [i for i, c in enumerate(nb.cells) if _is_grade_cell(c)]
        self._last_test = graded[-1] if graded and self.skip_after_last_test else len(nb.cells)
        # nbclient waits this long for the iopub messages of an interrupted cell; a kernel
        # that ignores the interrupt then raises, and we kill it.
        self.iopub_timeout = int(max(1, self.kill_grace))
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self.report_file:
                Path(self.report_file).write_text(json.dumps(
                    {"guard": self._guard_status, "tampered": self._tampered, "checks": self._checks,
                     "cell_seconds": round(self._cell_seconds, 3),
                     "kernel_start_seconds": round(self._times.get("first", self._times["start"]) - self._times["start"], 3),
                     "shutdown_seconds": round(time.monotonic() - self._times.get("last", time.monotonic()), 3)}))

    # ------------------------------------------------------------ per cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip() or index > self._last_test:
            return cell, resources
        if self._dead_reason is None and time.monotonic() > self._deadline:
            self._kill(f"the notebook ran out of its {self.notebook_timeout} s budget")
        if self._dead_reason is None and self._guard_status is None:
            self._install_guard()
        self._current_is_grade = _is_grade_cell(cell)
        if self._dead_reason is None and self._current_is_grade and self._guard_status == "ok":
            self._check_guard()
        if self._dead_reason is not None:
            cell.outputs = [_error(self._dead_ename, f"not run: {self._dead_reason}")]
            return cell, resources
        started = time.monotonic()
        self._times.setdefault("first", started)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except Exception as err:  # DeadKernelError, CellTimeoutError, ... : never abort the notebook
            alive = self._alive()
            reason = (f"the kernel died ({type(err).__name__})" if not alive
                      else f"the cell did not stop after an interrupt ({type(err).__name__})")
            self._kill(reason)
            cell.outputs = list(cell.get("outputs", [])) + [_error(KERNEL_DIED, reason)]
        finally:
            self._times["last"] = time.monotonic()
            self._cell_seconds += self._times["last"] - started  # the notebook's own time; the rest is overhead
        if self._current_is_grade:
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"]
        return cell, resources

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = max(1, int(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    # ------------------------------------------------------------ runtime check

    def _ask(self, code: str, expression: str):
        """Run ``code`` silently, then evaluate ``expression`` in the kernel; return its
        value (a Python literal), or raise ``RuntimeError`` saying why there is none.
        Returns ``TimeoutError`` (the class) when the kernel did not answer in time."""
        timeout = max(1, min(self.guard_timeout, int(self._deadline - time.monotonic())))
        saved = self.timeout
        self.timeout = timeout  # wait_for_reply reads it
        try:
            msg_id = self.kc.execute(code, silent=True, store_history=False, user_expressions={"r": expression})
            reply = self.wait_for_reply(msg_id)
        finally:
            self.timeout = saved
        if reply is None:
            return TimeoutError
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"the request failed ({content.get('ename')}: {content.get('evalue')})"[:300])
        answer = content.get("user_expressions", {}).get("r", {})
        if answer.get("status") != "ok":
            raise RuntimeError(f"the check raised {answer.get('ename')}: {answer.get('evalue')}"[:300])
        try:
            return ast.literal_eval(answer.get("data", {}).get("text/plain", ""))
        except (ValueError, SyntaxError):
            raise RuntimeError("the check gave an answer that is not a value") from None

    def _install_guard(self) -> None:
        """Before any student code runs: load kernel_guard into the kernel and record the state."""
        define = (f"import types as _dlcv_t, sys as _dlcv_s\n_dlcv_m = _dlcv_t.ModuleType({GUARD_MODULE!r})\n"
                  f"exec(compile({GUARD_SOURCE.read_text()!r}, '<dlcv-guard>', 'exec'), _dlcv_m.__dict__)\n"
                  f"_dlcv_s.modules[{GUARD_MODULE!r}] = _dlcv_m\ndel _dlcv_t, _dlcv_s, _dlcv_m")
        try:
            answer = self._ask(define, f"__import__('sys').modules[{GUARD_MODULE!r}].install({self._watch!r})")
        except Exception as err:  # noqa: BLE001  (the grader's problem, not the student's)
            self._guard_status = f"unavailable: {err}"[:300]
            return
        self._guard_status = "ok" if type(answer) is int else f"unavailable: no answer ({answer!r})"[:300]

    def _check_guard(self) -> None:
        self._checks += 1
        try:
            answer = self._ask("", f"__import__('sys').modules[{GUARD_MODULE!r}].check()")
        except Exception as err:  # noqa: BLE001
            if not self._alive():  # the kernel died between cells (memory limit, a thread's os._exit)
                self._kill(f"the kernel died ({type(err).__name__})")
                return
            answer = f"the runtime check could not run: {err}"  # removed or broken: tampering too
        if answer is TimeoutError:
            self._kill("the kernel did not answer the grader's check in time")
        elif not (type(answer) is str and answer == ""):
            self._tampered = str(answer)[:1000] or "the runtime check gave no answer"
            self._kill(f"the grading machinery was changed: {self._tampered}", ename=TAMPERED)

    # ------------------------------------------------------------ kernel state

    def _call(self, fn, *args, **kwargs):
        """Call a kernel-manager method that may be async (AsyncKernelManager) from sync code."""
        if inspect.iscoroutinefunction(fn):
            return run_sync(fn)(*args, **kwargs)
        return fn(*args, **kwargs)

    def _alive(self) -> bool:
        try:
            return bool(self.km is not None and self._call(self.km.is_alive))
        except Exception:  # noqa: BLE001
            return False

    def _kill(self, reason: str, ename: str = NOT_RUN) -> None:
        self._dead_reason = reason
        self._dead_ename = ename
        self.log.warning("Stopping the kernel: %s", reason)
        try:
            if self.km is not None and self.km.has_kernel:
                self._call(self.km.shutdown_kernel, now=True)
        except Exception:  # noqa: BLE001  (already gone)
            pass

    # ------------------------------------------------------------ outputs

    def output(self, outs, msg, display_id, cell_index):
        if self._capped and msg.get("msg_type") in ("stream", "display_data", "execute_result", "update_display_data"):
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            left = self.max_output_bytes - self._output_bytes
            size = _size(out)
            if size > left:
                # The kernel buffers prints, so one message can carry 100 MB: cut it too.
                if out.get("output_type") == "stream":
                    out["text"] = out.get("text", "")[:max(0, left)]
                elif out.get("output_type") in ("display_data", "execute_result"):
                    out["data"] = {"text/plain": "[output dropped: over the output limit]"}
                self._capped = True
                outs.append(NotebookNode(output_type="stream", name="stdout",
                                         text=f"\n[output limit of {self.max_output_bytes} bytes reached: "
                                              "further output of this notebook is dropped]\n"))
            self._output_bytes += min(size, max(0, left))
        return out

    def clear_output(self, outs, msg, cell_index):
        if getattr(self, "_current_is_grade", False):
            return None
        return super().clear_output(outs, msg, cell_index)
