# mutant: k-NN ignores k and always copies the single nearest label
# cell: knn_predict
# fails: test_knn_predict
def knn_predict(train_x, train_y, test_x, k=1):
    if not 1 <= k <= train_x.shape[0]:
        raise ValueError(f"bad k {k}")
    dists = torch.cdist(test_x, train_x)
    return train_y[dists.argmin(dim=1)]
