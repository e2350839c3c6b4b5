# alternative: numpy gradients and numpy's 2 x 2 solver, converted back to the patches' dtype
# cell: lucas_kanade_patch
def lucas_kanade_patch(patch0, patch1, eps=1e-9):
    i0, i1 = patch0.double().numpy(), patch1.double().numpy()
    iy, ix = np.gradient(i1)
    it = i1 - i0
    A = np.array([[np.sum(ix * ix), np.sum(ix * iy)], [np.sum(ix * iy), np.sum(iy * iy)]])
    b = -np.array([np.sum(ix * it), np.sum(iy * it)])
    if abs(np.linalg.det(A)) <= eps:
        return torch.zeros(2, dtype=patch0.dtype)
    return torch.from_numpy(np.linalg.solve(A, b)).to(patch0.dtype)
