"""Full-ranking metrics: the rank of each target among all items, and HR/NDCG/MRR@K averaged per sample.

rank = 1 + #(items scoring higher than the target) + #(other items scoring exactly the same): ties count against
the target (pessimistic), so a model that scores everything equally gets rank N, not 1. Item 0 (padding) is never
ranked. With ``mask`` the history items are removed from the ranking before the target is ranked.

For a sample with rank r:  HR@K = [r <= K],  NDCG@K = [r <= K] / log2(r + 1) (ideal DCG is 1),  MRR@K = [r <= K] / r.
Metrics are means over samples (not over batches: the reference's per-batch average over-weights the last batch);
the metrics of no samples are None (null in JSON), not 0: an empty split has no score.
"""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_KS = (5, 10, 20)


def target_ranks(scores: torch.Tensor, target: torch.Tensor, history: torch.Tensor | None = None) -> torch.Tensor:
    """scores [B, N+1], target [B] -> ranks [B] (1 = best). ``history`` [B, L] masks those items when given."""
    scores = scores.clone()
    scores[:, 0] = -torch.inf
    if history is not None:
        scores.scatter_(1, history, -torch.inf)
    s_t = scores.gather(1, target[:, None])
    higher = (scores > s_t).sum(1)
    ties = (scores == s_t).sum(1) - 1
    return 1 + higher + ties


def metrics_from_ranks(ranks: np.ndarray, ks: tuple[int, ...] = DEFAULT_KS) -> dict[str, float | int | None]:
    """Per-sample means of HR@K, NDCG@K, MRR@K for every K (None for no samples), plus "n_samples"."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out: dict[str, float | int | None] = {}
    for k in ks:
        hit = ranks <= k
        for name, value in (("HR", hit), ("NDCG", np.where(hit, 1.0 / np.log2(ranks + 1.0), 0.0)),
                            ("MRR", np.where(hit, 1.0 / ranks, 0.0))):
            out[f"{name}@{k}"] = float(value.mean()) if ranks.size else None
    out["n_samples"] = int(ranks.size)
    return out
