"""An all-graded int8 layer list: how an ANN baseline runs on a chip in 8-bit fixed point. Torch-free (numpy only).

The model side compiles a baseline's torch weights into an :class:`Int8Net` of plain numpy arrays
(``ssr_neuro.baselines.int8``); the chip side runs and prices it (``hardware.ann_chip``). A net is a list of
:class:`Op`, each naming its inputs (earlier ops, or ``"history"``), evaluated in order over a batch [B].

Values: an activation is an int8 array (-127..127, saturating) of unit 2**out_exp; a weight array int8 of unit
2**w_exp (``to_int``: round half to even); a bias int64 in the accumulator's unit. Requantising an accumulator ``acc``
of unit 2**e to an op's unit 2**out_exp is ``saturate(round_shift(acc, out_exp - e), 8)`` (round half up,
``ssr_neuro.graph.fixed``). Ops (shapes per inference; ``B`` leading):

    embed    history [L] -> table[history] [L, D]                        (out unit = the table's)
    linear   x [..., I] -> requant(x W^T + b) [..., O]                    accumulator unit x_exp + w_exp
    readout  h [D] -> h E^T [N + 1]                                       int64 scores, unit h_exp + w_exp, no requant
    lut      x -> table[x + 128]: fn(x 2**x_exp) as int8 of unit 2**out_exp  (fn: "sigmoid", "tanh", "relu"; the
             fixed-point form of a nonlinearity is this 256-entry table)
    mul      a, b -> requant(a b)                                         accumulator unit a_exp + b_exp
             (mul, add, sub: a second operand of lower rank, [C], applies at every position of a [L, C])
    add/sub  a, b -> requant(a 2**(a_exp - m) +/- b 2**(b_exp - m))       m = min(a_exp, b_exp), exact alignment
    step     x [L, C] -> x[t] [C]          last  x [L, C] -> x[length - 1] [C]        split  x [..., start:stop]
    zeros    -> zeros [C]                  stack  x_0..x_{L-1} [C] -> [L, C]          concat  on the last axis
             (stack and concat requantise each input to out_exp; concat param "flat" flattens each input first)
    mask     x [L, C] -> x with positions >= length set to 0
    wsum     a [L, 1], g [L, C] -> requant(sum_j a_j g_j) [C]             accumulator unit a_exp + g_exp
    const    -> weight [...] (a fixed array, e.g. position embeddings)    (out unit = the array's, 2**w_exp)
    scale    x [..., C] -> requant(x * w + b) [..., C]                    (a diagonal linear map: LayerNorm's gain
                                                                           and bias) accumulator unit x_exp + w_exp
    matmul   a [..., K], b [N, K] -> requant(a b^T) [..., N]   (param "nt": attention logits)
             a [..., N], b [N, K] -> requant(a b) [..., K]     (param "nn": attention output); unit a_exp + b_exp
    filter   x [L, C], w [C, L] -> y[i, c] = requant(sum_j w[c, (i - j) mod L] x[j, c])   a circulant per channel
             (FMLP-Rec's rfft -> complex weights -> irfft along positions, which is exactly this circular
             convolution with the impulse response w); param "last": only the row i = length - 1, [C]
    conv     x [L, C] -> requant(W flat(x[i:i+h]) + b) [L - h + 1, O]     (param h; W [O, h C]) a 1-D convolution
    posmix   x [L, C] -> requant(sum_l W[o, l] x[l, c] + b[o]) [O, C]     (W [O, L]) the same map at every channel
    maxpool  x [M, C] -> max_i x[i] [C]                                   (out unit = input's)
    align    x [L, C] -> row j = x[j - (L - length)] for j >= L - length, else 0   (right-aligns the history)
    norm     x [..., D] -> z = (x - mean) / sqrt(var + eps) [..., D]      (LayerNorm before its gain and bias,
             param eps), in integers per row, x of unit 2**e:
               s = sum_i x_i,  c_i = D x_i - s,  q = sum_i c_i**2 + round_half_up(eps D**3 2**-2e)   (exact)
               (so that z_i = c_i sqrt(D / q)); q = m 4**k with m in [64, 256) (m = the leading bits of q,
               floor; q = 0 only where every c_i = 0, giving z = 0);  z_i = requant(c_i table[m]) from unit 2**(t - k),
               table[m] = sqrt(D / m) as int8 of unit 2**t  (t = table_exp[0]; entries m < 64 unused, 0)
    softmax  x [..., N] (logits, unit 2**e) -> p [..., N] over the allowed keys (param "causal": key j <= row i of
             x [L, L]; "length": key j < length), 0 elsewhere; in integers per row:
               d_j = max_allowed(x) - x_j (0..255),  E_j = table[0][d_j] = exp(-d_j 2**e) as int8 of unit 2**t_E,
               S = sum_allowed E_j = m 2**k with m in [128, 256) (leading bits, floor),
               p_j = E_j / S = requant(E_j table[1][m]) from unit 2**(t_R - k) (E's unit cancels),
               table[1][m] = 1 / m in unit 2**t_R
             (t_E, t_R = table_exp; table[1] entries m < 128 unused, 0)

``run_net(net, history, length, exact=False)`` evaluates the same ops in float64 (weights and biases as given, no
rounding): what ``quantize_net`` calibrates each op's out_exp on (the largest |value| on calibration samples,
``exp_for``). ``op_counts`` gives each op's work per inference (the chip side prices it); ``value_flows`` which
values each op makes and reads (the chip side packs ops onto cores by it, ``mapping.int8_pack``).

Nonlinearities (lut, norm's rsqrt, softmax's exp and reciprocal) are 256-entry int8 tables: every product is
accumulated exactly and requantised once (round half up, saturating); the tables are made once by ``quantize_net``
(``to_int``: round half to even) and read by index, as a chip's lookup memory would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import math

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.fixed import exp_for, round_shift, saturate, to_int

KINDS = ("embed", "linear", "readout", "lut", "mul", "add", "sub", "step", "last", "split", "zeros", "stack",
         "concat", "mask", "wsum", "const", "scale", "matmul", "filter", "conv", "posmix", "maxpool", "align", "norm",
         "softmax")
_erf = np.vectorize(math.erf, otypes=[np.float64])
FUNCTIONS = {"sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)), "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0),
             "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))}  # gelu: PyTorch's exact (erf) form
BITS = 8
TABLE = 256  # entries of every lookup table
SAME_UNIT = ("step", "last", "split", "mask", "maxpool", "align")  # out unit = the input's
NORM_LOW, SOFTMAX_LOW = 64, 128  # the leading-bits ranges [64, 256) (rsqrt, by powers of 4) and [128, 256) (1 / S)


@dataclass(frozen=True)
class Op:
    """One layer: ``kind`` (module docstring), ``inputs`` (op names or "history"), float ``weight`` / ``bias`` (or
    their int8 / int64 forms once quantised), ``param`` (t of step, (start, stop) of split, C of zeros, fn of lut,
    "nt"/"nn" of matmul, "all"/"last" of filter, h of conv, eps of norm, the mask of softmax, "flat" of concat),
    and the fixed point: ``w_exp``, ``out_exp``, ``table`` (a lut's 256 entries, norm's rsqrt table, softmax's
    [2, 256] exp and reciprocal tables) and ``table_exp`` (the units of norm's and softmax's tables)."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    param: object = None
    w_exp: int = 0
    out_exp: int = 0
    table: np.ndarray | None = None
    table_exp: tuple[int, ...] = ()


