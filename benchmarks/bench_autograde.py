"""Throughput of class grading: ours against plain sequential ``nbgrader autograde``.

Grades chapter 02 for 40 submissions built from the demo students that plain nbgrader
grades to the end (it gives up within seconds on the tampered, crashing and scratch-cell
ones, which would flatter its rate; ``--whole-class`` uses every student but the looping
one, and the rates then count only notebooks actually graded), in the
same run, once with ``python -m autograder.tools.autograde`` (N in-process workers,
sandboxed kernels forked warm from a zygote, feedback included) and once with one plain
``nbgrader autograde`` command (sequential, no sandbox, no feedback). ``--cold`` adds a
third run of ours with every kernel started cold, to show what the zygote buys. Both run
with ``DLCV_QUICK=1``.

Prints notebooks graded per minute, the ratio (target: at least 2.5x on 2 cores) and
ours' grading overhead per notebook: its wall time minus the time its cells executed
(target: at most 2 s), with where it goes (kernel start, shutdown, feedback page, the rest).

    python benchmarks/bench_autograde.py [--n 40] [--workers 2] [--chapter 02_cnns] [--cold]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from autograder.tools import autograde, demo  # noqa: E402
from autograder.tools.build import nbgrader, new_course_root, write_source  # noqa: E402

SKIP = {"lou"}  # loops: plain nbgrader would sit in its 300 s timeout
# Plain nbgrader grades only these demo students: it errors out on the others (extra
# scratch cells, tampered or deleted test cells, a dead kernel, ...) and skips them in a
# second or two, which would count as "graded" in a notebooks-per-minute figure. The
# like-for-like class is built from the students both sides grade to the end.
LIKE_FOR_LIKE = {"ada", "ben", "fay", "gus", "hana", "oli"}


def build_class(chapter: str, n: int, folder: Path, only: set[str] | None = None) -> list[str]:
    students = [(name, nb, stamp) for name, (nb, stamp) in demo.ClassBuilder(chapter).students().items()
                if name not in SKIP and (only is None or name in only)]
    names = []
    for i in range(n):
        name, nb, stamp = students[i % len(students)]
        student = f"{name}{i:02d}"
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / f"{chapter}.ipynb")
        (folder / student / "timestamp.txt").write_text(stamp)
        names.append(student)
    return names


def plain_nbgrader(chapter: str, folder: Path, students: list[str], work: Path) -> tuple[float, int]:
    """Seconds for one sequential ``nbgrader autograde``, and how many notebooks it graded."""
    root = new_course_root(work / "plain")
    write_source(chapter, root)
    nbgrader(["generate_assignment", chapter, "--force"], root)
    for student in students:
        dest = root / "submitted" / student / chapter
        dest.mkdir(parents=True)
        shutil.copy(folder / student / f"{chapter}.ipynb", dest / f"{chapter}.ipynb")
        shutil.copy(folder / student / "timestamp.txt", dest / "timestamp.txt")
    start = time.monotonic()
    nbgrader(["autograde", chapter, "--force"], root, env={"DLCV_QUICK": "1", "MPLBACKEND": "Agg"}, check=False)
    seconds = time.monotonic() - start
    graded = sum((root / "autograded" / s / chapter / f"{chapter}.ipynb").exists() for s in students)
    return seconds, graded


def ours(chapter: str, folder: Path, work: Path, workers: int, warm: bool = True) -> tuple[float, dict]:
    s = autograde.Settings(chapter=chapter, submissions=str(folder), out=str(work / ("ours" if warm else "cold")),
                           workers=workers, progress=sys.stderr.isatty(), warm=warm)
    autograde.prepare_course(s, log=lambda *_: None)  # generation is not grading: both sides do it untimed
    start = time.monotonic()
    results = autograde.run(s, log=lambda *_: None)
    return time.monotonic() - start, results


def print_overhead(results: dict) -> None:
    """Mean seconds per notebook: wall time in its worker minus the time its cells executed."""
    rows = [r for r in results.values() if r.status != "grader error" and "cells" in r.timings]
    if not rows:
        print("    no timings")
        return
    mean = (lambda f: sum(f(r) for r in rows) / len(rows))
    overhead = mean(lambda r: r.seconds - r.timings["cells"])
    parts = {k: mean(lambda r, k=k: r.timings.get(k, 0.0)) for k in ("kernel start", "kernel shutdown", "feedback")}
    rest = overhead - sum(parts.values())
    print(f"    per notebook: {mean(lambda r: r.seconds):.2f} s wall, cells {mean(lambda r: r.timings['cells']):.2f} s, "
          f"grading overhead {overhead:.2f} s (target <= 2 s) = "
          + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()) + f", nbgrader and the rest {rest:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", default="02_cnns")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="also grade with cold kernels (no zygote)")
    parser.add_argument("--whole-class", action="store_true",
                        help="every demo student but the looping one (plain nbgrader then skips many)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-autograde-"))
    try:
        folder = work / "class"
        students = build_class(args.chapter, args.n, folder, None if args.whole_class else LIKE_FOR_LIKE)
        print(f"{args.n} submissions of {args.chapter} on {os.cpu_count()} cores "
              f"(load average {os.getloadavg()[0]:.1f}: other work on the machine makes the numbers noisy)")
        # Warm-up, untimed: the first kernel reads torch's libraries (GBs) from disk;
        # whichever side ran first would pay for it.
        warm = work / "warm"
        shutil.copytree(folder / students[0], warm / students[0])
        ours(args.chapter, warm, work / "warmup", 1)
        t_ours, results = ours(args.chapter, folder, work, args.workers)
        t_cold, cold = ours(args.chapter, folder, work, args.workers, warm=False) if args.cold else (None, None)
        t_plain, plain_graded = plain_nbgrader(args.chapter, folder, students, work)
        rate_plain = 60 * plain_graded / t_plain
        print(f"plain nbgrader autograde (sequential): {t_plain:7.1f} s  {rate_plain:5.2f} notebooks/min"
              f"  ({plain_graded} of {args.n} graded)")
        for label, seconds, res in (("cold kernels", t_cold, cold), ("warm kernels", t_ours, results)):
            if res is None:
                continue
            graded = sum(r.status != "grader error" for r in res.values())  # rates count notebooks graded to the end
            rate = 60 * graded / seconds
            print(f"autograde.py, {label} ({args.workers} workers, sandbox, feedback): {seconds:7.1f} s  "
                  f"{rate:5.2f} notebooks/min  ({graded} of {args.n} graded)  ours / plain: {rate / rate_plain:.2f}x")
            print_overhead(res)
        rate_ours = 60 * sum(r.status != "grader error" for r in results.values()) / t_ours
        print(f"ours / plain: {rate_ours / rate_plain:.2f}x (target >= 2.5x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
