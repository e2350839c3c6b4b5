# alternative: numpy, as pycocotools writes it (variances (2 sigma)^2, e = d^2 / vars / area / 2)
# cell: oks
def oks(predicted, target, area, sigmas):
    """pycocotools' formula on numpy arrays."""
    p, t = predicted.detach().numpy().astype(np.float64), target.detach().numpy().astype(np.float64)
    variances = (np.asarray([float(s) for s in sigmas]) * 2) ** 2
    e = ((p[:, 0] - t[:, 0]) ** 2 + (p[:, 1] - t[:, 1]) ** 2) / variances / area / 2
    labelled = t[:, 2] > 0
    return np.exp(-e[labelled]).sum() / labelled.sum()
