# alternative: inter / (union + 1e-6), the eps that many students add (the prompt allows an eps up to 1e-6)
# cell: box_iou
@@
-    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(union.dtype).tiny), torch.zeros_like(inter))
+    return inter / (union + 1e-6)
