# mutant: a ReLU cell instead of tanh
# cell: rnn_forward
# fails: test_rnn_forward
@@
-        h = torch.tanh(x[:, step] @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)  # [B, H]
+        h = torch.relu(x[:, step] @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)  # [B, H]
