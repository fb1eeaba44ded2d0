"""Post-training quantisation of a float NeuroGraph into the fixed point of ``ssr_neuro.graph.fixed`` (numpy only).

:func:`quantize` returns a new graph: every Synapse keeps its float ``weight`` (for reference) and gains ``fixed``;
every population gains its fixed-point record. The choices, with real value = integer * 2**exp:

- Weights: signed ``weight_bits`` integers with one power-of-two exponent per layer. ``weight_clip="mse"`` (default)
  tries the max-abs exponent e0 (nothing clipped) and e0-1, e0-2 (the largest weights saturate, the rest get 2x/4x
  the resolution) and keeps the one with the least squared error over the layer; ``"max"`` keeps e0. On an edge into
  a LIF population the quantised weight is W * c / tau (1/tau and the threshold scale c folded in, see below).
- Graded and Readout populations: signed M-bit values with one exponent per population, the smallest that holds the
  ``percentile`` (default 100: the maximum) of |value| seen when the float graph runs on the calibration histories
  (values beyond saturate). The Readout holds ``READOUT_HEADROOM`` times that: a saturated score ties with the top
  ones, the worst error a ranking can have. M = ``activation_bits`` except for the Readout, which gets at least
  ``READOUT_BITS``, and except where ``activation_bits_overrides`` (population name -> bits) says otherwise.
  Measured on ML-1M (20,000 validation samples, HR@10 relative to the float graph): all 8-bit -6.7%, readout alone at
  8 bits -7.9%, embedding alone at 8 bits -0.05% (noise): coarse scores tie in the ranking, so only the readout
  needs 16 bits. Biases are integers in the population's units.
- LIF populations (Lava's fixed-point neuron, ``LIFFixed``): du = 4095 (u = a_in << 6, no current memory),
  dv = round(4096 / tau), vth = 2**k and in_exp = -k, so one a_in unit is 2**-k of the threshold. Thresholds that
  are not powers of two are handled by scaling the neuron's input and bias by c = 2**ceil(log2 threshold) /
  threshold (spikes of a LIF with reset to 0 do not change when input, bias and threshold scale together), so the
  threshold becomes 2**ceil(log2 threshold); c = 1 for SSR's threshold 1.0 and then ``LIFFixed``'s docstring holds
  as written. k is the largest value (at most 16: vth has 17 bits) such that the ``percentile`` of |c x / tau| over
  the calibration run fits the 16-bit a_in and the largest |c bias / tau| fits bias_mant (13 bits) << bias_exp (7).
  bias_exp is the smallest exponent that holds the largest bias mantissa.

``graph.meta["quantization"]`` records every choice: bits and exponent per layer and population, the clipped
fraction of each layer's weights, each population's calibrated range and maximum, each LIF's k, dv and bias_exp,
and the calibration (sample count, percentile, a SHA-256 of the histories and lengths). The same graph and
calibration always give the same quantised graph.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.execute import trace
from ssr_neuro.graph.fixed import (
    BIAS_EXP_BITS, BIAS_MANT_BITS, DECAY_UNITY, DU_BITS, VTH_BITS, edge_shift, exp_for, int_range, to_int,
)
from ssr_neuro.graph.ir import LIF, Graded, GradedFixed, ItemInput, LIFFixed, NeuroGraph, Readout, Synapse, WeightFixed

READOUT_BITS = 16
READOUT_HEADROOM = 2.0
A_IN_BITS = 16
EXACT_BITS = 53  # float64 holds every integer below 2**53
WEIGHT_CLIPS = ("mse", "max")


@dataclass(frozen=True)
class QuantConfig:
    """Bit widths and calibration rule of one quantisation."""

    weight_bits: int = 8
    activation_bits: int = 8
    activation_bits_overrides: dict[str, int] = field(default_factory=dict)
    percentile: float = 100.0
    weight_clip: str = "mse"
    batch_size: int = 256


# ------------------------------------------------------------------------------------------------ calibration

def calibrate(graph: NeuroGraph, history: np.ndarray, length: np.ndarray, percentile: float,
              batch_size: int = 256) -> dict[str, tuple[float, float]]:
    """Run the float graph on the calibration histories; per population the ``percentile`` and the maximum of
    |value|: the output of Graded and Readout populations, the per-step input x / tau (without bias) of LIF ones.
    Below percentile 100 every value is kept (float32); at 100 only each batch's maximum (float64)."""
    seen: dict[str, list[np.ndarray]] = {name: [] for name, node in graph.nodes() if not isinstance(node, ItemInput)}

    def keep(name: str, values: np.ndarray) -> None:
        values = np.abs(values).ravel()
        seen[name].append(values.astype(np.float32) if percentile < 100 else values.max(initial=0.0, keepdims=True))

    for batch in trace(graph, history, length, batch_size):  # graph is float: the float arithmetic
        for name, total in batch.inputs.items():
            node = graph.node(name)
            # LIF: the per-step input x / tau (without bias); Graded and Readout: the output value
            keep(name, total / node.tau if isinstance(node, LIF) else batch.outputs[name])
    out = {}
    for name, parts in seen.items():
        values = np.concatenate(parts)
        out[name] = (float(np.percentile(values, percentile)), float(values.max()))
    return out


