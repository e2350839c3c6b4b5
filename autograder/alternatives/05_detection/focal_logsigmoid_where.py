# alternative: log p_t from logsigmoid of the signed logit, torch.where for p_t and alpha_t
# cell: focal_loss
def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    positive = targets > 0.5
    signed = torch.where(positive, logits, -logits)  # p_t = sigmoid(signed)
    log_p_t = F.logsigmoid(signed)
    alpha_t = torch.where(positive, torch.full_like(logits, alpha), torch.full_like(logits, 1 - alpha))
    return -alpha_t * (1 - log_p_t.exp()) ** gamma * log_p_t
