# alternative: counts pixel by pixel
# cell: confusion
def confusion_matrix(pred, target, num_classes):
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError("pred and target differ in shape")
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for t, p in zip(target.flatten().tolist(), pred.flatten().tolist()):
        cm[t, p] += 1
    return cm
