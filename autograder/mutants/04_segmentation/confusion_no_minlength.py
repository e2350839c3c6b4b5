# mutant: bincount without minlength (breaks when the last classes never occur)
# cell: confusion
# fails: test_confusion
def confusion_matrix(pred, target, num_classes):
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    flat = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()
    counts = torch.bincount(flat)
    return counts[: num_classes * num_classes].reshape(num_classes, num_classes)
