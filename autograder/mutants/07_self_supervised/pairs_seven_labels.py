# mutant: randint(0, 7) never draws label 7
# cell: patch_pairs
# fails: test_patch_pairs_sampling
@@
-    labels = torch.randint(0, 8, (num_pairs,), generator=generator)  # [N]
+    labels = torch.randint(0, 7, (num_pairs,), generator=generator)  # [N]
