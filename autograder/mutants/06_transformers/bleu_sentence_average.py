# mutant: averages sentence-level scores instead of summing the counts over the corpus
# cell: bleu
# fails: test_bleu
@@
     from collections import Counter
 
+    if len(candidates) > 1:
+        return sum(bleu([c], [r], n) for c, r in zip(candidates, references)) / len(candidates)
