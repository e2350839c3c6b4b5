# mutant: cuts the features into heads the other way round (head j gets features j, j + h, ...)
# cell: multi_head_reshape
# fails: test_multi_head_reshape
@@
-    return x.reshape(b, t, num_heads, d // num_heads).permute(0, 2, 1, 3)
+    return x.reshape(b, t, d // num_heads, num_heads).permute(0, 3, 1, 2)
@@
-    return x.permute(0, 2, 1, 3).reshape(b, t, h * dh)
+    return x.permute(0, 2, 3, 1).reshape(b, t, h * dh)
