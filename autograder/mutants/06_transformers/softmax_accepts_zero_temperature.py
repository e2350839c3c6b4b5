# mutant: only negative temperatures raise (0 slips through)
# cell: softmax_with_temperature
# fails: test_softmax_with_temperature
@@
-    if not temperature > 0:
+    if temperature < 0:
