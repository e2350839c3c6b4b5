# mutant: returns float counts built with a one-hot product
# cell: confusion
# fails: test_confusion
def confusion_matrix(pred, target, num_classes):
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    t = F.one_hot(target.reshape(-1).long(), num_classes).float()
    p = F.one_hot(pred.reshape(-1).long(), num_classes).float()
    return t.T @ p
