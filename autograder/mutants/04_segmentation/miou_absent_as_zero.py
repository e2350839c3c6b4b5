# mutant: counts classes absent from target and prediction as IoU 0
# cell: miou
# fails: test_miou
@@
-    iou = tp / union  # 0 / 0 -> NaN exactly for the absent classes
-    present = ~torch.isnan(iou)
-    mean = float(iou[present].mean()) if bool(present.any()) else float("nan")
-    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou, "mean_iou": mean}
+    iou = tp / union.clamp(min=1)
+    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou, "mean_iou": float(iou.mean())}
