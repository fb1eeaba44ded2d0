"""NARM (Li et al., CIKM 2017): a GRU encoder with a global and an attentive local context, bilinear decoder.

    x = dropout(E[s]);  g_j = GRU(x)_j                                       [B, L, H]
    global  c_g = g_{length-1}
    local   a_j = v^T sigmoid(A_1 g_j + A_2 c_g)  (j < length, else 0; no softmax, as the paper and RecBole)
            c_l = sum_j a_j g_j
    h = B dropout_ctx([c_l; c_g])                                            [B, D]  (B: 2H -> D, no bias)
    scores = h . E^T

Defaults as RecBole's NARM (hidden 128, one GRU layer, dropout 0.25 on embeddings, 0.5 on the context).
Op count: the GRU as GRU4Rec's (``gru_ops``); A_1 at L positions, A_2 and B once, v^T at L positions, the weighted
sum as a [1, L] x [L, H] product.
"""

from __future__ import annotations

import torch
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import Baseline, BaselineConfig, dense_ops, init_weights, last_rows, product_ops
from ssr_neuro.baselines.gru4rec import gru_ops

CONTEXT_DROPOUT = 0.5  # RecBole NARM dropout_probs[1]


class NARM(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        h = cfg.hidden
        self.dropout = nn.Dropout(cfg.dropout)
        self.gru = nn.GRU(cfg.dim, h, num_layers=cfg.n_layers, batch_first=True, bias=True)
        self.a_1, self.a_2 = nn.Linear(h, h, bias=False), nn.Linear(h, h, bias=False)
        self.v = nn.Linear(h, 1, bias=False)
        self.context_dropout = nn.Dropout(CONTEXT_DROPOUT)
        self.b = nn.Linear(2 * h, cfg.dim, bias=False)
        init_weights(self)

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        g, _ = self.gru(self.dropout(self.item_embedding(history)))  # [B, L, H]
        c_g = last_rows(g, length)  # [B, 1, H]
        a = self.v(torch.sigmoid(self.a_1(g) + self.a_2(c_g)))  # [B, L, 1]
        a = a.masked_fill((self.positions >= length[:, None]).unsqueeze(-1), 0.0)
        c_l = a.transpose(1, 2) @ g  # [B, 1, H]
        return self.b(self.context_dropout(torch.cat([c_l, c_g], dim=-1)))[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        L, H = c.max_len, c.hidden
        return (self.embedding_ops(with_positions=False) + gru_ops(c)
                + [dense_ops("attention.a_1", L, H, H, bias=False), dense_ops("attention.a_2", 1, H, H, bias=False),
                   dense_ops("attention.v", L, H, 1, bias=False), product_ops("attention.sum", 1, L, H),
                   dense_ops("b", 1, 2 * H, c.dim, bias=False), self.readout_ops()])
