# mutant: sums the 2N terms and divides by N
# cell: nt_xent_loss
# fails: test_nt_xent_cases test_nt_xent_random
@@
-    return F.cross_entropy(logits, positives)
+    return F.cross_entropy(logits, positives, reduction="sum") / n
