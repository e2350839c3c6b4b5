# mutant: returns the loss recomputed after the update
# cell: projection_head
# fails: test_simclr_step
@@
-    return loss.item()
+    with torch.no_grad():
+        z = head(encoder(torch.cat([view1, view2])))
+        return loss_fn(z[:n], z[n:], temperature).item()
