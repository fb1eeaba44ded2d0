"""FMLP-Rec (Zhou et al., WWW 2022): learnable filters in the frequency domain instead of self-attention.

SSR (ssr_neuro/model/ssr.py) is this model with BatchNorm and spiking neurons; here it is the ANN of the paper:

    x = dropout(LN(E[s] + P))                                                   [B, L, D]
    per block:
        filter  f = LN(x + dropout(irfft(rfft(x, L, ortho) * W, L, ortho)))    W complex [L/2 + 1, D], per channel
        FFN     x = LN(f + dropout(W_2 GELU(W_1 f + b_1) + b_2))               inner size ``hidden`` (4D)
    h = x[length - 1];  scores = h . E^T

Padding positions (item 0, a zero row, plus their position embedding) take part in the filter, as in the paper's
code and in SSR; the history layout is SSR's (right padding, read at length - 1).
In eval mode the last block's FFN runs at position length - 1 only (it works position by position).

Op count of the filter (the "DFT-matrix count"): rfft -> x W -> irfft is, per channel, a real linear map of L
inputs to L outputs that commutes with cyclic shifts, i.e. a circulant L x L matrix with L distinct values (the
impulse response irfft(W)). Counted as that matrix applied to the channel: L x L MACs per channel at every position
(block 0 .. n-2), L per channel for the last block's one needed row; L x D distinct weights. For L = 20 this is
fewer than an FFT's ~ 2 x 2.5 L log2 L + 4 (L/2 + 1) = 476 real operations per channel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import (FLOAT32_BYTES, Baseline, BaselineConfig, dense_ops, init_weights, last_rows,
                                      norm_ops)

LAYER_NORM_EPS = 1e-12  # FMLP-Rec's LayerNorm epsilon


class Block(nn.Module):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.max_len = cfg.max_len
        self.weight = nn.Parameter(torch.randn(cfg.max_len // 2 + 1, cfg.dim, 2) * 0.02)  # complex, as the code
        self.norm_filter = nn.LayerNorm(cfg.dim, eps=LAYER_NORM_EPS)
        self.dense_1, self.dense_2 = nn.Linear(cfg.dim, cfg.hidden), nn.Linear(cfg.hidden, cfg.dim)
        self.norm_ffn = nn.LayerNorm(cfg.dim, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(cfg.dropout)

    def filter(self, x: torch.Tensor) -> torch.Tensor:
        """irfft(rfft(x) * W) along positions (dim 1) of x [B, L, D]."""
        spec = torch.fft.rfft(x, dim=1, norm="ortho") * torch.view_as_complex(self.weight)
        return torch.fft.irfft(spec, n=self.max_len, dim=1, norm="ortho")

    def forward(self, x: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, L, D] -> [B, L, D]; with ``length``, everything after the filter at length - 1 only -> [B, 1, D]."""
        f = self.filter(x)
        if length is not None:
            f, x = last_rows(f, length), last_rows(x, length)
        f = self.norm_filter(x + self.dropout(f))
        return self.norm_ffn(f + self.dropout(self.dense_2(F.gelu(self.dense_1(f)))))

    def ops(self, name: str, L: int, rows: int, dim: int, hidden: int) -> list[LayerOps]:
        """One inference: the filter's ``rows`` output rows of each channel's L x L circulant, the rest at ``rows``."""
        return [LayerOps(f"{name}.filter", rows * L * dim, L * dim, L * dim * FLOAT32_BYTES, L * dim),
                norm_ops(f"{name}.norm_filter", rows, dim), dense_ops(f"{name}.dense_1", rows, dim, hidden),
                dense_ops(f"{name}.dense_2", rows, hidden, dim), norm_ops(f"{name}.norm_ffn", rows, dim)]


class FMLPRec(Baseline):
    block_type: type[nn.Module] = Block  # BSARec is this network with its own blocks

    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        self.position_embedding = nn.Embedding(cfg.max_len, cfg.dim)
        self.norm = nn.LayerNorm(cfg.dim, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(self.block_type(cfg) for _ in range(cfg.n_layers))
        init_weights(self)

    def embed(self, history: torch.Tensor) -> torch.Tensor:
        """dropout(LN(E[s] + P)) [B, L, D]."""
        return self.dropout(self.norm(self.item_embedding(history) + self.position_embedding(self.positions)))

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.embed(history), length)[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        return (self.embedding_ops(with_positions=True) + [norm_ops("embedding.norm", c.max_len, c.dim)]
                + self.blocks_ops() + [self.readout_ops()])
