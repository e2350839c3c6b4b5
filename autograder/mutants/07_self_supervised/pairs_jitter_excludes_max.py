# mutant: randint's upper bound is exclusive: the jitter never reaches +max_jitter
# cell: patch_pairs
# fails: test_patch_pairs_layout
@@
-    jitter = torch.randint(-max_jitter, max_jitter + 1, (num_pairs, 2), generator=generator)  # [N, 2]
+    jitter = torch.randint(-max_jitter, max_jitter, (num_pairs, 2), generator=generator) if max_jitter else torch.zeros(num_pairs, 2, dtype=torch.int64)
