"""Reference operations that have a PyTorch or torchvision twin, one idea per module.

Each op is written twice where a chapter teaches it: a short ``*_loop`` version that
follows the formula and a vectorized version that is fast; the tests compare both with
each other and with the twin (``torch.nn.functional``, ``torchvision.ops``).

* :mod:`~course_utils.ops.conv`: padding, convolution and pooling, im2col, output sizes,
  receptive fields (twin: ``F.conv2d``, ``F.max_pool2d``, ``F.unfold``).
* :mod:`~course_utils.ops.upsample`: unpooling, bilinear upsampling, transposed
  convolution (twin: ``F.max_unpool2d``, ``F.interpolate``, ``F.conv_transpose2d``).
* :mod:`~course_utils.ops.boxes`: box formats, IoU, NMS, box coding (twin: ``torchvision.ops``).
* :mod:`~course_utils.ops.anchors`: anchor generation, matching and sampling
  (twin: torchvision's ``AnchorGenerator``, ``Matcher``, ``BalancedPositiveNegativeSampler``).
* :mod:`~course_utils.ops.roi`: RoI pooling and RoI align (twin: ``torchvision.ops.roi_pool/roi_align``).

Import the module you need (``from course_utils.ops import boxes``); nothing is
re-exported here, so importing one op does not import the others.
"""
