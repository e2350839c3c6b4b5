# alternative: two plain loops over examples and classes
# cell: hinge_loss
def hinge_loss(scores, labels, margin=1.0):
    n, c = scores.shape
    loss = 0.0
    d = torch.zeros_like(scores)
    for i in range(n):
        y = int(labels[i])
        for j in range(c):
            if j != y:
                v = float(scores[i, j] - scores[i, y]) + margin
                if v > 0:
                    loss += v
                    d[i, j] += 1
                    d[i, y] -= 1
    return torch.tensor(loss / n, dtype=scores.dtype), d / n
