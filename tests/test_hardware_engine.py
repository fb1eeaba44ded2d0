"""The simulator's counting on a tiny fixed-point graph placed by hand on a 1 x 3 mesh, every number computed by hand:
spikes in, synaptic ops, MACs, bytes read, packets, hops, cycles and pJ out; the same graph on a chip without MAC
units (host layers); conservation (packets sent = received, hops = link crossings, energy = each breakdown's sum),
determinism and batch-size independence, scores equal to the executor's bit for bit, and an SSR-shaped graph mapped by
``map_graph`` on both presets."""

import subprocess
import sys

import numpy as np
import pytest

from hardware.chip import load_chip, parse_chip
from hardware.program import compile_program, xy_route
from hardware.simulate import simulate
from mapping import Mapping, PlacedCore, PlacedPiece, map_graph
from ssr_neuro.errors import UserError
from ssr_neuro.graph.execute import run
from ssr_neuro.graph.ir import (LIF, Graded, GradedFixed, ItemInput, LIFFixed, NeuroGraph, Readout, Synapse,
                                WeightFixed)
from support import ssr_like

ENERGY = {"synaptic_op": 1.0, "mac": 2.0, "weight_read_byte": 0.5, "neuron_update": 3.0, "neuron_update_idle": 1.0,
          "spike_out": 5.0, "message_out": 7.0, "hop_ew": 11.0, "hop_ns": 13.0, "barrier_sync": 100.0}
CYCLES = {"synaptic_op": 1.0, "mac": 2.0, "weight_read_byte": 0.0, "neuron_update": 3.0, "neuron_update_idle": 1.0,
          "spike_out": 1.0, "message_out": 1.0, "hop_ew": 2.0, "hop_ns": 3.0, "barrier_sync": 10.0}


def tiny_chip(mac_units: int = 1, **rules):
    """The 1 x 3 mesh chip; ``rules``: optional [core] counting rules (neuron_updates, active_update, ...)."""
    doc = {"schema": "ssr-neuro/chip", "version": 1, "name": "tiny", "description": "",
           "mesh": {"rows": 1, "cols": 3, "cores_per_router": 1, "clock_MHz": 100.0, "io_router": [0, 0]},
           "core": {"neurons": 8, "input_axons": 64, "output_axons": 64, "synapse_memory_bytes": 1024,
                    "weight_bits": 8, "state_bits": 24, "mac_units": mac_units, "shared_weights": True, **rules},
           "energy_pJ": dict(ENERGY), "cycles": dict(CYCLES), "static": {"leakage_mW_per_core": 0.0}}
    if mac_units == 0:
        doc["host"] = {"mac_pJ": 50.0, "mac_cycles": 4.0, "clock_MHz": 50.0, "memory_bytes": 1024}
    return parse_chip(doc, "tiny.toml")


def tiny_graph() -> NeuroGraph:
    """input (L=2, 3 items) -> emb Graded (2, 1), value = [0, 10, 20, 30][item] -> lif (2, 1), T=2, no leak,
    u = a_in << 6, fires when v > 15 << 6 = 960 -> out Readout (1, 4) from row length-1, score = [0, 1, 2, 3] x
    spikes."""
    g = NeuroGraph()
    g.add("input", ItemInput(max_len=2, n_items=3))
    g.add("emb", Graded((2, 1), np.zeros((2, 1)), GradedFixed(8, 0, np.zeros((2, 1), np.int64))))
    g.add("lif", LIF((2, 1), tau=1.0, threshold=15.0, time_steps=2, bias=np.zeros((2, 1)),
                     fixed=LIFFixed(du=4095, dv=0, vth=15, bias_mant=np.zeros((2, 1), np.int64), bias_exp=0,
                                    in_exp=0)))
    g.add("out", Readout((1, 4), np.zeros((1, 4)), GradedFixed(16, 0, np.zeros((1, 4), np.int64))))
    w_emb = np.array([[0, 10, 20, 30]])
    w_out = np.array([[0], [1], [2], [3]])
    g.connect("input", "emb", Synapse("dense", w_emb.astype(float), "each", WeightFixed(w_emb, 0, 8)))
    g.connect("emb", "lif", Synapse("dense", np.ones((1, 1)), "each", WeightFixed(np.ones((1, 1), np.int64), 0, 8)))
    g.connect("lif", "out", Synapse("dense", w_out.astype(float), "readout", WeightFixed(w_out, 0, 8)))
    assert g.quantized
    return g


