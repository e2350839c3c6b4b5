# mutant: reshapes straight to [B, h, T, D/h] without moving the head dimension
# cell: multi_head_reshape
# fails: test_multi_head_reshape
@@
-    return x.reshape(b, t, num_heads, d // num_heads).permute(0, 2, 1, 3)
+    return x.reshape(b, num_heads, t, d // num_heads)
@@
-    return x.permute(0, 2, 1, 3).reshape(b, t, h * dh)
+    return x.reshape(b, t, h * dh)
