"""SSR, the spiking sequential recommender, as the authors' code builds it (see ../shared/notes/ssr-reference.md).

Layout: every activation is channels-last, [B, L, C] for real values and [T, B, L, C] for spikes, so BatchNorm runs
on a flat [rows, C] view (the same per-channel statistics as the reference's BatchNorm1d over [B, C, L], without
the transposes).

    embedding      e = E[item] + P[position]; BN(D); dropout                       real  [B, L, D]
    per block:
      FilterLayer  f = irfft(rfft(h, L, ortho) * W, ortho); dropout; BN(D)(f + h)  real  [B, L, D]
      Intermediate z = BN(4D)(dense_1(f))                                          real  [B, L, 4D]  (MACs)
                   s1 = LIF#1(z repeated over T)                                   spikes [T, B, L, 4D]
                   y = dropout(dense_2(s1)) + f                                    real  [T, B, L, D] (ACs)
                   s2 = LIF#2(BN(D)(y))  (statistics over T*B*L)                   spikes [T, B, L, D]
                   h = BN(D)(mean_T s2)                                            real  [B, L, D]
    readout        scores = h[:, length-1] . E^T  (tied item table, real-valued)   [B, N+1]

Differences from the paper's Algorithm 1 (kept to match the reference code, which the paper's numbers come from):
embeddings are real-valued, the DFT filter works on real values, the spiking neurons sit in each block's
feed-forward part, and "densify" is the mean over T followed by BatchNorm. Padding positions take part in the
filter and in BatchNorm statistics and the padding embedding row is trained, as in the reference.

Instrumentation: pass a :class:`~ssr_neuro.model.instrument.Recorder` to ``forward`` to record per inference each
LIF layer's firing rate and each layer's operation counts (of what eval-mode inference computes: the last
block's feed-forward part at the readout position only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssr_neuro.model.config import SSRConfig
from ssr_neuro.model.instrument import Recorder
from ssr_neuro.model.lif import LIFKernels, lif, lif_constant
from ssr_neuro.model.spike_linear import spike_linear


def _bn(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm1d over the last dimension of a channels-last tensor of any rank."""
    return bn(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def _dropout_mask(like: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted-dropout mask shaped like ``like``: keep (value 1/(1-p)) with probability 1-p, else 0.

    Two independent 15-bit uniform numbers, bits 0-14 and 16-30 (the int16 halves without their top bit), come
    from each draw of torch's generator (``random_`` on int32 gives 0..2^31-1): keep when u < round((1-p) 2^15), so
    the keep probability is 1-p to within 2^-16 (float32 ``rand < 1-p``: within 2^-24). Half the generator calls
    of ``rand_like``, which are most of its cost.
    """
    n = like.numel()
    bits = torch.empty((n + 1) // 2, dtype=torch.int32, device=like.device).random_().view(torch.int16)
    keep = bits.bitwise_and_(0x7FFF).lt_(round((1.0 - p) * 2**15))[:n]  # in place: int16 0/1
    return keep.view(like.shape).to(like.dtype).mul_(1.0 / (1.0 - p))


class Dropout(nn.Module):
    """Dropout with the mask of :func:`_dropout_mask` (the distribution of nn.Dropout, faster on CPU)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * _dropout_mask(x, self.p) if self.training and self.p > 0 else x

    def add(self, x: torch.Tensor, residual: torch.Tensor, mask_like: torch.Tensor | None = None) -> torch.Tensor:
        """residual + dropout(x) in one pass (addcmul); the mask has the shape of ``mask_like`` (default x) and
        broadcasts over x's leading dimensions (SSR shares one mask over the T steps)."""
        if not (self.training and self.p > 0):
            return x + residual
        return torch.addcmul(residual, x, _dropout_mask(x if mask_like is None else mask_like, self.p))


class FilterLayer(nn.Module):
    """Learnable frequency-domain filter along the sequence, per channel, with residual and BatchNorm."""

    def __init__(self, cfg: SSRConfig) -> None:
        super().__init__()
        self.max_len = cfg.max_len
        # complex weight (L//2+1, D) stored as real (..., 2), initialised randn * 0.02 as the reference
        self.weight = nn.Parameter(torch.randn(cfg.max_len // 2 + 1, cfg.dim, 2) * 0.02)
        self.dropout = Dropout(cfg.dropout)
        self.norm = nn.BatchNorm1d(cfg.dim)

    def filter(self, h: torch.Tensor) -> torch.Tensor:
        """The linear part: irfft(rfft(h) * W) along positions (dim 1) of h [B, L, D]."""
        spec = torch.fft.rfft(h, dim=1, norm="ortho") * torch.view_as_complex(self.weight)
        return torch.fft.irfft(spec, n=self.max_len, dim=1, norm="ortho")

    def circulant(self) -> torch.Tensor:
        """The filter as per-channel matrices C [D, L, L]: filter(h)[:, m, d] = sum_l C[d, m, l] h[:, l, d]."""
        eye = torch.eye(self.max_len, dtype=self.weight.dtype, device=self.weight.device)
        basis = eye.unsqueeze(-1).expand(self.max_len, self.max_len, self.weight.shape[1])  # [l, m, D]: e_l
        out = self.filter(basis)  # [l, m, D] = response at m to a unit input at l
        return out.permute(2, 1, 0).contiguous()

    def forward(self, h: torch.Tensor, rec: Recorder | None = None, name: str = "") -> torch.Tensor:
        out = _bn(self.norm, self.dropout.add(self.filter(h), h))
        if rec is not None:
            B, L, D = h.shape
            rec.ops(f"{name}.filter", "mac", L * L * D, batch=B)
        return out


class Intermediate(nn.Module):
    """Spiking feed-forward part: dense_1 -> BN -> LIF#1 (over T) -> dense_2 -> + input -> BN -> LIF#2 -> mean_T -> BN."""

    def __init__(self, cfg: SSRConfig) -> None:
        super().__init__()
        d, hidden = cfg.dim, 4 * cfg.dim
        self.cfg = cfg
        self.dense_1 = nn.Linear(d, hidden)
        self.norm_1 = nn.BatchNorm1d(hidden)
        self.dense_2 = nn.Linear(hidden, d)
        self.dropout = Dropout(cfg.dropout)
        self.norm_2 = nn.BatchNorm1d(d)  # before LIF#2, statistics over T*B*L
        self.norm_out = nn.BatchNorm1d(d)  # after the mean over T
        self.kernels = LIFKernels(compiled=False)  # SSR.use_compiled_kernels switches

    def forward(self, h: torch.Tensor, rec: Recorder | None = None, name: str = "") -> torch.Tensor:
        c = self.cfg
        z = _bn(self.norm_1, self.dense_1(h))  # [B, L, 4D], computed once (direct encoding)
        s1 = lif_constant(z, c.time_steps, c.tau, c.threshold, c.surrogate_alpha, self.kernels)  # [T, B, L, 4D]
        # dense_2 on spikes: sums of selected weight columns (spike_linear), one dropout mask shared over T
        y = self.dropout.add(spike_linear(s1, self.dense_2.weight, self.dense_2.bias), h, mask_like=h)  # [T, B, L, D]
        s2 = lif(_bn(self.norm_2, y), c.tau, c.threshold, c.surrogate_alpha, self.kernels)  # [T, B, L, D]
        out = _bn(self.norm_out, s2.mean(0))
        if rec is not None:
            B, L, D = h.shape
            hidden = z.shape[-1]
            rec.ops(f"{name}.dense_1", "mac", L * D * hidden, batch=B)
            rec.lif(f"{name}.lif_1", s1, neurons_per_step=L * hidden)
            rec.spike_ops(f"{name}.dense_2", s1, fan_out=D)
            rec.lif(f"{name}.lif_2", s2, neurons_per_step=L * D)
        return out


class SSR(nn.Module):
    """The SSR model. ``forward(history, length)`` -> final representation at the last real position [B, D]."""

    def __init__(self, cfg: SSRConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.item_embedding = nn.Embedding(cfg.n_items + 1, cfg.dim)  # row 0 = padding (trained, as reference)
        self.position_embedding = nn.Embedding(cfg.max_len, cfg.dim)
        self.norm = nn.BatchNorm1d(cfg.dim)
        self.dropout = Dropout(cfg.dropout)
        self.filters = nn.ModuleList(FilterLayer(cfg) for _ in range(cfg.n_blocks))
        self.intermediates = nn.ModuleList(Intermediate(cfg) for _ in range(cfg.n_blocks))
        self.register_buffer("positions", torch.arange(cfg.max_len), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reference initialisation: Linear/Embedding weights N(0, 0.02^2), biases 0, BatchNorm (1, 0)."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
            if isinstance(m, nn.BatchNorm1d):
                m.reset_parameters()

    def use_compiled_kernels(self, compiled: bool = True) -> bool:
        """Run the LIF neurons with kernels torch.compile'd for the device the model is on now (same spikes,
        faster); returns whether that worked. Call it again after moving the model to another device type."""
        kernels = LIFKernels(compiled=compiled, device=self.item_embedding.weight.device)
        for inter in self.intermediates:
            inter.kernels = kernels
        return kernels.compiled

    def _embed(self, history: torch.Tensor) -> torch.Tensor:
        if history.shape[1] != self.cfg.max_len:
            raise ValueError(f"history has {history.shape[1]} positions; the model expects L={self.cfg.max_len}")
        h = self.item_embedding(history) + self.position_embedding(self.positions)
        return self.dropout(_bn(self.norm, h))

    def encode(self, history: torch.Tensor, rec: Recorder | None = None,
               only: torch.Tensor | None = None) -> torch.Tensor:
        """history [B, L] item ids -> hidden states at every position [B, L, D].

        With ``only`` [B] (positions), the last block's feed-forward part, which works position by position, runs
        at those positions only and the result is [B, 1, D]; valid in eval mode, where BatchNorm uses running
        statistics, so the numbers there are the same.
        """
        h = self._embed(history)
        last = len(self.filters) - 1
        for i, (filt, inter) in enumerate(zip(self.filters, self.intermediates)):
            h = filt(h, rec, f"block{i}")
            if i == last and only is not None:
                h = h[torch.arange(h.shape[0], device=h.device), only].unsqueeze(1)
            h = inter(h, rec, f"block{i}")
        return h

    def forward(self, history: torch.Tensor, length: torch.Tensor, rec: Recorder | None = None) -> torch.Tensor:
        """history [B, L], length [B] (1..L) -> representation at position length-1 [B, D].

        Training computes every position (BatchNorm's batch statistics need them all); eval mode computes the
        last block's feed-forward part at position length-1 only: the same readout at about half the cost, and
        what a chip runs (the Recorder counts that).
        """
        if self.training:
            return self.encode(history, rec)[torch.arange(history.shape[0], device=history.device), length - 1]
        return self.encode(history, rec, only=length - 1)[:, 0]

    def scores(self, history: torch.Tensor, length: torch.Tensor, rec: Recorder | None = None) -> torch.Tensor:
        """Scores against the whole item table [B, N+1] (column 0 is padding; rankings ignore it)."""
        out = self(history, length, rec)
        if rec is not None:
            rec.ops("readout", "mac", self.cfg.dim * self.cfg.n_items, batch=out.shape[0])
        return out @ self.item_embedding.weight.t()

    def loss(self, history: torch.Tensor, length: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Full-softmax cross-entropy over all items (no negative sampling)."""
        return F.cross_entropy(self.scores(history, length), target)