def tiny_mapping(chip) -> Mapping:
    """emb on core 0 at router (0, 1); lif and out on core 1 at router (0, 2); io and host at (0, 0)."""
    pieces = [PlacedPiece(0, "emb", (0, 2), (0, 1), 2, 0, (0, 1, 0), {}),
              PlacedPiece(1, "lif", (0, 2), (0, 1), 2, 1, (0, 2, 0), {}),
              PlacedPiece(2, "out", (0, 1), (0, 4), 4, 1, (0, 2, 0), {})]
    cores = [PlacedCore(0, (0, 1, 0), [0], {}, 0.0, 0.0), PlacedCore(1, (0, 2, 0), [1, 2], {}, 0.0, 0.0)]
    return Mapping(chip.name, pieces, cores, {})


HISTORY = np.array([[2, 1]])  # position 0: item 2 (emb 20: lif row 0 fires at t=0 and t=1); position 1: item 1
LENGTH = np.array([2])        # (emb 10: lif row 1 fires at t=1 only); the readout reads row 1


def test_hand_computed_counts_cycles_and_energy():
    chip = tiny_chip()
    r = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)
    pi = {k: float(v[0]) for k, v in r.per_inference.items()}
    # input: 2 spikes io -> core0 (1 hop each), 1 AC each; emb: 2 graded values core0 -> core1 (1 hop), 1 MAC each;
    # lif: 3 spikes, only row 1's (at t=1) is read: 4 ACs on core1, local; out: 4 scores core1 -> io (2 hops each)
    assert pi["spikes"] == 3 and pi["synaptic_ops"] == 2 + 4 and pi["macs"] == 2
    assert pi["neuron_updates"] == 2 + 2 * 2 + 4
    assert pi["packets"] == 2 + 2 + 4 and pi["hops"] == 2 + 2 + 8
    np.testing.assert_array_equal(r.scores, [[0.0, 1.0, 2.0, 3.0]])
    # step cycles: [input: max(io 2 msgs, core0 2 ACs) = 2 + network max(route 2, link load 2 x 2) = 4;
    #  emb: core0 2 updates x 3 + 2 spike_out + 2 msgs = 10, network 4] + barrier 10 = 30;
    # lif t=0: 2 updates x 3 = 6, + 10 = 16; lif t=1: 6 + 1 spike_out + 4 ACs = 11, + 10 = 21;
    # out: 4 updates x 3 + 4 spike_out + 4 msgs = 20, network: 4 packets on each of 2 links, 4 x 2 = 8; + 10 = 38
    assert [s["cycles"] for s in r.steps] == [30.0, 16.0, 21.0, 38.0]
    assert [s["network_cycles"] for s in r.steps] == [8.0, 0.0, 0.0, 8.0]
    assert pi["latency_cycles"] == 105 and pi["latency_us"] == pytest.approx(1.05)
    # energy: 6 ACs + 2 MACs x 2 + 8 bytes x 0.5 + 10 updates x 3 + 7 spike_out x 5 + 8 msgs x 7 + 12 hops x 11
    # + 4 barriers x 100
    assert pi["energy_pJ"] == 6 + 4 + 4 + 30 + 35 + 56 + 132 + 400 == 667
    assert pi["energy_pJ_memory"] == 4 and pi["energy_pJ_compute"] == 6 + 4 + 30
    core0, core1, host, io = r.cores
    assert core0["memory_read_bytes"] == {"embedding_table": 2.0, "neuron_state": 2 * 3.0}
    assert core1["memory_read_bytes"] == {"synapse_weights": 2.0, "item_table": 4.0,
                                          "neuron_state": 2 * 2 * 6.0 + 4 * 3.0}
    assert core0["events"]["synaptic_op"] == 2 and core1["events"]["synaptic_op"] == 4
    assert io["incoming"] == {"spikes": 0.0, "graded": 4.0, "packets": 4.0}
    assert core1["incoming"] == {"spikes": 1.0, "graded": 2.0, "packets": 2.0}
    assert r.breakdown["by_layer"]["barrier"] == 400 and r.breakdown["by_layer"]["input"] == 2 * 7 + 2 * 11
    np.testing.assert_array_equal(r.raster["lif"], [[1, 0], [1, 1]])
    assert r.steps[0]["events"] == {"synaptic_op": 2, "mac": 2, "weight_read_byte": 4, "neuron_update": 2,
                                    "spike_out": 2, "message_out": 4, "hop_ew": 4}
    assert r.steps[0]["busy_cycles"] == {"core0": 2 + 10, "core1": 4, "io": 2}
    assert core1["events_by_step"][2] == {"synaptic_op": 4, "weight_read_byte": 4, "neuron_update": 2, "spike_out": 1}
    assert r.steps[3]["busy_cycles"] == {"core1": 20} and r.steps[3]["slowest_core"] == "core1"
    links = {(tuple(k["from"]), tuple(k["to"])): k["packets"] for k in r.links if k["packets"]}
    assert links == {((0, 0), (0, 1)): 2.0, ((0, 1), (0, 2)): 2.0, ((0, 2), (0, 1)): 4.0, ((0, 1), (0, 0)): 4.0}


