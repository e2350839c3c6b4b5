# mutant: IoU = TP / (TP + FP), forgetting the false negatives
# cell: miou
# fails: test_miou
def segmentation_scores(cm):
    counts = cm.double()
    tp = counts.diagonal()
    iou = tp / counts.sum(dim=0)
    present = (counts.sum(dim=0) + counts.sum(dim=1)) > 0
    iou = torch.where(present, iou.nan_to_num(0.0), torch.full_like(iou, float("nan")))
    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou,
            "mean_iou": float(iou[present].mean())}
