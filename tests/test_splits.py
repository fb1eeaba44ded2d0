"""Layers split by fan-in (``mapping.splits``): a split layer computes bit for bit what the unsplit one does in fixed
point (the lowered per-core arithmetic: partial sums on partial cores, merged raw and rounded once by the target's
cores), both backends count the same, the merge's work is counted, and a layer that cannot be split is refused."""

import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hardware.chip import load_chip
from hardware.engine import run_program
from hardware.program import compile_program
from hardware.simulate import simulate
from mapping import map_graph
from ssr_neuro.graph.quantize import quantize
from ssr_neuro.errors import MappingError
from ssr_neuro.graph.execute import run
from ssr_neuro.graph.fixed import edge_shift, round_shift
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from test_lava_equality import RULES, _lava, assert_same, needs_lava, quantised_graphs, serial
from support import check_mapping

L, N, W = 4, 6, 40  # W: the wide populations' channels, more than the narrow chip's input axons


def wide_graph(seed: int = 0) -> tuple[NeuroGraph, np.ndarray, np.ndarray]:
    """input -> wide LIF (W) -> graded (dense, fan-in W) -> LIF (dense from the wide LIF, fan-in W) and circulant
    mixing of a long graded population -> readout from the wide LIF's readout row (fan-in W): every kind of
    splittable layer (dense each, spiking and graded sources; dense readout; circulant)."""
    rng = np.random.default_rng(seed)
    g = NeuroGraph()
    g.add("input", ItemInput(L, N))
    g.add("wide", LIF((L, W), 2.0, 0.5, 3, rng.standard_normal((L, W))))
    g.connect("input", "wide", Synapse("dense", rng.standard_normal((W, N + 1))))
    g.add("mix", Graded((L, 6), rng.standard_normal((L, 6))))
    g.connect("wide", "mix", Synapse("dense", rng.standard_normal((6, W)) * 0.3))
    g.add("gwide", Graded((L, W), rng.standard_normal((L, W))))
    g.connect("input", "gwide", Synapse("dense", rng.standard_normal((W, N + 1))))
    g.add("lif", LIF((L, 6), 2.0, 0.5, 3, rng.standard_normal((L, 6))))
    g.connect("gwide", "lif", Synapse("dense", rng.standard_normal((6, W)) * 0.3))
    g.connect("mix", "lif", Synapse("diagonal", rng.standard_normal(6)))
    g.add("readout", Readout((1, N + 1), rng.standard_normal((1, N + 1))))
    g.connect("wide", "readout", Synapse("dense", rng.standard_normal((N + 1, W)), "readout"))
    g.connect("lif", "readout", Synapse("dense", rng.standard_normal((N + 1, 6)), "readout"))
    g.validate()
    history = rng.integers(0, N + 1, size=(12, L))
    length = rng.integers(1, L + 1, size=12)
    return quantize(g, (history, length)), history, length


def circulant_graph(seed: int = 0) -> tuple[NeuroGraph, np.ndarray, np.ndarray]:
    """input -> graded (P positions) -> circulant (fan-in P > the chip's axons) -> LIF -> readout."""
    rng = np.random.default_rng(seed)
    P = 24
    g = NeuroGraph()
    g.add("input", ItemInput(P, N))
    g.add("emb", Graded((P, 3), rng.standard_normal((P, 3))))
    g.connect("input", "emb", Synapse("dense", rng.standard_normal((3, N + 1))))
    g.add("filter", Graded((P, 3), rng.standard_normal((P, 3))))
    g.connect("emb", "filter", Synapse("circulant", rng.standard_normal((3, P, P)) * 0.3))
    g.add("lif", LIF((P, 3), 2.0, 0.5, 2, rng.standard_normal((P, 3))))
    g.connect("filter", "lif", Synapse("diagonal", rng.standard_normal(3)))
    g.add("readout", Readout((1, N + 1), rng.standard_normal((1, N + 1))))
    g.connect("lif", "readout", Synapse("dense", rng.standard_normal((N + 1, 3)), "readout"))
    g.validate()
    history = rng.integers(0, N + 1, size=(10, P))
    length = rng.integers(1, P + 1, size=10)
    return quantize(g, (history, length)), history, length


def chip(input_axons: int = 16, shared: bool = True, **core):
    base = load_chip("45nm")
    return dataclasses.replace(base, name="narrow", top_k=0, core=dataclasses.replace(
        base.core, input_axons=input_axons, shared_weights=shared, embedding="fanin",
        **{"neurons": 64, "output_axons": 256, "synapse_memory_bytes": 1024, **core}))


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("build", [wide_graph, circulant_graph])
def test_a_split_layer_computes_bit_for_bit_what_the_unsplit_one_does(build, shared, tmp_path):
    graph, history, length = build()
    narrow, wide = chip(16, shared), chip(4096, shared)
    split_m, whole_m = map_graph(graph, narrow, "anneal"), map_graph(graph, wide, "anneal")
    assert split_m.info["splits"] and not whole_m.info["splits"]
    check_mapping(split_m, graph, narrow)
    want = run(graph, history, length)[0]
    for c, m in ((narrow, split_m), (wide, whole_m)):
        program = compile_program(graph, m, c)
        fast = run_program(program, history, length)
        lowered = serial(program, history, length, tmp_path / c.core.input_axons.__str__())
        assert_same(program, fast, lowered)  # the per-core arithmetic: partial sums merged raw, rounded once
        np.testing.assert_array_equal(lowered[0], want)


