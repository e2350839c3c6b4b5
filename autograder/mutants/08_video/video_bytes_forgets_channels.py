# mutant: counts one byte per pixel and forgets the three colour channels
# cell: video_bytes
# fails: test_video_bytes
@@
-    return frames * height * width * channels * bytes_per_value
+    return frames * height * width * bytes_per_value
