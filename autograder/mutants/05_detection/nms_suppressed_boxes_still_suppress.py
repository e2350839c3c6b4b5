# mutant: a removed box still removes lower-scored boxes
# cell: nms
# fails: test_nms
@@
-        if removed[i]:
-            continue  # suppressed boxes never suppress others
-        kept.append(i)
+        if not removed[i]:
+            kept.append(i)
@@
         removed |= overlaps[i] > iou_threshold
+        removed[i] = True
