# alternative: Tensor.unfold twice (sliding windows with step p), then a permute
# cell: patchify
def patchify(images, patch_size):
    p = patch_size
    if images.shape[2] % p or images.shape[3] % p:
        raise ValueError(f"{p} does not divide {tuple(images.shape[2:])}")
    windows = images.unfold(2, p, p).unfold(3, p, p)  # [B, C, rows, cols, p, p]
    b, c, rows, cols = windows.shape[:4]
    return windows.permute(0, 2, 3, 1, 4, 5).reshape(b, rows * cols, c * p * p)
