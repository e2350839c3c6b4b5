# mutant: adds the step to the caller's images in place
# cell: fgsm
# fails: test_fgsm
@@
-    return (images.detach() + epsilon * grad.sign()).clamp(0.0, 1.0)
+    with torch.no_grad():
+        images.add_(epsilon * grad.sign()).clamp_(0.0, 1.0)
+    return images.detach().clone()
