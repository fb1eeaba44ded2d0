"""BSARec (Shin et al., AAAI 2024, "An Attentive Inductive Bias for Sequential Recommendation beyond the
Self-Attention"), as the authors' code builds it (yehjin-shin/BSARec, src/model/bsarec.py and _modules.py; defaults
from parse_args in src/utils.py).

    x = dropout(LN(E[s] + P))                                                   [B, L, D]
    per block (``n_layers``, 2):
        inductive bias (Fourier):  LP(x) = irfft(rfft(x, L, ortho) with bins >= c//2 + 1 set to 0, L, ortho)
                                   f = LN_f(x + dropout(LP(x) + beta^2 (x - LP(x))))      beta [D] learned
        self-attention (post-LN):  a = LN_a(x + dropout(W_O softmax(Q K^T / sqrt(D/heads) + mask) V))
                                   mask: key j visible from query i where j <= i and j < length
        mix:                       m = alpha f + (1 - alpha) a
        FFN:                       x = LN(m + dropout(W_2 GELU(W_1 m + b_1) + b_2))          inner size ``hidden``
    h = x[length - 1];  scores = h . E^T

Defaults from parse_args: 2 blocks, 2 heads, feed-forward 4D, hidden_dropout_prob = attention_probs_dropout_prob =
0.5 (``dropout`` sets both), c = 3, alpha = 0.9 (the code's defaults; the paper tunes alpha and c per dataset);
LayerNorm eps 1e-12; Linear and Embedding weights N(0, 0.02^2), biases 0; beta ~ N(0, 1) as created. The layout is
the project's (right padding, read at length - 1; the authors left-pad and read the last position): padding
positions take part in the Fourier filter, as in FMLP-Rec and SSR here. In eval mode the last block computes the
filter row, the queries, W_O, the LayerNorms and the FFN at position length - 1 only (keys and values everywhere).

Op count of the filter (the FMLP-Rec rule): x -> LP(x) + beta^2 (x - LP(x)) is per channel a real linear map of the
L positions that commutes with cyclic shifts, i.e. a circulant L x L matrix with L distinct values (beta_d^2 I +
(1 - beta_d^2) C_LP): L x L MACs per channel per block (L per channel for the last block's readout row), L x D
distinct weights (for beta's D). Attention as SASRec's (QK^T and AV full products, the mask's zeros not
subtracted); the mix alpha f + (1 - alpha) a as 2 MACs per value (``.pointwise``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import (FLOAT32_BYTES, BaselineConfig, dense_ops, last_rows, norm_ops, product_ops,
                                      split_heads)
from ssr_neuro.baselines.fmlp import LAYER_NORM_EPS, FMLPRec  # the authors' code base is FMLP-Rec's
C = 3  # parse_args --c: frequency bins kept = C // 2 + 1
ALPHA = 0.9  # parse_args --alpha: weight of the Fourier inductive bias against self-attention


class FrequencyLayer(nn.Module):
    """Keep the low frequencies of each channel along positions, rescale the rest by beta^2; residual + LN."""

    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.max_len = cfg.max_len
        self.kept = C // 2 + 1
        self.sqrt_beta = nn.Parameter(torch.randn(cfg.dim))
        self.norm = nn.LayerNorm(cfg.dim, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(cfg.dropout)

    def low_pass(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, L, D] with rfft bins >= C // 2 + 1 (along positions) removed."""
        spectrum = torch.fft.rfft(x, dim=1, norm="ortho")
        keep = (torch.arange(spectrum.shape[1], device=x.device) < self.kept).to(spectrum.dtype)
        return torch.fft.irfft(spectrum * keep[:, None], n=self.max_len, dim=1, norm="ortho")

    def filter(self, x: torch.Tensor) -> torch.Tensor:
        """LP(x) + beta^2 (x - LP(x)): the per-channel circulant map."""
        low = self.low_pass(x)
        return low + self.sqrt_beta ** 2 * (x - low)

    def forward(self, x: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        f = self.filter(x)
        if length is not None:
            f, x = last_rows(f, length), last_rows(x, length)
        return self.norm(x + self.dropout(f))


class Attention(nn.Module):
    """Multi-head causal self-attention, post-LN, keys restricted to real positions (the authors' mask)."""

    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.heads = cfg.n_heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.norm = nn.LayerNorm(d, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(cfg.dropout)
        self.register_buffer("causal", torch.ones(cfg.max_len, cfg.max_len, dtype=torch.bool).tril(),
                             persistent=False)

    def forward(self, x: torch.Tensor, real: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, L, D], real [B, L] -> [B, L, D]; with ``length``, queries at length - 1 only -> [B, 1, D]."""
        if length is None:
            x_q, mask = x, self.causal & real[:, None, :]
        else:
            x_q, mask = last_rows(x, length), self.causal[length - 1].unsqueeze(1) & real[:, None, :]
        q, k, v = (split_heads(t, self.heads) for t in (self.q(x_q), self.k(x), self.v(x)))
        logits = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
        probs = self.dropout(torch.softmax(logits.masked_fill(~mask.unsqueeze(1), -torch.inf), dim=-1))
        return self.norm(x_q + self.dropout(self.o((probs @ v).transpose(1, 2).flatten(2))))


class Block(nn.Module):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.frequency = FrequencyLayer(cfg)
        self.attention = Attention(cfg)
        self.dense_1, self.dense_2 = nn.Linear(cfg.dim, cfg.hidden), nn.Linear(cfg.hidden, cfg.dim)
        self.norm = nn.LayerNorm(cfg.dim, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, real: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        m = ALPHA * self.frequency(x, length) + (1 - ALPHA) * self.attention(x, real, length)
        return self.norm(m + self.dropout(self.dense_2(F.gelu(self.dense_1(m)))))

    @staticmethod
    def ops(name: str, L: int, rows: int, dim: int, hidden: int) -> list[LayerOps]:
        """One inference: keys and values at L positions, everything else at ``rows`` positions."""
        return [LayerOps(f"{name}.filter", rows * L * dim, L * dim, L * dim * FLOAT32_BYTES, L * dim),
                norm_ops(f"{name}.filter.norm", rows, dim),
                dense_ops(f"{name}.attention.q", rows, dim, dim), dense_ops(f"{name}.attention.k", L, dim, dim),
                dense_ops(f"{name}.attention.v", L, dim, dim), product_ops(f"{name}.attention.qk", rows, dim, L),
                product_ops(f"{name}.attention.av", rows, L, dim), dense_ops(f"{name}.attention.o", rows, dim, dim),
                norm_ops(f"{name}.attention.norm", rows, dim),
                LayerOps(f"{name}.mix.pointwise", 2 * rows * dim, 0, 0, 2 * rows * dim),
                dense_ops(f"{name}.dense_1", rows, dim, hidden), dense_ops(f"{name}.dense_2", rows, hidden, dim),
                norm_ops(f"{name}.norm", rows, dim)]


class BSARec(FMLPRec):
    """FMLP-Rec's network (embedding, LayerNorm, dropout, blocks, op count) with BSARec's blocks."""

    block_type = Block

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        return self.run_blocks(self.embed(history), length, self.real_positions(length))[:, 0]