def test_host_layers_on_a_chip_without_mac_units():
    chip = tiny_chip(mac_units=0)
    r = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)
    pi = {k: float(v[0]) for k, v in r.per_inference.items()}
    # emb -> lif is a host layer: emb's 2 values go core0 -> host (1 hop), 2 host MACs, the host sends one graded
    # message per lif neuron host -> core1 (2 hops): packets 2 + 2 + 2 + 4, hops 2 + 2 + 4 + 8
    assert pi["macs"] == 2 and pi["packets"] == 10 and pi["hops"] == 16
    host = r.cores[2]
    assert host["events"] == {"host_mac": 2.0, "message_out": 2.0, "hop_ew": 4.0}
    assert r.breakdown["by_action"]["host_mac"] == 2 * 50.0
    emb_step = r.steps[0]
    assert emb_step["phases"] == ["input", "emb", "host>lif"]
    # host MAC = 4 host cycles at 50 MHz = 8 mesh cycles (100 MHz): 2 MACs = 16 cycles in the emb phase
    assert r.cores[2]["busy_cycles"] == 16 + 2
    np.testing.assert_array_equal(r.scores, [[0.0, 1.0, 2.0, 3.0]])


def test_xy_route_goes_along_the_row_first():
    assert xy_route((0, 0), (2, 1)) == [((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 1), (2, 1))]
    assert xy_route((1, 1), (1, 1)) == []


def _check_conservation(r):
    pi = r.per_inference
    kinds = sum(pi[f"energy_pJ_{k}"] for k in ("compute", "memory", "network", "static"))
    np.testing.assert_allclose(kinds, pi["energy_pJ"], rtol=1e-12)
    total = pi["energy_pJ"].mean()
    for table in r.breakdown.values():
        assert sum(table.values()) == pytest.approx(total, rel=1e-9)
    assert sum(c["energy_pJ"] for c in r.cores) == pytest.approx(total, rel=1e-9)
    sent = sum(c["events"].get("message_out", 0.0) for c in r.cores)
    received = sum(c["incoming"]["packets"] for c in r.cores)
    assert sent == pytest.approx(received) == pytest.approx(pi["packets"].mean())
    assert sum(k["packets"] for k in r.links) == pytest.approx(pi["hops"].mean())
    assert sum(s["cycles"] for s in r.steps) == pytest.approx(pi["latency_cycles"].mean())


@pytest.fixture(scope="module")
def ssr_graph():
    graph = ssr_like(n_items=120, dim=8, blocks=2, max_len=6)
    for _, node in graph.nodes():
        if isinstance(node, LIF):
            node.threshold = 0.02  # so that the random weights make spikes
    return graph


def _fan_out(syn: Synapse, target_shape) -> int:
    return {"dense": target_shape[1], "circulant": target_shape[0], "diagonal": 1}[syn.structure]


