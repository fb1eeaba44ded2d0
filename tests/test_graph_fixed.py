"""The integer semantics of ssr_neuro.graph.fixed: the LIF against a scalar transcription of Lava's fixed-point
equations (saturation, wrap, clip, negative values, trunc0), rounding and saturation edge cases, and the checks."""

import numpy as np
import pytest

from ssr_neuro.errors import GraphError
from ssr_neuro.graph import LIF, Graded, GradedFixed, ItemInput, LIFFixed, NeuroGraph, Readout, Synapse, WeightFixed
from ssr_neuro.graph.execute import lif_spikes_float
from ssr_neuro.graph.fixed import (
    check_fixed, edge_input, edge_shift, exp_for, graded_output, lif_run, lif_spikes, readout_scores, round_shift,
    saturate, to_int, decay, wrap_state,
)


def lava_lif(a_in, du, dv, vth, bias_mant, bias_exp):
    """Lava's PyLifModelBitAcc for one neuron, one Python int at a time (lava.md; lava/proc/lif/models.py)."""
    def t0(x):
        return (1 if x >= 0 else -1) * (abs(x) >> 12)
    u = v = 0
    out = []
    for a in a_in:
        a = max(-(2 ** 15), min(2 ** 15 - 1, int(a)))
        u = t0(u * (4096 - (du + 1))) + (a << 6)
        if u > 2 ** 23:
            u -= 2 ** 24
        elif u <= -(2 ** 23):
            u += 2 ** 24
        v = max(-(2 ** 23 - 1), min(2 ** 23 - 1, t0(v * (4096 - dv)) + u + (bias_mant << bias_exp)))
        s = v > (vth << 6)
        if s:
            v = 0
        out.append((int(s), u, v))
    return out


@pytest.mark.parametrize("du,dv,vth,scale", [
    (4095, 2048, 4096, 3_000),     # SSR's setting: no current memory, tau 2
    (0, 0, 100_000, 40_000),       # full current memory, no leak: u wraps, v clips
    (300, 4095, 1, 70_000),        # a_in beyond 16 bits: saturation
    (2000, 1000, 65_536, 20_000),  # mixed decays, large threshold
])
def test_lif_equals_a_scalar_transcription_of_lava(du, dv, vth, scale):
    rng = np.random.default_rng(du + dv)
    steps, n = 12, 300
    a_in = rng.integers(-scale, scale, (steps, n))
    bias_mant = rng.integers(-4096, 4096, n)
    bias_exp = 3
    fx = LIFFixed(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, in_exp=0)
    spikes, u, v = lif_run(fx, a_in.astype(np.float64))
    want = np.array([lava_lif(a_in[:, i], du, dv, vth, int(bias_mant[i]), bias_exp) for i in range(n)])  # [n, T, 3]
    np.testing.assert_array_equal(spikes, want[:, :, 0].T)
    np.testing.assert_array_equal(u, want[:, :, 1].T)
    np.testing.assert_array_equal(v, want[:, :, 2].T)
    assert spikes.any() or (v < 0).any()
    node = LIF((1, n), 2.0, 1.0, steps, np.zeros((1, n)), fixed=LIFFixed(du, dv, vth, bias_mant[None], bias_exp, 0))
    np.testing.assert_array_equal(lif_spikes(node, a_in[:, None, None, :]), spikes[:, None, None, :])


def test_the_cases_above_reach_wrap_clip_and_saturation():
    """The transcription test only means something if its inputs reach the 24-bit and 16-bit limits."""
    rng = np.random.default_rng(0)
    a_in = rng.integers(0, 40_000, (12, 50))
    _, u, v = lif_run(LIFFixed(du=0, dv=0, vth=100_000, bias_mant=np.zeros(50), bias_exp=0, in_exp=0), a_in)
    assert (np.diff(u, axis=0) < 0).any()  # a positive input made u smaller: it wrapped
    assert (v == 2 ** 23 - 1).any() or (v == -(2 ** 23 - 1)).any()
    _, u, _ = lif_run(LIFFixed(du=4095, dv=0, vth=1, bias_mant=np.zeros(1), bias_exp=0, in_exp=0),
                      np.array([[70_000.0], [-70_000.0]]))
    assert u[:, 0].tolist() == [32767 * 64, -32768 * 64]


def test_strict_threshold_and_ssr_staircase():
    """du=4095, dv=2048 is the float LIF with tau 2 in units of 1/64 a_in; v == vth << 6 does not fire (Lava's >)."""
    k = 12
    fx = LIFFixed(du=4095, dv=2048, vth=2 ** k, bias_mant=np.zeros(3), bias_exp=0, in_exp=-k)
    # x / tau = 1.0 exactly (x = 2, threshold 1): float fires at step 1, Lava not (v == vth << 6), then at step 2
    a = np.full((4, 3), 2.0 ** k)
    a[:, 1] += 1  # one a_in unit above: fires every step like the float LIF
    a[:, 2] = 2458  # x = 1.2 (x / tau = 0.6): float v = 0.6, 0.9, 1.05 -> spike at step 3
    spikes = lif_run(fx, a)[0]
    assert spikes[:, 0].tolist() == [0, 1, 0, 1]
    assert spikes[:, 1].tolist() == [1, 1, 1, 1]
    assert spikes[:, 2].tolist() == [0, 0, 1, 0]


