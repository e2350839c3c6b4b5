# mutant: averages only over classes present in the target (drops classes that are only predicted)
# cell: miou
# fails: test_miou
def segmentation_scores(cm):
    counts = cm.double()
    tp = counts.diagonal()
    union = counts.sum(dim=0) + counts.sum(dim=1) - tp
    iou = tp / union
    in_target = counts.sum(dim=1) > 0
    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou,
            "mean_iou": float(iou[in_target].mean())}
