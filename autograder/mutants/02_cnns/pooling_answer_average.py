# mutant: average pooling instead of max pooling
# cell: answers_pooling
# fails: test_pooling_answers
# pooled_example = torch.tensor(...)   (shape [2, 2])
# global_average_example = ...        (a float)
pooled_example = F.avg_pool2d(lecture_pool_input.view(1, 1, 4, 4), 2)[0, 0]
global_average_example = float(lecture_pool_input.sum()) / lecture_pool_input.numel()
