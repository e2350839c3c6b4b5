# mutant: rows are the prediction and columns the target
# cell: confusion
# fails: test_confusion
def confusion_matrix(pred, target, num_classes):
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    flat = pred.reshape(-1).long() * num_classes + target.reshape(-1).long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
