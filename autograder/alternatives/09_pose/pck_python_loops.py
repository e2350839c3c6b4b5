# alternative: loops over instances and keypoints, math.dist, counts as ints
# cell: pck
def pck(predicted, target, alpha):
    """Count by hand."""
    correct = visible = 0
    for pred, truth in zip(predicted.tolist(), target.tolist()):
        xs = [t[0] for t in truth]
        ys = [t[1] for t in truth]
        size = max(max(xs) - min(xs), max(ys) - min(ys))
        for p, (tx, ty, v) in zip(pred, truth):
            if v > 0:
                visible += 1
                if math.dist(p, (tx, ty)) <= alpha * size:
                    correct += 1
    return correct / visible
