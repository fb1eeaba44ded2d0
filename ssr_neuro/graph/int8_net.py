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
             (stack and concat requantise each input to out_exp)
    mask     x [L, C] -> x with positions >= length set to 0
    wsum     a [L, 1], g [L, C] -> requant(sum_j a_j g_j) [C]             accumulator unit a_exp + g_exp

``run_net(net, history, length, exact=False)`` evaluates the same ops in float64 (weights and biases as given, no
rounding): what ``quantize_net`` calibrates each op's out_exp on (the largest |value| on calibration samples,
``exp_for``). ``op_counts`` gives each op's work per inference (the chip side prices it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.fixed import exp_for, round_shift, saturate, to_int

KINDS = ("embed", "linear", "readout", "lut", "mul", "add", "sub", "step", "last", "split", "zeros", "stack",
         "concat", "mask", "wsum")
FUNCTIONS = {"sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)), "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0)}
BITS = 8


@dataclass(frozen=True)
class Op:
    """One layer: ``kind`` (module docstring), ``inputs`` (op names or "history"), float ``weight`` / ``bias`` (or
    their int8 / int64 forms once quantised), ``param`` (t of step, (start, stop) of split, C of zeros, fn of lut),
    and the fixed point: ``w_exp``, ``out_exp``, ``table`` (a lut's 256 entries)."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    param: object = None
    w_exp: int = 0
    out_exp: int = 0
    table: np.ndarray | None = None


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
        exps[op.name] = op.w_exp if op.kind == "embed" else op.out_exp
        if op.kind in ("step", "last", "split", "mask"):
            exps[op.name] = es[0]
    return vals


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
        return np.stack(parts, axis=1) if k == "stack" else np.concatenate(parts, axis=-1)
    if k == "mask":
        keep = np.arange(xs[0].shape[1])[None, :] < length[:, None]
        return xs[0] * keep[..., None]
    if k == "wsum":
        acc = np.einsum("blo,blc->bc", xs[0], xs[1])
        return _requant(acc, es[0] + es[1], op) if exact else acc
    raise UserError(f"int8 net op {op.name}: unknown kind {k!r} (known: {', '.join(KINDS)})")


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
        if op.kind == "lut":
            grid = np.arange(-128, 128) * 2.0 ** in_exps[0]
            new = replace(new, table=to_int(FUNCTIONS[op.param](grid), new.out_exp, BITS))
        exps[op.name] = new.w_exp if op.kind == "embed" else (in_exps[0] if op.kind in ("step", "last", "split",
                                                                                         "mask") else new.out_exp)
        ops.append(new)
    return Int8Net(net.name, tuple(ops), quantized=True, meta=dict(net.meta))


@dataclass(frozen=True)
class OpCounts:
    """One op's work per inference of one history: ``macs``; ``weights`` read (int8, one byte each) and ``stored``
    (the array's size); ``updates``: activations it computes (one graded neuron update each, as SSR's Graded
    neurons); ``messages``: activations sent on to a consumer (one graded message each)."""

    name: str
    macs: int
    weights: int
    stored: int
    updates: int
    messages: int


def op_counts(net: Int8Net, max_len: int) -> list[OpCounts]:
    """Per-op work of one inference (module docstring of ``hardware.ann_chip`` prices it), from the ops' shapes on a
    full-length history (every step of a recurrence runs, as ``layer_ops`` counts it)."""
    history = np.ones((1, max_len), np.int64)
    vals = run_net(net, history, np.array([max_len]), exact=False)
    sizes = {name: int(v[0].size) for name, v in vals.items()}
    out = []
    for op in net.ops:
        n_out = sizes[op.name]
        n_in = sizes[op.inputs[0]] if op.inputs and op.inputs[0] != "history" else 0
        macs = {"linear": n_in * (op.weight.shape[0] if op.weight is not None else 0), "readout": n_out * n_in,
                "mul": n_out, "wsum": sizes[op.inputs[-1]] if op.kind == "wsum" else 0}.get(op.kind, 0)
        weights = 0 if op.weight is None else (n_out if op.kind == "embed" else int(op.weight.size))
        weights += 0 if op.bias is None else int(op.bias.size)
        stored = weights if op.kind != "embed" else int(op.weight.size)
        computes = op.kind in ("linear", "readout", "lut", "mul", "add", "sub", "wsum")
        out.append(OpCounts(op.name, macs, weights, stored, n_out if computes else 0,
                            n_out if computes and op.kind != "readout" else 0))
    return out
