# alternative: float32 cumsum / arange, a loop for the envelope, and a 0-d float32 tensor as the result
# cell: average_precision
def average_precision(scores, is_true_positive, num_ground_truth):
    order = torch.sort(scores, descending=True, stable=True).indices
    tp = is_true_positive[order].float().cumsum(0)
    precision = tp / torch.arange(1, len(tp) + 1)
    recall = tp / num_ground_truth
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = torch.maximum(precision[i], precision[i + 1])
    previous = torch.cat([torch.zeros(1), recall[:-1]])
    return ((recall - previous) * precision).sum()
