# mutant: ignores output_size and assumes the pooled map was exactly twice as large
# cell: max_unpool
# fails: test_max_unpool
def max_unpool2d(x, indices, output_size):
    height, width = 2 * x.shape[2], 2 * x.shape[3]
    planes = x.new_zeros(x.shape[0], x.shape[1], height * width)
    planes.scatter_(2, indices.flatten(2), x.flatten(2))
    return planes.reshape(x.shape[0], x.shape[1], height, width)
