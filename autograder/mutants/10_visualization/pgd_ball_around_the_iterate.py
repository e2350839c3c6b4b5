# mutant: clips to a ball around the current iterate instead of around the images
# cell: pgd_attack
# fails: test_pgd_attack_rules test_pgd_attack_values
@@
-    for _ in range(steps):
-        x.requires_grad_(True)
-        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), labels), x)
-        x = x.detach() + step_size * grad.sign()
-        x = torch.min(torch.max(x, original - epsilon), original + epsilon)  # back into the ball
+    for _ in range(steps):
+        x.requires_grad_(True)
+        (grad,) = torch.autograd.grad(F.cross_entropy(model(x), labels), x)
+        previous = x.detach()
+        x = previous + step_size * grad.sign()
+        x = torch.min(torch.max(x, previous - epsilon), previous + epsilon)
