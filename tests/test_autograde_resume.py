"""A grading run killed with SIGKILL mid-way loses no grade, and the re-run grades only
what is missing (on the tiny assignment autograder/demo/mini_course.py)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.tools import autograde

pytestmark = pytest.mark.slow

MINI = autograde.REPO / "autograder" / "demo" / "mini_course.py"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'


def _children(pid: int) -> set[int]:
    """Every descendant process of ``pid`` (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        nxt = {p for p, pp in parents.items() if pp in frontier} - found
        found |= nxt
        frontier = nxt
    return found


def _alive(pids) -> set[int]:
    alive = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                alive.add(p)
        except OSError:
            pass
    return alive


def _make_class(folder: Path, release_nb, n: int) -> dict[str, float]:
    expected = {}
    for i in range(n):
        nb = nbformat.reads(nbformat.writes(release_nb), as_version=4)
        good = i % 3 != 2
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid == "square":
                cell.source = cell.source.replace(STUB, "import time\n    time.sleep(1.5)\n    return x * x")
            elif gid == "hypot" and good:
                cell.source = cell.source.replace(STUB, "return math.sqrt(a * a + b * b)")
            elif gid == "answer_cell" and good:
                cell.source = cell.source.replace(STUB, "answer = 42")
        (folder / f"s{i:02d}").mkdir(parents=True)
        nbformat.write(nb, folder / f"s{i:02d}" / "00_mini.ipynb")
        expected[f"s{i:02d}"] = 6.0 if good else 2.0
    return expected


def test_sigkill_mid_run_then_rerun(tmp_path):
    out, subs = tmp_path / "out", tmp_path / "subs"
    s = autograde.Settings(chapter="00_mini", submissions=str(subs), out=str(out), source=str(MINI), progress=False)
    autograde.prepare_course(s)
    rel = nbformat.read(s.root / "release" / "00_mini" / "00_mini.ipynb", as_version=4)
    expected = _make_class(subs, rel, 10)
    cmd = [sys.executable, "-m", "autograder.tools.autograde", "00_mini", str(subs), "--out", str(out),
           "--source", str(MINI), "--workers", "2", "--no-progress", "--cell-timeout", "30"]
    markers = s.root / ".markers" / "00_mini"
    log = open(tmp_path / "first.log", "w")
    proc = subprocess.Popen(cmd, cwd=autograde.REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        done = list(markers.glob("*.json")) if markers.exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.2)
    descendants = _children(proc.pid)
    assert proc.poll() is None, "the run finished before it could be killed: make the class slower\n" + (tmp_path / "first.log").read_text()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = {p.name: p.stat().st_mtime_ns for p in markers.glob("*.json")}
    assert 1 <= len(killed_at) < len(expected), f"killed with {len(killed_at)} of {len(expected)} graded"
    # Workers and sandboxed kernels die with the run (PR_SET_PDEATHSIG, bwrap --die-with-parent).
    for _ in range(100):
        if not _alive(descendants):
            break
        time.sleep(0.2)
    assert not _alive(descendants), f"processes outlived the killed run: {_alive(descendants)}"

    rerun = subprocess.run(cmd, cwd=autograde.REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"{len(killed_at)} already graded, {len(expected) - len(killed_at)} to grade" in rerun.stdout
    for name, mtime in killed_at.items():
        assert (markers / name).stat().st_mtime_ns == mtime, f"{name} was graded again"
    for student, total in expected.items():
        marker = json.loads((markers / f"{student}.json").read_text())
        assert marker["total"] == total, f"{student}: {marker['total']} != {total} ({marker['status']})"
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(expected)