def calibration_digest(history: np.ndarray, length: np.ndarray) -> str:
    """SHA-256 of the calibration histories and lengths (int64, C order): names the data a quantisation used."""
    h = hashlib.sha256()
    for a in (history, length):
        h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------ weights

def quantize_weight(weight: np.ndarray, bits: int, clip: str) -> tuple[WeightFixed, dict]:
    """Signed ``bits``-bit integers with one power-of-two exponent (see the module docstring for ``clip``)."""
    w = np.asarray(weight, dtype=np.float64)
    e0 = exp_for(float(np.max(np.abs(w), initial=0.0)), bits)
    candidates = (e0,) if clip == "max" else (e0, e0 - 1, e0 - 2)
    errors = [float(np.sum((to_int(w, e, bits) * 2.0 ** e - w) ** 2)) for e in candidates]
    exp = candidates[int(np.argmin(errors))]
    q = to_int(w, exp, bits)
    lo, hi = int_range(bits)
    report = {"bits": bits, "exp": exp, "max_abs_exp": e0,
              "clipped": float(np.mean((q == lo) | (q == hi))) if exp < e0 else 0.0,
              "rms_error": float(np.sqrt(min(errors) / max(w.size, 1)))}
    return WeightFixed(weight=q, exp=exp, bits=bits), report


# ------------------------------------------------------------------------------------------------ populations

def threshold_scale(threshold: float) -> float:
    """c = 2**ceil(log2 threshold) / threshold >= 1: the factor that makes a LIF's threshold a power of two."""
    if not threshold > 0 or not np.isfinite(threshold):
        raise UserError(f"a LIF threshold must be a positive number to quantise (got {threshold}); retrain with "
                        "--threshold > 0")
    return 2.0 ** np.ceil(np.log2(threshold)) / threshold


