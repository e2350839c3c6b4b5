"""Rewrite whole-cell mutants and alternatives as patches against the current solution cell.

    python -m autograder.tools.patchify                 # every chapter, report only
    python -m autograder.tools.patchify --write         # rewrite the files
    python -m autograder.tools.patchify 02_cnns --write --threshold 0.6

For each variant file that is still a whole cell (no ``@@``), its *code* is compared with
the current solution cell's code (``difflib`` over the lines that carry code: comments,
blank lines and docstrings do not count, so a copy that dropped the solution's comments,
docstring or ``### BEGIN/END SOLUTION`` markers still matches). When the variant changes at
most ``--threshold`` of the solution's code lines, it becomes a patch (the format of
:mod:`autograder.tools.validity`): one hunk per changed block, with the fewest context
lines that make the hunk's removed-and-context block unique where it is applied. Otherwise
the variant is a genuinely different implementation and stays a whole cell, without the
solution's docstring if it copied it.

Every rewrite is checked: the cell the new file produces has the same code as the old one
(equal ASTs, docstrings removed); it may differ only in the comments, docstring and
markers, which the patch keeps from the solution. The report says ``patch=`` where the
cell is the same to the letter.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import io
import re
import sys
import tokenize
from pathlib import Path

from autograder.tools.build import chapter_names, load_solution
from autograder.tools.validity import (ALTERNATIVES, MUTANTS, apply_patch, is_patch, parse_variant_file,
                                       solution_cells)

HEADER = re.compile(r"#\s*(mutant|alternative|cell|fails)\s*:\s*(.*)$")


def _norm(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def docstring_lines(source: str) -> set[int]:
    """0-based line numbers of the docstrings of the functions and classes of a cell."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                out.update(range(first.lineno - 1, first.end_lineno))
    return out


def _comment_free(source: str) -> list[str]:
    """The lines of ``source`` with comments removed (tokenizer-exact; falls back to the raw lines)."""
    lines = source.splitlines()
    out = list(lines)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                row, col = tok.start
                out[row - 1] = out[row - 1][:col]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [line.rstrip() for line in lines]
    return [line.rstrip() for line in out]


def _keys(source: str) -> list[tuple[int, str]]:
    """(line number, code) for the lines that carry code: not blank, not only a comment,
    not part of a docstring."""
    source = "\n".join(_norm(source))
    doc = docstring_lines(source)
    return [(k, code) for k, code in enumerate(_comment_free(source)) if code.strip() and k not in doc]


