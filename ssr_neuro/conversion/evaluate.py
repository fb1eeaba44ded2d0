"""How well a converted graph reproduces its torch model, and the graph's own recommendation quality.

- :func:`evaluate_graph`  HR/NDCG/MRR@K of a graph's scores (full ranking, the rules of ``ssr_neuro.metrics``).
- :func:`compare_scores`  torch eval scores s vs graph scores g over samples. Per sample, the relative error is
  max_j |g_j - s_j| / max_j |s_j| (j over all N+1 columns); reported as its median, 99.9th percentile and maximum
  over samples and the fraction of samples above 1e-4, with the fraction of samples whose top-10 items (1..N,
  ranked by score) are the same list (and the same set), both models' metrics, and the seconds each side took.
  Against a float32 model, the few large errors are spike flips: a potential within float32 rounding of the
  threshold fires on one side only (against the same model in float64 the errors are ~1e-15).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ssr_neuro.data.types import Samples
from ssr_neuro.graph.execute import run
from ssr_neuro.graph.ir import NeuroGraph
from ssr_neuro.model import SSR
from ssr_neuro.metrics import DEFAULT_KS, metrics_from_ranks, target_ranks


def _ranks(scores: np.ndarray, samples: Samples, sl: slice, mask_history: bool) -> np.ndarray:
    return target_ranks(scores, samples.target[sl], samples.history[sl] if mask_history else None)


def evaluate_graph(graph: NeuroGraph, samples: Samples, ks: tuple[int, ...] = DEFAULT_KS, batch_size: int = 256,
                   mask_history: bool = False) -> dict:
    """HR/NDCG/MRR@K of the graph's scores on ``samples`` (same metrics and tie rule as ``evaluate_model``)."""
    ranks = np.empty(len(samples), dtype=np.int64)
    for start in range(0, len(samples), batch_size):
        sl = slice(start, start + batch_size)
        scores, _ = run(graph, samples.history[sl], samples.length[sl], batch_size=batch_size)
        ranks[sl] = _ranks(scores, samples, sl, mask_history)
    return metrics_from_ranks(ranks, ks)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Items 1..N of the k highest scores, best first: [B, k]."""
    part = np.argpartition(-scores[:, 1:], k - 1, axis=1)[:, :k] + 1
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


@torch.no_grad()
def compare_scores(model: SSR, graph: NeuroGraph, samples: Samples, batch_size: int = 256,
                   ks: tuple[int, ...] = DEFAULT_KS) -> dict:
    """Torch eval-mode scores against the graph's on ``samples`` (see the module docstring for the numbers)."""
    was_training = model.training
    model.eval()
    n = len(samples)
    rel = np.empty(n)
    same_list = np.empty(n, dtype=bool)
    same_set = np.empty(n, dtype=bool)
    ranks = {"torch": np.empty(n, dtype=np.int64), "graph": np.empty(n, dtype=np.int64)}
    seconds = {"torch": 0.0, "graph": 0.0}
    k = min(10, graph.node(graph.output_name()).shape[1] - 1)
    try:
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            t0 = time.perf_counter()
            s = model.scores(torch.from_numpy(samples.history[sl]), torch.from_numpy(samples.length[sl]))
            s = s.double().numpy()
            t1 = time.perf_counter()
            g, _ = run(graph, samples.history[sl], samples.length[sl], batch_size=batch_size)
            seconds["torch"] += t1 - t0
            seconds["graph"] += time.perf_counter() - t1
            rel[sl] = np.abs(g - s).max(1) / np.maximum(np.abs(s).max(1), np.finfo(np.float64).tiny)
            top_s, top_g = _top(s, k), _top(g, k)
            same_list[sl] = (top_s == top_g).all(1)
            same_set[sl] = (np.sort(top_s, 1) == np.sort(top_g, 1)).all(1)
            ranks["torch"][sl] = _ranks(s, samples, sl, False)
            ranks["graph"][sl] = _ranks(g, samples, sl, False)
    finally:
        model.train(was_training)
    return {
        "n_samples": n,
        "rel_err_median": float(np.median(rel)) if n else 0.0,
        "rel_err_p999": float(np.percentile(rel, 99.9)) if n else 0.0,
        "rel_err_max": float(rel.max()) if n else 0.0,
        "frac_rel_err_over_1e-4": float((rel > 1e-4).mean()) if n else 0.0,
        f"top{k}_same": float(same_list.mean()) if n else 1.0,
        f"top{k}_same_set": float(same_set.mean()) if n else 1.0,
        "torch": metrics_from_ranks(ranks["torch"], ks),
        "graph": metrics_from_ranks(ranks["graph"], ks),
        "seconds_torch": seconds["torch"],
        "seconds_graph": seconds["graph"],
    }
