# mutant: always adds x itself, ignoring the projection shortcut
# cell: residual_block_forward
# fails: test_residual_projection
@@
-    identity = x if shortcut is None else shortcut(x)
+    identity = x
