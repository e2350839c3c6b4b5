# mutant: offsets of the top-left corners instead of the centres
# cell: box_coding
# fails: test_box_coding
@@
-    return torch.stack([(box_cx - anchor_cx) / anchor_w, (box_cy - anchor_cy) / anchor_h,
+    return torch.stack([(boxes[:, 0] - anchors[:, 0]) / anchor_w, (boxes[:, 1] - anchors[:, 1]) / anchor_h,
