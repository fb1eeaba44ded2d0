"""The rank of each target among all items on torch tensors (batched evaluation of a model, on any device): the rule
of ``ssr_neuro.metrics`` (ties count against the target, item 0 never ranked, ``history`` masks items), which also
turns ranks into HR/NDCG/MRR@K.
"""

from __future__ import annotations

import torch


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
