# mutant: steps down the loss (towards the true class) instead of up
# cell: fgsm
# fails: test_fgsm
@@
-    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)
+    return (images.detach() - epsilon * grad.sign()).clamp(0.0, 1.0)
