# mutant: computes in float32 whatever the input dtype (float64 input comes back as float32)
# cell: bilinear
# fails: test_bilinear
@@
     ### BEGIN SOLUTION
+    x32 = x.float()
@@
-        i = torch.arange(n_out, dtype=torch.float64, device=x.device)
+        i = torch.arange(n_out, dtype=torch.float32, device=x.device)
@@
-        return lo, hi, (src - lo).to(x.dtype)
+        return lo, hi, src - lo
@@
-    rows = x[:, :, r0] * (1 - tr[:, None]) + x[:, :, r1] * tr[:, None]  # [N, C, sH, W]
+    rows = x32[:, :, r0] * (1 - tr[:, None]) + x32[:, :, r1] * tr[:, None]
