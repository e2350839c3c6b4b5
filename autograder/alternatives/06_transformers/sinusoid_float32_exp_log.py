# alternative: float32 throughout, frequencies as exp(-2i ln(10000) / D), stack and flatten
# cell: sinusoidal_encoding
def sinusoidal_encoding(num_positions, dim):
    if dim % 2:
        raise ValueError(f"odd dim {dim}")
    position = torch.arange(num_positions, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    return torch.stack((torch.sin(position * div), torch.cos(position * div)), dim=2).flatten(1)
