# mutant: an empty sequence returns a zero state instead of h0
# cell: rnn_forward
# fails: test_rnn_forward
@@
-        return x.new_zeros(x.shape[0], 0, h0.shape[1]), h0
+        return x.new_zeros(x.shape[0], 0, h0.shape[1]), torch.zeros_like(h0)
