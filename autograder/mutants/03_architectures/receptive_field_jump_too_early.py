# mutant: multiplies the jump by the layer's own stride before adding its kernel
# cell: receptive_field
# fails: test_receptive_field
@@
                 raise ValueError(f"layer values must be positive ints, got {(kernel_size, stride, dilation)}")
+        jump *= stride
@@
         rf += dilation * (kernel_size - 1) * jump
-        jump *= stride
