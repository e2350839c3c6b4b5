# alternative: plain Python loops over rows
# cell: topk_accuracy
def topk_accuracy(scores, targets, k):
    """Top-k accuracy with ties counted as hits (see the text)."""
    n, c = scores.shape
    if not (1 <= k <= c):
        raise ValueError("k out of range")
    if n == 0:
        return float("nan")
    hits = 0
    for row, t in zip(scores.tolist(), targets.tolist()):
        better = sum(1 for v in row if v > row[t])
        hits += better < k
    return hits / n
