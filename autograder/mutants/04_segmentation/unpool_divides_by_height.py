# mutant: turns the flat index into (row, col) by dividing by the height instead of the width
# cell: max_unpool
# fails: test_max_unpool
def max_unpool2d(x, indices, output_size):
    height, width = output_size
    out = x.new_zeros(x.shape[0], x.shape[1], height, width)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    k = int(indices[n, c, i, j])
                    out[n, c, k // height, k % height] = x[n, c, i, j]
    return out
