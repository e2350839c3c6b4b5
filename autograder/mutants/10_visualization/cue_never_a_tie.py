# mutant: a tie is reported as "object"
# cell: cue_reliance
# fails: test_cue_reliance
@@
-    if follows_object > follows_background:
+    if follows_object >= follows_background:
