# alternative: every row and every shape as a list instead of a tuple (the prompt does not ask for tuples)
# cell: layer_table
@@
-        table.append((shape, params))
+        table.append([list(shape), params])
