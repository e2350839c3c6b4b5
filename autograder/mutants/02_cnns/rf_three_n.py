# mutant: receptive field 3n (adds the whole kernel per layer)
# cell: answers_receptive_field
# fails: test_rf_stack test_convs_for_200
def rf_stack(n):
    """Receptive field side (int, pixels) of n stacked 3x3 stride-1 convolutions."""
    return 3 * n


# convs_for_200 = ...   (an int)
convs_for_200 = next(n for n in range(1, 1000) if rf_stack(n) >= 200)
