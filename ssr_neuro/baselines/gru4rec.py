"""GRU4Rec (Hidasi et al., ICLR 2016; as RecBole builds it for next-item prediction with full-softmax CE).

    x_t = dropout(E[s_t])                                         [B, L, D]
    GRU, per layer and step (PyTorch's gate layout, H = hidden):
        r = sigma(W_ir x + b_ir + W_hr h + b_hr),  z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h = n + z * (h - n)
    h = W_o h_{length-1} + b_o                                    [B, D]  (RecBole's dense layer H -> D)
    scores = h . E^T

Histories are right-padded, so the state at position length - 1 has seen only real items (padding comes later).
Op count per inference (length-L history): per layer L x 3H x (in + H) MACs for the input and recurrent products,
plus the gate products r * (W_hn h + b_hn) and z * (h - n), 2H MACs per step; the GRU's parameters are read once.
"""

from __future__ import annotations

import torch
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import FLOAT32_BYTES, Baseline, BaselineConfig, dense_ops, init_weights, last_rows


class GRU4Rec(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        self.dropout = nn.Dropout(cfg.dropout)
        self.gru = nn.GRU(cfg.dim, cfg.hidden, num_layers=cfg.n_layers, batch_first=True, bias=True)
        self.dense = nn.Linear(cfg.hidden, cfg.dim)
        init_weights(self)
        for name, p in self.gru.named_parameters():  # RecBole: xavier-uniform GRU weights
            if name.startswith("weight"):
                nn.init.xavier_uniform_(p)

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(self.dropout(self.item_embedding(history)))
        return self.dense(last_rows(out, length))[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        return (self.embedding_ops(with_positions=False) + gru_ops(c)
                + [dense_ops("dense", 1, c.hidden, c.dim), self.readout_ops()])


def gru_ops(cfg: BaselineConfig) -> list[LayerOps]:
    """The GRU layers over L steps: input and recurrent products, and the point-wise gate products, per layer."""
    ops = []
    L, H = cfg.max_len, cfg.hidden
    for layer in range(cfg.n_layers):
        n_in = cfg.dim if layer == 0 else H
        words = 3 * H * (n_in + H) + 6 * H  # W_i*, W_h*, b_i*, b_h*
        ops.append(LayerOps(f"gru{layer}.products", L * 3 * H * (n_in + H), words, words * FLOAT32_BYTES,
                            L * (n_in + H)))
        # r * (W_hn h + b_hn) and z * (h - n): reads r, W_hn h + b_hn, z, h, n
        ops.append(LayerOps(f"gru{layer}.gates", L * 2 * H, 0, 0, L * 5 * H))
    return ops
