# mutant: head parameter counts without biases
# cell: answers_example_network
# fails: test_example_network_heads
# example_conv_params = [...]   (one int per conv layer, in order)
# example_fc_head_params = ...   example_gap_head_params = ...
example_conv_params = [3 * 3 * 3 * 10 + 10] + [3 * 3 * 10 * 10 + 10] * 5  # 3 stages (32 -> 16 -> 8 -> 4) of 2 convs
example_fc_head_params = 4 * 4 * 10 * 10
example_gap_head_params = 10 * 10
