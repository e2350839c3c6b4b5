# mutant: ignores bytes_per_value (float32 clips come out four times too small)
# cell: video_bytes
# fails: test_video_bytes
@@
-    return frames * height * width * channels * bytes_per_value
+    return frames * height * width * channels
