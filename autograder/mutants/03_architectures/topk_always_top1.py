# mutant: ignores k (top-1 accuracy)
# cell: topk_accuracy
# fails: test_topk_values
def topk_accuracy(scores, targets, k):
    """Top-k accuracy with ties counted as hits.

    Args:
        scores: Tensor[N, C] float, one score per class.
        targets: Tensor[N] int64 class indices.
        k: int, 1 <= k <= C.

    Returns:
        float in [0, 1]: fraction of rows where fewer than k classes score strictly higher
        than the target class (nan for N = 0).

    Raises:
        ValueError: if k < 1 or k > C.
    """
    num_classes = scores.shape[1]
    if not 1 <= k <= num_classes:
        raise ValueError(f"k must be in 1..{num_classes}, got {k}")
    target_scores = scores.gather(1, targets.long()[:, None])  # [N, 1]
    higher = (scores > target_scores).sum(dim=1)  # [N] classes that beat the target
    return float((higher < 1).double().mean())
