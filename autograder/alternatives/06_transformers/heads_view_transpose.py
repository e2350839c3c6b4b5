# alternative: view/transpose and contiguous().view
# cell: multi_head_reshape
def split_heads(x, num_heads):
    b, t, d = x.shape
    if d % num_heads != 0:
        raise ValueError("num_heads must divide the model dimension")
    return x.view(b, t, num_heads, -1).transpose(1, 2)


def merge_heads(x):
    b, h, t, dh = x.shape
    return x.transpose(1, 2).contiguous().view(b, t, h * dh)
