# mutant: reads the weight as a Conv2d weight [C_out, C_in, kH, kW]
# cell: transpose_loops
# fails: test_transpose_loops
@@
-    c_out, kh, kw = weight.shape[1:]
+    c_out, kh, kw = weight.shape[0], weight.shape[2], weight.shape[3]
@@
-            stamp = (x[:, :, i, j, None, None, None] * weight).sum(dim=1)
-            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += stamp
-    cropped = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
+            for ci in range(c_in):
+                stamp = x[:, ci, i, j, None, None, None] * weight[:, ci % weight.shape[1]]
+                full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += stamp
+    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
@@
-        cropped = cropped + bias[None, :, None, None]
-    return cropped
+        out = out + bias[None, :, None, None]
+    return out
