# mutant: copies the slide's rounded 3.1
# cell: answers_pooling
# fails: test_pooling_answers
# pooled_example = torch.tensor(...)   (shape [2, 2])
# global_average_example = ...        (a float)
pooled_example = torch.tensor([[max(1.0, 1.0, 5.0, 6.0), max(2.0, 4.0, 7.0, 8.0)],
                               [max(3.0, 2.0, 1.0, 1.0), max(1.0, 0.0, 3.0, 4.0)]])
global_average_example = 3.1
