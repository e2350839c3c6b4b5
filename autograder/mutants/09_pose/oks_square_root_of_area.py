# mutant: uses the square root of the area where s^2 = area belongs
# cell: oks
# fails: test_oks
@@
-    similarity = torch.exp(-squared / (2 * area * k**2))  # [K]
+    similarity = torch.exp(-squared / (2 * math.sqrt(area) * k**2))  # [K]
