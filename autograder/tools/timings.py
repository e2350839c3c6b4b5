"""Run every solution notebook in full mode (not quick mode) and print a table of run
time and quality figure per chapter. This is how the course's speed is measured; it is
not part of `make test`.

    python -m autograder.tools.timings            # all chapters
    python -m autograder.tools.timings 02_cnns    # one
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

from autograder.tools.build import chapter_names, load_solution

BUDGET_SECONDS = 90  # every chapter must run within this on 2 CPU cores


def run_chapter(name: str, quick: bool = False) -> dict:
    nb = load_solution(name)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        os.environ["DLCV_REPORT"] = str(report)
        os.environ["MPLBACKEND"] = "Agg"
        if quick:
            os.environ["DLCV_QUICK"] = "1"
        else:
            os.environ.pop("DLCV_QUICK", None)
        start = time.perf_counter()
        error = None
        try:
            NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
        except Exception as err:  # report the failure in the table, keep going
            error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
        seconds = time.perf_counter() - start
        figures = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    return {"chapter": name, "seconds": seconds, "figures": figures, "error": error}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--quick", action="store_true", help="time quick mode instead")
    args = parser.parse_args(argv)
    rows = [run_chapter(n, args.quick) for n in (args.chapters or chapter_names())]
    print(f"\n{'chapter':<24} {'seconds':>8}  {'budget':>6}  quality figures")
    failed = 0
    for r in rows:
        figs = ", ".join(f"{f['name']}={f['value']:.4f}" + (f" (target {f['target']})" if f.get("target") is not None else "")
                         for f in r["figures"]) or "-"
        over = r["seconds"] > BUDGET_SECONDS and not args.quick
        status = "OVER" if over else "ok"
        if r["error"]:
            status, figs = "ERROR", r["error"]
        failed += status != "ok"
        print(f"{r['chapter']:<24} {r['seconds']:8.1f}  {status:>6}  {figs}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
