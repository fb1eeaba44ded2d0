"""Checkpoint files (``model.pt``): weights, model config, dataset description, training record.

Written with ``torch.save`` of plain data only (tensors, dicts, lists, str, int, float) and read back with
``torch.load(weights_only=True)``, which refuses anything that would run code while loading. Writes are atomic
(temporary file in the same folder, then rename) and never replace an existing file unless asked.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from ssr_neuro.errors import CheckpointError, UserError
from ssr_neuro.files import atomic_write
from ssr_neuro.model import SSR, SSRConfig

FORMAT = "ssr-neuro/checkpoint"
VERSION = 1


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse to replace an existing file unless asked, before any work is done."""
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; pass --force to overwrite it or choose another --out")
    if path.exists() and path.is_dir():
        raise UserError(f"{path} is a folder; give a file name such as {path / 'model.pt'}")


def save_checkpoint(path: Path, model: SSR, dataset: dict, training: dict, metrics: dict,
                    overwrite: bool = False) -> None:
    """Write a checkpoint: everything in it is plain data."""
    check_writable(path, overwrite)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": model.cfg.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "dataset": dataset,
        "training": training,
        "metrics": metrics,
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: Path) -> tuple[SSR, dict]:
    """Read a checkpoint safely -> (model in eval mode, the payload without the weights)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file; give the model.pt written by 'ssr-neuro train'")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder; give the model.pt file inside it")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path} holds objects that would run code when loaded; refused without executing "
                              f"anything ({reason[:120]}). Use a checkpoint written by 'ssr-neuro train'") from None
    except Exception as exc:  # noqa: BLE001 - any other failure of the safe loader means a damaged file
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or not a torch file: "
                              f"{type(exc).__name__}); re-run 'ssr-neuro train' to write it again") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not an ssr-neuro checkpoint; "
                              f"give the model.pt written by 'ssr-neuro train'")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} is checkpoint version {payload.get('version')}, this ssr-neuro reads "
                              f"version {VERSION}; re-train or use the matching ssr-neuro release")
    try:
        cfg = SSRConfig.from_dict(payload["model_config"])
        model = SSR(cfg)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError, UserError) as exc:
        raise CheckpointError(f"{path} is damaged: its weights do not fit its model config "
                              f"({type(exc).__name__}); re-run 'ssr-neuro train'") from None
    model.eval()
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    return model, meta
