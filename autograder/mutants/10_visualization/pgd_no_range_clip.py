# mutant: forgets to clip to the valid range [0, 1]
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-        x = x.clamp(0.0, 1.0)  # back into the valid range
