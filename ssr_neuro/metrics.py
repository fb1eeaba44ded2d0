"""Full-ranking metrics in numpy (foundation: no torch), shared by training, conversion checks, the simulator's
reports and the design-space exploration.

rank = 1 + #(items scoring higher than the target) + #(other items scoring exactly the same): ties count against
the target (pessimistic), so a model that scores everything equally gets rank N, not 1. Item 0 (padding) is never
ranked. With ``history`` the history items are removed from the ranking before the target is ranked.

For a sample with rank r:  HR@K = [r <= K],  NDCG@K = [r <= K] / log2(r + 1) (ideal DCG is 1),  MRR@K = [r <= K] / r.
Metrics are means over samples (not over batches: the reference's per-batch average over-weights the last batch).
``ssr_neuro.training.metrics.target_ranks`` is the same rule on torch tensors (batched evaluation of a model).
"""

from __future__ import annotations

import numpy as np

DEFAULT_KS = (5, 10, 20)


def target_ranks(scores: np.ndarray, target: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
    """scores [B, N+1], target [B] -> ranks [B] (1 = best). ``history`` [B, L] masks those items when given."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    scores[:, 0] = -np.inf
    rows = np.arange(len(target))
    if history is not None:
        scores[rows[:, None], np.asarray(history)] = -np.inf
    s_t = scores[rows, np.asarray(target)][:, None]
    return 1 + (scores > s_t).sum(1) + (scores == s_t).sum(1) - 1


def metrics_from_ranks(ranks: np.ndarray, ks: tuple[int, ...] = DEFAULT_KS) -> dict[str, float | int | None]:
    """Per-sample means of HR@K, NDCG@K, MRR@K for every K, plus "n_samples"; the metrics of no samples are None
    (null in JSON), not 0: an empty split has no score."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out: dict[str, float | int | None] = {}
    for k in ks:
        hit = ranks <= k
        for name, value in (("HR", hit), ("NDCG", np.where(hit, 1.0 / np.log2(ranks + 1.0), 0.0)),
                            ("MRR", np.where(hit, 1.0 / ranks, 0.0))):
            out[f"{name}@{k}"] = float(value.mean()) if ranks.size else None
    out["n_samples"] = int(ranks.size)
    return out


def metrics_of_scores(scores: np.ndarray, target: np.ndarray, ks: tuple[int, ...] = DEFAULT_KS,
                      history: np.ndarray | None = None) -> dict[str, float]:
    """HR/NDCG/MRR@K of given scores [n, N+1] (a graph's, a simulated chip's) for the targets [n]."""
    return metrics_from_ranks(target_ranks(scores, target, history), ks)
