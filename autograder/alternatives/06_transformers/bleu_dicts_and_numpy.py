# alternative: plain dictionaries, a per-order loop outside, numpy for the final formula (returns np.float64)
# cell: bleu
import numpy as np


def ngram_counts(tokens, k):
    counts = {}
    for i in range(len(tokens) - k + 1):
        gram = tuple(tokens[i:i + k])
        counts[gram] = counts.get(gram, 0) + 1
    return counts


def bleu(candidates, references, n):
    if len(candidates) == 0:
        return 0.0
    c = sum(len(cand) for cand in candidates)
    r = 0
    for cand, refs in zip(candidates, references):
        lengths = sorted(len(ref) for ref in refs)
        r += min(lengths, key=lambda length: abs(length - len(cand)))  # sorted: the shorter wins a tie
    precisions = []
    for k in range(1, n + 1):
        matched = produced = 0
        for cand, refs in zip(candidates, references):
            mine = ngram_counts(cand, k)
            theirs = [ngram_counts(ref, k) for ref in refs]
            for gram, count in mine.items():
                matched += min(count, max(t.get(gram, 0) for t in theirs))
                produced += count
        if matched == 0:
            return 0.0
        precisions.append(matched / produced)
    bp = 1.0 if c > r else np.exp(1.0 - r / c)
    return bp * np.exp(np.mean(np.log(precisions)))
