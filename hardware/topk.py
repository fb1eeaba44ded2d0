"""On-chip top-k: what the chip's readout cores and its io port select (``hardware.chip``, ``[output] top_k``),
and the ranks a host reads from that list. numpy only.

Order. Items are ranked by score, highest first; ties by item id, lowest first (the order of a stable sort of
-score, as ``numpy.argsort(-scores, kind="stable")`` gives). Item 0 (padding) is never ranked. Every core that holds
scores keeps its best k + 1 in that order; the io port merges them into the global best k + 1 (exactly the first
k + 1 of the full ranking: each of them is among the best k + 1 of its own core). The chip sends out the first k
items with their scores and the (k+1)-th score, the *boundary*.

Ranks. The host's metrics rank a target pessimistically: 1 + #(items scoring higher) + #(other items scoring the
same) (``ssr_neuro.training.metrics``). From the chip's list: a listed target with score s has that rank exactly
(the last list position holding a score >= s) unless the boundary also equals s (its ties continue past the list),
and every target with rank > k is reported as k + 1; so HR/NDCG/MRR@K for K <= k equal those of the full scores.
"""

from __future__ import annotations

import numpy as np


def best(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best k of each row of scores [B, n] whose columns are items ``ids`` [n] (ascending), in ranking order:
    (item ids [B, min(k, n)], their scores). O(B n): a partition, then the ties at the k-th score by id."""
    n = scores.shape[1]
    k = min(k, n)
    if k == 0:
        return np.zeros((scores.shape[0], 0), np.int64), np.zeros((scores.shape[0], 0))
    if k < n:
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]  # [B, 1] the k-th best score
        above = scores > kth
        tied = scores == kth
        take = above | (tied & (np.cumsum(tied, axis=1) <= k - above.sum(1, keepdims=True)))
        cols = np.nonzero(take)[1].reshape(-1, k)
    else:
        cols = np.broadcast_to(np.arange(n), scores.shape)
    got = np.take_along_axis(scores, cols, axis=1)
    order = np.lexsort((ids[cols], -got), axis=1)
    cols = np.take_along_axis(cols, order, axis=1)
    return ids[cols], np.take_along_axis(scores, cols, axis=1)


def chip_topk(scores: np.ndarray, groups: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The chip's path: per unit (``groups`` [N+1], the unit holding each item's score) its best k + 1, merged at
    the io port. Returns {"ids" [B, k], "scores" [B, k], "boundary" [B] (the (k+1)-th score, -inf if none)}."""
    items = np.arange(1, scores.shape[1])
    ranked, owner = scores[:, 1:], groups[1:]
    cand_ids, cand_scores = [], []
    for u in np.unique(owner):
        mine = owner == u
        i, s = best(ranked[:, mine], items[mine], k + 1)
        cand_ids.append(i)
        cand_scores.append(s)
    ids, sc = np.concatenate(cand_ids, axis=1), np.concatenate(cand_scores, axis=1)
    order = np.argsort(ids, axis=1, kind="stable")  # ascending ids, as ``best`` needs for its tie order
    ids, sc = np.take_along_axis(ids, order, axis=1), np.take_along_axis(sc, order, axis=1)
    top_ids, top_scores = _best_rows(sc, ids, k + 1)
    boundary = top_scores[:, k] if top_scores.shape[1] > k else np.full(scores.shape[0], -np.inf)
    return {"ids": top_ids[:, :k], "scores": top_scores[:, :k], "boundary": boundary}


def _best_rows(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``best`` with ids per row [B, n] (ascending in each row)."""
    order = np.lexsort((ids, -scores), axis=1)[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)


def ranks_from_topk(top: dict[str, np.ndarray], target: np.ndarray) -> np.ndarray:
    """Pessimistic ranks [B] of the targets from the chip's list (module docstring): exact where <= k, else k + 1."""
    ids, sc, boundary = top["ids"], top["scores"], top["boundary"]
    k = ids.shape[1]
    hit = ids == target[:, None]
    listed = hit.any(1)
    s_t = np.where(listed, (sc * hit).sum(1), np.inf)
    rank = (sc >= s_t[:, None]).sum(1)
    beyond = ~listed | (boundary == s_t)
    return np.where(beyond, k + 1, rank)
