# mutant: warm-up factor step / warmup_steps: the first step has learning rate 0
# cell: linear_lr_scaling
# fails: test_warmup_factor
@@
-    return float(min(1.0, (step + 1) / warmup_steps))
+    return float(min(1.0, step / warmup_steps))