@dataclass(frozen=True)
class Int8Net:
    """A baseline as an int8 layer list; ``quantized`` once ``quantize_net`` has set the fixed point."""

    name: str
    ops: tuple[Op, ...]
    quantized: bool = False
    meta: dict = field(default_factory=dict)

    def op(self, name: str) -> Op:
        return next(o for o in self.ops if o.name == name)


def run_net(net: Int8Net, history: np.ndarray, length: np.ndarray, exact: bool = True) -> dict[str, np.ndarray]:
    """Every op's output [B, ...] for histories [B, L] (right-padded, 0 beyond ``length``): integers (``exact``,
    a quantised net) or float64 (``exact=False``). The last op's output is the scores."""
    if exact and not net.quantized:
        raise UserError(f"int8 net {net.name} is not quantised; run quantize_net on calibration samples first")
    history, length = np.asarray(history), np.asarray(length)
    vals: dict[str, np.ndarray] = {"history": history}
    exps: dict[str, int] = {}
    for op in net.ops:
        xs = [vals[i] for i in op.inputs]
        es = [exps.get(i, 0) for i in op.inputs]
        vals[op.name] = _eval(op, xs, es, history, length, exact)
        exps[op.name] = _out_exp(op, es)
    return vals


def _out_exp(op: Op, in_exps: list[int]) -> int:
    """The unit (exponent) of an op's output: a table's (embed, const), the input's (SAME_UNIT) or its out_exp."""
    if op.kind in ("embed", "const"):
        return op.w_exp
    return in_exps[0] if op.kind in SAME_UNIT else op.out_exp


