# mutant: solves 2N + 1 = 200 and truncates (99)
# cell: answers_receptive_field
# fails: test_convs_for_200
@@
-convs_for_200 = next(n for n in range(1, 1000) if rf_stack(n) >= 200)
+convs_for_200 = int((200 - 1) / 2)
