# mutant: maps output pixel i to input coordinate i / scale (forgets the half-pixel offset of align_corners=False)
# cell: bilinear
# fails: test_bilinear
@@
-            src = ((i + 0.5) / scale - 0.5).clamp(min=0)
+            src = i / scale
