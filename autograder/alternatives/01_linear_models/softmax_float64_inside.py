# alternative: computes in float64 internally and casts back, with torch.softmax
# cell: softmax_cross_entropy
def softmax_cross_entropy(scores, labels):
    s = scores.double()
    s = s - s.max(dim=1, keepdim=True).values
    p = torch.softmax(s, dim=1)
    log_norm = torch.log(torch.exp(s).sum(dim=1))
    loss = (log_norm - s[torch.arange(len(labels)), labels]).mean()
    p[torch.arange(len(labels)), labels] -= 1
    return loss.to(scores.dtype), (p / len(labels)).to(scores.dtype)
