# alternative: Python loops over queries and gallery rows, sorted by (distance, index)
# cell: nearest_neighbors
def nearest_neighbors(queries, gallery, k):
    result = []
    for q in queries:
        distances = [float(((q - g) ** 2).sum()) for g in gallery]
        ranked = sorted(range(len(gallery)), key=lambda j: (distances[j], j))
        result.append(ranked[:k])
    return torch.tensor(result, dtype=torch.int64).reshape(len(queries), k)
