"""Quantisation of hand-made float graphs: scores within a bound derived from the bit widths, integers within their
widths, more than 8-bit weights, LIF parameters, determinism, the report, and bad options."""

import numpy as np
import pytest
import torch

from ssr_neuro.conversion.from_torch import to_graph
from ssr_neuro.graph.quantize import default_bits, quantize
from ssr_neuro.errors import UserError
from ssr_neuro.graph import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from ssr_neuro.graph.execute import propagate, run
from ssr_neuro.graph.fixed import check_fixed, int_range
from ssr_neuro.model import SSR, SSRConfig
from test_graph_fixed import lava_lif

L, N, D, T = 6, 30, 4, 4


def histories(rng, n):
    length = rng.integers(1, L + 1, n)
    return rng.integers(1, N + 1, (n, L)) * (np.arange(L) < length[:, None]), length


def graded_graph(rng) -> NeuroGraph:
    """input -> emb (Graded) -> filt (Graded, circulant + diagonal residual) -> out (Readout, readout row)."""
    g = NeuroGraph()
    g.add("input", ItemInput(L, N))
    g.add("emb", Graded((L, D), rng.normal(0, 0.3, (L, D))))
    g.add("filt", Graded((L, D), rng.normal(0, 0.3, (L, D))))
    g.add("out", Readout((1, N + 1), rng.normal(0, 0.2, (1, N + 1))))
    g.connect("input", "emb", Synapse("dense", rng.normal(0, 1.0, (D, N + 1))))
    g.connect("emb", "filt", Synapse("circulant", rng.normal(0, 0.4, (D, L, L))))
    g.connect("filt", "out", Synapse("dense", rng.normal(0, 0.5, (N + 1, D)), "readout"))
    return g


def spiking_graph(rng, threshold=1.0) -> NeuroGraph:
    """SSR's shape in small: input -> emb -> filt -> lif_1 -> lif_2 (+ residual from filt) -> out."""
    g = graded_graph(rng)
    g.g.remove_edge("filt", "out")
    g.add("lif_1", LIF((1, 3 * D), 2.0, threshold, T, rng.normal(0.3, 0.5, (1, 3 * D))))
    g.add("lif_2", LIF((1, D), 2.0, threshold, T, rng.normal(0.2, 0.3, (1, D))))
    g.connect("filt", "lif_1", Synapse("dense", rng.normal(0, 1.0, (3 * D, D)), "readout"))
    g.connect("lif_1", "lif_2", Synapse("dense", rng.normal(0, 0.7, (D, 3 * D))))
    g.connect("filt", "lif_2", Synapse("diagonal", rng.normal(0, 1.0, (D,)), "readout"))
    g.connect("lif_2", "out", Synapse("dense", rng.normal(0, 0.5, (N + 1, D))))
    g.validate()
    return g


def error_bound(g: NeuroGraph, q: NeuroGraph, hist, length) -> np.ndarray:
    """Worst-case |quantised - float| score of graded_graph, layer by layer, from the bit widths alone.

    Per target population with LSB 2**exp: bias rounding (LSB/2), each edge's rounding into the target's units
    (LSB/2), the weight error |W - W_q| applied to |x|, and the source's error e_x through |W_q|. Assumes no
    saturation, which the calibration on the same histories with percentile 100 guarantees."""
    x = {"input": hist}
    err = {"input": 0.0}
    for name, node in g.nodes():
        if isinstance(node, ItemInput):
            continue
        lsb = 2.0 ** q.node(name).fixed.exp
        value, bound = node.bias + 0.0, lsb / 2
        for src, syn in g.in_edges(name):
            fx = q.synapse(src, name).fixed
            wq = fx.weight * 2.0 ** fx.exp
            value = value + propagate(syn, syn.weight, x[src], length)
            xs = np.abs(x[src]) if src != "input" else x[src]
            bound = bound + lsb / 2 + propagate(syn, np.abs(syn.weight - wq), xs, length)
            if src != "input":
                bound = bound + propagate(syn, np.abs(wq), err[src], length)
        x[name], err[name] = value, bound
    return err[g.output_name()][:, 0]


@pytest.mark.parametrize("weight_bits,activation_bits", [(8, 8), (6, 12), (12, 16)])
def test_graded_scores_stay_within_the_bound_of_their_bit_widths(weight_bits, activation_bits):
    rng = np.random.default_rng(weight_bits)
    g = graded_graph(rng)
    hist, length = histories(rng, 200)
    q = quantize(g, (hist, length), weight_bits, activation_bits, {"out": activation_bits, "emb": activation_bits},
                 percentile=100)
    scores, _ = run(g, hist, length)
    scores_q, _ = run(q, hist, length)
    bound = error_bound(g, q, hist, length)
    assert np.all(np.abs(scores_q - scores) <= bound * (1 + 1e-9))
    assert 0 < np.abs(scores_q - scores).max()
    assert bound.max() < np.abs(scores).max() * 2.0 ** (5 - min(weight_bits, activation_bits))  # says something


