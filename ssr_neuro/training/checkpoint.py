"""Checkpoint files (``model.pt``): which model, weights, model config, dataset description, training record.

``"model"`` names the model: ``"ssr"`` or a baseline's name (a key of ``ssr_neuro.baselines.BASELINES``, its config
a ``BaselineConfig``); files written before baselines existed have no such key and are SSR. ``load_checkpoint``
returns an SSR (what convert / map / simulate need) and refuses a baseline in one line; ``load_model_checkpoint``
returns whichever model the file holds.

Written with ``torch.save`` of plain data only (tensors, dicts, lists, str, int, float) and read back with
``torch.load(weights_only=True)``, which refuses anything that would run code while loading. Writes are atomic
(temporary file in the same folder, then rename) and never replace an existing file unless asked.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from torch import nn

from ssr_neuro.baselines import BASELINES, BaselineConfig, build_model
from ssr_neuro.errors import CheckpointError, UserError
from ssr_neuro.files import atomic_write, check_writable
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.training.evaluate import Recommender

FORMAT = "ssr-neuro/checkpoint"
VERSION = 1
SSR_KIND = "ssr"  # the "model" key of an SSR checkpoint (and the meaning of a file without the key)


def model_kind(model: Recommender) -> str:
    """``"ssr"`` for SSR, the baseline's name for a baseline."""
    if isinstance(model, SSR):
        return SSR_KIND
    if isinstance(getattr(model, "cfg", None), BaselineConfig):
        return model.cfg.name
    raise TypeError(f"cannot checkpoint a {type(model).__name__}: neither SSR nor an ssr_neuro.baselines model")


def save_checkpoint(path: Path, model: Recommender, dataset: dict, training: dict, metrics: dict,
                    overwrite: bool = False) -> None:
    """Write a checkpoint of SSR or a baseline: everything in it is plain data."""
    check_writable(path, overwrite)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_kind(model),
        "model_config": model.cfg.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "dataset": dataset,
        "training": training,
        "metrics": metrics,
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def _read_payload(path: Path) -> dict:
    """The checked payload of a checkpoint file (format and version), read without running code."""
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
    kind = payload.get("model", SSR_KIND)
    if kind != SSR_KIND and kind not in BASELINES:
        raise CheckpointError(f"{path} holds an unknown model {kind!r} (this ssr-neuro knows {SSR_KIND}, "
                              f"{', '.join(BASELINES)}); use the ssr-neuro release that wrote it")
    return payload


def _build(path: Path, payload: dict) -> nn.Module:
    """The model of a checked payload with its weights, in eval mode."""
    try:
        if payload.get("model", SSR_KIND) == SSR_KIND:
            cfg = SSRConfig.from_dict(payload["model_config"])
        else:
            cfg = BaselineConfig.from_dict(payload["model_config"])
            if cfg.name != payload["model"]:
                raise KeyError("model")
        model = build_model(cfg)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError, UserError) as exc:
        raise CheckpointError(f"{path} is damaged: its weights do not fit its model config "
                              f"({type(exc).__name__}); re-run 'ssr-neuro train'") from None
    model.eval()
    return model


def _meta(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k != "state_dict"}


def load_model_checkpoint(path: Path) -> tuple[nn.Module, dict]:
    """Read a checkpoint of SSR or a baseline safely -> (model in eval mode, the payload without the weights);
    ``payload.get("model", "ssr")`` says which."""
    payload = _read_payload(path)
    return _build(Path(path), payload), _meta(payload)


def load_checkpoint(path: Path) -> tuple[SSR, dict]:
    """Read an SSR checkpoint safely -> (model in eval mode, the payload without the weights); a baseline's
    checkpoint is refused (use ``load_model_checkpoint`` for either)."""
    payload = _read_payload(path)
    kind = payload.get("model", SSR_KIND)
    if kind != SSR_KIND:
        raise CheckpointError(f"{path} holds the ANN baseline {kind!r}, not SSR; this needs an SSR checkpoint "
                              f"written by 'ssr-neuro train'")
    return _build(Path(path), payload), _meta(payload)
