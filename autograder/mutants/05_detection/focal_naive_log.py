# mutant: takes log(sigmoid) directly: -inf (so an infinite loss) for confident mistakes
# cell: focal_loss
# fails: test_focal_loss
@@
-    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # -log(p_t), stable
+    ce = -torch.log(p_t)
