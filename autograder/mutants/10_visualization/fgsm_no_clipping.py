# mutant: forgets to clip to the valid range [0, 1]
# cell: fgsm
# fails: test_fgsm
@@
-    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)
+    return images.detach() + epsilon * grad.sign()
