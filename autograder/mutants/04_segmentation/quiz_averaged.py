# mutant: averages the overlap in the middle (the CS182 2021 slide's rule)
# cell: quiz_answers
# fails: test_quiz
quiz_X, quiz_Y, quiz_Z = 40, 30, 80