def lif_fixed(node: LIF, input_range: float) -> tuple[LIFFixed, dict]:
    """The Lava parameters of a LIF population whose scaled per-step input c x / tau reaches ``input_range``."""
    c = threshold_scale(node.threshold)
    dv = int(round(DECAY_UNITY / node.tau))
    if node.tau < 1 or dv < 1:
        raise UserError(f"LIF tau must lie in 1..4096 to quantise (got {node.tau})")
    bias = np.asarray(node.bias, dtype=np.float64) * c / node.tau  # real units of the threshold-scaled input
    a_max = int_range(A_IN_BITS)[1]
    mant_max = int_range(BIAS_MANT_BITS)[1] << ((1 << BIAS_EXP_BITS) - 1)  # largest bias_mant << bias_exp
    top = 2.0 ** np.ceil(np.log2(node.threshold))  # the scaled threshold, 2**t
    t = int(np.log2(top))
    k = VTH_BITS - 1  # vth = 2**k <= 2**16
    bias_max = float(np.max(np.abs(bias), initial=0.0))
    while k > 0 and (input_range / top * 2 ** k > a_max or bias_max / top * 2 ** (k + 6) > mant_max):
        k -= 1
    in_exp = t - k
    bias_v = bias * 2.0 ** (6 - in_exp)  # in voltage units 2**in_exp / 64
    bias_exp = 0
    while bias_exp < (1 << BIAS_EXP_BITS) - 1 and np.max(np.abs(np.rint(bias_v / 2 ** bias_exp)), initial=0) > \
            int_range(BIAS_MANT_BITS)[1]:
        bias_exp += 1
    mant = to_int(bias_v, bias_exp, BIAS_MANT_BITS)
    fx = LIFFixed(du=(1 << DU_BITS) - 1, dv=dv, vth=1 << k, bias_mant=mant, bias_exp=bias_exp, in_exp=in_exp,
                  input_bits=A_IN_BITS)
    report = {"k": k, "in_exp": in_exp, "vth": 1 << k, "dv": dv, "du": fx.du, "bias_exp": bias_exp,
              "threshold_scale": c, "input_range": input_range,
              "bias_rms_error": float(np.sqrt(np.mean((mant * 2.0 ** (bias_exp + in_exp - 6) - bias) ** 2)))}
    return fx, report


def graded_fixed(node: Graded | Readout, bits: int, value_range: float) -> tuple[GradedFixed, dict]:
    """M-bit fixed point for a graded population whose calibrated |value| reaches ``value_range``."""
    exp = exp_for(value_range, bits)
    bias = to_int(node.bias, exp, bits)
    return GradedFixed(bits=bits, exp=exp, bias=bias), {"bits": bits, "exp": exp, "range": value_range}


def default_bits(graph: NeuroGraph, activation_bits: int) -> dict[str, int]:
    """Activation bits per Graded/Readout population before user overrides (see the module docstring)."""
    return {name: max(activation_bits, READOUT_BITS) if isinstance(node, Readout) else activation_bits
            for name, node in graph.nodes() if isinstance(node, (Graded, Readout))}


# ------------------------------------------------------------------------------------------------ the graph

def quantize(graph: NeuroGraph, calibration: tuple[np.ndarray, np.ndarray], weight_bits: int = 8,
             activation_bits: int = 8, activation_bits_overrides: dict[str, int] | None = None, *,
             percentile: float = 100.0, weight_clip: str = "mse", batch_size: int = 256) -> NeuroGraph:
    """A fixed-point copy of a float graph, calibrated on ``calibration`` = (histories [B, L], lengths [B])."""
    cfg = QuantConfig(weight_bits, activation_bits, dict(activation_bits_overrides or {}), percentile, weight_clip,
                      batch_size)
    graph.validate()
    bits = _check_config(graph, cfg)
    history, length = (np.asarray(a, dtype=np.int64) for a in calibration)
    if history.ndim != 2 or history.shape[0] == 0:
        raise UserError(f"calibration histories must be a non-empty [B, L] array (got shape {history.shape})")
    ranges = calibrate(graph, history, length, percentile, batch_size)

    out = NeuroGraph(meta=dict(graph.meta))
    report: dict = {"populations": {}, "layers": {}}
    for name, node in graph.nodes():
        if isinstance(node, LIF):
            fx, rep = lif_fixed(node, ranges[name][0] * threshold_scale(node.threshold))
            node = replace(node, fixed=fx)
        elif isinstance(node, (Graded, Readout)):
            headroom = READOUT_HEADROOM if isinstance(node, Readout) else 1.0
            fx, rep = graded_fixed(node, bits[name], ranges[name][0] * headroom)
            node = replace(node, fixed=fx)
        else:
            rep = {"spikes": True}
        if name in ranges:
            rep["calibrated_max"] = ranges[name][1]
        out.add(name, node)
        report["populations"][name] = {"type": type(node).__name__, **rep}
    for s, t, syn in graph.edges():
        target = graph.node(t)
        scale = threshold_scale(target.threshold) / target.tau if isinstance(target, LIF) else 1.0
        fx, rep = quantize_weight(syn.weight * scale, weight_bits, weight_clip)
        new = replace(syn, fixed=fx)
        rep["shift"] = edge_shift(new, out.node(s), out.node(t))
        rep["accumulator_bits"] = _accumulator_bits(new, out.node(s), out.node(t))
        if rep["accumulator_bits"] >= EXACT_BITS:
            raise UserError(f"synapse {s} -> {t}: its accumulator needs {rep['accumulator_bits']} bits, more than "
                            f"float64 holds exactly; lower weight_bits or the activation bits of {s}")
        out.connect(s, t, new)
        report["layers"][f"{s}->{t}"] = rep
    report.update(weight_bits=weight_bits, activation_bits=activation_bits,
                  activation_bits_overrides=dict(cfg.activation_bits_overrides), weight_clip=weight_clip,
                  calibration={"n_samples": int(history.shape[0]), "percentile": percentile,
                               "sha256": calibration_digest(history, length)})
    out.meta["quantization"] = report
    out.validate()
    return out


