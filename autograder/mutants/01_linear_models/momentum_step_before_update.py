# mutant: the parameter moves with the OLD velocity, the velocity is updated afterwards
# cell: sgd_momentum_step
# fails: test_sgd_momentum_step
@@
     g = grad + weight_decay * param
+    new_param = param - lr * (velocity + g)
@@
-    new_param = param - lr * new_velocity
