# mutant: steps along the gradient itself instead of its sign
# cell: fgsm
# fails: test_fgsm
@@
-    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)
+    return (images.detach() + epsilon * grad).clamp(0.0, 1.0)
