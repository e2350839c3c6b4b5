# alternative: per-class loop with explicit TP, FP, FN and nanmean
# cell: miou
def segmentation_scores(cm):
    k = cm.shape[0]
    ious = []
    for c in range(k):
        tp = int(cm[c, c])
        fn = int(cm[c, :].sum()) - tp
        fp = int(cm[:, c].sum()) - tp
        ious.append(tp / (tp + fp + fn) if tp + fp + fn > 0 else float("nan"))
    iou = torch.tensor(ious, dtype=torch.float64)
    total = int(cm.sum())
    return {"pixel_accuracy": int(cm.trace()) / total if total else float("nan"),
            "per_class_iou": iou, "mean_iou": float(torch.nanmean(iou))}
