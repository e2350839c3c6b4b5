# mutant: size targets w / wa instead of log(w / wa) (decode unchanged)
# cell: box_coding
# fails: test_box_coding
@@
-                        torch.log(box_w / anchor_w), torch.log(box_h / anchor_h)], dim=1)  # [N, 4]
+                        box_w / anchor_w, box_h / anchor_h], dim=1)  # [N, 4]
