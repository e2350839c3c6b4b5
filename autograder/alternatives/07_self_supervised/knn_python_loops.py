# alternative: Python loops, sorting, and a dictionary of votes
# cell: knn_predict
def knn_predict(train_features, train_labels, test_features, k=5):
    out = []
    train_unit = [t / t.norm() for t in train_features]
    for q in test_features:
        q = q / q.norm()
        ranked = sorted(range(len(train_unit)), key=lambda i: -float(q @ train_unit[i]))[:k]
        votes = {}
        for i in ranked:
            label = int(train_labels[i])
            votes[label] = votes.get(label, 0) + 1
        top = max(votes.values())
        out.append(min(label for label, v in votes.items() if v == top))
    return torch.tensor(out, dtype=torch.int64)
