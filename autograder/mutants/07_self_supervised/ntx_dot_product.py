# mutant: dot products instead of cosine similarities
# cell: nt_xent_loss
# fails: test_nt_xent_cases test_nt_xent_random
@@
-    z = F.normalize(torch.cat([z1, z2]), dim=1)  # [2N, D]
+    z = torch.cat([z1, z2])  # [2N, D]
