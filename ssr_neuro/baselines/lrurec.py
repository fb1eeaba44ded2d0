"""LRURec (Yue et al., WSDM 2024, "Linear Recurrent Units for Sequential Recommendation"), as the authors' code
builds it (yueqirex/LRURec, model/lru.py; defaults from its config.py).

    x = LN(dropout(E[s]))                                                     [B, L, D]  (no position embedding)
    per block (``n_layers``, 2):
        LRU layer, complex state of size H (``hidden``, 2D):
            u_t = gamma * (B x_t + b)                    B, b complex; gamma = exp(gamma_log) real, per state
            h_t = lambda * h_{t-1} + u_t                 lambda = exp(-exp(nu_log) + i exp(theta_log)), diagonal
            y_t = LN(x_t + dropout(Re(C h_t + c)))       C, c complex
        FFN: x = LN(y + dropout(W_2 dropout(GELU(W_1 y + b_1)) + b_2))      inner size 4D
    h = x[length - 1];  scores = h . E^T

The recurrence is computed in its parallel form h_t = sum_{s <= t} lambda^(t - s) u_s, one lower-triangular L x L
complex matrix per state (``decay_matrix``), which equals the step-by-step loop. The authors compute the same sums
with a log2(L)-step doubling scan; this form trains faster here (CPU, one thread, B 128, L 20, H 128, forward and
backward of the states: 108 ms against 359 ms for their scan; a whole training step at D 64: 1.4x; one run each)
and lets eval compute only the state at length - 1. Histories are right-padded, so that state has seen only real
items and the authors' mask (for their left padding) has nothing to do. The complex maps are written in real
arithmetic, the same functions: B, b as one real map D -> 2H (real and imaginary parts), Re(C h + c) as one real map 2H -> D on
[Re h; Im h] (c's imaginary part never reaches the output and is left out). Left out from the authors' model: the
per-item output bias (every model here scores by h . E^T) and the training loss on every position (all models here
learn the next item of each sample). Defaults from their config.py / lru.py: 2 blocks, H = 2D, r_min 0.8, r_max 0.99,
dropout 0.2 (bert_dropout = bert_attn_dropout), every weight and bias truncated normal (std 0.02, within +-0.04)
except the LayerNorms and the LRU's nu, theta, gamma (their ring initialisation).
In eval mode the last block computes its output map, LayerNorm and FFN at position length - 1 only.

Op count (one length-L history, ``base`` rules), per block: B at L positions (D -> 2H real MACs), gamma times u
(2H real products per position, ``.pointwise``), the recurrence lambda * h_{t-1} (a complex product, 4 real MACs per
state, at steps 1..L-1: the first state is u_0; ``.recurrence``, lambda's 2H values read), then C (2H -> D), the
LayerNorm and the FFN at every position (the last block: at the readout position only).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ssr_neuro.counting import LayerOps
from ssr_neuro.baselines.base import (FLOAT32_BYTES, Baseline, BaselineConfig, dense_ops, last_rows, norm_ops)

R_MIN, R_MAX = 0.8, 0.99  # ring of |lambda| at initialisation (LRULayer defaults)
FFN_FACTOR = 4  # feed-forward inner size 4D (LRUBlock)
INIT_STD = 0.02  # LRU.truncated_normal_init: N(0, 0.02^2) cut at +-2 std


def decay_matrix(nu: torch.Tensor, theta: torch.Tensor, length: int) -> torch.Tensor:
    """lambda^(t - s) at [t, s] for s <= t and 0 above the diagonal, lambda = exp(-nu + i theta) per state:
    complex [length, length, H] (the powers exact, as exp(-(t - s) nu + i (t - s) theta))."""
    steps = torch.arange(length, device=nu.device)
    lag = steps[:, None] - steps[None, :]
    lag_f = lag.clamp(min=0).unsqueeze(-1).to(nu.dtype)
    return torch.polar(torch.exp(-lag_f * nu) * (lag >= 0).unsqueeze(-1), lag_f * theta)


class LRULayer(nn.Module):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        d, h = cfg.dim, cfg.hidden
        nu_log = torch.log(-0.5 * torch.log(torch.rand(h) * (R_MAX ** 2 - R_MIN ** 2) + R_MIN ** 2))
        theta_log = torch.log(torch.rand(h) * 2 * math.pi)
        gamma_log = 0.5 * torch.log(1 - torch.exp(-2 * torch.exp(nu_log)))  # sqrt(1 - |lambda|^2)
        self.params_log = nn.Parameter(torch.stack([nu_log, theta_log, gamma_log]))  # [3, H]
        self.in_proj = nn.Linear(d, 2 * h)
        self.out_proj = nn.Linear(2 * h, d)
        self.dropout = nn.Dropout(cfg.dropout)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, L, D] -> [B, L, D]; with ``length``, the output at length - 1 only -> [B, 1, D]."""
        nu, theta, gamma = torch.exp(self.params_log)
        re, im = self.in_proj(x).chunk(2, dim=-1)
        u = torch.complex(re, im) * gamma  # [B, L, H]
        decay = decay_matrix(nu, theta, x.shape[1])
        if length is None:
            h = torch.einsum("tsh,bsh->bth", decay, u)
        else:  # the state at length - 1 only: sum_s lambda^(length-1-s) u_s
            h, x = torch.einsum("bsh,bsh->bh", decay[length - 1], u).unsqueeze(1), last_rows(x, length)
        return self.norm(x + self.dropout(self.out_proj(torch.cat([h.real, h.imag], dim=-1))))


