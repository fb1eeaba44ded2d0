"""Property tests: random valid graphs on random chips either map with every rule held (re-checked neuron by neuron
from the Mapping, layers split by fan-in and item tables included) or raise a MappingError naming the violated
constraint (a dotted chip key)."""

import dataclasses

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hardware.chip import load_chip
from mapping import map_graph
from ssr_neuro.errors import MappingError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from support import check_mapping

BASE = load_chip("45nm")


@st.composite
def graphs(draw):
    L, N = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    g = NeuroGraph()
    g.add("input", ItemInput(L, N))
    shapes = {"input": (L, N + 1)}
    prev = "input"
    for i in range(draw(st.integers(1, 4))):
        ps, cs = shapes[prev]
        rows = ps if ps == 1 or draw(st.booleans()) else 1
        options = ["dense"] + (["diagonal", "circulant"] if prev != "input" else [])
        structure = draw(st.sampled_from(options))
        C = cs if structure != "dense" else draw(st.integers(1, 12))
        name = f"p{i}"
        bias = rng.standard_normal((rows, C))
        g.add(name, LIF((rows, C), 2.0, 1.0, 2, bias) if draw(st.booleans()) else Graded((rows, C), bias))
        weight = {"dense": (C, cs), "diagonal": (C,), "circulant": (C, rows, ps)}[structure]
        positions = "readout" if rows != ps and structure != "circulant" else "each"
        g.connect(prev, name, Synapse(structure, rng.standard_normal(weight), positions))
        earlier = [n for n, (p2, c2) in shapes.items() if n not in ("input", prev) and c2 == C and p2 >= rows]
        if earlier and draw(st.booleans()):
            src = draw(st.sampled_from(earlier))
            g.connect(src, name, Synapse("diagonal", rng.standard_normal(C),
                                         "each" if shapes[src][0] == rows else "readout"))
        shapes[name], prev = (rows, C), name
    ps, cs = shapes[prev]
    g.add("readout", Readout((1, N + 1), rng.standard_normal((1, N + 1))))
    g.connect(prev, "readout", Synapse("dense", rng.standard_normal((N + 1, cs)), "readout" if ps > 1 else "each"))
    g.validate()
    return g


@st.composite
def chips(draw, max_axons: int = 60, max_mesh: int = 4, macs=(0, 4)):
    core = dataclasses.replace(
        BASE.core, neurons=draw(st.integers(1, 24)), input_axons=draw(st.integers(1, max_axons)),
        output_axons=draw(st.integers(1, 60)), synapse_memory_bytes=draw(st.integers(1, 200)),
        mac_units=draw(st.sampled_from(macs)), shared_weights=draw(st.booleans()))
    mesh = dataclasses.replace(BASE.mesh, rows=draw(st.integers(1, max_mesh)), cols=draw(st.integers(1, max_mesh)),
                               cores_per_router=draw(st.integers(1, 2)))
    host = load_chip("loihi").host if draw(st.booleans()) else None
    return dataclasses.replace(BASE, name="random", core=core, mesh=mesh, host=host)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), chips(), st.sampled_from(["greedy", "anneal"]), st.integers(0, 3))
def test_random_graphs_map_with_every_rule_held_or_fail_naming_the_rule(graph, chip, strategy, seed):
    _map_or_fail_naming_the_rule(graph, chip, strategy, seed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), chips(max_axons=10, max_mesh=8, macs=(4,)), st.sampled_from(["greedy", "anneal"]),
       st.integers(0, 3))
def test_layers_wider_than_a_core_are_split_by_fan_in_with_every_rule_held_or_fail_naming_the_rule(
        graph, chip, strategy, seed):
    _map_or_fail_naming_the_rule(graph, chip, strategy, seed)


def _map_or_fail_naming_the_rule(graph, chip, strategy, seed):
    try:
        m = map_graph(graph, chip, strategy, seed=seed)
    except MappingError as e:
        msg = str(e)
        assert any(key in msg for key in ("core.neurons", "core.input_axons", "core.output_axons",
                                          "core.synapse_memory_bytes", "core.mac_units", "mesh.rows",
                                          "host.memory_bytes")), msg
        assert "cannot map" in msg and "chip 'random'" in msg
        event("does not fit")
        return
    check_mapping(m, graph, chip)
    event("mapped with a layer split by fan-in" if m.info["splits"] else "mapped")
