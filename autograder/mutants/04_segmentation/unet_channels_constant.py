# mutant: keeps base channels at every level (forgets the doubling)
# cell: unet_shapes
# fails: test_unet_shapes
def unet_block_shapes(height, width, base=16, depth=3):
    if height % 2**depth or width % 2**depth:
        raise ValueError("sizes must be divisible by 2^depth")
    levels = [(base, height // 2**lv, width // 2**lv) for lv in range(depth + 1)]
    return {"encoder": levels, "concat": [(2 * base,) + levels[lv][1:] for lv in reversed(range(depth))],
            "decoder": [levels[lv] for lv in reversed(range(depth))]}
