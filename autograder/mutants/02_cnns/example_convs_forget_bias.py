# mutant: conv parameter counts without biases
# cell: answers_example_network
# fails: test_example_network_convs
@@
-example_conv_params = [3 * 3 * 3 * 10 + 10] + [3 * 3 * 10 * 10 + 10] * 5  # 3 stages (32 -> 16 -> 8 -> 4) of 2 convs
+example_conv_params = [3 * 3 * 3 * 10] + [3 * 3 * 10 * 10] * 5  # 3 stages (32 -> 16 -> 8 -> 4) of 2 convs