def quantize_like(graph: NeuroGraph, like: dict, calibration: tuple[np.ndarray, np.ndarray],
                  weight_bits: int | None = None, activation_bits: int | None = None) -> NeuroGraph:
    """``quantize`` a float graph with the options recorded in another graph's ``meta["quantization"]`` (``like``):
    its bit widths unless ``weight_bits`` / ``activation_bits`` are given, its overrides, percentile and clipping."""
    return quantize(graph, calibration,
                    weight_bits=like.get("weight_bits", 8) if weight_bits is None else weight_bits,
                    activation_bits=like.get("activation_bits", 8) if activation_bits is None else activation_bits,
                    activation_bits_overrides=like.get("activation_bits_overrides") or None,
                    percentile=like.get("calibration", {}).get("percentile", 100.0),
                    weight_clip=like.get("weight_clip", "mse"))


def _accumulator_bits(syn: Synapse, source, target) -> int:
    """Bits (sign included) of the largest |W_int . x_int| one edge can accumulate over its window; the shift into
    the target's units afterwards is a multiplication by a power of two, exact in float64."""
    if isinstance(source, (ItemInput, LIF)):
        x_max = 1
        window = source.time_steps if isinstance(source, LIF) and not isinstance(target, LIF) else 1
    else:
        x_max, window = 1 << (source.fixed.bits - 1), 1
    w_max = int(np.max(np.abs(syn.fixed.weight), initial=0))
    return (w_max * x_max * syn.fan_in() * window).bit_length() + 1


def _check_config(graph: NeuroGraph, cfg: QuantConfig) -> dict[str, int]:
    """Validate the options; return the activation bits per Graded/Readout population."""
    if not 2 <= cfg.weight_bits <= 16:
        raise UserError(f"weight_bits must lie in 2..16 (got {cfg.weight_bits})")
    if not 2 <= cfg.activation_bits <= 24:
        raise UserError(f"activation_bits must lie in 2..24 (got {cfg.activation_bits})")
    if not 0 < cfg.percentile <= 100:
        raise UserError(f"percentile must lie in (0, 100] (got {cfg.percentile})")
    if cfg.weight_clip not in WEIGHT_CLIPS:
        raise UserError(f"weight_clip must be one of {WEIGHT_CLIPS} (got {cfg.weight_clip!r})")
    bits = default_bits(graph, cfg.activation_bits)
    for name, b in cfg.activation_bits_overrides.items():
        if name not in bits:
            kinds = "a LIF population's input is 16-bit by the Lava neuron" if name in graph.g else "no such node"
            raise UserError(f"activation_bits_overrides: {name!r} is not a Graded or Readout population ({kinds}); "
                            f"choose among {sorted(bits)}")
        if not 2 <= int(b) <= 24:
            raise UserError(f"activation_bits_overrides[{name!r}] must lie in 2..24 (got {b})")
        bits[name] = int(b)
    return bits
