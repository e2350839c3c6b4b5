# alternative: returns [rf, jump] as a list (the prompt says "a pair", not "a tuple")
# cell: receptive_field
@@
-    return rf, jump
+    return [rf, jump]
