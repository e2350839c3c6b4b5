# mutant: one jitter value shared by the row and the column
# cell: patch_pairs
# fails: test_patch_pairs_layout
@@
-    jitter = torch.randint(-max_jitter, max_jitter + 1, (num_pairs, 2), generator=generator)  # [N, 2]
+    jitter = torch.randint(-max_jitter, max_jitter + 1, (num_pairs, 1), generator=generator).expand(num_pairs, 2)
