# mutant: no ValueError for p outside [0, 1]
# cell: dropout_forward
# fails: test_dropout_eval
@@
-    if not 0.0 <= p <= 1.0:
-        raise ValueError(f"p must be in [0, 1], got {p}")
