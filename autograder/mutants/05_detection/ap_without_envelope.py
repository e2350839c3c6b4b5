# mutant: sums the raw precision (no interpolation), like sklearn
# cell: average_precision
# fails: test_average_precision
@@
-    return float((recall_gain * envelope).sum())
+    return float((recall_gain * precision).sum())
