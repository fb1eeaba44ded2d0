"""Conversion of a trained torch SSR into the float NeuroGraph of its eval-mode inference (``ssr_neuro.graph.ir``).

Every BatchNorm in eval mode is an affine map per channel, y = a x + c with a = gamma / sqrt(running_var + eps) and
c = beta - a running_mean; dropout is the identity. Both disappear into the weights and biases:

    embedding   Graded (L, D)       dense from the one-hot input, W = (a0 E)^T [D, N+1], bias a0 P + c0
    block i:
      filter    Graded (L, D)       circulant, W[d] = a_f[d] (C[d] + I) (FFT filter C, residual I), bias c_f
      lif_1     LIF (L, 4D)         dense from the filter, W = diag(a_1) W_1, bias a_1 b_1 + c_1
      lif_2     LIF (L, D)          dense from lif_1, W = diag(a_2) W_2; diagonal from the filter (the residual),
                                    W = a_2; bias a_2 b_2 + c_2
    readout     Readout (1, N+1)    dense from the last lif_2, W = E diag(a_o) / T, bias E c_o (tied item table)

A block's output BN_o(mean_T s2) = a_o count / T + c_o is folded into its consumer: the next filter's circulant
weights scale by a_o[d] / T per channel (it receives lif_2's spikes and sums them over the T steps) and its bias
gains sum_l W[d, m, l] c_o[d]; the readout takes the same scaling. The LIF nodes carry tau, threshold and T of the
model config and follow its equations (``ssr_neuro.model.lif``): v <- v + (x + bias - v) / tau, fire at v >= theta,
hard reset to 0, where x + bias is exactly what the model feeds its LIF.

Pruning (on by default): only the readout row length-1 of the last block's feed-forward part reaches the scores, so
the last lif_1 and lif_2 have one row (1, 4D), (1, D), fed through positions="readout" edges, as the model's own
eval path computes it. ``graph.meta["conversion"]`` records what was folded and removed, and the neurons and
synapses of the full per-position graph against the kept one.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from ssr_neuro.model import SSR

FORMAT = "ssr-neuro/graph"


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def bn_affine(bn: nn.BatchNorm1d) -> tuple[np.ndarray, np.ndarray]:
    """Eval-mode BatchNorm as y = a x + c per channel -> (a, c), float64."""
    a = _np(bn.weight) / np.sqrt(_np(bn.running_var) + bn.eps)
    return a, _np(bn.bias) - a * _np(bn.running_mean)


def circulant(weight: torch.Tensor, max_len: int) -> np.ndarray:
    """The FFT filter irfft(rfft(h, ortho) * W, ortho) along positions as per-channel matrices C [D, L, L] (float64):
    filter(h)[m, d] = sum_l C[d, m, l] h[l, d]; same as ``FilterLayer.circulant`` but computed in float64."""
    w = weight.detach().cpu().double().numpy()
    spec = np.fft.rfft(np.eye(max_len), axis=1, norm="ortho")[:, :, None] * (w[..., 0] + 1j * w[..., 1])[None]
    response = np.fft.irfft(spec, n=max_len, axis=1, norm="ortho")  # [l, m, D]: response at m to a unit at l
    return np.ascontiguousarray(response.transpose(2, 1, 0))


def _rows(vector: np.ndarray, rows: int) -> np.ndarray:
    """A per-channel bias repeated over ``rows`` positions: [C] -> [rows, C]."""
    return np.repeat(vector[None], rows, axis=0)


def _build(model: SSR, prune: bool) -> NeuroGraph:
    cfg = model.cfg
    L, T = cfg.max_len, cfg.time_steps
    g = NeuroGraph()
    g.add("input", ItemInput(L, cfg.n_items))
    E = _np(model.item_embedding.weight)  # [N+1, D]
    a0, c0 = bn_affine(model.norm)
    g.add("embedding", Graded((L, cfg.dim), a0 * _np(model.position_embedding.weight) + c0))
    g.connect("input", "embedding", Synapse("dense", np.ascontiguousarray((E * a0).T)))
    source, out_bn = "embedding", None  # out_bn: (a_o, c_o) of the previous block's output, folded forward
    last = cfg.n_blocks - 1
    for i, (filt, inter) in enumerate(zip(model.filters, model.intermediates)):
        name = f"block{i}"
        a_f, c_f = bn_affine(filt.norm)
        w_f = a_f[:, None, None] * (circulant(filt.weight, L) + np.eye(L))  # [D, L, L], residual folded in
        bias_f = _rows(c_f, L)
        if out_bn is not None:
            a_o, c_o = out_bn
            bias_f = bias_f + (w_f * c_o[:, None, None]).sum(2).T
            w_f = w_f * (a_o / T)[:, None, None]
        g.add(f"{name}.filter", Graded((L, cfg.dim), bias_f))
        g.connect(source, f"{name}.filter", Synapse("circulant", w_f))
        rows, positions = (1, "readout") if (prune and i == last) else (L, "each")
        a_1, c_1 = bn_affine(inter.norm_1)
        a_2, c_2 = bn_affine(inter.norm_2)
        g.add(f"{name}.lif_1", LIF((rows, 4 * cfg.dim), cfg.tau, cfg.threshold, T,
                                   _rows(a_1 * _np(inter.dense_1.bias) + c_1, rows)))
        g.add(f"{name}.lif_2", LIF((rows, cfg.dim), cfg.tau, cfg.threshold, T,
                                   _rows(a_2 * _np(inter.dense_2.bias) + c_2, rows)))
        g.connect(f"{name}.filter", f"{name}.lif_1",
                  Synapse("dense", a_1[:, None] * _np(inter.dense_1.weight), positions))
        g.connect(f"{name}.lif_1", f"{name}.lif_2", Synapse("dense", a_2[:, None] * _np(inter.dense_2.weight)))
        g.connect(f"{name}.filter", f"{name}.lif_2", Synapse("diagonal", a_2, positions))
        source, out_bn = f"{name}.lif_2", bn_affine(inter.norm_out)
    a_o, c_o = out_bn
    g.add("readout", Readout((1, cfg.n_items + 1), (E @ c_o)[None]))
    g.connect(source, "readout", Synapse("dense", E * (a_o / T)[None], "each" if prune else "readout"))
    return g


def _report(full: NeuroGraph, kept: NeuroGraph) -> dict:
    before, after = full.stats(), kept.stats()
    n_full, n_kept = sum(before["neurons"].values()), sum(after["neurons"].values())
    return {
        "removed": ["dropout (identity in eval mode)"],
        "folded": ["embedding BatchNorm into the embedding layer's weights and bias",
                   "filter residual (C + I) and its BatchNorm into the circulant layer",
                   "BatchNorm 1 into dense_1 and the LIF#1 bias",
                   "BatchNorm 2 into dense_2, the residual diagonal and the LIF#2 bias",
                   "mean over T and the output BatchNorm into the next filter and the readout"],
        "pruned": "last block's feed-forward part kept at the readout position (length-1) only",
        "full": {"neurons": n_full, "synapses": before["synapses"], "neurons_by_type": before["neurons"]},
        "kept": {"neurons": n_kept, "synapses": after["synapses"], "neurons_by_type": after["neurons"]},
        "saving": {"neurons": n_full - n_kept, "synapses": before["synapses"] - after["synapses"],
                   "neurons_fraction": 1.0 - n_kept / n_full,
                   "synapses_fraction": 1.0 - after["synapses"] / before["synapses"]},
    }


@torch.no_grad()
def to_graph(model: SSR, dataset: dict | None = None, *, prune: bool = True) -> NeuroGraph:
    """The float NeuroGraph of ``model``'s eval-mode inference (see the module docstring); ``prune=False`` keeps the
    last block at every position (same scores, for comparison). ``dataset``: the checkpoint's dataset description."""
    graph = _build(model, prune)
    full = _build(model, False) if prune else graph
    graph.meta = {"format": FORMAT, "model_config": model.cfg.to_dict(), "dataset": dataset or {},
                  "conversion": _report(full, graph)}
    graph.validate()
    return graph
