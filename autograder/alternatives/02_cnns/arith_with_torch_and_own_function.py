# alternative: answers computed with nn.Conv2d and the student's conv_output_size
# cell: answers_conv_arithmetic
_out = nn.Conv2d(3, 6, 5)(torch.zeros(1, 3, 32, 32))
conv1_output_shape = (_out.shape[2], _out.shape[3], _out.shape[1])
conv1_num_params = sum(p.numel() for p in nn.Conv2d(3, 5, 5).parameters())
stride3_output_size = conv_output_size(35, 5, stride=3)
try:
    conv_output_size(7, 4, stride=3)
    stride3_fits_7 = True
except ValueError:
    stride3_fits_7 = False
