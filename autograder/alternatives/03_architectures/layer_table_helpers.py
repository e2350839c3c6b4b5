# alternative: a helper for the output size, dict dispatch, list shapes converted at the end
# cell: layer_table
def _side(size, k, s, p):
    if size + 2 * p < k:
        raise ValueError(f"window {k} larger than padded input {size} + 2*{p}")
    return (size + 2 * p - k) // s + 1


def layer_table(specs, input_shape):
    """Output shape and parameter count of every layer of a plain CNN (see the text)."""
    c, h, w = input_shape
    flat = None  # number of features once an fc layer has run
    rows = []
    for spec in specs:
        if spec[0] == "fc":
            n_in = flat if flat is not None else c * h * w
            rows.append(((spec[1],), spec[1] * n_in + spec[1]))
            flat = spec[1]
            continue
        if flat is not None:
            raise ValueError("conv/pool after a fully connected layer")
        if spec[0] == "conv":
            _, c_out, k, s, p = spec
            params = c_out * c * k * k + c_out
        elif spec[0] == "pool":
            (_, k, s), c_out, p, params = spec, c, 0, 0
        else:
            raise ValueError(f"unknown layer {spec[0]}")
        h, w, c = _side(h, k, s, p), _side(w, k, s, p), c_out
        rows.append(((c, h, w), params))
    return rows