def test_constant_input_follows_the_float_lif_away_from_ties():
    """Away from the staircase's exact ties (x = 16/15, 4/3, 2) integer and float LIF give the same spikes."""
    k, tau = 12, 2.0
    a_in = np.arange(-2 * 2 ** k, 3 * 2 ** k, 7.0)  # x / tau from -2 to 3 in steps of 7 a_in units
    x = a_in * tau / 2 ** k
    fx = LIFFixed(du=4095, dv=2048, vth=2 ** k, bias_mant=np.zeros(a_in.size), bias_exp=0, in_exp=-k)
    fixed = lif_run(fx, np.repeat(a_in[None], 4, 0))[0]
    node = LIF((1, a_in.size), tau, 1.0, 4, np.zeros((1, a_in.size)))
    float_ = lif_spikes_float(node, np.repeat(x[None, None], 4, 0))[:, 0]
    near_tie = np.min(np.abs(x[:, None] - np.array([16 / 15, 4 / 3, 2.0])), axis=1) < 2 * tau / 2 ** k
    assert (fixed != float_).any(axis=0)[~near_tie].sum() == 0
    assert fixed.sum(0).tolist() != [0] * a_in.size and set(fixed.sum(0).tolist()) == {0, 1, 2, 4}


def test_decay_rounds_towards_zero_and_wrap_follows_lava():
    assert decay(np.array([4095, 4096, 8191, -4095, -4096, -8191, 0]), 1).tolist() == [0, 1, 1, 0, -1, -1, 0]
    assert decay(np.array([3, -3, 2 ** 23 - 1, -(2 ** 23 - 1)]), 2048).tolist() == [1, -1, 2 ** 22 - 1, -(2 ** 22 - 1)]
    assert wrap_state(np.array([2.0 ** 23, 2.0 ** 23 + 1, -(2.0 ** 23), -(2.0 ** 23) + 1]), 24).tolist() == [
        2 ** 23, -(2 ** 23) + 1, 2 ** 23, -(2 ** 23) + 1]


def test_round_shift_is_round_half_up_and_exact():
    assert round_shift(np.array([3, -3, 1, -1, 2, -2, 5, -5]), 1).tolist() == [2, -1, 1, 0, 1, -1, 3, -2]
    assert round_shift(np.array([5, -7]), -3).tolist() == [40, -56]
    rng = np.random.default_rng(1)
    x = rng.integers(-(2 ** 52), 2 ** 52, 10_000)
    for s in (1, 7, 20):
        want = np.array([(int(v) + (1 << (s - 1))) >> s for v in x])
        np.testing.assert_array_equal(round_shift(x.astype(np.float64), s), want)


def test_saturation_and_quantisation_edges():
    assert saturate(np.array([127, 128, -128, -129, 0]), 8).tolist() == [127, 127, -128, -128, 0]
    assert to_int(np.array([0.5, 1.5, 2.5, -0.5, 300.0, -300.0]), 0, 8).tolist() == [0, 2, 2, 0, 127, -128]
    assert to_int(np.array([0.75]), -2, 8).tolist() == [3]
    assert exp_for(127.0, 8) == 0 and exp_for(127.5, 8) == 1 and exp_for(1.0, 8) == -6 and exp_for(128.0, 8) == 1
    for m in (0.013, 1.0, 3.7, 1000.0):
        for b in (4, 8, 16):
            e = exp_for(m, b)
            assert m / 2.0 ** e <= 2 ** (b - 1) - 1 < m / 2.0 ** (e - 1)


def tiny_fixed_graph() -> NeuroGraph:
    """input -> g (Graded, 8 bit) -> out (Readout, 12 bit), integers chosen by hand."""
    g = NeuroGraph()
    g.add("input", ItemInput(2, 3))
    g.add("g", Graded((2, 2), np.zeros((2, 2)), GradedFixed(8, -4, np.array([[1, -1], [100, -100]]))))
    g.add("out", Readout((1, 4), np.zeros((1, 4)), GradedFixed(12, -3, np.array([[0, 5, -5, 2047]]))))
    g.connect("input", "g", Synapse("dense", np.zeros((2, 4)), fixed=WeightFixed(np.array([[1, 2, 3, 4]] * 2), -5, 8)))
    g.connect("g", "out", Synapse("dense", np.zeros((4, 2)), "readout",
                                  fixed=WeightFixed(np.array([[0, 1], [1, 0], [-1, 0], [100, 100]]), -2, 8)))
    return g


def test_edge_units_bias_and_saturation():
    g = tiny_fixed_graph()
    src, mid, out = g.node("input"), g.node("g"), g.node("out")
    syn = g.synapse("input", "g")
    assert edge_shift(syn, src, mid) == 1  # units 2**-5 (weight x spike) into 2**-4
    assert edge_input(syn, src, mid, np.array([3.0, -3.0, 4.0])).tolist() == [2, -1, 2]
    y = graded_output(mid, np.array([[[30.0, 30.0], [30.0, 30.0]]]))
    assert y.tolist() == [[[31, 29], [127, -70]]]  # 130 saturates to 127
    syn2 = g.synapse("g", "out")
    assert edge_shift(syn2, mid, out) == 3  # 2**(-2-4) into 2**-3
    scores = readout_scores(out, np.array([[[0.0, 0.0, 0.0, 10.0]]]))
    assert scores.shape == (1, 4) and scores.tolist() == [[0.0, 5 / 8, -5 / 8, 2047 / 8]]  # 2057 saturates


def test_check_fixed_names_what_is_out_of_range():
    g = tiny_fixed_graph()
    check_fixed(g)
    g.synapse("g", "out").fixed.weight[0, 0] = 128
    with pytest.raises(GraphError, match="synapse g -> out weight"):
        check_fixed(g)
    g = tiny_fixed_graph()
    g.node("g").fixed.bias[0, 0] = -129
    with pytest.raises(GraphError, match="node g bias"):
        check_fixed(g)
    g = tiny_fixed_graph()
    g.node("out").fixed = None
    with pytest.raises(GraphError, match="quantise"):
        check_fixed(g)
