"""Top-k recommendation for one history given in a dataset's original item ids (any trained recommender: SSR or a
baseline, anything with ``cfg.max_len`` and ``scores(history, length)``)."""

from __future__ import annotations

import torch

from ssr_neuro.errors import UserError


def recommend(model, item_ids: list[str], history: list[str], k: int = 10, include_history: bool = False,
              dataset: str = "") -> list[dict]:
    """The ``k`` best next items after ``history`` (original ids, oldest first; the last ``max_len`` are used) ->
    ``[{"rank", "item", "score"}]``, best first. ``item_ids[i]`` is the original id of model item ``i + 1``. Items
    of the history are left out unless ``include_history``; item 0 (padding) never appears. ``dataset`` names the
    model's dataset in the error for unknown items."""
    if not history:
        raise UserError("--history is empty; give original item ids such as --history 1193,661,914")
    if k < 1:
        raise UserError(f"-k must be >= 1 (got {k})")
    index = {orig: i + 1 for i, orig in enumerate(item_ids)}
    unknown = [s for s in history if s not in index]
    if unknown:
        raise UserError(f"items unknown to the model: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}; "
                        f"use item ids of the dataset '{dataset}' it was trained on")
    L = model.cfg.max_len
    items = [index[s] for s in history][-L:]
    hist = torch.zeros(1, L, dtype=torch.long)
    hist[0, :len(items)] = torch.tensor(items)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            scores = model.scores(hist, torch.tensor([len(items)]))[0]
    finally:
        model.train(was_training)
    scores[0] = -torch.inf
    if not include_history:
        scores[torch.tensor(items)] = -torch.inf
    k = min(k, int(torch.isfinite(scores).sum()))
    top = torch.topk(scores, k)
    return [{"rank": r + 1, "item": item_ids[int(i) - 1], "score": round(float(s), 4)}
            for r, (s, i) in enumerate(zip(top.values, top.indices))]
