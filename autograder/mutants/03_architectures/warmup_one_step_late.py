# mutant: warm-up reaches 1 one step late: (step + 1) / (warmup_steps + 1)
# cell: linear_lr_scaling
# fails: test_warmup_factor
@@
-    return float(min(1.0, (step + 1) / warmup_steps))
+    return float(min(1.0, (step + 1) / (warmup_steps + 1)))
