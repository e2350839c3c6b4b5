# alternative: copies each flattened window into its column, position by position
# cell: im2col
def im2col(x, kernel_size, stride=1, padding=0):
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    kh, kw = kernel_size
    n, c, h, w = x.shape
    padded = x.new_zeros(n, c, h + 2 * padding, w + 2 * padding)
    padded[:, :, padding:padding + h, padding:padding + w] = x
    rows = (padded.shape[2] - kh) // stride + 1
    cols = (padded.shape[3] - kw) // stride + 1
    out = x.new_zeros(n, c * kh * kw, rows * cols)
    for i in range(rows):
        for j in range(cols):
            window = padded[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i * cols + j] = window.reshape(n, -1)
    return out
