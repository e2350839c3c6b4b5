# mutant: no ValueError for windows that do not fit
# cell: layer_table
# fails: test_layer_table_errors
def layer_table(specs, input_shape):
    """Output shape and parameter count of every layer of a plain CNN.

    Args:
        specs: list of tuples ("conv", out_channels, kernel_size, stride, padding),
            ("pool", kernel_size, stride) or ("fc", out_features).
        input_shape: (C, H, W) of one input image.

    Returns:
        list with one (output_shape, params) pair per spec: output_shape is a tuple of
        ints, (C, H, W) after conv/pool layers and (F,) after fc layers; params is an int.

    Raises:
        ValueError: a window larger than its padded input, a conv/pool after an fc
            layer, or an unknown layer kind.
    """
    shape = tuple(int(s) for s in input_shape)
    table = []
    for spec in specs:
        kind = spec[0]
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise ValueError(f"{kind} layer needs a (C, H, W) input, got {shape}")
            c, h, w = shape
            if kind == "conv":
                _, out_channels, k, s, p = spec
                params = out_channels * (c * k * k + 1)
            else:
                _, k, s = spec
                out_channels, p, params = c, 0, 0
            shape = (out_channels, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        elif kind == "fc":
            out_features = spec[1]
            params = out_features * (math.prod(shape) + 1)
            shape = (out_features,)
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        table.append((shape, params))
    return table
