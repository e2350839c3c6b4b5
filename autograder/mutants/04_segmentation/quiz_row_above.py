# mutant: reads the row above (option B)
# cell: quiz_answers
# fails: test_quiz
quiz_X, quiz_Y, quiz_Z = 20, 30, 40
