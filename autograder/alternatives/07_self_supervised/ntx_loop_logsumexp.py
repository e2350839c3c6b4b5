# alternative: one anchor at a time with logsumexp
# cell: nt_xent_loss
def nt_xent_loss(z1, z2, temperature=0.5):
    views = torch.cat([z1, z2])
    views = views / views.norm(dim=1, keepdim=True)
    n2 = views.shape[0]
    total = views.new_zeros(())
    for a in range(n2):
        sims = (views @ views[a]) / temperature  # [2N]
        others = torch.cat([sims[:a], sims[a + 1:]])
        total = total + torch.logsumexp(others, dim=0) - sims[(a + n2 // 2) % n2]
    return total / n2
