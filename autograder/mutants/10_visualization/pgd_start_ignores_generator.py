# mutant: draws the random start from the global generator, ignoring the one it is given
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-        u = torch.rand(original.shape, generator=generator, dtype=original.dtype, device=original.device)
+        u = torch.rand(original.shape, dtype=original.dtype, device=original.device)
