"""A network of your own for the rmtweights example (README, "Your own model and data").

The workflow calls ``build(input_shape=(C, H, W), num_classes=K, **kwargs)`` with the data set's image
shape and class count and the config's ``kwargs``; any ``torch.nn.Module`` that maps ``N x C x H x W``
images to ``N x K`` logits will do. This one is not a plain sequence of layers (``block2`` adds its
input back), and its layers are named by module paths: ``conv``, ``block1.fc``, ``block2.fc``, ``head``.
"""

import torch
from torch import nn


class Block(nn.Module):
    """A dense layer and a ReLU."""

    def __init__(self, n_in: int, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(n_in, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


class MyNet(nn.Module):
    """conv 3x3 -> ReLU -> max-pool 2, then two dense blocks (the second with a skip connection), then the logits."""

    def __init__(self, input_shape, num_classes: int, channels: int, width: int) -> None:
        super().__init__()
        c, h, w = input_shape
        self.conv = nn.Conv2d(c, channels, kernel_size=3, padding=1)
        self.block1 = Block(channels * (h // 2) * (w // 2), width)
        self.block2 = Block(width, width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.max_pool2d(torch.relu(self.conv(x)), 2)
        x = self.block1(x.flatten(1))
        x = x + self.block2(x)
        return self.head(x)


def build(input_shape, num_classes, channels=8, width=128):
    """The factory the config names (``factory: mynet.py:build``)."""
    return MyNet(input_shape, num_classes, channels, width)
