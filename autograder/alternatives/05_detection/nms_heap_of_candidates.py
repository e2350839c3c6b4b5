# alternative: an honest NMS that keeps candidates in a heap through a small class defining __lt__ (issue 11: flagged as a fake object)
# cell: nms
@@
-    ranked = torch.sort(scores, descending=True, stable=True).indices
-    overlaps = box_iou(boxes, boxes)  # [N, N]
-    removed = torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device)
-    kept = []
-    for i in ranked.tolist():
-        if removed[i]:
-            continue  # suppressed boxes never suppress others
-        kept.append(i)
-        removed |= overlaps[i] > iou_threshold
-    return torch.tensor(kept, dtype=torch.int64, device=boxes.device)
+    import heapq
+
+    class Candidate:
+        def __init__(self, score, index):
+            self.score, self.index = score, index
+
+        def __lt__(self, other):  # heapq pops the smallest: the best score first, then the lowest index
+            return (-self.score, self.index) < (-other.score, other.index)
+
+    heap = [Candidate(s, i) for i, s in enumerate(scores.tolist())]
+    heapq.heapify(heap)
+    overlaps = box_iou(boxes, boxes).tolist()
+    removed, keep = set(), []
+    while heap:
+        best = heapq.heappop(heap)
+        if best.index in removed:
+            continue
+        keep.append(best.index)
+        removed.update(j for j, v in enumerate(overlaps[best.index]) if j != best.index and v > iou_threshold)
+    return torch.tensor(keep, dtype=torch.int64)
