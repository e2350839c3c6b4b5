# mutant: updates the caller's velocity in place (velocity.mul_(...).add_(...)), which the docstring forbids
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
@@
-    new_velocity = momentum * velocity + g
+    new_velocity = velocity.mul_(momentum).add_(g)
