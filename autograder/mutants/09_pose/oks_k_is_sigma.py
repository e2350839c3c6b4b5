# mutant: uses k = sigma instead of k = 2 sigma
# cell: oks
# fails: test_oks
@@
-    k = 2 * sigmas
+    k = sigmas
