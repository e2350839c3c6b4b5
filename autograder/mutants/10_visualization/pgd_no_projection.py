# mutant: never projects back into the epsilon-ball
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-        x = torch.min(torch.max(x, original - epsilon), original + epsilon)  # back into the ball
