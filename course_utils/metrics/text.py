"""Scores for generated text: BLEU (Papineni et al., 2002) and exact match.

Conventions:

* A sentence is a list of tokens (``str``), e.g. ``tokenize_caption("a red star.")``.
* ``candidates`` is a list of sentences (one per image); ``references`` is a list of the
  same length whose item ``i`` is a *list* of correct sentences for image ``i`` (one or
  more: many captions can be right).

BLEU-N of a corpus:

1. **Clipped n-gram precision** ``p_n``: every n-gram of a candidate counts as correct at
   most as many times as it occurs in the reference that has most of it. Summed over the
   corpus, then divided by the number of candidate n-grams. Clipping is what stops
   ``"a a a a"`` from scoring 1 against ``"a red star"``.
2. **Brevity penalty**: precision alone rewards short candidates, so with ``c`` the total
   candidate length and ``r`` the total length of the reference closest in length to each
   candidate (the shorter on a tie), ``BP = 1`` if ``c > r`` else ``exp(1 - r / c)``.
3. ``BLEU-N = BP * exp((log p_1 + ... + log p_N) / N)``, and 0 if some ``p_n`` is 0.

This is the definition of the BLEU paper, of ``nltk.translate.bleu_score.corpus_bleu``
(without smoothing) and of ``torchmetrics``' ``bleu_score``; the tests compare them.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

from course_utils.checks import check_positive_int
from course_utils.references import reference_of

__all__ = ["bleu", "exact_match"]

Sentence = Sequence[str]


def _check_corpus(candidates, references, n: int) -> None:
    check_positive_int(n, "n")
    if not isinstance(candidates, (list, tuple)) or not isinstance(references, (list, tuple)):
        raise TypeError("candidates and references must be lists")
    if len(candidates) != len(references):
        raise ValueError(f"got {len(candidates)} candidates but {len(references)} reference lists")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or not isinstance(refs, (list, tuple)) or not refs:
            raise ValueError(f"references[{i}] must be a non-empty list of sentences (lists of tokens)")
        if any(isinstance(r, str) for r in refs):
            raise TypeError(f"references[{i}] must hold token lists, not strings (split the sentences first)")
    if any(isinstance(c, str) for c in candidates):
        raise TypeError("candidates must be token lists, not strings (split the sentences first)")


def _bleu_twin(candidates: Sequence[Sentence], references: Sequence[Sequence[Sentence]], n: int = 4) -> float:
    """Twin of :func:`bleu`: the clipped counts and lengths of torchmetrics' ``_bleu_score_update``.

    torchmetrics' ``bleu_score`` finishes in float32; the counts are taken from its update
    step and the score is computed from them in float64. torchmetrics breaks a tie in
    reference length by list order, so each candidate's references are sorted by length
    first, which makes it pick the shorter, as BLEU does.
    """
    import torch
    from torchmetrics.functional.text.bleu import _bleu_score_update

    _check_corpus(candidates, references, n)
    if not candidates:
        return 0.0
    preds = [" ".join(c) for c in candidates]
    target = [[" ".join(r) for r in sorted(refs, key=len)] for refs in references]
    correct, total = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    candidate_length, reference_length = _bleu_score_update(
        preds, target, correct, total, torch.tensor(0.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64), n)
    if float(correct.min()) == 0:
        return 0.0
    log_precision = sum(math.log(c / t) for c, t in zip(correct.tolist(), total.tolist())) / n
    c, r = float(candidate_length), float(reference_length)
    return (1.0 if c > r else math.exp(1 - r / c)) * math.exp(log_precision)


@reference_of("06_transformers/bleu", twin=_bleu_twin)
def bleu(candidates: Sequence[Sentence], references: Sequence[Sequence[Sentence]], n: int = 4) -> float:
    """Corpus BLEU-n: brevity penalty times the geometric mean of clipped 1..n-gram precisions.

    Args:
        candidates: ``list[list[str]]``, one generated sentence per item.
        references: ``list[list[list[str]]]``, the correct sentences of each item (at least one).
        n: the largest n-gram order (BLEU-1, BLEU-2, ..., BLEU-4 the usual).

    Returns:
        A float in ``[0, 1]`` (see the module docstring); 0 for an empty corpus.

    Examples:
        >>> refs = [["a red star .".split()]]
        >>> bleu(["a red star .".split()], refs), bleu(["a a a a".split()], refs, n=1)
        (1.0, 0.25)
        >>> round(bleu(["a red star".split()], refs, n=2), 4)  # precisions 1, 1; too short
        0.7165
    """
    _check_corpus(candidates, references, n)
    correct, total = [0] * n, [0] * n  # clipped and all candidate n-grams, per order, over the corpus
    candidate_length = reference_length = 0
    for candidate, refs in zip(candidates, references):
        candidate_length += len(candidate)
        reference_length += min((abs(len(r) - len(candidate)), len(r)) for r in refs)[1]  # closest; ties: shorter
        for k in range(1, n + 1):
            counts = Counter(tuple(candidate[i:i + k]) for i in range(len(candidate) - k + 1))
            most = Counter()
            for r in refs:
                most |= Counter(tuple(r[i:i + k]) for i in range(len(r) - k + 1))  # max count over references
            correct[k - 1] += sum(min(c, most[g]) for g, c in counts.items())  # clipped
            total[k - 1] += sum(counts.values())
    if min(correct) == 0:  # some precision is 0 (or there are no n-grams at all): BLEU is 0
        return 0.0
    log_precision = sum(math.log(c / t) for c, t in zip(correct, total)) / n
    if candidate_length > reference_length:
        penalty = 1.0
    else:
        penalty = math.exp(1 - reference_length / candidate_length)
    return penalty * math.exp(log_precision)


def exact_match(candidates: Sequence[Sentence], references: Sequence[Sequence[Sentence]]) -> float:
    """Fraction of candidates equal to one of their references (0 for an empty corpus).

    Examples:
        >>> exact_match([["a", "b"], ["c"]], [[["a", "b"]], [["d"], ["e"]]])
        0.5
    """
    _check_corpus(candidates, references, 1)
    if not candidates:
        return 0.0
    hits = sum(any(list(c) == list(r) for r in refs) for c, refs in zip(candidates, references))
    return hits / len(candidates)
