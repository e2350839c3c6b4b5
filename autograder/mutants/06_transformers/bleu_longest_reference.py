# mutant: brevity penalty against the longest reference, not the closest in length
# cell: bleu
# fails: test_bleu
@@
-        reference_length += min((abs(len(r) - len(candidate)), len(r)) for r in refs)[1]  # closest, then shorter
+        reference_length += max(len(r) for r in refs)
