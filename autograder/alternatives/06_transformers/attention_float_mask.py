# alternative: turns the mask into an additive 0 / -inf bias; F.softmax; masked_fill for rows with no key
# cell: scaled_dot_product_attention
def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.size(-1)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    if mask is not None:
        bias = torch.zeros(mask.shape, dtype=scores.dtype).masked_fill(mask.logical_not(), float("-inf"))
        scores = scores + bias
    weights = F.softmax(scores, dim=-1)
    weights = weights.masked_fill(torch.isnan(weights), 0.0)
    return torch.matmul(weights, v), weights
