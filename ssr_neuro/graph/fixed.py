"""Integer semantics of a quantised NeuroGraph: what the executor (``ssr_neuro.graph.execute``) computes, and what a
chip or Lava computes bit for bit, when ``graph.quantized`` is true. numpy only, never torch.

Numbers. A population's integer value y stands for y * 2**exp (units 2**exp). Spikes (ItemInput, LIF) are 0/1 with
exponent 0. A synapse layer's integer weight w stands for w * 2**w_exp (``WeightFixed``); on an edge into a LIF
population it stands for the real weight divided by tau (the quantiser folds 1/tau in, see below).

Exact integers in float64. Every function here takes and returns float64 arrays that hold integers (the executor
multiplies them with BLAS). That is exact while every value stays below 2**53: with weights of at most 16 bits,
activations of at most 24 bits, fan-in below 2**11 for graded sources (2**16 for spike sources) and T <= 8 steps,
the largest accumulator is below 2**50; ``ssr_neuro.graph.quantize`` checks the bound per edge. Divisions are by
powers of two only (exact in binary floating point), so floor/trunc after them are the integer shifts.

Edges. One edge's accumulator acc = W_int . x_int (summed over the source's window for a Graded/Readout target, one
step for a LIF target) is in units 2**(w_exp + x_exp); :func:`edge_input` moves it to the target's units
2**t_exp (Graded/Readout: ``fixed.exp``; LIF: ``fixed.in_exp``) with shift = t_exp - w_exp - x_exp:

    shift <= 0:  acc << -shift                                  (exact)
    shift  > 0:  (acc + 2**(shift-1)) >> shift  =  floor(acc / 2**shift + 1/2)    round half up (towards +inf)

Graded and Readout: y = sat_bits(bias + sum_edges edge_input), sat_b(x) = clip(x, -2**(b-1), 2**(b-1) - 1); a Readout's
scores are y * 2**exp (float64; column 0 is padding as in the float graph).

LIF, per step t (``LIFFixed``; the Lava ``fixed_pt`` / Loihi equations of ../shared/notes/lava.md):

    a_in = sat16(sum_edges edge_input)                                     units 2**in_exp (real x / tau)
    u    = wrap24(trunc0(u * (4096 - (du + 1))) + (a_in << 6))             wrap24(x) = x - 2**24 if x > 2**23,
                                                                           x + 2**24 if x <= -2**23 (as Lava)
    v    = clip(trunc0(v * (4096 - dv)) + u + (bias_mant << bias_exp), -(2**23 - 1), 2**23 - 1)
    s    = v > (vth << 6);   v = 0 where s                                 (u is not reset)
    trunc0(x) = sign(x) * (|x| >> 12)   (rounds towards zero)

With du = 4095 (no current memory) u = a_in << 6, and with dv = 4096 / tau the voltage is the float
v <- v (1 - 1/tau) + (x + bias) / tau in units 2**in_exp / 64, up to trunc0's rounding (under one unit per step).
The threshold is vth = threshold / 2**in_exp = 2**k exactly. Lava's test is strict (v > vth << 6) where the float
LIF's is v >= threshold: a potential that lands exactly on the threshold fires in float but not here, which is the
float rule with the threshold raised by one voltage unit (2**in_exp / 64 real); only such exact ties differ.
"""

from __future__ import annotations

import numpy as np

from ssr_neuro.errors import GraphError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, LIFFixed, NeuroGraph, Node, Readout, Synapse

DECAY_SHIFT = 12  # du, dv are 12-bit fractions of 4096
DECAY_UNITY = 1 << DECAY_SHIFT
ACT_SHIFT = 6  # a_in is MSB-aligned into the 24-bit current by << 6
VTH_SHIFT = 6  # and the 17-bit threshold into the 24-bit voltage
DU_BITS = DV_BITS = 12
VTH_BITS = 17
BIAS_MANT_BITS = 13  # signed
BIAS_EXP_BITS = 3  # unsigned: 0..7


# ------------------------------------------------------------------------------------------------ integer helpers

