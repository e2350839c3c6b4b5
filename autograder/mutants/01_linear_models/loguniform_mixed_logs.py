# mutant: natural log for the exponents but 10** to come back (wrong range)
# cell: sample_log_uniform
# fails: test_sample_log_uniform
@@
-        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
+        raise ValueError("bad range")
@@
-    exponent = math.log10(low) + u * (math.log10(high) - math.log10(low))
-    return (10.0 ** exponent).clamp(low, high)
+    return 10.0 ** (math.log(low) + u * (math.log(high) - math.log(low)))
