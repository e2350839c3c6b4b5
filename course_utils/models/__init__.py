"""The course's model zoo, one family per module, every model built from small blocks.

Classification models return logits ``Tensor[N, num_classes]``; segmentation models
return per-pixel logits ``Tensor[N, num_classes, H, W]``. Every model has keyword
hyper-parameters (``width``, ``depth``, ...) that shrink it enough to train on digits
or shapes on a CPU in seconds, while the defaults give the published architecture and
parameter count.
"""
from .alexnet import AlexNet
from .inception import InceptionModule, InceptionNet
from .lenet import LeNet
from .mobilenet import MOBILENET_V1_LAYERS, MobileNetV1
from .resnet import PlainNet, ResNet, SmallResNet, resnet18, resnet34, resnet50
from .segmentation import FCN, UNet, UNetBlock
from .vgg import VGG, VGG_CONFIGS

__all__ = [
    "LeNet",
    "AlexNet",
    "VGG",
    "VGG_CONFIGS",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "SmallResNet",
    "PlainNet",
    "MobileNetV1",
    "MOBILENET_V1_LAYERS",
    "InceptionModule",
    "InceptionNet",
    "FCN",
    "UNet",
    "UNetBlock",
]
