# mutant: counts classes absent from target and prediction as IoU 0
# cell: miou
# fails: test_miou
def segmentation_scores(cm):
    counts = cm.double()
    tp = counts.diagonal()
    union = counts.sum(dim=0) + counts.sum(dim=1) - tp
    iou = tp / union.clamp(min=1)
    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou, "mean_iou": float(iou.mean())}
