# mutant: pixel accuracy as int(trace) / int(sum): ZeroDivisionError on an all-zero confusion matrix
# cell: miou
# fails: test_miou
@@
-    return {"pixel_accuracy": float(tp.sum() / counts.sum()), "per_class_iou": iou, "mean_iou": mean}
+    return {"pixel_accuracy": int(cm.trace()) / int(cm.sum()), "per_class_iou": iou, "mean_iou": mean}
