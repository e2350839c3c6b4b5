# alternative: one pair at a time, labels first, Python lists of offsets
# cell: patch_pairs
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def sample_patch_pairs(image_size, num_pairs, patch_size, gap=0, max_jitter=0, generator=None):
    height, width = image_size
    m = patch_size + gap + max_jitter
    centres, neighbours, labels = [], [], []
    for _ in range(num_pairs):
        label = int(torch.randint(8, (1,), generator=generator))
        dy, dx = (int(v) for v in torch.randint(-max_jitter, max_jitter + 1, (2,), generator=generator))
        row = int(torch.randint(m, height - patch_size - m + 1, (1,), generator=generator))
        col = int(torch.randint(m, width - patch_size - m + 1, (1,), generator=generator))
        d_row, d_col = NEIGHBOUR_OFFSETS[label]
        step = patch_size + gap
        centres.append([row, col])
        neighbours.append([row + d_row * step + dy, col + d_col * step + dx])
        labels.append(label)
    as_tensor = lambda rows, shape: torch.tensor(rows, dtype=torch.int64).reshape(shape)
    return as_tensor(centres, (num_pairs, 2)), as_tensor(neighbours, (num_pairs, 2)), as_tensor(labels, (num_pairs,))
