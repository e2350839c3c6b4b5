# mutant: returns zeros instead of raising when no image is a conflict image
# cell: cue_reliance
# fails: test_cue_reliance
@@
-    if not conflict.any():
-        raise ValueError("no image has a background that disagrees with its label")
+    if not conflict.any():
+        return {"object": 0.0, "background": 0.0, "verdict": "tie"}
