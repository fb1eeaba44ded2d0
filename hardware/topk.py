"""On-chip top-k: what the chip's readout cores and its io port select (``hardware.chip``, ``[output] top_k``),
and the ranks a host reads from that list. numpy only.

Order. Items are ranked by score, highest first; ties by item id, lowest first (the order of a stable sort of
-score, as ``numpy.argsort(-scores, kind="stable")`` gives). Item 0 (padding) is never ranked. Every core that holds
scores keeps its best k + 1 in that order; the io port merges them into the global best k + 1 (exactly the first
k + 1 of the full ranking: each of them is among the best k + 1 of its own core, since fewer than k + 1 items of
any core rank before it). The simulator therefore selects the global best k + 1 directly (``chip_topk``); the
per-core selection and the merge are what the program charges (``hardware.program``). The chip sends out the first k
items with their scores and the (k+1)-th score, the *boundary*.

Ranks. The host's metrics rank a target pessimistically: 1 + #(items scoring higher) + #(other items scoring the
same) (``ssr_neuro.training.metrics``). From the chip's list: a listed target with score s has that rank exactly
(the last list position holding a score >= s) unless the boundary also equals s (its ties continue past the list),
and every target with rank > k is reported as k + 1; so HR/NDCG/MRR@K for K <= k equal those of the full scores.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024  # the most columns per block of the threshold pass in ``best``


def best(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best k of each row of scores [B, n] whose columns are items ``ids`` [n] (ascending), in ranking order:
    (item ids [B, min(k, n)], their scores). O(B n) in two cheap passes: the maxima of ``BLOCK``-column blocks give
    a threshold, the k-th largest block maximum (k distinct items score at least that, so the k-th best does too);
    only the columns at or above it (usually a few more than k; all ties included) are sorted. Blocks are at most
    ``BLOCK`` columns and small enough that there are about 4k of them (fewer than k blocks would leave no
    threshold, and every column would be sorted)."""
    B, n = scores.shape
    k = min(k, n)
    if k == 0:
        return np.zeros((B, 0), np.int64), np.zeros((B, 0))
    if k < n:
        width = max(1, min(BLOCK, n // (4 * k)))
        block = np.maximum.reduceat(scores, np.arange(0, n, width), axis=1)  # [B, blocks]
        if block.shape[1] > k:
            floor = -np.partition(-block, k - 1, axis=1)[:, k - 1:k]
        else:
            floor = scores.min(axis=1, keepdims=True)
        rows, cols = np.nonzero(scores >= floor)
    else:
        rows, cols = np.repeat(np.arange(B), n), np.tile(np.arange(n), B)
    vals = scores[rows, cols]
    order = np.lexsort((ids[cols], -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, np.arange(B))[rows]
    keep = rank < k
    return ids[cols[keep]].reshape(B, k), vals[keep].reshape(B, k)


def chip_topk(scores: np.ndarray, k: int, chunk: int = 16) -> dict[str, np.ndarray]:
    """The chip's list for scores [B, N+1]: the best k + 1 items of the full ranking, which is what the io port's
    merge of every core's best k + 1 gives (module docstring), so it is selected here in one pass over each row
    (``chunk`` rows at a time; the cores' selection is what the program charges). Returns {"ids" [B, k],
    "scores" [B, k], "boundary" [B] (the (k+1)-th score, -inf if none)}."""
    B = scores.shape[0]
    items = np.arange(1, scores.shape[1])
    ids = np.zeros((B, min(k + 1, items.size)), np.int64)
    top = np.zeros(ids.shape)
    for r in range(0, B, chunk):
        ids[r:r + chunk], top[r:r + chunk] = best(scores[r:r + chunk, 1:], items, k + 1)
    boundary = top[:, k] if top.shape[1] > k else np.full(B, -np.inf)
    return {"ids": ids[:, :k], "scores": top[:, :k], "boundary": boundary}


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
