# mutant: does not check that num_heads divides D
# cell: multi_head_reshape
# fails: test_multi_head_reshape
@@
-    if d % num_heads:
-        raise ValueError(f"num_heads={num_heads} does not divide the dimension {d}")
-    return x.reshape(b, t, num_heads, d // num_heads).permute(0, 2, 1, 3)
+    return x[..., :num_heads * (d // num_heads)].reshape(b, t, num_heads, d // num_heads).permute(0, 2, 1, 3)
