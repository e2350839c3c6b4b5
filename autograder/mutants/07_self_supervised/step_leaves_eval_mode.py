# mutant: does not switch to training mode
# cell: projection_head
# fails: test_simclr_step
@@
-    encoder.train()
-    head.train()
+    pass
