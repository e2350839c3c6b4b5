# mutant: calls the course's loss
# cell: nt_xent_loss
# fails: test_nt_xent_cases test_nt_xent_random
def nt_xent_loss(z1, z2, temperature=0.5):
    return ref_contrastive.nt_xent(z1, z2, temperature)