def test_more_bits_track_the_float_spiking_graph_closer():
    rng = np.random.default_rng(5)
    g = spiking_graph(rng)
    hist, length = histories(rng, 400)
    scores, _ = run(g, hist, length)
    err = {}
    for wb, ab in ((4, 6), (8, 8), (16, 16)):
        q = quantize(g, (hist[:200], length[:200]), wb, ab, {"out": ab, "emb": ab})
        scores_q, _ = run(q, hist[200:], length[200:])
        err[wb] = np.median(np.abs(scores_q - scores[200:]).max(1) / np.abs(scores[200:]).max(1))
        assert err[wb] < 2.0 ** (5 - min(wb, ab))  # the graded bound's scale; spike flips may add more
    assert err[16] < err[8] < err[4]


def test_integers_fit_their_bit_widths_and_weights_may_use_more_than_8_bits():
    rng = np.random.default_rng(2)
    g = spiking_graph(rng)
    hist, length = histories(rng, 100)
    q = quantize(g, (hist, length), weight_bits=12, activation_bits=16)
    check_fixed(q)
    assert q.quantized and not g.quantized
    for s, t, syn in q.edges():
        lo, hi = int_range(12)
        w = syn.fixed.weight
        assert syn.fixed.bits == 12 and w.min() >= lo and w.max() <= hi and w.dtype.kind == "i"
        assert np.abs(w).max() > 127  # the extra bits are used
        assert syn.weight is g.synapse(s, t).weight  # float weights kept for reference
    for name, node in q.nodes():
        if isinstance(node, LIF):
            fx = node.fixed
            assert fx.du == 4095 and fx.dv == 2048 and fx.vth & (fx.vth - 1) == 0 and fx.vth < 2 ** 17
            assert fx.vth * 2.0 ** fx.in_exp == node.threshold
            assert 0 <= fx.bias_exp <= 7 and np.abs(fx.bias_mant).max() <= 4096
        elif isinstance(node, (Graded, Readout)):
            assert node.fixed.bits == 16
    report = q.meta["quantization"]
    out = report["populations"]["out"]  # scores never saturate on the calibration data, with a bit to spare
    assert (2 ** 15 - 1) * 2.0 ** out["exp"] >= out["range"] == 2 * out["calibrated_max"] > 0
    assert set(report["layers"]) == {f"{s}->{t}" for s, t, _ in g.edges()}
    assert report["calibration"]["n_samples"] == 100 and len(report["calibration"]["sha256"]) == 64


def test_lif_input_and_bias_are_the_float_ones_in_fixed_units():
    """a_in = x / tau in units 2**in_exp (1/tau folded into the weights); bias_mant << bias_exp = 64 bias / tau."""
    rng = np.random.default_rng(3)
    g = spiking_graph(rng)
    hist, length = histories(rng, 100)
    q = quantize(g, (hist, length), 16, 16)
    node, fx = g.node("lif_2"), q.node("lif_2").fixed
    bias = fx.bias_mant * 2.0 ** (fx.bias_exp + fx.in_exp - 6)
    np.testing.assert_allclose(bias, node.bias / node.tau, atol=2.0 ** (fx.bias_exp + fx.in_exp - 6))
    syn, w = q.synapse("lif_1", "lif_2"), g.synapse("lif_1", "lif_2").weight
    np.testing.assert_allclose(syn.fixed.weight * 2.0 ** syn.fixed.exp, w / node.tau, atol=2.0 ** syn.fixed.exp)


def test_a_threshold_that_is_not_a_power_of_two_is_scaled_into_the_weights():
    rng = np.random.default_rng(4)
    g = spiking_graph(rng, threshold=0.75)
    hist, length = histories(rng, 300)
    q = quantize(g, (hist, length), 16, 16)
    for name in ("lif_1", "lif_2"):
        fx = q.node(name).fixed
        assert fx.vth * 2.0 ** fx.in_exp == 1.0  # 0.75 * c with c = 4/3
        assert q.meta["quantization"]["populations"][name]["threshold_scale"] == pytest.approx(4 / 3)
    scores, _ = run(g, hist, length)
    scores_q, _ = run(q, hist, length)
    assert np.median(np.abs(scores_q - scores).max(1) / np.abs(scores).max(1)) < 1e-3


def test_same_calibration_gives_the_same_graph():
    rng = np.random.default_rng(6)
    g = spiking_graph(rng)
    cal = histories(rng, 150)
    a, b = quantize(g, cal), quantize(g, cal)
    assert a.meta == b.meta
    for s, t, syn in a.edges():
        fb = b.synapse(s, t).fixed
        assert syn.fixed.exp == fb.exp and np.array_equal(syn.fixed.weight, fb.weight)
    for name, node in a.nodes():
        if not isinstance(node, ItemInput):
            other = b.node(name).fixed
            for f in node.fixed.__dataclass_fields__:
                assert np.array_equal(getattr(node.fixed, f), getattr(other, f))
    c = quantize(g, histories(np.random.default_rng(7), 150))
    assert c.meta["quantization"]["calibration"]["sha256"] != a.meta["quantization"]["calibration"]["sha256"]


