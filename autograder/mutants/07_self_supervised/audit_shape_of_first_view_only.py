# mutant: checks the shape of the first view only
# cell: audit_view_pairs
# fails: test_audit_view_pairs
@@
-    if view1.shape != images.shape or view2.shape != images.shape:
+    if view1.shape != images.shape:
