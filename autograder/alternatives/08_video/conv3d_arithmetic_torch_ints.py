# alternative: vectorized with torch integer tensors; returns 0-d tensors inside a tuple, and a 0-d tensor count
# cell: conv3d_arithmetic
@@
-    sizes = [(n + 2 * p - k) // s + 1
-             for n, k, s, p in zip(input_shape[1:], triple(kernel_size), triple(stride), triple(padding))]
-    return (out_channels, *sizes)
+    n = torch.tensor(list(input_shape[1:]))
+    k, s, p = (torch.tensor(triple(v)) for v in (kernel_size, stride, padding))
+    sizes = torch.div(n + 2 * p - k, s, rounding_mode="floor") + 1
+    return (out_channels, *sizes.unbind())
@@
-    return out_channels * in_channels * kt * kh * kw + (out_channels if bias else 0)
+    return torch.tensor(out_channels * in_channels) * torch.tensor([kt, kh, kw]).prod() + int(bias) * out_channels
