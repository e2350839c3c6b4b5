# alternative: math.prod over the shape
# cell: video_bytes
@@
-    return frames * height * width * channels * bytes_per_value
+    import math
+    return math.prod((channels, frames, height, width)) * bytes_per_value
