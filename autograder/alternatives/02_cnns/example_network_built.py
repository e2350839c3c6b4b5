# alternative: counts taken from nn layers
# cell: answers_example_network
_convs = [nn.Conv2d(3, 10, 3, padding=1)] + [nn.Conv2d(10, 10, 3, padding=1) for _ in range(5)]
example_conv_params = [count_parameters(m) for m in _convs]
example_fc_head_params = count_parameters(nn.Linear(160, 10))
example_gap_head_params = count_parameters(nn.Linear(10, 10))
