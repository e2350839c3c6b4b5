# alternative: numpy product, returned as a numpy integer
# cell: video_bytes
@@
-    return frames * height * width * channels * bytes_per_value
+    return np.prod([frames, height, width, channels, bytes_per_value], dtype=np.int64)
