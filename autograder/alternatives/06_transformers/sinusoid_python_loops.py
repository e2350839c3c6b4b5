# alternative: a nested loop with math.sin / math.cos into a list of lists
# cell: sinusoidal_encoding
def sinusoidal_encoding(num_positions, dim):
    if dim % 2 == 1:
        raise ValueError("dim must be even")
    rows = []
    for p in range(num_positions):
        row = []
        for i in range(0, dim, 2):
            angle = p / 10000 ** (i / dim)
            row += [math.sin(angle), math.cos(angle)]
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float32).reshape(num_positions, dim)
