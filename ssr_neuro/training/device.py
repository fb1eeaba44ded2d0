"""Where a model trains and evaluates: ``"auto"`` (a CUDA GPU when torch sees one, else the CPU), ``"cpu"`` or
``"cuda"`` (also ``"cuda:N"``), resolved to a ``torch.device`` with a one-line error when it cannot be had."""

from __future__ import annotations

import torch
from torch import nn

from ssr_neuro.errors import UserError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` -> cuda if ``torch.cuda.is_available()`` else cpu; ``"cpu"``; ``"cuda"`` / ``"cuda:N"`` (refused
    in one line when torch sees no such GPU)."""
    if isinstance(name, torch.device):
        name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise UserError(f"--device {name}: torch sees no CUDA GPU (torch {torch.__version__}, "
                            f"torch.cuda.is_available() is False); use --device cpu or --device auto")
        index = int(name[5:]) if name.startswith("cuda:") else 0
        if index >= torch.cuda.device_count():
            raise UserError(f"--device {name}: torch sees {torch.cuda.device_count()} CUDA GPU(s) "
                            f"(cuda:0..cuda:{torch.cuda.device_count() - 1}); pick one of those")
        return torch.device(name)
    raise UserError(f"--device {name!r} is not a device; use one of {', '.join(DEVICES)} (or cuda:N)")


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter or buffer (the CPU for a model without either)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """What a record says of the device: ``"cpu"`` or the GPU's name, e.g. ``"cuda:0 (NVIDIA H100 80GB HBM3)"``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(device)
