# mutant: decimal megabytes where MiB are asked (34.56 instead of 32.96)
# cell: answers_memory
# fails: test_activation_memory
@@
-feature_map_mib = feature_map_bytes / 2**20
+feature_map_mib = feature_map_bytes / 1e6
