# alternative: math.floor on the convolution formula, a while loop, a tuple result
# cell: hourglass_sizes
def hourglass_sizes(image_size, depth):
    """The stem's arithmetic, then halving while checking parity."""
    side = math.floor((image_size + 6 - 7) / 2) + 1
    side = math.floor(side / 2)
    sides = [side]
    while len(sides) <= depth:
        if side % 2:
            raise ValueError("odd side: " + str(side))
        side //= 2
        sides.append(side)
    return tuple(sides)