def test_defaults_give_the_readout_of_a_converted_ssr_16_bits():
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=N, max_len=L, dim=8, n_blocks=1)).eval()
    g = to_graph(model)
    assert default_bits(g, 8) == {"embedding": 8, "block0.filter": 8, "readout": 16}
    hist, length = histories(np.random.default_rng(0), 50)
    q = quantize(g, (hist, length), activation_bits_overrides={"readout": 24})
    assert q.node("readout").fixed.bits == 24 and q.node("embedding").fixed.bits == 8
    assert q.meta["quantization"]["activation_bits_overrides"] == {"readout": 24}


@pytest.mark.parametrize("kwargs,match", [
    ({"weight_bits": 1}, "weight_bits"),
    ({"activation_bits": 40}, "activation_bits"),
    ({"activation_bits_overrides": {"nope": 8}}, "no such node"),
    ({"activation_bits_overrides": {"lif_1": 8}}, "LIF"),
    ({"activation_bits_overrides": {"emb": 64}}, "2..24"),
    ({"percentile": 0}, "percentile"),
    ({"weight_clip": "nearest"}, "weight_clip"),
])
def test_bad_options_name_the_problem(kwargs, match):
    rng = np.random.default_rng(8)
    g = spiking_graph(rng)
    with pytest.raises(UserError, match=match):
        quantize(g, histories(rng, 10), **kwargs)


def rshift(x: int, s: int) -> int:
    return (x + (1 << (s - 1))) >> s if s > 0 else x << -s


def sat(x: int, bits: int) -> int:
    return max(-(1 << (bits - 1)), min((1 << (bits - 1)) - 1, x))


def test_the_executor_on_a_quantised_graph_equals_an_integer_loop():
    """spiking_graph quantised, run by the executor, against Python ints sample by sample: every edge shifted into
    its target's units, graded values saturated, both LIFs by Lava's scalar equations, lif_2's spikes summed over T
    into the readout, scores = y * 2**exp."""
    rng = np.random.default_rng(9)
    g = spiking_graph(rng)
    hist, length = histories(rng, 30)
    q = quantize(g, (hist, length), 8, 8)
    scores, _ = run(q, hist, length)
    w = {(s, t): syn.fixed.weight for s, t, syn in q.edges()}
    sh = {(s, t): int(q.meta["quantization"]["layers"][f"{s}->{t}"]["shift"]) for s, t, _ in q.edges()}
    f = {name: node.fixed for name, node in q.nodes() if not isinstance(node, ItemInput)}
    rates = []
    for h, n, got in zip(hist, length, scores):
        emb = [[sat(int(f["emb"].bias[p, c]) + rshift(int(w["input", "emb"][c, h[p]]), sh["input", "emb"]), 8)
                for c in range(D)] for p in range(L)]
        row = [sat(int(f["filt"].bias[n - 1, c]) + rshift(sum(int(w["emb", "filt"][c, n - 1, l]) * emb[l][c]
                                                                for l in range(L)), sh["emb", "filt"]), 8)
               for c in range(D)]
        a1 = [rshift(sum(int(w["filt", "lif_1"][j, c]) * row[c] for c in range(D)), sh["filt", "lif_1"])
              for j in range(3 * D)]
        s1 = [lava_lif([a1[j]] * T, 4095, 2048, f["lif_1"].vth, int(f["lif_1"].bias_mant[0, j]), f["lif_1"].bias_exp)
              for j in range(3 * D)]
        counts = []
        for i in range(D):
            res = rshift(int(w["filt", "lif_2"][i]) * row[i], sh["filt", "lif_2"])
            a2 = [rshift(sum(int(w["lif_1", "lif_2"][i, j]) * s1[j][t][0] for j in range(3 * D)),
                         sh["lif_1", "lif_2"]) + res for t in range(T)]
            counts.append(sum(s for s, _, _ in lava_lif(a2, 4095, 2048, f["lif_2"].vth, int(f["lif_2"].bias_mant[0, i]),
                                                        f["lif_2"].bias_exp)))
        want = [sat(int(f["out"].bias[0, k]) + rshift(sum(int(w["lif_2", "out"][k, i]) * counts[i] for i in range(D)),
                                                      sh["lif_2", "out"]), f["out"].bits) * 2.0 ** f["out"].exp
                for k in range(N + 1)]
        assert got.tolist() == want
        rates.append((np.mean([sum(s for s, _, _ in x) for x in s1]) / T, np.mean(counts) / T))
    assert np.all((0.05 < np.array(rates).mean(0)) & (np.array(rates).mean(0) < 0.95))  # both LIFs fire, not always
