# mutant: assumes the detections are already ranked by score
# cell: average_precision
# fails: test_average_precision
def average_precision(scores, is_true_positive, num_ground_truth):
    """All-point interpolated average precision (PASCAL VOC 2010+) of one class.

    Args:
        scores: Tensor[D] float, the confidence of each detection.
        is_true_positive: Tensor[D] bool, whether each detection is a true positive.
        num_ground_truth: int >= 1, the number of ground-truth objects of the class.

    Returns:
        float: the area under the interpolated precision-recall curve, in [0, 1].
    """
    ranking = torch.arange(len(scores))
    hits = is_true_positive[ranking].to(torch.float64).cumsum(dim=0)  # [D] TP among the k best
    precision = hits / torch.arange(1, len(hits) + 1, dtype=torch.float64)
    recall = hits / num_ground_truth
    envelope = precision.flip(0).cummax(dim=0).values.flip(0)  # best precision at this recall or beyond
    recall_gain = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return float((recall_gain * envelope).sum())