def test_rounding_each_partial_sum_would_not_be_exact():
    """Why the merge adds raw partial sums: on this graph rounding each range's sum before adding differs."""
    graph, _, _ = wide_graph()
    syn, src, tgt = graph.synapse("wide", "mix"), graph.node("wide"), graph.node("mix")
    shift = edge_shift(syn, src, tgt)
    assert shift > 0
    w = np.asarray(syn.fixed.weight, np.float64)
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 4, size=(200, W)).astype(np.float64)  # spikes of 3 steps summed over the window
    halves = [xs[:, :W // 2] @ w[:, :W // 2].T, xs[:, W // 2:] @ w[:, W // 2:].T]
    assert (round_shift(halves[0], shift) + round_shift(halves[1], shift) != round_shift(sum(halves), shift)).any()


def test_the_merge_is_counted_messages_adds_and_updates():
    graph, history, length = wide_graph()
    narrow, wide = chip(16), chip(4096)
    split_m, whole_m = map_graph(graph, narrow, "greedy"), map_graph(graph, wide, "greedy")
    a = simulate(graph, split_m, narrow, history, length)
    b = simulate(graph, whole_m, wide, history, length)
    np.testing.assert_array_equal(a.scores, b.scores)
    # one add per partial sum received and one update per partial accumulator and send: the merge's work
    merged = 0.0
    for name, info in split_m.info["splits"].items():
        s, t = name.split(" -> ")
        P, C = graph.node(t).shape
        sends = graph.node(s).time_steps if isinstance(graph.node(s), LIF) else 1
        merged += P * C * info["fan_in_ranges"] * sends
    syn_a, syn_b = a.per_inference["synaptic_ops"].mean(), b.per_inference["synaptic_ops"].mean()
    assert syn_a == pytest.approx(syn_b + merged)
    assert a.per_inference["neuron_updates"].mean() == pytest.approx(b.per_inference["neuron_updates"].mean() + merged)
    assert a.per_inference["packets"].mean() > b.per_inference["packets"].mean()
    # the merge's messages are timed in the steps that send partial sums (the total latency may fall: the partial
    # cores share the target's synaptic work)
    merging = [s for s in a.steps if any(p.startswith("split>") for p in s["phases"])]
    whole = {s["name"]: s for s in b.steps}
    assert merging and (sum(s["network_cycles"] for s in merging)
                        > sum(whole[s["name"]]["network_cycles"] for s in merging))


@needs_lava
def test_lava_equals_the_fast_engine_on_a_split_mapping():
    graph, history, length = wide_graph(1)
    narrow = chip(16)
    program = compile_program(graph, map_graph(graph, narrow, "greedy"), narrow)
    assert program.splits
    assert_same(program, run_program(program, history[:3], length[:3]), _lava(program, history[:3], length[:3]))


def test_a_layer_that_cannot_be_split_small_enough_is_refused_naming_the_key():
    graph, _, _ = wide_graph()
    with pytest.raises(MappingError, match=r"core\.neurons") as e:  # a partial sum holds all L positions
        map_graph(graph, chip(16, neurons=L - 1))
    assert "split across cores by fan-in" in str(e.value)
    with pytest.raises(MappingError, match=r"core\.synapse_memory_bytes"):
        map_graph(graph, chip(16, shared=False, synapse_memory_bytes=3))


@st.composite
def split_cases(draw):
    """A random quantised graph mapped with at least one layer split by fan-in (narrow cores, any counting rules)."""
    fixed, history, length = draw(quantised_graphs())
    rules = {key: draw(st.sampled_from(values)) for key, values in RULES.items()}
    narrow = dataclasses.replace(chip(draw(st.integers(2, 6)), draw(st.booleans()), neurons=24, output_axons=64),
                                 mesh=dataclasses.replace(load_chip("45nm").mesh, rows=8, cols=8))
    narrow = dataclasses.replace(narrow, core=dataclasses.replace(narrow.core, **rules))
    try:
        mapping = map_graph(fixed, narrow, strategy=draw(st.sampled_from(["greedy", "anneal"])), seed=0)
        program = compile_program(fixed, mapping, narrow)
    except (MappingError, nx.NetworkXUnfeasible):
        assume(False)
    assume(program.splits)
    return fixed, program, history, length


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                 HealthCheck.function_scoped_fixture])
@given(split_cases())
def test_random_split_layers_compute_bit_for_bit_what_the_graph_does(tmp_path, case):
    graph, program, history, length = case
    lowered = serial(program, history, length, tmp_path)
    assert_same(program, run_program(program, history, length), lowered)
    np.testing.assert_array_equal(lowered[0], run(graph, history, length)[0])
