# mutant: no special case for p = 1, so 0 / 0 gives NaN
# cell: dropout_forward
# fails: test_dropout_train
@@
-    if p == 1.0:
-        return torch.zeros_like(x)
