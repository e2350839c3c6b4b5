# alternative: an honest loop over the test points whose index is named `_i` (issue 11: the cheating scan zeroed it)
# cell: knn_predict
def knn_predict(train_x, train_y, test_x, k=1):
    n = train_x.shape[0]
    if k < 1 or k > n:
        raise ValueError(f"k must be between 1 and {n}, got {k}")
    num_classes = int(train_y.max()) + 1
    out = torch.empty(test_x.shape[0], dtype=torch.int64)
    for _i in range(test_x.shape[0]):
        d = torch.sqrt(((train_x - test_x[_i]) ** 2).sum(dim=1))
        idx = torch.argsort(d)[:k]
        votes = torch.bincount(train_y[idx], minlength=num_classes)
        out[_i] = int(torch.argmax(votes))  # the first maximum: the smallest label among ties
    return out
