"""SASRec (Kang & McAuley, ICDM 2018): learned positions and causal self-attention blocks, pre-LayerNorm as the paper.

    x = dropout(E[s] + P)                                                     [B, L, D]
    per block (b = 1..n_layers), g(x) = x + dropout(g(LN(x))) for both sub-layers:
        a = LN_1(x);  Q, K, V = a W_Q, a W_K, a W_V   (with biases; heads split D)
        x = x + dropout(softmax(Q K^T / sqrt(D/heads) + causal mask) V W_O)
        x = x + dropout(W_2 dropout(ReLU(W_1 LN_2(x) + b_1)) + b_2)          point-wise FFN, inner size ``hidden``
    h = LN_out(x)[length - 1];  scores = h . E^T

Causality makes position length - 1 see only positions 0..length-1 (real items: padding is on the right).
In eval mode the last block computes its queries, output projection and FFN at position length - 1 only (the keys
and values at every position): the same numbers, what one inference needs and what ``layer_ops`` counts.
QK^T and AV are counted as full products (Lq x L x D each); the causal mask's zeros are not subtracted.
"""

from __future__ import annotations

import torch
from torch import nn

from ssr_neuro.baselines.base import (Baseline, BaselineConfig, dense_ops, init_weights, last_rows, norm_ops,
                                      product_ops, split_heads)
from ssr_neuro.counting import LayerOps


class Block(nn.Module):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.heads = cfg.n_heads
        self.norm_1, self.norm_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ffn_1, self.ffn_2 = nn.Linear(d, cfg.hidden), nn.Linear(cfg.hidden, d)
        self.dropout = nn.Dropout(cfg.dropout)
        self.register_buffer("causal", torch.ones(cfg.max_len, cfg.max_len, dtype=torch.bool).tril(),
                             persistent=False)

    def forward(self, x: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, L, D] -> [B, L, D]; with ``length``, queries at position length - 1 only -> [B, 1, D]."""
        a = self.norm_1(x)
        if length is None:
            a_q, mask = a, self.causal
        else:
            a_q, x = last_rows(a, length), last_rows(x, length)
            mask = self.causal[length - 1].unsqueeze(1).unsqueeze(1)  # [B, 1, 1, L]
        q, k, v = (split_heads(t, self.heads) for t in (self.q(a_q), self.k(a), self.v(a)))
        logits = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
        att = torch.softmax(logits.masked_fill(~mask, -torch.inf), dim=-1) @ v  # [B, heads, Lq, D/heads]
        x = x + self.dropout(self.o(att.transpose(1, 2).flatten(2)))
        return x + self.dropout(self.ffn_2(self.dropout(torch.relu(self.ffn_1(self.norm_2(x))))))

    def ops(self, name: str, L: int, rows: int, dim: int, hidden: int) -> list[LayerOps]:
        """One inference: keys and values at L positions, queries and the rest at ``rows`` positions."""
        return [norm_ops(f"{name}.norm_1", L, dim),
                dense_ops(f"{name}.attention.q", rows, dim, dim), dense_ops(f"{name}.attention.k", L, dim, dim),
                dense_ops(f"{name}.attention.v", L, dim, dim), product_ops(f"{name}.attention.qk", rows, dim, L),
                product_ops(f"{name}.attention.av", rows, L, dim), dense_ops(f"{name}.attention.o", rows, dim, dim),
                norm_ops(f"{name}.norm_2", rows, dim), dense_ops(f"{name}.ffn_1", rows, dim, hidden),
                dense_ops(f"{name}.ffn_2", rows, hidden, dim)]


class SASRec(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        self.position_embedding = nn.Embedding(cfg.max_len, cfg.dim)
        self.dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm_out = nn.LayerNorm(cfg.dim)
        init_weights(self)

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.item_embedding(history) + self.position_embedding(self.positions))
        return self.norm_out(self.run_blocks(x, length))[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        return (self.embedding_ops(with_positions=True) + self.blocks_ops()
                + [norm_ops("norm_out", 1, self.cfg.dim), self.readout_ops()])
