"""Evaluation of a trained model: mean loss and accuracy on a data set (training's test columns, pruning's accuracy).

References
----------
.. [1] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", preprint (paper 001), eq. (3).
"""

from __future__ import annotations

import torch
from torch import nn

from rmtweights.train_common import scaled_cross_entropy

__all__ = ["evaluate"]


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             output_scale: float = 1.0) -> tuple[float, float]:
    """Mean loss (eq. (3) of [1]_ with ``output_scale``) and accuracy of ``model`` on ``(x, y)``.

    Runs in ``eval()`` mode in chunks of ``batch_size`` and restores the model's previous mode.
    The inputs are moved to the model's device chunk by chunk.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
    device = _model_device(model)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device, non_blocking=True)
            yb = y[start:start + batch_size].to(device, non_blocking=True)
            logits = model(xb)
            loss_sum += scaled_cross_entropy(logits, yb, output_scale, reduction="sum").double()
            correct += (logits.argmax(dim=1) == yb).sum()
    finally:
        model.train(was_training)
    return float(loss_sum) / len(x), int(correct) / len(x)


def _model_device(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")

