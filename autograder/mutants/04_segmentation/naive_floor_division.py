# mutant: rounds the number of layers down instead of up (99 layers for 200 pixels)
# cell: naive_costs
# fails: test_naive_costs
@@
-        raise ValueError(f"1x1 convolutions never reach a receptive field of {target}")
-    return -(-(target - 1) // growth)  # ceil((target - 1) / growth) in integers
+        raise ValueError("1x1 convolutions never grow the receptive field")
+    return (target - 1) // growth
