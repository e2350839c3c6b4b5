# alternative: returns the four counts as a list (the prompt says "four ints", not "a tuple")
# cell: separable_conv_cost
@@
-    return standard_params, separable_params, standard_params * positions, separable_params * positions
+    return [standard_params, separable_params, standard_params * positions, separable_params * positions]
