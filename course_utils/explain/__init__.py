"""Looking inside trained networks (chapter 10): what they compute, where they look, how they fail.

One concept per module:

* :mod:`~course_utils.explain.features`: activations through forward hooks, nearest
  neighbours in feature space, receptive fields and maximally activating patches.
* :mod:`~course_utils.explain.occlusion`: occlusion sensitivity maps (Zeiler and Fergus, 2014).
* :mod:`~course_utils.explain.saliency`: vanilla gradient saliency (Simonyan et al., 2014),
  SmoothGrad (Smilkov et al., 2017), and weak segmentation from a saliency map.
* :mod:`~course_utils.explain.cam`: class activation maps (Zhou et al., 2016) and Grad-CAM
  (Selvaraju et al., 2017).
* :mod:`~course_utils.explain.bias`: which cue a classifier follows on images where two cues disagree.
* :mod:`~course_utils.explain.adversarial`: FGSM (Goodfellow et al., 2015) and PGD (Madry et
  al., 2018) with clipping to the valid image range, and accuracy under attack.
* :mod:`~course_utils.explain.ascent`: images made by gradient ascent: class visualization
  with L2 / blur / jitter, feature inversion, DeepDream, Gram-matrix style transfer.

Conventions: images are ``Tensor[N, C, H, W]`` with values in ``[0, 1]`` (the *valid
range* that adversarial examples and synthesized images are clipped to); a model maps
images to logits ``Tensor[N, K]`` and is used as it is given (put it in eval mode
first: a batch-norm layer in training mode would mix the images of a batch). Maps
(saliency, occlusion, CAM) are ``Tensor[N, h, w]``. Random functions take a
``torch.Generator``. Nothing here changes a model's weights or mode.

The submodules import nothing heavy; import what you need from them directly, e.g.
``from course_utils.explain.cam import grad_cam``.
"""
