# mutant: calls scikit-image
# cell: rgb_to_lab
# fails: test_rgb_to_lab
def rgb_to_lab(rgb):
    from skimage.color import rgb2lab
    return torch.from_numpy(rgb2lab(rgb.double().permute(0, 2, 3, 1).numpy())).permute(0, 3, 1, 2).to(rgb.dtype)
