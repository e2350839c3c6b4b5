# mutant: vote ties go to the largest label instead of the smallest
# cell: knn_predict
# fails: test_knn_predict
def knn_predict(train_x, train_y, test_x, k=1):
    if not 1 <= k <= train_x.shape[0]:
        raise ValueError(f"bad k {k}")
    dists = torch.cdist(test_x, train_x)
    nearest = dists.argsort(dim=1)[:, :k]
    votes = F.one_hot(train_y[nearest], int(train_y.max()) + 1).sum(dim=1)
    c = votes.shape[1]
    return c - 1 - votes.flip(1).argmax(dim=1)
