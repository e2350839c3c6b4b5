"""Turn the single source (solutions/*.py, jupytext percent format) into nbgrader
notebooks and the student release (chapters/*.ipynb).

    python -m autograder.tools.build student            # regenerate chapters/
    python -m autograder.tools.build student 02_cnns    # one chapter
    python -m autograder.tools.build check              # exit 1 if chapters/ is stale

The text sources never enter an nbgrader ``source/<assignment>/`` folder: nbgrader
copies every non-notebook file of that folder into the release, which would leak the
solutions. They are converted to .ipynb on the way in.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
CHAPTERS = REPO / "chapters"
COURSE = REPO / "autograder"
CONFIG = COURSE / "nbgrader_config.py"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata kept in generated notebooks; everything else (jupytext's bookkeeping) is dropped.
KEEP_CELL_METADATA = ("nbgrader", "deletable", "editable", "tags")


def chapter_names() -> list[str]:
    """Names of all chapters that have a solution source, e.g. ``["02_cnns"]``."""
    return sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.py"))


def solution_path(name: str) -> Path:
    path = SOLUTIONS / f"{name}.py"
    if not path.exists():
        raise FileNotFoundError(f"no solution source {path}; chapters are {chapter_names()}")
    return path


def load_solution(name: str) -> nbformat.NotebookNode:
    """Read a solution source as a notebook with deterministic cell ids and clean metadata.

    jupytext gives cells random ids; fixed ids (the grade id for graded cells, the cell
    position otherwise) keep the generated release byte-for-byte reproducible.
    """
    nb = jupytext.read(solution_path(name), fmt="py:percent")
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    seen = set()
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell_id = grade_id or f"cell-{i:03d}"
        if cell_id in seen:
            raise ValueError(f"{name}: duplicate cell id / grade_id {cell_id!r}")
        seen.add(cell_id)
        cell.id = cell_id
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    return nb


def new_course_root(path: Path) -> Path:
    """Make an empty nbgrader course root at ``path`` with the course's config."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIG, path / "nbgrader_config.py")
    return path


def nbgrader(args: list[str], course_root: Path, env: dict | None = None, check: bool = True,
             timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run the nbgrader CLI of this environment inside ``course_root``."""
    full_env = dict(os.environ)
    # nbgrader shells out to `alembic` and starts kernels by name: both must come from
    # this environment even when it is not activated.
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_root, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({proc.returncode}) in {course_root}:\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def write_source(name: str, course_root: Path) -> Path:
    """Write solutions/<name>.py as source/<name>/<name>.ipynb of ``course_root``."""
    target = course_root / "source" / name / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(load_solution(name), target)
    return target


def generate_release(name: str, course_root: Path) -> Path:
    """Run ``nbgrader generate_assignment`` for one chapter; return the release notebook."""
    write_source(name, course_root)
    # --force: an existing release/<name> would otherwise be skipped and a fresh
    # gradebook would never learn the assignment.
    nbgrader(["generate_assignment", name, "--force"], course_root)
    return course_root / "release" / name / f"{name}.ipynb"


def build_student(names: list[str] | None = None, out: Path = CHAPTERS,
                  course_root: Path = COURSE) -> list[Path]:
    """Regenerate chapters/ from solutions/ through nbgrader."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or chapter_names():
        release = generate_release(name, course_root)
        target = out / f"{name}.ipynb"
        shutil.copy(release, target)
        written.append(target)
    return written


def _canonical(path: Path) -> dict:
    return json.loads(path.read_text())


def stale_chapters(names: list[str] | None = None) -> list[str]:
    """Chapters whose committed chapters/<name>.ipynb differs from a fresh build."""
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        root = new_course_root(Path(tmp) / "course")
        for name in names or chapter_names():
            fresh = generate_release(name, root)
            committed = CHAPTERS / f"{name}.ipynb"
            if not committed.exists() or _canonical(fresh) != _canonical(committed):
                stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["student", "check"])
    parser.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    args = parser.parse_args(argv)
    names = args.chapters or chapter_names()
    if args.command == "student":
        for path in build_student(names):
            print(f"wrote {path.relative_to(REPO)}")
        return 0
    stale = stale_chapters(names)
    if stale:
        print(f"chapters/ is out of date for {stale}: run `make student`")
        return 1
    print("chapters/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