def round_shift_rows(acc: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``round_shift`` with a shift per element (broadcast), in int64: acc << -s for s <= 0, else
    (acc + 2**(s-1)) >> s (round half up)."""
    acc, shift = np.broadcast_arrays(np.asarray(acc, np.int64), np.asarray(shift, np.int64))
    up = np.maximum(shift, 0)
    right = (acc + np.where(up > 0, np.left_shift(1, np.maximum(up - 1, 0)), 0)) >> up
    return np.where(shift > 0, right, acc << np.maximum(-shift, 0))


def leading_bits(q: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """q >= 1 (int64) as m 2**(step k) with m in [2**(8 - step), 256), m = floor(q 2**(-step k)) (the leading bits
    of q, by whole steps): (m, k). q = 0 is taken as 1."""
    q = np.maximum(np.asarray(q, np.int64), 1)
    bits = np.frexp(q.astype(np.float64))[1]  # bit length of q (exact below 2**53)
    k = (bits - 9 + step) // step
    return round_down_shift(q, step * k), k


def round_down_shift(q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """floor(q 2**-s) in int64, per element (s < 0: an exact left shift)."""
    return np.where(s >= 0, q >> np.maximum(s, 0), q << np.maximum(-s, 0))


def causal_or_length(mask: str, shape: tuple, length: np.ndarray) -> np.ndarray:
    """Which keys a softmax row may use, [B, ..., N] bool: "causal" (x [B, L, L]: key j <= row i) or "length"
    (key j < length)."""
    n = shape[-1]
    if mask == "causal":
        return np.broadcast_to(np.tri(shape[-2], n, dtype=bool), shape)
    keep = np.arange(n) < np.asarray(length)[:, None]
    return np.broadcast_to(keep.reshape((len(keep),) + (1,) * (len(shape) - 2) + (n,)), shape)


def _requant(acc: np.ndarray, acc_exp: int, op: Op) -> np.ndarray:
    return saturate(round_shift(acc, op.out_exp - acc_exp), BITS).astype(np.int64)


def _eval(op: Op, xs: list, es: list, history: np.ndarray, length: np.ndarray, exact: bool) -> np.ndarray:
    k = op.kind
    B = history.shape[0]
    if k == "embed":
        return op.weight[history]
    if k in ("linear", "readout"):
        acc = xs[0] @ op.weight.T.astype(np.int64 if exact else np.float64)
        if op.bias is not None:
            acc = acc + op.bias
        if not exact or k == "readout":
            return acc
        return _requant(acc, es[0] + op.w_exp, op)
    if k == "lut":
        return op.table[xs[0] + 128] if exact else FUNCTIONS[op.param](xs[0])
    if k in ("mul", "add", "sub") and xs[1].ndim < xs[0].ndim:
        xs = [xs[0], xs[1][:, None]]  # a lower-rank second operand applies at every position of the first
    if k == "mul":
        return _requant(xs[0] * xs[1], es[0] + es[1], op) if exact else xs[0] * xs[1]
    if k in ("add", "sub"):
        sign = 1 if k == "add" else -1
        if not exact:
            return xs[0] + sign * xs[1]
        m = min(es)
        return _requant(xs[0] * 2 ** (es[0] - m) + sign * xs[1] * 2 ** (es[1] - m), m, op)
    if k == "step":
        return xs[0][:, op.param]
    if k == "last":
        return xs[0][np.arange(B), length - 1]
    if k == "split":
        return xs[0][..., op.param[0]:op.param[1]]
    if k == "zeros":
        return np.zeros((B, op.param), np.int64 if exact else np.float64)
    if k in ("stack", "concat"):
        parts = [_requant(x, e, op) if exact else x for x, e in zip(xs, es)]
        if op.param == "flat":
            parts = [x.reshape(B, -1) for x in parts]
        return np.stack(parts, axis=1) if k == "stack" else np.concatenate(parts, axis=-1)
    if k == "mask":
        keep = np.arange(xs[0].shape[1])[None, :] < length[:, None]
        return xs[0] * keep[..., None]
    if k == "wsum":
        acc = np.einsum("blo,blc->bc", xs[0], xs[1])
        return _requant(acc, es[0] + es[1], op) if exact else acc
    if k == "const":
        return np.broadcast_to(op.weight, (B, *op.weight.shape))
    if k in ("scale", "filter", "conv", "posmix"):
        w = op.weight.astype(np.int64 if exact else np.float64)
        if k == "scale":
            acc = xs[0] * w
        elif k == "filter":
            acc = _circulant(xs[0], w, op.param, length)
        elif k == "conv":
            h, L = op.param, xs[0].shape[1]
            windows = np.stack([xs[0][:, i:i + h].reshape(B, -1) for i in range(L - h + 1)], axis=1)
            acc = windows @ w.T
        else:
            acc = np.einsum("ol,blc->boc", w, xs[0])
        if op.bias is not None:
            acc = acc + (op.bias[:, None] if k == "posmix" else op.bias)
        return _requant(acc, es[0] + op.w_exp, op) if exact else acc
    if k == "matmul":
        pattern = "b...k,bnk->b...n" if op.param == "nt" else "b...n,bnk->b...k"
        acc = np.einsum(pattern, xs[0], xs[1])
        return _requant(acc, es[0] + es[1], op) if exact else acc
    if k == "maxpool":
        return xs[0].max(axis=1)
    if k == "align":
        L = xs[0].shape[1]
        source = np.arange(L)[None, :] - (L - length)[:, None]
        rows = np.take_along_axis(xs[0], np.maximum(source, 0)[..., None], axis=1)
        return rows * (source >= 0)[..., None]
    if k == "norm":
        return _norm(op, xs[0], es[0], exact)
    if k == "softmax":
        return _softmax(op, xs[0], es[0], length, exact)
    raise UserError(f"int8 net op {op.name}: unknown kind {k!r} (known: {', '.join(KINDS)})")


def _circulant(x: np.ndarray, w: np.ndarray, rows: str, length: np.ndarray) -> np.ndarray:
    """sum_j w[c, (i - j) mod L] x[j, c] for every row i [B, L, C], or for i = length - 1 only [B, C]."""
    L = x.shape[1]
    if rows == "last":
        taps = w[:, (np.asarray(length)[:, None] - 1 - np.arange(L)[None, :]) % L]  # [C, B, L]
        return np.einsum("cbj,bjc->bc", taps, x)
    taps = w[:, (np.arange(L)[:, None] - np.arange(L)[None, :]) % L]  # [C, L, L]
    return np.einsum("cij,bjc->bic", taps, x)


def _norm(op: Op, x: np.ndarray, x_exp: int, exact: bool) -> np.ndarray:
    """LayerNorm's (x - mean) / sqrt(var + eps) over the last axis (module docstring: norm)."""
    D = x.shape[-1]
    if not exact:
        c = x - x.mean(axis=-1, keepdims=True)
        return c / np.sqrt((c * c).mean(axis=-1, keepdims=True) + op.param)
    c = D * x - x.sum(axis=-1, keepdims=True)
    eps = int(np.floor(op.param * D ** 3 * 2.0 ** (-2 * x_exp) + 0.5))
    q = (c * c).sum(axis=-1, keepdims=True) + eps
    m, k = leading_bits(q, 2)
    z = round_shift_rows(c * op.table[m], op.out_exp - op.table_exp[0] + k)  # q = 0 only where every c_i = 0
    return saturate(z, BITS).astype(np.int64)


def _softmax(op: Op, x: np.ndarray, x_exp: int, length: np.ndarray, exact: bool) -> np.ndarray:
    """Softmax over the allowed keys of the last axis (module docstring: softmax)."""
    allowed = causal_or_length(op.param, x.shape, length)
    if not exact:
        e = np.exp(np.where(allowed, x - np.where(allowed, x, -np.inf).max(axis=-1, keepdims=True), -np.inf))
        return e / e.sum(axis=-1, keepdims=True)
    top = np.where(allowed, x, -(1 << 20)).max(axis=-1, keepdims=True)
    e = np.where(allowed, op.table[0][np.clip(top - x, 0, TABLE - 1)], 0)
    m, k = leading_bits(e.sum(axis=-1, keepdims=True), 1)
    p = round_shift_rows(e * op.table[1][m], op.out_exp - op.table_exp[1] + k)  # E_j / S: units cancel
    return saturate(p, BITS).astype(np.int64)


def tables_for(op: Op, in_exp: int, dim: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """The int8 tables of a lut, norm or softmax op whose input has unit 2**in_exp (last axis ``dim``), and their
    units (module docstring)."""
    index = np.arange(TABLE, dtype=np.float64)
    if op.kind == "lut":
        return to_int(FUNCTIONS[op.param](np.arange(-128, 128) * 2.0 ** in_exp), op.out_exp, BITS), ()
    if op.kind == "norm":
        t = exp_for(math.sqrt(dim / NORM_LOW), BITS)
        live = index >= NORM_LOW
        return np.where(live, to_int(np.sqrt(dim / np.maximum(index, 1)), t, BITS), 0), (t,)
    t_e, t_r = exp_for(1.0, BITS), exp_for(1.0 / SOFTMAX_LOW, BITS)
    recip = np.where(index >= SOFTMAX_LOW, to_int(1.0 / np.maximum(index, 1), t_r, BITS), 0)
    return np.stack([to_int(np.exp(-index * 2.0 ** in_exp), t_e, BITS), recip]), (t_e, t_r)


def quantize_net(net: Int8Net, history: np.ndarray, length: np.ndarray) -> Int8Net:
    """The net with int8 weights (one power-of-two exponent per array), int64 biases in their accumulator's unit,
    each op's out_exp from its largest |value| on the calibration samples (float run), and the lut tables."""
    floats = run_net(net, history, length, exact=False)
    out_exp = {op.name: exp_for(float(np.max(np.abs(floats[op.name]), initial=0.0)), BITS) for op in net.ops}
    ops: list[Op] = []
    exps: dict[str, int] = {}
    for op in net.ops:
        in_exps = [exps.get(i, 0) for i in op.inputs]
        new = replace(op, out_exp=out_exp[op.name])
        if op.weight is not None:
            w_exp = exp_for(float(np.max(np.abs(op.weight), initial=0.0)), BITS)
            bias = None if op.bias is None else to_int(op.bias, in_exps[0] + w_exp, 32)
            new = replace(new, weight=to_int(op.weight, w_exp, BITS), w_exp=w_exp, bias=bias)
        if op.kind in ("lut", "norm", "softmax"):
            table, table_exp = tables_for(new, in_exps[0], floats[op.inputs[0]].shape[-1])
            new = replace(new, table=table, table_exp=table_exp)
        exps[op.name] = _out_exp(new, in_exps)
        ops.append(new)
    return Int8Net(net.name, tuple(ops), quantized=True, meta=dict(net.meta))


@dataclass(frozen=True)
class OpCounts:
    """One op's work per inference of one history: ``macs``; ``weights`` read (int8, one byte each: weights,
    biases, and the table entries a lut, norm or softmax reads) and ``stored`` (the arrays' size, tables included);
    ``updates``: activations it computes (one graded neuron update each, as SSR's Graded neurons); ``messages``:
    activations sent on to a consumer (one graded message each)."""

    name: str
    macs: int
    weights: int
    stored: int
    updates: int
    messages: int


COMPUTES = ("linear", "readout", "lut", "mul", "add", "sub", "wsum", "scale", "matmul", "filter", "conv", "posmix",
            "maxpool", "norm", "softmax")


def _macs(op: Op, n_in: int, n_out: int, first: tuple, shapes: dict, max_len: int) -> int:
    """MACs of one op per inference (``op_counts``)."""
    k = op.kind
    if k in ("linear", "conv"):  # inputs of each output's window x outputs
        return n_in * op.weight.shape[0] if k == "linear" else n_out * op.weight.shape[1]
    if k == "readout":
        return n_out * n_in
    if k in ("posmix", "filter"):
        return n_out * max_len
    if k == "matmul":
        return n_out * (first[-1] if op.param == "nt" else shapes[op.inputs[-1]][-2])
    if k == "wsum":
        return int(np.prod(shapes[op.inputs[-1]]))
    return {"mul": n_out, "scale": n_out, "norm": 3 * n_out, "softmax": 2 * n_out}.get(k, 0)


def op_counts(net: Int8Net, max_len: int) -> list[OpCounts]:
    """Per-op work of one inference (module docstring of ``hardware.ann_chip`` prices it), from the ops' shapes on a
    full-length history (every step of a recurrence runs, as ``layer_ops`` counts it). MACs per kind: linear and
    conv: inputs of each output's window x outputs; readout, posmix, filter: outputs x their fan-in (D, L, L);
    matmul: outputs x the contracted size; mul, scale: one per output; wsum: one per input element; norm: 3 per
    element (the sum, the sum of squares, the scaling by the table's rsqrt); softmax: 2 per element (the sum of the
    exponentials, the scaling by the table's reciprocal). Table reads: lut one per output, norm one per row,
    softmax one per element and one per row. max-pooling's comparisons and data moves (embed, step, last, split,
    align, ...) are not MACs."""
    history = np.ones((1, max_len), np.int64)
    vals = run_net(net, history, np.array([max_len]), exact=False)
    shapes = {name: v.shape[1:] for name, v in vals.items()}
    sizes = {name: int(np.prod(shape)) for name, shape in shapes.items()}
    out = []
    for op in net.ops:
        k, n_out = op.kind, sizes[op.name]
        first = shapes[op.inputs[0]] if op.inputs else ()
        n_in = sizes[op.inputs[0]] if op.inputs and op.inputs[0] != "history" else 0
        rows = n_out // first[-1] if k in ("norm", "softmax") else 0
        macs = _macs(op, n_in, n_out, first, shapes, max_len)
        weights = 0 if op.weight is None else (n_out if k == "embed" else int(op.weight.size))
        weights += 0 if op.bias is None else int(op.bias.size)
        stored = weights if k != "embed" else int(op.weight.size)
        table = {"lut": n_out, "norm": rows, "softmax": n_out + rows}.get(k, 0)
        stored += TABLE * (2 if k == "softmax" else 1) if table else 0
        computes = k in COMPUTES
        out.append(OpCounts(op.name, macs, weights + table, stored, n_out if computes else 0,
                            n_out if computes and k != "readout" else 0))
    return out


MOVES = ("step", "last", "split", "zeros", "stack", "concat", "mask", "align")  # data moves: no work of their own
ROW_LOCAL = ("linear", "lut", "add", "sub", "mul", "scale", "norm", "softmax", "matmul")  # row i from input rows i


@dataclass(frozen=True)
class ValueFlow:
    """The values one op makes and reads in one inference, as ids (1, 2, ... over the whole net, in op order):
    ``makes`` its output values, row-major (none for a data move, ``MOVES``: its output is values other ops made);
    ``reads`` the distinct values it reads, traced through data moves (an op reading a split of x reads those
    values of x; the history's item ids and zeros are no values: an embed reads none). For an op whose output has
    rows (positions, [R, ...]) computed each from the same row of its inputs (``ROW_LOCAL``; a matmul's first
    input only), ``rows[i]`` are the values output row i reads from those inputs and ``shared`` what every row reads
    (the other inputs); else ``rows`` is empty and ``shared`` = ``reads``. ``channels``: the last axis of its
    output (value r is channel r mod channels)."""

    name: str
    makes: np.ndarray
    reads: np.ndarray
    rows: tuple[np.ndarray, ...] = ()
    shared: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    channels: int = 1


def _ids(xs: list[np.ndarray]) -> np.ndarray:
    """The distinct value ids (> 0) of some id arrays, int64."""
    u = np.unique(np.concatenate([x.ravel() for x in xs])) if xs else np.zeros(0)
    return u[u > 0].astype(np.int64)


def value_flows(net: Int8Net, max_len: int) -> list[ValueFlow]:
    """Each op's ``ValueFlow`` on a full-length history (every step of a recurrence runs, as ``op_counts``)."""
    history, length = np.ones((1, max_len), np.int64), np.array([max_len])
    shapes = {name: v.shape for name, v in run_net(net, history, length, exact=False).items()}
    ids: dict[str, np.ndarray] = {"history": np.zeros((1, max_len))}  # float ids (exact below 2**53); 0: no value
    made = 0
    out = []
    for op in net.ops:
        xs = [ids[i] for i in op.inputs]
        if op.kind in MOVES:
            ids[op.name] = _eval(op, xs, [0] * len(xs), history, length, exact=False)
            out.append(ValueFlow(op.name, np.zeros(0, np.int64), np.zeros(0, np.int64)))
            continue
        shape = shapes[op.name]
        n = int(np.prod(shape[1:]))
        ids[op.name] = np.arange(made + 1, made + n + 1, dtype=np.float64).reshape(shape)
        made += n
        by_row = [j for j, x in enumerate(xs) if op.kind in ROW_LOCAL and len(shape) > 2
                  and (op.kind != "matmul" or j == 0) and x.shape[1:-1] == shape[1:-1]]
        rest = [x for j, x in enumerate(xs) if j not in by_row]
        rows = tuple(_ids([xs[j][:, i] for j in by_row]) for i in range(shape[1])) if by_row else ()
        out.append(ValueFlow(op.name, ids[op.name].ravel().astype(np.int64), _ids(xs), rows, _ids(rest),
                             int(shape[-1]) if len(shape) > 1 else 1))
    return out
