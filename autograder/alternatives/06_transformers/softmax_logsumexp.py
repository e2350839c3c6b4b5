# alternative: exp(s - logsumexp(s)), with an explicit comparison for the temperature
# cell: softmax_with_temperature
def softmax_with_temperature(scores, temperature):
    if temperature <= 0:
        raise ValueError("the temperature must be > 0")
    scaled = scores / temperature
    return torch.exp(scaled - torch.logsumexp(scaled, dim=-1, keepdim=True))
