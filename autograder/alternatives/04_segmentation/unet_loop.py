# alternative: walks down and up the U level by level
# cell: unet_shapes
def unet_block_shapes(height, width, base=16, depth=3):
    factor = 2 ** depth
    if height % factor != 0 or width % factor != 0:
        raise ValueError("input size must be divisible by 2**depth")
    encoder, concat, decoder = [], [], []
    c, h, w = base, height, width
    encoder.append((c, h, w))
    for _ in range(depth):
        c, h, w = c * 2, h // 2, w // 2
        encoder.append((c, h, w))
    for _ in range(depth):
        c, h, w = c // 2, h * 2, w * 2  # the transposed convolution
        concat.append((2 * c, h, w))  # plus the skip
        decoder.append((c, h, w))
    return {"encoder": encoder, "concat": concat, "decoder": decoder}
