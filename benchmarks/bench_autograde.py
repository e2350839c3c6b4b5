"""Throughput of class grading: ours against plain sequential ``nbgrader autograde``.

Grades chapter 02 for 40 submissions built from the demo class (the looping student is
left out: plain nbgrader would wait out its 300 s per-cell timeout many times), in the
same run, once with ``python -m autograder.tools.autograde`` (N in-process workers,
sandboxed kernels, feedback included) and once with one plain ``nbgrader autograde``
command (sequential, no sandbox, no feedback). Prints notebooks graded per minute and
the ratio (target: at least 1.8x on 2 cores). Both run with ``DLCV_QUICK=1``.

    python benchmarks/bench_autograde.py [--n 40] [--workers 2] [--chapter 02_cnns]
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


def build_class(chapter: str, n: int, folder: Path) -> list[str]:
    students = [(name, nb, stamp) for name, (nb, stamp) in demo.ClassBuilder(chapter).students().items()
                if name not in SKIP]
    names = []
    for i in range(n):
        name, nb, stamp = students[i % len(students)]
        student = f"{name}{i:02d}"
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / f"{chapter}.ipynb")
        (folder / student / "timestamp.txt").write_text(stamp)
        names.append(student)
    return names


def plain_nbgrader(chapter: str, folder: Path, students: list[str], work: Path) -> float:
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
    return time.monotonic() - start


def ours(chapter: str, folder: Path, work: Path, workers: int) -> tuple[float, dict]:
    s = autograde.Settings(chapter=chapter, submissions=str(folder), out=str(work / "ours"), workers=workers,
                           progress=sys.stderr.isatty())
    autograde.prepare_course(s, log=lambda *_: None)  # generation is not grading: both sides do it untimed
    start = time.monotonic()
    results = autograde.run(s, log=lambda *_: None)
    return time.monotonic() - start, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", default="02_cnns")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-autograde-"))
    try:
        folder = work / "class"
        students = build_class(args.chapter, args.n, folder)
        print(f"{args.n} submissions of {args.chapter} on {os.cpu_count()} cores "
              f"(load average {os.getloadavg()[0]:.1f}: other work on the machine makes the numbers noisy)")
        # Warm-up, untimed: the first kernel reads torch's libraries (GBs) from disk;
        # whichever side ran first would pay for it.
        warm = work / "warm"
        shutil.copytree(folder / students[0], warm / students[0])
        ours(args.chapter, warm, work / "warmup", 1)
        t_ours, results = ours(args.chapter, folder, work, args.workers)
        errors = sum(r.status == "grader error" for r in results.values())
        t_plain = plain_nbgrader(args.chapter, folder, students, work)
        rate_ours, rate_plain = 60 * args.n / t_ours, 60 * args.n / t_plain
        print(f"plain nbgrader autograde (sequential): {t_plain:7.1f} s  {rate_plain:5.2f} notebooks/min")
        print(f"autograde.py ({args.workers} workers, sandbox, feedback): {t_ours:7.1f} s  {rate_ours:5.2f} notebooks/min"
              f"{f'  ({errors} grader errors)' if errors else ''}")
        print(f"ours / plain: {rate_ours / rate_plain:.2f}x (target >= 1.8x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
