# mutant: gradients accumulate across steps
# cell: projection_head
# fails: test_simclr_step
@@
-    optimizer.zero_grad()
-    loss.backward()
+    loss.backward()
