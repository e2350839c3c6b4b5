# mutant: only the N anchors of z1 (each pair counted in one direction)
# cell: nt_xent_loss
# fails: test_nt_xent_cases test_nt_xent_random
@@
-    return F.cross_entropy(logits, positives)
+    return F.cross_entropy(logits[:n], positives[:n])
