# mutant: copies the slide's rounded 3.1
# cell: answers_pooling
# fails: test_pooling_answers
@@
-global_average_example = float(lecture_pool_input.sum()) / lecture_pool_input.numel()
+global_average_example = 3.1
