"""Caser (Tang & Wang, WSDM 2018): horizontal and vertical convolutions over the embeddings of the last L items.

    s' = the history right-aligned: its ``length`` real items at rows L-length..L-1, item 0 (zero row) before them
    X  = E[s']                                                                [B, L, D]
    horizontal, for each height h = 1..L, n_h filters F_k [h, D] (``cfg.hidden``):
        c_k[i] = ReLU(<F_k, X[i:i+h]> + b_k),  i = 0..L-h;   o_h[k] = max_i c_k[i]      [B, n_h]  (max over time)
    vertical, n_v filters w_k [L] (``N_V``):  o_v[k] = sum_l w_k[l] X[l] + b_k         [B, n_v, D] (no activation)
    z = ReLU(W dropout([o_1; ..; o_L; o_v]) + b)      W: (n_h L + n_v D) -> D           [B, D]
    scores = z . E^T

Right-aligning puts the most recent item at the same row whatever the length, so a vertical filter weighs items by
recency, as on the paper's windows of the L previous items. Only positions 0..length-1 are read (structurally, not
by masking alone): windows lying wholly in the left padding give ReLU(b_k), which depends on ``length`` only.
Left out from the paper: the user embedding P_u concatenated to z (our protocol has no user ids in the model, so
nothing user-specific may be learnt) and the separate output table W', b' (scored against the shared item table E
like the other baselines). Defaults as RecBole's Caser: n_h = 16, n_v = 4, dropout 0.4 (on [o; o_v]).
Config fields: ``hidden`` is n_h; ``n_layers`` has no meaning (one convolution layer) and must stay 1; ``n_heads``
has none either.

Op count (one inference, ``base`` rules): a horizontal filter bank of height h is a linear map of h D inputs to n_h
outputs at its L - h + 1 window positions, so (L - h + 1) x h x D x n_h MACs and (L - h + 1) x h x D inputs read;
the vertical bank is a linear map of L inputs to n_v outputs at each of the D embedding columns, n_v x L x D MACs;
then the FC layer and the readout (N + 1) x D. Max-pooling (comparisons) and ReLU are not MACs and are left out.
"""

from __future__ import annotations

import torch
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import Baseline, BaselineConfig, dense_ops, init_weights

N_V = 4  # vertical filters (RecBole Caser nv)


class Caser(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        L, D, n_h = cfg.max_len, cfg.dim, cfg.hidden
        self.horizontal = nn.ModuleList(nn.Conv2d(1, n_h, (h, D)) for h in range(1, L + 1))
        self.vertical = nn.Conv2d(1, N_V, (L, 1))
        self.dropout = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(n_h * L + N_V * D, D)
        init_weights(self)  # the convolutions keep PyTorch's default initialisation

    def right_aligned(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        """history [B, L] (left-aligned) -> the same items ending at row L - 1, item 0 before them [B, L]."""
        source = self.positions - (self.cfg.max_len - length)[:, None]  # row j holds item source[j] (< 0: padding)
        return history.gather(1, source.clamp(min=0)).masked_fill(source < 0, 0)

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        x = self.item_embedding(self.right_aligned(history, length)).unsqueeze(1)  # [B, 1, L, D]
        o_h = [torch.relu(conv(x)).squeeze(-1).amax(-1) for conv in self.horizontal]  # L x [B, n_h]
        o_v = self.vertical(x).flatten(1)  # [B, n_v D]
        return torch.relu(self.fc(self.dropout(torch.cat([*o_h, o_v], dim=1))))

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        L, D, n_h = c.max_len, c.dim, c.hidden
        horizontal = [dense_ops(f"conv_h{h}", L - h + 1, h * D, n_h) for h in range(1, L + 1)]
        return (self.embedding_ops(with_positions=False) + horizontal
                + [dense_ops("conv_v", D, L, N_V), dense_ops("fc", 1, n_h * L + N_V * D, D), self.readout_ops()])
