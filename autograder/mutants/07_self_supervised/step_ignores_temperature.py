# mutant: calls the loss with its default temperature
# cell: projection_head
# fails: test_simclr_step
@@
-    loss = loss_fn(z[:n], z[n:], temperature)
+    loss = loss_fn(z[:n], z[n:])
