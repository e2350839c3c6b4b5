# mutant: forgets the brevity penalty
# cell: bleu
# fails: test_bleu
@@
-    penalty = 1.0 if candidate_length > reference_length else math.exp(1 - reference_length / candidate_length)
+    penalty = 1.0
