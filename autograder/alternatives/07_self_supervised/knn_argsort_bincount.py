# alternative: argsort and bincount row by row, float64 similarities
# cell: knn_predict
def knn_predict(train_features, train_labels, test_features, k=5):
    a = test_features.double()
    b = train_features.double()
    sims = (a / a.norm(dim=1, keepdim=True)) @ (b / b.norm(dim=1, keepdim=True)).T
    order = torch.argsort(sims, dim=1, descending=True)[:, :k]
    classes = int(train_labels.max()) + 1
    result = torch.zeros(len(test_features), dtype=torch.long)
    for i in range(len(test_features)):
        result[i] = torch.bincount(train_labels[order[i]], minlength=classes).argmax()
    return result