class Block(nn.Module):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.lru = LRULayer(cfg)
        self.w_1, self.w_2 = nn.Linear(cfg.dim, FFN_FACTOR * cfg.dim), nn.Linear(FFN_FACTOR * cfg.dim, cfg.dim)
        self.norm = nn.LayerNorm(cfg.dim)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        y = self.lru(x, length)
        return self.norm(y + self.dropout(self.w_2(self.dropout(F.gelu(self.w_1(y))))))

    @staticmethod
    def ops(name: str, L: int, rows: int, dim: int, hidden: int) -> list[LayerOps]:
        """One inference: the LRU's input map and recurrence at L positions, the rest at ``rows`` positions."""
        lam_words = 2 * hidden  # lambda's real and imaginary parts (from nu, theta)
        return [dense_ops(f"{name}.lru.in_proj", L, dim, 2 * hidden),
                LayerOps(f"{name}.lru.gamma.pointwise", L * 2 * hidden, hidden, hidden * FLOAT32_BYTES,
                         L * 2 * hidden),
                LayerOps(f"{name}.lru.recurrence", (L - 1) * 4 * hidden, lam_words, lam_words * FLOAT32_BYTES,
                         (2 * L - 1) * 2 * hidden),  # reads u_t (L of them) and h_{t-1} (L - 1)
                dense_ops(f"{name}.lru.out_proj", rows, 2 * hidden, dim), norm_ops(f"{name}.lru.norm", rows, dim),
                dense_ops(f"{name}.ffn.w_1", rows, dim, FFN_FACTOR * dim),
                dense_ops(f"{name}.ffn.w_2", rows, FFN_FACTOR * dim, dim), norm_ops(f"{name}.ffn.norm", rows, dim)]


class LRURec(Baseline):
    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__(cfg)
        self.dropout = nn.Dropout(cfg.dropout)
        self.norm = nn.LayerNorm(cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "norm" not in name and "params_log" not in name:
                    nn.init.trunc_normal_(p, 0.0, INIT_STD, -2 * INIT_STD, 2 * INIT_STD)
            self.item_embedding.weight[0].zero_()

    def encode(self, history: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.dropout(self.item_embedding(history)))
        return self.run_blocks(x, length)[:, 0]

    def layer_ops(self) -> list[LayerOps]:
        c = self.cfg
        return (self.embedding_ops(with_positions=False) + [norm_ops("embedding.norm", c.max_len, c.dim)]
                + self.blocks_ops() + [self.readout_ops()])
