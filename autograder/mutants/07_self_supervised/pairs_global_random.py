# mutant: the labels come from the global random generator, not from `generator`
# cell: patch_pairs
# fails: test_patch_pairs_sampling
@@
-    labels = torch.randint(0, 8, (num_pairs,), generator=generator)  # [N]
+    labels = torch.randint(0, 8, (num_pairs,))  # [N]
