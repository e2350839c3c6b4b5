# mutant: returns KiB (a float) instead of bytes
# cell: video_bytes
# fails: test_video_bytes
@@
-    return frames * height * width * channels * bytes_per_value
+    return frames * height * width * channels * bytes_per_value / 1024
