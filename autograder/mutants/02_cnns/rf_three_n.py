# mutant: receptive field 3n (adds the whole kernel per layer)
# cell: answers_receptive_field
# fails: test_rf_stack test_convs_for_200
@@
-    return 2 * n + 1
+    return 3 * n
