# alternative: the VOC devkit's recipe in numpy: pad the curve, envelope, sum where recall changes
# cell: average_precision
def average_precision(scores, is_true_positive, num_ground_truth):
    """PASCAL VOC devkit style."""
    order = np.argsort(-scores.numpy(), kind="stable")
    tp = np.cumsum(is_true_positive.numpy()[order].astype(np.float64))
    rec = np.concatenate([[0.0], tp / num_ground_truth, [1.0]])
    prec = np.concatenate([[0.0], tp / np.arange(1, len(tp) + 1), [0.0]])
    for i in range(len(prec) - 2, -1, -1):
        prec[i] = max(prec[i], prec[i + 1])
    change = np.nonzero(rec[1:] != rec[:-1])[0]
    return float(np.sum((rec[change + 1] - rec[change]) * prec[change + 1]))
