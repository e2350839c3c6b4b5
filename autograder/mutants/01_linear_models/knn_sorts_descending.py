# mutant: k-NN sorts the distances in descending order (takes the farthest points)
# cell: knn_predict
# fails: test_knn_predict
def knn_predict(train_x, train_y, test_x, k=1):
    if not 1 <= k <= train_x.shape[0]:
        raise ValueError(f"bad k {k}")
    dists = torch.cdist(test_x, train_x)
    nearest = dists.argsort(dim=1, descending=True)[:, :k]
    votes = F.one_hot(train_y[nearest], int(train_y.max()) + 1).sum(dim=1)
    return votes.argmax(dim=1)
