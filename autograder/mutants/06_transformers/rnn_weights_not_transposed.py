# mutant: multiplies by the weights without transposing them (x @ W instead of x @ W^T)
# cell: rnn_forward
# fails: test_rnn_forward
@@
-        h = torch.tanh(x[:, step] @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)  # [B, H]
+        h = torch.tanh(x[:, step] @ weight_ih.reshape(x.shape[2], -1) + bias_ih + h @ weight_hh + bias_hh)  # [B, H]
