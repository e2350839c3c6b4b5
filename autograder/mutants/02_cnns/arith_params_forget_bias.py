# mutant: parameter count forgets the biases
# cell: answers_conv_arithmetic
# fails: test_conv1_num_params
@@
-conv1_num_params = 5 * 5 * 3 * 5 + 5          # weights (k*k*C_in per filter) + one bias per filter
+conv1_num_params = 5 * 5 * 3 * 5          # weights (k*k*C_in per filter) + one bias per filter