def _histories(n: int, max_len: int, n_items: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    length = rng.integers(1, max_len + 1, n)
    history = rng.integers(1, n_items + 1, (n, max_len))
    history[np.arange(max_len)[None] >= length[:, None]] = 0
    return history, length


@pytest.mark.parametrize("chip_name", ["45nm", "loihi"])
def test_ssr_graph_on_presets_conserves_and_is_deterministic(ssr_graph, chip_name):
    chip = load_chip(chip_name)
    mapping = map_graph(ssr_graph, chip, seed=0)
    history, length = _histories(40, 6, 120)
    a = simulate(ssr_graph, mapping, chip, history, length, batch_size=16)
    b = simulate(ssr_graph, mapping, chip, history, length, batch_size=7)
    _check_conservation(a)
    scores, activity = run(ssr_graph, history, length, record=True)
    assert np.array_equal(a.scores, scores)
    assert set(a.rates) == {"block0.lif_1", "block0.lif_2", "block1.lif_1", "block1.lif_2"}
    for name, rate in a.rates.items():
        np.testing.assert_allclose(rate, activity.rates[name], rtol=1e-12)
    assert sum(r.sum() for r in a.rates.values()) * 40 == pytest.approx(a.per_inference["spikes"].sum())
    assert a.per_inference["spikes"].min() > 0
    # inference 0 counted independently: ACs = input spikes x D + spikes x fan-out; MACs = graded synapses
    acs, macs = 6 * 8, 0
    for s, t, syn in ssr_graph.edges():
        src, dst = ssr_graph.node(s), ssr_graph.node(t)
        if isinstance(src, LIF):
            acs += a.raster[s].sum() * _fan_out(syn, dst.shape)
        elif isinstance(src, Graded):
            macs += syn.n_synapses(src, dst)
    assert a.per_inference["synaptic_ops"][0] == acs and a.per_inference["macs"][0] == macs
    for key, v in a.per_inference.items():
        np.testing.assert_array_equal(v, b.per_inference[key], err_msg=key)
    assert simulate(ssr_graph, mapping, chip, history, length, batch_size=16).summary() == a.summary()
    for table, other in zip(a.breakdown.values(), b.breakdown.values()):  # means: summed in another order
        assert other == pytest.approx(table, rel=1e-12)
    assert [c["busy_cycles"] for c in b.cores] == pytest.approx([c["busy_cycles"] for c in a.cores], rel=1e-12)
    assert len(a.steps) == 1 + 1 + 4 + 1 + 4 + 1  # embedding, filter, window x T, filter, window x T, readout
    if chip_name == "loihi":
        assert a.breakdown["by_action"]["host_mac"] > 0 and a.per_inference["macs"].min() > 0
        assert "mac" not in a.cores[0]["events"]


def test_quantised_tiny_graph_scores_match_the_executor_on_many_histories():
    chip = tiny_chip()
    history, length = _histories(50, 2, 3, seed=3)
    r = simulate(tiny_graph(), tiny_mapping(chip), chip, history, length, batch_size=8)
    scores, _ = run(tiny_graph(), history, length)
    assert np.array_equal(r.scores, scores)
    _check_conservation(r)
    # every inference: 2 input spikes, 2 MACs, 10 updates (only idle when emb is 0: padding or item 0 never here)
    assert (r.per_inference["macs"] == 2).all()
    lif_spikes = r.per_inference["spikes"]
    read_row_spikes = (r.scores[:, 1] > 0).astype(float)  # the readout row's spikes (score 1 per spike)
    np.testing.assert_array_equal(r.per_inference["synaptic_ops"], 2 + 4 * r.scores[:, 1])
    assert (lif_spikes >= read_row_spikes).all()


def test_a_mapping_of_another_graph_or_chip_is_refused():
    chip = tiny_chip()
    graph = tiny_graph()
    mapping = tiny_mapping(chip)
    other = Mapping("45nm", mapping.pieces, mapping.cores, {})
    with pytest.raises(UserError, match="made for chip '45nm'"):
        compile_program(graph, other, chip)
    partial = Mapping(chip.name, mapping.pieces[:2], mapping.cores, {})
    with pytest.raises(UserError, match="does not place every neuron of out"):
        compile_program(graph, partial, chip)
    with pytest.raises(UserError, match="another graph"):
        compile_program(graph, Mapping(chip.name, mapping.pieces, mapping.cores, {"graph_digest": "0" * 64}), chip)


def test_importing_the_simulator_does_not_import_torch():
    code = ("import sys, hardware.simulate, hardware.engine, hardware.costs, hardware.program, hardware.result; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_event_products_are_exact_in_float32_and_fall_back_to_float64():
    """The engine's 0/1-event products (spikes, active updates times its count tables) are one BLAS product: float32
    while every column's sum of |values| stays below 2^24 (integer partial sums: exact in any order), float64 above;
    both give the exact integer result. A table of non-integers is refused."""
    from hardware.engine import _Events

    rng = np.random.default_rng(3)
    events = rng.random((300, 700)) < 0.3
    small = rng.integers(-3, 4, size=(700, 9)).astype(np.float64)
    big = small.copy()
    big[:, 0] = 2.0 ** 24 + 1.0  # a column sum far above 2^24; float32 would round 2^24 + 1
    for table, dtype in ((small, np.float32), (big, np.float64)):
        ev = _Events.of(table)
        assert ev.m.dtype == dtype
        got = ev.left(events)
        want = events.astype(np.int64) @ table.astype(np.int64)  # exact integers
        assert got.dtype == np.float64 and np.array_equal(got, want.astype(np.float64))
        assert np.array_equal(ev.left(events.astype(np.float64)), got)  # 0/1 floats as bools
    with pytest.raises(ValueError, match="whole numbers"):
        _Events.of(np.full((3, 2), 0.5))
