# mutant: clips to [-1, 1] (the range of normalized images) instead of [0, 1]
# cell: fgsm
# fails: test_fgsm
@@
-    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)
+    return (images.detach() + epsilon * grad.sign()).clamp(-1.0, 1.0)
