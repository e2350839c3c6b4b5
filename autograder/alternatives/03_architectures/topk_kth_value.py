# alternative: compare the target's score with the k-th largest score (ties count), float32 mean
# cell: topk_accuracy
def topk_accuracy(scores, targets, k):
    """Top-k accuracy with ties counted as hits (see the text)."""
    if k < 1 or k > scores.shape[-1]:
        raise ValueError(f"k={k} out of range for {scores.shape[-1]} classes")
    kth = scores.topk(k, dim=1).values[:, -1]  # [N] the k-th largest score of each row
    target_score = scores[torch.arange(len(targets)), targets]  # [N]
    return (target_score >= kth).float().mean().item()
