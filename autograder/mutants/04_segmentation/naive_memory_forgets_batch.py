# mutant: memory forgets the batch size
# cell: naive_costs
# fails: test_naive_costs
@@
-        raise ValueError(f"1x1 convolutions never reach a receptive field of {target}")
+        raise ValueError("1x1 convolutions never grow the receptive field")
@@
-    return batch * layers * channels * height * width * bytes_per_value
+    return layers * channels * height * width * bytes_per_value
