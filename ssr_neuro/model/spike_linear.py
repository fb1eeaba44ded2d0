"""A Linear layer whose input is binary spikes, computed as sums of selected weight columns (no multiplications).

SSR's dense_2 takes the spikes of LIF#1 ([T, B, L, 4D], each 0 or 1, 4-14% of them 1). On a CPU the forward
product is done by table look-up instead of a dense matrix product:

    the K inputs of a row are cut into K/8 groups of 8 spikes; each group's 8 spikes are one byte p (0..255);
    table[g, p] = sum of the weight columns of group g whose bit is set in p  (K/8 * 256 rows of N, built once per
    call from the weight: 256 * K/8 * N additions, 0.5 M for K = 256, N = 64);
    out[r] = bias + sum_g table[g, p(r, g)]  (K/8 look-ups of N values per row, one ``embedding_bag`` call)

which is K/8 additions of a row of N per input row instead of K multiply-adds: 8x fewer operations with no
data-dependent branching, whatever the firing rate. The bias is folded into group 0's table rows.

The backward pass is the dense one: the gradient with respect to the spikes is ``grad @ W`` (dense: every neuron's
surrogate needs it) and the gradient with respect to the weight is ``grad^T @ spikes``. For that last product a
sparse form was measured (column-wise index lists of the spikes plus ``embedding_bag``): building the index lists
with ``masked_select``/``nonzero`` costs more than the dense product itself at these sizes, so it stays dense.

Results equal ``F.linear(spikes, weight, bias)`` up to float summation order (tested, gradients included). On
other devices than the CPU, or for inputs whose width is not a multiple of 8, the dense product is used.

Measured (ML-1M shapes, [T*B*L, 4D] = [10240, 256] -> 64, 1 thread, CPU time, best of 15): the dense forward
5.2 ms; this one 2.1 ms (packing 0.7, look-ups 1.2, table 0.14). A whole training step: 1.05x (ML-1M 64.9 ->
61.6 ms, ML-100K 67.6 -> 63.7 ms of CPU per batch of 128).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GROUP_BITS = 8


def _bit_table(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """[256, 8] with row p = the 8 bits of p (bit i = 2^i), as numbers of ``dtype``."""
    p = torch.arange(2**GROUP_BITS, device=device)
    return ((p[:, None] >> torch.arange(GROUP_BITS, device=device)) & 1).to(dtype)


def subset_sum_table(weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """weight [N, K] -> table [K/8 * 256, N]: row g*256 + p = sum of weight[:, 8g + i] over the bits i set in p
    (plus the bias in group 0's rows)."""
    n, k = weight.shape
    groups = weight.t().reshape(k // GROUP_BITS, GROUP_BITS, n)  # [G, 8, N]
    table = torch.matmul(_bit_table(weight.dtype, weight.device), groups)  # [G, 256, N]; 0/1 factors: exact sums
    if bias is not None:
        table[0] += bias
    return table.reshape(-1, n)


def pack_spikes(spikes: torch.Tensor) -> torch.Tensor:
    """spikes [R, K] of 0/1 -> look-up indices [R, K/8] (int32): g*256 + the byte of group g's 8 spikes."""
    r, k = spikes.shape
    weights = (2 ** torch.arange(GROUP_BITS, device=spikes.device)).to(spikes.dtype)
    byte = torch.matmul(spikes.reshape(r, k // GROUP_BITS, GROUP_BITS), weights)  # exact small integers
    offsets = torch.arange(0, (k // GROUP_BITS) * 2**GROUP_BITS, 2**GROUP_BITS, device=spikes.device,
                           dtype=torch.int32)
    return byte.to(torch.int32).add_(offsets)


class _SpikeLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, spikes, weight, bias):
        k = weight.shape[1]
        flat = spikes.reshape(-1, k)
        out = F.embedding_bag(pack_spikes(flat), subset_sum_table(weight, bias), mode="sum")
        ctx.save_for_backward(flat, weight)
        ctx.has_bias = bias is not None
        ctx.shape = spikes.shape
        return out.reshape(spikes.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad_out):
        flat, weight = ctx.saved_tensors
        grad = grad_out.reshape(-1, weight.shape[0])
        grad_spikes = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_spikes = (grad @ weight).reshape(ctx.shape)
        if ctx.needs_input_grad[1]:
            grad_weight = grad.t() @ flat
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0)
        return grad_spikes, grad_weight, grad_bias


def spike_linear(spikes: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear(spikes, weight, bias)`` for spikes of 0/1 [..., K], by table look-up on a CPU (see module doc)."""
    if spikes.device.type != "cpu" or weight.shape[1] % GROUP_BITS or spikes.numel() == 0:
        return F.linear(spikes, weight, bias)
    return _SpikeLinear.apply(spikes, weight, bias)
