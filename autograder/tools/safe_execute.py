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
  and ``clear_output`` is ignored (it could erase the error of a failed test).
"""
from __future__ import annotations

import inspect
import time

from jupyter_core.utils import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Float, Integer

KERNEL_DIED = "KernelDied"
NOT_RUN = "CellNotRun"


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

    def preprocess(self, nb, resources=None, km=None):
        self._dead_reason: str | None = None
        self._deadline = time.monotonic() + self.notebook_timeout
        self._output_bytes = 0
        self._capped = False
        # nbclient waits this long for the iopub messages of an interrupted cell; a kernel
        # that ignores the interrupt then raises, and we kill it.
        self.iopub_timeout = int(max(1, self.kill_grace))
        return super().preprocess(nb, resources, km)

    # ------------------------------------------------------------ per cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._dead_reason is None and time.monotonic() > self._deadline:
            self._kill(f"the notebook ran out of its {self.notebook_timeout} s budget")
        if self._dead_reason is not None:
            cell.outputs = [_error(NOT_RUN, f"not run: {self._dead_reason}")]
            return cell, resources
        self._current_is_grade = _is_grade_cell(cell)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except Exception as err:  # DeadKernelError, CellTimeoutError, ... : never abort the notebook
            alive = self._alive()
            reason = (f"the kernel died ({type(err).__name__})" if not alive
                      else f"the cell did not stop after an interrupt ({type(err).__name__})")
            self._kill(reason)
            cell.outputs = list(cell.get("outputs", [])) + [_error(KERNEL_DIED, reason)]
        if self._current_is_grade:
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"]
        return cell, resources

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = max(1, int(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

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

    def _kill(self, reason: str) -> None:
        self._dead_reason = reason
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
