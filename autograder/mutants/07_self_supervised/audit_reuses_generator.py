# mutant: the reproducibility check reuses the first generator (which has moved on)
# cell: audit_view_pairs
# fails: test_audit_view_pairs
@@
-    view1, view2 = make_pair(images, torch.Generator().manual_seed(seed))
+    generator = torch.Generator().manual_seed(seed)
+    view1, view2 = make_pair(images, generator)
@@
-    again1, again2 = make_pair(images, torch.Generator().manual_seed(seed))
+    again1, again2 = make_pair(images, generator)
