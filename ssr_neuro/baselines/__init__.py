"""Standard sequential recommenders (ANNs) to compare SSR with, written from their papers, each with its op counter.

``build_baseline(BaselineConfig(name=..., n_items=N))`` returns a model with SSR's interface (``cfg``,
``scores(history, length)`` [B, N + 1], ``loss(history, length, target)``), so ``ssr_neuro.training.train`` and
``evaluate_model`` work unchanged, plus ``layer_ops()``: one float32 inference as ``ssr_neuro.counting.LayerOps``.
Shared rules (layout, scoring, what is counted) are in ``ssr_neuro.baselines.base``.
"""

from __future__ import annotations

from torch import nn

from ssr_neuro.baselines.base import MODEL_DEFAULTS, Baseline, BaselineConfig
from ssr_neuro.baselines.bsarec import BSARec
from ssr_neuro.baselines.caser import Caser
from ssr_neuro.baselines.fmlp import FMLPRec
from ssr_neuro.baselines.gru4rec import GRU4Rec
from ssr_neuro.baselines.lrurec import LRURec
from ssr_neuro.baselines.narm import NARM
from ssr_neuro.baselines.sasrec import SASRec
from ssr_neuro.baselines.srgnn import SRGNN
from ssr_neuro.baselines.stamp import STAMP
from ssr_neuro.errors import UserError
from ssr_neuro.model import SSR, SSRConfig

BASELINES: dict[str, type[Baseline]] = {"gru4rec": GRU4Rec, "sasrec": SASRec, "fmlp-rec": FMLPRec, "narm": NARM,
                                        "caser": Caser, "stamp": STAMP, "sr-gnn": SRGNN, "lrurec": LRURec,
                                        "bsarec": BSARec}
assert set(BASELINES) == set(MODEL_DEFAULTS), "every baseline needs its defaults in base.MODEL_DEFAULTS"


def build_baseline(cfg: BaselineConfig) -> nn.Module:
    """A new, initialised model for ``cfg`` (seed torch first for reproducible weights)."""
    return BASELINES[cfg.name](cfg)


def build_model(cfg: SSRConfig | BaselineConfig) -> nn.Module:
    """A new, initialised SSR or baseline for its config (seed torch first)."""
    return SSR(cfg) if isinstance(cfg, SSRConfig) else build_baseline(cfg)


def model_config(name: str, n_items: int, max_len: int, dim: int, **options) -> SSRConfig | BaselineConfig:
    """The config of model ``name`` ("ssr" or a key of BASELINES) with its own defaults for what is not given;
    UserError for an unknown name or a bad value."""
    if name == "ssr":
        return SSRConfig(n_items=n_items, max_len=max_len, dim=dim, **options)
    if name not in BASELINES:
        raise UserError(f"unknown model {name!r}; use ssr or one of {', '.join(BASELINES)}")
    return BaselineConfig(name=name, n_items=n_items, max_len=max_len, dim=dim, **options)


__all__ = ["BASELINES", "Baseline", "BaselineConfig", "build_baseline", "build_model", "model_config"]
