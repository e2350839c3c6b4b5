# mutant: puts a one at the remembered positions instead of the value (the CS282 notes' wording)
# cell: max_unpool
# fails: test_max_unpool
def max_unpool2d(x, indices, output_size):
    height, width = output_size
    planes = x.new_zeros(x.shape[0], x.shape[1], height * width)
    planes.scatter_(2, indices.flatten(2), torch.ones_like(x).flatten(2))
    return planes.reshape(x.shape[0], x.shape[1], height, width)
