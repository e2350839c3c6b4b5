# alternative: one keypoint at a time with math.exp
# cell: oks
def oks(predicted, target, area, sigmas):
    """Sum of the labelled keypoints' terms over their number."""
    total, count = 0.0, 0
    for (px, py), (tx, ty, v), sigma in zip(predicted.tolist(), target.tolist(), [float(s) for s in sigmas]):
        if v > 0:
            total += math.exp(-((px - tx) ** 2 + (py - ty) ** 2) / (2 * area * (2 * sigma) ** 2))
            count += 1
    return total / count
