# mutant: accepts values up to 0.5 outside [0, 1]
# cell: audit_view_pairs
# fails: test_audit_view_pairs
@@
-        "in_range": bool(view1.min() >= 0 and view1.max() <= 1 and view2.min() >= 0 and view2.max() <= 1),
+        "in_range": bool(min(view1.min(), view2.min()) >= -0.5 and max(view1.max(), view2.max()) <= 1.5),
