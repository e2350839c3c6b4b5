# mutant: divides the integer counts with // (every IoU below 1 becomes 0)
# cell: miou
# fails: test_miou
def segmentation_scores(cm):
    tp = cm.diagonal()
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp
    iou = torch.where(union > 0, (tp // union.clamp(min=1)).double(), torch.tensor(float("nan"), dtype=torch.float64))
    present = ~torch.isnan(iou)
    return {"pixel_accuracy": float(tp.sum() // cm.sum()), "per_class_iou": iou,
            "mean_iou": float(iou[present].mean())}
