# alternative: channel by channel, exact CIE constants ((6/29)**3 and (29/6)**2 / 3)
# cell: rgb_to_lab
def rgb_to_lab(rgb):
    def linearize(c):
        return torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (linearize(rgb[:, i]) for i in range(3))
    x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.95047
    y = 0.212671 * r + 0.715160 * g + 0.072169 * b
    z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.08883
    eps, slope = (6 / 29) ** 3, (29 / 6) ** 2 / 3

    def f(t):
        return torch.where(t > eps, torch.abs(t) ** (1 / 3), slope * t + 4 / 29)

    return torch.stack([116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))], dim=1)
