"""Tests of course_utils.metrics.text: BLEU against torchmetrics and an independent computation."""
import math
import random
from fractions import Fraction

import pytest

from course_utils.metrics import text as X


def _independent_bleu(candidates, references, n):
    """BLEU as the paper writes it, with exact fractions (re-derived from nltk's corpus_bleu formula)."""
    num = [0] * n
    den = [0] * n
    c = r = 0
    for cand, refs in zip(candidates, references):
        c += len(cand)
        lengths = sorted(len(ref) for ref in refs)
        r += min(lengths, key=lambda L: (abs(L - len(cand)), L))
        for k in range(1, n + 1):
            grams = [tuple(cand[i:i + k]) for i in range(len(cand) - k + 1)]
            for g in set(grams):
                best = max(sum(tuple(ref[i:i + k]) == g for i in range(len(ref) - k + 1)) for ref in refs)
                num[k - 1] += min(grams.count(g), best)
            den[k - 1] += len(grams)
    if min(num) == 0:
        return 0.0
    geo = math.exp(sum(math.log(Fraction(a, b)) for a, b in zip(num, den)) / n)
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return bp * geo


def _random_corpus(seed, size=8):
    rng = random.Random(seed)
    words = "a red blue star circle above the of".split()
    sent = lambda: [rng.choice(words) for _ in range(rng.randint(1, 9))]
    return [sent() for _ in range(size)], [[sent() for _ in range(rng.randint(1, 3))] for _ in range(size)]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_bleu_against_independent_and_torchmetrics(seed, n):
    candidates, references = _random_corpus(seed)
    got = X.bleu(candidates, references, n)
    assert got == pytest.approx(_independent_bleu(candidates, references, n), rel=1e-12, abs=1e-15)
    assert got == pytest.approx(X._bleu_twin(candidates, references, n), rel=1e-5, abs=1e-7)


def test_bleu_hand_worked_cases():
    ref = [["a red star .".split()]]
    assert X.bleu(["a red star .".split()], ref) == 1.0
    assert X.bleu(["a a a a".split()], ref, n=1) == 0.25  # clipped: one "a" counts
    assert X.bleu(["a a a a".split()], ref, n=2) == 0.0  # no correct bigram
    # 3 of 4 words, all correct: precisions 1, brevity penalty exp(1 - 4/3)
    assert X.bleu(["a red star".split()], ref, n=2) == pytest.approx(math.exp(1 - 4 / 3))
    # the closest reference length, the shorter on a tie: candidate of 4 between references of 3 and 5
    refs = [["a red star".split(), "a big red star .".split()]]
    assert X.bleu(["a red star .".split()], refs, n=1) == 1.0
    assert X.bleu([[]], ref, n=1) == 0.0
    assert X.bleu([], [], n=2) == 0.0


def test_bleu_checks():
    with pytest.raises(ValueError):
        X.bleu([["a"]], [], 1)
    with pytest.raises(TypeError):
        X.bleu(["a red star"], [[["a"]]], 1)
    with pytest.raises(ValueError):
        X.bleu([["a"]], [[]], 1)


def test_exact_match_and_helpers():
    assert X.exact_match([["a"], ["b", "c"]], [[["a"]], [["b"], ["b", "c"]]]) == 1.0
    assert X.exact_match([["a"]], [[["b"]]]) == 0.0
    assert X.exact_match([], []) == 0.0
    # clipping takes the largest count over the references: "the" twice in the second one
    assert X.bleu(["the the the".split()], [["the cat".split(), "the the".split()]], 1) == pytest.approx(2 / 3)
