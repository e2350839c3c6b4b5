# mutant: the lecture's "weighted average": v = mu * v + (1 - mu) * g (PyTorch's dampening=mu, not the default)
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
@@
-    new_velocity = momentum * velocity + g
-    new_param = param - lr * new_velocity
-    return new_param, new_velocity
+    new_velocity = momentum * velocity + (1 - momentum) * g
+    return param - lr * new_velocity, new_velocity
