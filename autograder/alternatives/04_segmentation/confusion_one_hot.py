# alternative: one-hot matrix product, converted back to int64
# cell: confusion
def confusion_matrix(pred, target, num_classes):
    if pred.shape != target.shape:
        raise ValueError(f"shapes {tuple(pred.shape)} and {tuple(target.shape)} differ")
    t = F.one_hot(target.flatten().long(), num_classes)  # [P, K]
    p = F.one_hot(pred.flatten().long(), num_classes)  # [P, K]
    return (t.T @ p).to(torch.int64)
