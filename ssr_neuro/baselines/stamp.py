"""STAMP (Liu et al., KDD 2018, "STAMP: Short-Term Attention/Memory Priority Model for Session-based
Recommendation"), as RecBole builds it (recbole/model/sequential_recommender/stamp.py).

    x_i = dropout(E[s_i]) at the real positions i < length, 0 beyond          [B, L, D]
    x_t = x_{length-1}  (short-term memory: the last item)
    m_s = sum_i x_i / length  (the session's general interest)
    alpha_i = w_0^T sigmoid(W_1 x_i + W_2 x_t + W_3 m_s + b_a)                 (no softmax, as the paper)
    m_a = sum_i alpha_i x_i + m_s                                              (RecBole adds m_s; paper eq. 6 has not)
    h_s = tanh(W_A m_a + b_A),  h_t = tanh(W_B x_t + b_B)
    h = h_s * h_t;  scores = h . E^T                  (the paper's trilinear <h_s, h_t, x>, without its sigmoid,
                                                       left out by RecBole "according to the test results")

Defaults: RecBole's STAMP has only embedding_size (W_1..W_3 d x d here ``hidden`` = D) and no dropout (``dropout``
0, on the embeddings when set). Initialisation: ``base.init_weights`` (N(0, 0.02^2), biases 0), not RecBole's
(embeddings N(0, 0.002^2), linear weights N(0, 0.05^2)): from RecBole's, h = h_s * h_t starts near 1e-8, every
gradient below 1e-6, and under this project's weight decay (1e-4 x weight, of the same size) the model stays at the
uniform prediction (measured on ML-100K: loss ln N after 400 Adam steps; with weight decay 0, RecBole's default, it
learns, as it does from this initialisation with 1e-4).
Only positions 0..length-1 are read (masked here, not only by padding's zero row), so a history cut after ``length``
items gives the same representation.

Op count (one length-L history, ``base`` rules): W_1 at L positions (with b_a, added there), W_2 and W_3 once, w_0
at L positions, the weighted sum as a [1, L] x [L, D] product, W_A and W_B once, the point-wise product h_s * h_t
(D MACs). The mean m_s is L D additions and D divisions, no MACs (its L D inputs are read).
"""

from __future__ import annotations

import torch
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import Baseline, BaselineConfig, dense_ops, init_weights, last_rows, product_ops


class STAMP(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        d, h = cfg.dim, cfg.hidden
        self.dropout = nn.Dropout(cfg.dropout)
        self.w_1, self.w_2, self.w_3 = (nn.Linear(d, h, bias=False) for _ in range(3))
        self.w_0 = nn.Linear(h, 1, bias=False)
        self.b_a = nn.Parameter(torch.zeros(h))
        self.mlp_a, self.mlp_b = nn.Linear(d, d), nn.Linear(d, d)
        init_weights(self)

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        real = self.real_positions(length).unsqueeze(-1)  # [B, L, 1]
        x = self.dropout(self.item_embedding(history)) * real
        x_t = last_rows(x, length)  # [B, 1, D]
        m_s = x.sum(1, keepdim=True) / length[:, None, None]
        alpha = self.w_0(torch.sigmoid(self.w_1(x) + self.w_2(x_t) + self.w_3(m_s) + self.b_a))  # [B, L, 1]
        m_a = alpha.transpose(1, 2) @ x + m_s  # [B, 1, D]
        return (torch.tanh(self.mlp_a(m_a)) * torch.tanh(self.mlp_b(x_t)))[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        L, D, H = c.max_len, c.dim, c.hidden
        return self.embedding_ops(with_positions=False) + [
            LayerOps("memory.mean", 0, 0, 0, L * D),
            dense_ops("attention.w_1", L, D, H),  # its bias is b_a
            dense_ops("attention.w_2", 1, D, H, bias=False), dense_ops("attention.w_3", 1, D, H, bias=False),
            dense_ops("attention.w_0", L, H, 1, bias=False), product_ops("attention.sum", 1, L, D),
            dense_ops("mlp_a", 1, D, D), dense_ops("mlp_b", 1, D, D),
            LayerOps("trilinear.pointwise", D, 0, 0, 2 * D), self.readout_ops()]
