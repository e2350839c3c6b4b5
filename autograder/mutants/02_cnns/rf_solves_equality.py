# mutant: solves 2N + 1 = 200 and truncates (99)
# cell: answers_receptive_field
# fails: test_convs_for_200
def rf_stack(n):
    """Receptive field side (int, pixels) of n stacked 3x3 stride-1 convolutions."""
    return 2 * n + 1


# convs_for_200 = ...   (an int)
convs_for_200 = int((200 - 1) / 2)
