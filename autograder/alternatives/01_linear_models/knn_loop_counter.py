# alternative: a loop over test points with collections.Counter and a sorted tie-break
# cell: knn_predict
def knn_predict(train_x, train_y, test_x, k=1):
    from collections import Counter

    if k < 1 or k > len(train_x):
        raise ValueError("k out of range")
    preds = []
    for q in test_x:
        d = ((train_x - q) ** 2).sum(dim=1)  # squared distances rank the same
        idx = torch.topk(d, k, largest=False).indices
        counts = Counter(train_y[idx].tolist())
        top = max(counts.values())
        preds.append(min(label for label, c in counts.items() if c == top))
    return torch.tensor(preds, dtype=torch.int64)
