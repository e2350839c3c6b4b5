# alternative: numpy, predictions image by image, verdict from a comparison table
# cell: cue_reliance
import numpy as np


def cue_reliance(model, images, labels, background_labels):
    keep = (labels != background_labels).numpy()
    if keep.sum() == 0:
        raise ValueError("every background agrees with its label")
    with torch.no_grad():
        predicted = np.array([int(model(image[None]).argmax()) for image in images[torch.from_numpy(keep)]])
    on_object = np.mean(predicted == labels.numpy()[keep])
    on_background = np.mean(predicted == background_labels.numpy()[keep])
    verdict = {True: "object", False: "background"}[bool(on_object > on_background)] if on_object != on_background else "tie"
    return {"object": on_object, "background": on_background, "verdict": verdict}
