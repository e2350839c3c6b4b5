# mutant: checks the range of the first view only
# cell: audit_view_pairs
# fails: test_audit_view_pairs
@@
-        "in_range": bool(view1.min() >= 0 and view1.max() <= 1 and view2.min() >= 0 and view2.max() <= 1),
+        "in_range": bool(view1.min() >= 0 and view1.max() <= 1),
