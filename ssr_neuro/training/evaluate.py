"""Evaluation of a model, or of the POP baseline, by full ranking over all items (see ``metrics``).

A model is anything with the :class:`Recommender` interface: SSR (``ssr_neuro.model``) and the ANN baselines
(``ssr_neuro.baselines``).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, Protocol

import numpy as np
import torch

from ssr_neuro.data.types import Samples
from ssr_neuro.metrics import DEFAULT_KS, metrics_from_ranks
from ssr_neuro.training.metrics import target_ranks
from ssr_neuro.progress import progress_bar


class Recommender(Protocol):
    """What training and evaluation use of a model (an ``nn.Module`` with these two methods and a ``cfg``).

    history [B, L] item ids (right-padded with 0), length [B] (1..L), target [B];
    ``scores`` -> [B, N + 1] (column 0 = padding), ``loss`` -> scalar full-softmax cross-entropy.
    A model may also have ``use_compiled_kernels(flag) -> bool`` (SSR's LIF kernels); training calls it if present.
    """

    cfg: Any
    training: bool

    def scores(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor: ...

    def loss(self, history: torch.Tensor, length: torch.Tensor, target: torch.Tensor) -> torch.Tensor: ...

    def parameters(self) -> Iterator[torch.nn.Parameter]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> Any: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...


def _ranks(score_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], samples: Samples, batch_size: int,
           mask_history: bool, label: str, show_progress: bool) -> np.ndarray:
    history = torch.from_numpy(samples.history)
    length = torch.from_numpy(samples.length)
    target = torch.from_numpy(samples.target)
    ranks = np.empty(len(samples), dtype=np.int64)
    with progress_bar(label, total=len(samples), unit="samples", enabled=show_progress) as advance:
        for start in range(0, len(samples), batch_size):
            sl = slice(start, start + batch_size)
            scores = score_fn(history[sl], length[sl])
            r = target_ranks(scores, target[sl], history[sl] if mask_history else None)
            ranks[sl] = r.numpy()
            advance(r.shape[0])
    return ranks


@torch.no_grad()
def evaluate_model(model: Recommender, samples: Samples, ks: tuple[int, ...] = DEFAULT_KS, batch_size: int = 1024,
                   mask_history: bool = False, label: str = "evaluate", show_progress: bool = False) -> dict:
    """HR/NDCG/MRR@K of ``model`` on ``samples`` (model put in eval mode; its train/eval mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        ranks = _ranks(model.scores, samples, batch_size, mask_history, label, show_progress)
    finally:
        model.train(was_training)
    return metrics_from_ranks(ranks, ks)


def evaluate_pop(item_counts: np.ndarray, samples: Samples, ks: tuple[int, ...] = DEFAULT_KS,
                 batch_size: int = 4096, mask_history: bool = False, show_progress: bool = False) -> dict:
    """POP baseline: every history gets the same scores, the items' counts as training targets."""
    counts = torch.as_tensor(np.asarray(item_counts, dtype=np.float32))

    def score_fn(history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        return counts.expand(history.shape[0], -1)

    return metrics_from_ranks(_ranks(score_fn, samples, batch_size, mask_history, "POP", show_progress), ks)