def code_edits(old_source: str, new_source: str) -> list[tuple[int, int, list[str]]]:
    """Edits (start, end, new lines) in ``old_source``'s lines that turn its code into
    ``new_source``'s code. Comments, blank lines and docstrings do not count as differences:
    where they differ outside a changed block, the old ones are kept."""
    old, new = _norm(old_source), _norm(new_source)
    ok, nk = _keys(old_source), _keys(new_source)
    sm = difflib.SequenceMatcher(None, [c for _, c in ok], [c for _, c in nk], autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        added = new[nk[j1][0]:nk[j2 - 1][0] + 1] if j2 > j1 else []
        if i2 > i1:
            start, end = ok[i1][0], ok[i2 - 1][0] + 1
        else:  # insertion: right before the next code line (after a docstring), or at the end
            start = end = ok[i1][0] if i1 < len(ok) else (ok[-1][0] + 1 if ok else len(old))
        edits.append((start, end, added))
    return edits


def make_hunks(old: list[str], edits: list[tuple[int, int, list[str]]]) -> list[list[str]] | None:
    """Hunks applying ``edits`` to ``old`` under validity.apply_patch's rules (each hunk's
    removed and context lines unique in the text as it stands when the hunk is applied),
    with as little context as possible. None if no such hunks exist."""
    hunks = []
    state = list(old)
    shift = 0
    for start, end, added in edits:
        removed = old[start:end]
        at = start + shift
        before = after = 0
        while True:
            lo, hi = at - before, at + len(removed) + after
            block = state[lo:hi]
            unique = sum(state[k:k + len(block)] == block for k in range(len(state) - len(block) + 1)) == 1
            if block and any(b.strip() for b in block) and unique:
                break
            if before <= after and lo > 0 or hi >= len(state) and lo > 0:
                before += 1
                while at - before > 0 and not state[at - before].strip():
                    before += 1
            elif hi < len(state):
                after += 1
                while at + len(removed) + after < len(state) and not state[at + len(removed) + after - 1].strip():
                    after += 1
            else:
                return None
        ctx_before = state[at - before:at]
        ctx_after = state[at + len(removed):at + len(removed) + after]
        hunks.append([" " + c if c else "" for c in ctx_before] + ["-" + r for r in removed]
                     + ["+" + a for a in added] + [" " + c if c else "" for c in ctx_after])
        state[at:at + len(removed)] = added
        shift += len(added) - len(removed)
    return hunks


def render_patch(hunks: list[list[str]]) -> str:
    lines = []
    for hunk in hunks:
        lines.append("@@")
        lines.extend(hunk)
    # A trailing empty context line would be lost to the parser's strip("\n").
    if lines and lines[-1] == "":
        lines[-1] = " "
    return "\n".join(lines) + "\n"


def code_ast(source: str) -> str | None:
    """The cell's AST without docstrings, as text (None if it does not parse)."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def strip_docstrings(source: str, solution_source: str) -> str:
    """``source`` without the docstrings it copied from the solution cell."""
    lines = source.strip("\n").splitlines()
    sol_lines = _norm(solution_source)
    sol_doc_text = "\n".join(sol_lines[i] for i in sorted(docstring_lines(solution_source)))
    drop: set[int] = set()
    block: list[int] = []
    for i in sorted(docstring_lines(source)) + [None]:
        if block and (i is None or i != block[-1] + 1):
            text = "\n".join(lines[k].rstrip() for k in block)
            if text.strip() and text in sol_doc_text:
                drop.update(block)
            block = []
        if i is not None:
            block.append(i)
    return "\n".join(line for k, line in enumerate(lines) if k not in drop) + "\n"


def convert(path: Path, solution_nb, threshold: float) -> tuple[str, str, float]:
    """(new file text, how, changed fraction) for one variant file; ``how`` is "patch",
    "patch=" (the patch gives the old cell to the letter), "whole" or "already"."""
    text = path.read_text()
    header, body = parse_variant_file(path)
    if is_patch(body):
        return text, "already", 0.0
    lines = text.splitlines()
    n_header = 0
    while n_header < len(lines) and HEADER.match(lines[n_header]):
        n_header += 1
    head = "\n".join(lines[:n_header]) + "\n"
    solution = solution_cells(solution_nb)[header["cell"]].source
    edits = code_edits(solution, body)
    n_code = max(1, len(_keys(solution)))
    old_keys = {k for k, _ in _keys(solution)}
    changed = sum(1 for s, e, _ in edits for k in range(s, e) if k in old_keys)
    added = sum(len(a) for _, _, a in edits)
    frac = max(changed, added) / n_code
    if frac <= threshold:
        hunks = make_hunks(_norm(solution), edits)
        if hunks is not None:
            patch = render_patch(hunks)
            got = apply_patch(solution, patch, str(path))
            if code_ast(got) != code_ast(body) or code_ast(got) is None:
                raise AssertionError(f"{path}: the patch does not reproduce the variant's code")
            return head + patch, "patch=" if _norm(got) == _norm(body) else "patch", frac
    stripped = strip_docstrings(body, solution)
    if code_ast(stripped) != code_ast(body):
        raise AssertionError(f"{path}: dropping the docstring changed the code")
    return head + stripped, "whole", frac


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args(argv)
    for name in args.chapters or chapter_names():
        solution_nb = load_solution(name)
        for folder in (MUTANTS / name, ALTERNATIVES / name):
            for path in sorted(folder.glob("*.py")):
                new_text, how, frac = convert(path, solution_nb, args.threshold)
                print(f"{how:7} {frac:4.2f}  {path.relative_to(folder.parent.parent)}")
                if args.write and how != "already":
                    path.write_text(new_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
