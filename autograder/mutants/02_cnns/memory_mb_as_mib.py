# mutant: decimal megabytes where MiB are asked (128 instead of 122)
# cell: answers_memory
# fails: test_activation_memory
@@
-feature_map_mib = feature_map_bytes / 2**20
+feature_map_mib = feature_map_bytes / 1e6
