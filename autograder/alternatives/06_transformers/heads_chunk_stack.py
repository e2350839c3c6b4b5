# alternative: chunk the features and stack the pieces; unbind the heads and concatenate
# cell: multi_head_reshape
def split_heads(x, num_heads):
    if x.shape[-1] % num_heads:
        raise ValueError(f"{num_heads} heads do not divide {x.shape[-1]} features")
    return torch.stack(torch.split(x, x.shape[-1] // num_heads, dim=-1), dim=1)


def merge_heads(x):
    return torch.cat(list(x.unbind(dim=1)), dim=-1)
