# mutant: counts every candidate n-gram found in a reference, without clipping ("a a a a" scores 1)
# cell: bleu
# fails: test_bleu
@@
-            correct[order - 1] += sum(min(count, best[g]) for g, count in grams.items())
+            correct[order - 1] += sum(count for g, count in grams.items() if best[g] > 0)
