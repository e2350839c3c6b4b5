# mutant: no check of k (k > N silently uses all points)
# cell: knn_predict
# fails: test_knn_predict
def knn_predict(train_x, train_y, test_x, k=1):
    dists = torch.cdist(test_x, train_x)
    nearest = dists.argsort(dim=1)[:, :k]
    votes = F.one_hot(train_y[nearest], int(train_y.max()) + 1).sum(dim=1)
    return votes.argmax(dim=1)
