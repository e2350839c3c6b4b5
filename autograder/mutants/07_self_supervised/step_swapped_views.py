# mutant: passes the views to the loss in the other order
# cell: projection_head
# fails: test_simclr_step
@@
-    loss = loss_fn(z[:n], z[n:], temperature)
+    loss = loss_fn(z[n:], z[:n], temperature)
