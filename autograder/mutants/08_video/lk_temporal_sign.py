# mutant: I_t = patch0 - patch1, which reverses the flow
# cell: lucas_kanade_patch
# fails: test_lucas_kanade_patch
@@
-    grad_t = patch1 - patch0
+    grad_t = patch0 - patch1
