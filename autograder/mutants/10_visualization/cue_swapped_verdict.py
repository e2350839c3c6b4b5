# mutant: the verdict names the cue with the smaller fraction
# cell: cue_reliance
# fails: test_cue_reliance
@@
-    if follows_object > follows_background:
-        verdict = "object"
-    elif follows_background > follows_object:
-        verdict = "background"
+    if follows_object > follows_background:
+        verdict = "background"
+    elif follows_background > follows_object:
+        verdict = "object"
