# mutant: multiplies the scores by the temperature instead of dividing
# cell: softmax_with_temperature
# fails: test_softmax_with_temperature
@@
-    scaled = scores / temperature
+    scaled = scores * temperature
