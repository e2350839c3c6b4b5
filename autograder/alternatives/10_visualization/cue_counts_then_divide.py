# alternative: integer counts divided at the end, in a loop over the images
# cell: cue_reliance
def cue_reliance(model, images, labels, background_labels):
    total = hits_object = hits_background = 0
    with torch.no_grad():
        predicted = model(images).argmax(1)
    for p, y, b in zip(predicted.tolist(), labels.tolist(), background_labels.tolist()):
        if y == b:
            continue
        total += 1
        hits_object += p == y
        hits_background += p == b
    if total == 0:
        raise ValueError("no conflict image")
    result = {"object": hits_object / total, "background": hits_background / total}
    result["verdict"] = ("tie" if hits_object == hits_background
                         else "object" if hits_object > hits_background else "background")
    return result
