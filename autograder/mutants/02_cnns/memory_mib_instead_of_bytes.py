# mutant: gives the memory in MiB where bytes are asked
# cell: answers_memory
# fails: test_activation_memory
@@
-feature_map_bytes = 96 * 300 * 300 * 4
+feature_map_bytes = round(96 * 300 * 300 * 4 / 2**20)
