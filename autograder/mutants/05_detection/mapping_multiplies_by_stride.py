# mutant: multiplies by the stride when going to the feature map (and divides back)
# cell: box_mapping
# fails: test_box_mapping
@@
-    return boxes / boxes.new_tensor([stride_x, stride_y, stride_x, stride_y])
+    return boxes * boxes.new_tensor([stride_x, stride_y, stride_x, stride_y])
@@
-    return boxes * boxes.new_tensor([sx, sy, sx, sy])
+    return boxes / boxes.new_tensor([sx, sy, sx, sy])