def int_range(bits: int) -> tuple[int, int]:
    """Range of a signed ``bits``-bit integer: (-2**(bits-1), 2**(bits-1) - 1)."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def saturate(x: np.ndarray, bits: int, out: np.ndarray | None = None) -> np.ndarray:
    """Clip integer values to the signed ``bits``-bit range (into ``out`` if given, e.g. ``x`` itself: large
    arrays such as a catalog's scores are then clipped in place, without temporaries)."""
    lo, hi = int_range(bits)
    out = np.maximum(x, lo, out=out)
    return np.minimum(out, hi, out=out)


def round_shift(acc: np.ndarray, shift: int) -> np.ndarray:
    """acc * 2**-shift as an integer: a left shift (exact) for shift <= 0, else (acc + 2**(shift-1)) >> shift.
    A new array; one pass with one temporary (the readout of a large catalog is memory-bound)."""
    acc = np.asarray(acc, dtype=np.float64)
    if shift <= 0:
        return acc * float(1 << -shift)
    out = acc * (1.0 / (1 << shift))
    out += 0.5
    return np.floor(out, out=out)


def decay(x: np.ndarray, keep: int) -> np.ndarray:
    """trunc0(x * keep) = sign(x * keep) * (|x * keep| >> 12) for a state x and keep = 4096 - (du + 1) or 4096 - dv.
    Computed as trunc(x * (keep / 4096)): the product of a 24-bit state and a 12-bit fraction is exact in float64."""
    return np.trunc(np.asarray(x, dtype=np.float64) * (keep / DECAY_UNITY))


def wrap_state(x: np.ndarray, bits: int) -> np.ndarray:
    """Lava's wrap of the current u: x - 2**bits where x > 2**(bits-1), x + 2**bits where x <= -2**(bits-1)."""
    half = float(1 << (bits - 1))
    return np.where(x > half, x - 2 * half, np.where(x <= -half, x + 2 * half, x))


def to_int(x: np.ndarray, exp: int, bits: int) -> np.ndarray:
    """Quantise real values to ``bits``-bit integers of unit 2**exp: round half to even, then saturate (int64)."""
    return saturate(np.rint(np.asarray(x, dtype=np.float64) * 2.0 ** -exp), bits).astype(np.int64)


def exp_for(max_abs: float, bits: int) -> int:
    """The smallest exponent e such that max_abs / 2**e fits a signed ``bits``-bit integer (max_abs 0 -> -bits)."""
    if not np.isfinite(max_abs):
        raise ValueError(f"cannot pick an exponent for a non-finite range {max_abs}")
    hi = int_range(bits)[1]
    if max_abs <= 0:
        return -bits
    e = int(np.ceil(np.log2(max_abs / hi)))
    while max_abs / 2.0 ** e > hi:  # guard log2's rounding at exact powers of two
        e += 1
    while max_abs / 2.0 ** (e - 1) <= hi:
        e -= 1
    return e


# ------------------------------------------------------------------------------------------------ units of nodes

def value_exp(node: Node) -> int:
    """Exponent of the values a node sends: 0 for spikes (ItemInput, LIF), ``fixed.exp`` for Graded."""
    if isinstance(node, (ItemInput, LIF)):
        return 0
    return _fixed(node).exp


def input_exp(node: Node) -> int:
    """Exponent of the units a node's input is summed in: ``fixed.in_exp`` (LIF) or ``fixed.exp`` (Graded, Readout)."""
    fx = _fixed(node)
    return fx.in_exp if isinstance(fx, LIFFixed) else fx.exp


def edge_shift(syn: Synapse, source: Node, target: Node) -> int:
    """Right shift that moves W_int . x_int (units 2**(w_exp + x_exp)) into the target's input units."""
    if syn.fixed is None:
        raise GraphError("synapse has no fixed-point weights; quantise the graph first (ssr_neuro.graph.quantize)")
    return input_exp(target) - syn.fixed.exp - value_exp(source)


def _fixed(node: Node):
    fx = getattr(node, "fixed", None)
    if fx is None:
        raise GraphError(f"{type(node).__name__} population has no fixed-point record; quantise the graph first")
    return fx


# ---------------------------------------------------------------------------------------- the executor's four calls

def edge_input(syn: Synapse, source: Node, target: Node, acc: np.ndarray) -> np.ndarray:
    """One edge's accumulated W_int . x_int (float64 holding integers) in the target's input units, rounded half up."""
    return round_shift(acc, edge_shift(syn, source, target))


def graded_output(node: Graded | Readout, total: np.ndarray) -> np.ndarray:
    """y = sat_bits(bias + total) for a Graded or Readout population; ``total`` is the sum of its edge inputs."""
    fx = _fixed(node)
    y = np.asarray(total, dtype=np.float64) + fx.bias
    return saturate(y, fx.bits, out=y)


def readout_scores(node: Readout, total: np.ndarray) -> np.ndarray:
    """Real-valued scores y * 2**exp of a Readout (y as in :func:`graded_output`): total [B, 1, N+1] -> [B, N+1]."""
    y = graded_output(node, total)
    y *= 2.0 ** _fixed(node).exp
    return y[:, 0]


def lif_run(fx: LIFFixed, a_in_per_step: np.ndarray, keep_state: bool = True
            ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The LIF equations over T steps: a_in [T, ...] (before sat16) -> spikes, u, v [T, ...] (state after each step,
    v after the reset; u and v None unless ``keep_state``), float64 holding integers; state starts at 0, bias_mant
    broadcasts against a_in[0]."""
    a_in = np.asarray(a_in_per_step, dtype=np.float64)
    lo, hi = int_range(fx.input_bits)
    half = 1 << (fx.state_bits - 1)
    bias = np.asarray(fx.bias_mant, dtype=np.float64) * float(1 << fx.bias_exp)
    vth = float(fx.vth << VTH_SHIFT)
    u_keep, v_keep = DECAY_UNITY - (fx.du + 1), DECAY_UNITY - fx.dv
    # with du = 4095 the decayed current is 0 and u = a_in << 6, which cannot wrap while a_in has <= 17 bits
    memory = u_keep != 0 or (hi << ACT_SHIFT) >= half
    shape = np.broadcast_shapes(a_in.shape[1:], bias.shape)
    u, v = np.zeros(shape), np.zeros(shape)
    spikes = np.empty((a_in.shape[0],) + shape)
    us, vs = (np.empty_like(spikes), np.empty_like(spikes)) if keep_state else (None, None)
    constant = a_in.shape[0] > 1 and a_in.strides[0] == 0  # a broadcast view over T: one drive for every step
    fired = np.empty(shape, bool)
    drive = u_bias = None
    for t in range(a_in.shape[0]):  # in place where it can be: the same operations as decay() and friends
        if drive is None or not constant:
            drive = np.clip(a_in[t], lo, hi)
            drive *= float(1 << ACT_SHIFT)
            u_bias = None
        u = wrap_state(decay(u, u_keep) + drive, fx.state_bits) if memory else drive
        if u_bias is None or memory:  # u + bias (integers: exact in any order), once while the drive holds
            u_bias = u + bias
        np.multiply(v, v_keep / DECAY_UNITY, out=v)  # v = decay(v, v_keep)
        np.trunc(v, out=v)
        v += u_bias
        np.clip(v, -(half - 1.0), half - 1.0, out=v)
        np.greater(v, vth, out=fired)
        np.copyto(v, 0.0, where=fired)
        spikes[t] = fired
        if keep_state:
            us[t], vs[t] = u, v
    return spikes, us, vs


def lif_spikes(node: LIF, a_in_per_step: np.ndarray) -> np.ndarray:
    """Spikes [T, ...] (float64 0/1) of a fixed-point LIF population driven by a_in [T, ...] (see :func:`lif_run`)."""
    return lif_run(_fixed(node), a_in_per_step, keep_state=False)[0]


# ------------------------------------------------------------------------------------------------ checking

def check_fixed(graph: NeuroGraph) -> None:
    """Raise GraphError naming the first weight, bias or LIF parameter outside its bit width."""
    for s, t, syn in graph.edges():
        fx = syn.fixed
        if fx is None:
            raise GraphError(f"synapse {s} -> {t} has no fixed-point weights; quantise the whole graph")
        _check_ints(f"synapse {s} -> {t} weight", fx.weight, *int_range(fx.bits))
    for name, node in graph.nodes():
        if isinstance(node, ItemInput):
            continue
        fx = _fixed(node)
        if isinstance(fx, LIFFixed):
            for what, value, lo, hi in (("du", fx.du, 0, (1 << DU_BITS) - 1), ("dv", fx.dv, 0, (1 << DV_BITS) - 1),
                                        ("vth", fx.vth, 0, (1 << VTH_BITS) - 1),
                                        ("bias_exp", fx.bias_exp, 0, (1 << BIAS_EXP_BITS) - 1)):
                _check_ints(f"node {name} {what}", np.asarray(value), lo, hi)
            _check_ints(f"node {name} bias_mant", fx.bias_mant, *int_range(BIAS_MANT_BITS))
        else:
            _check_ints(f"node {name} bias", fx.bias, *int_range(fx.bits))


def _check_ints(what: str, x: np.ndarray, lo: int, hi: int) -> None:
    x = np.asarray(x)
    if x.size and (np.any(x != np.round(x)) or x.min() < lo or x.max() > hi):
        raise GraphError(f"{what} is outside the integers {lo}..{hi}; re-quantise the graph with ssr_neuro's quantiser")
