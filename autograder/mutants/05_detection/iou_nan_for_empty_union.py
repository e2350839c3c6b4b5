# mutant: divides by a zero union: NaN for two empty boxes
# cell: box_iou
# fails: test_box_iou_edge_cases
@@
-    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(union.dtype).tiny), torch.zeros_like(inter))
+    return inter / union
