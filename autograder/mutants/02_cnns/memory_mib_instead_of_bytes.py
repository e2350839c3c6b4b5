# mutant: gives the memory in MiB where bytes are asked
# cell: answers_memory
# fails: test_activation_memory
# feature_map_bytes = ...   (int, bytes)
# feature_map_mib = ...     (float, MiB)
feature_map_bytes = round(200 * 400 * 400 * 4 / 2**20)
feature_map_mib = float(feature_map_bytes)
