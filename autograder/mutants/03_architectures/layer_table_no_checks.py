# mutant: no ValueError for windows that do not fit
# cell: layer_table
# fails: test_layer_table_errors
@@
-            if min(h, w) + 2 * p < k:
-                raise ValueError(f"a {k}x{k} window does not fit in a {h}x{w} input with padding {p}")
