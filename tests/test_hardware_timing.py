"""The event timing model (``hardware.timing``) on hand-computed timelines: two and three cores on a 1 x 3 mesh fed
with per-phase counts written by hand (a pipeline of stages, a full buffer blocking a sender, two flows sharing a
link), then through ``simulate(timing="event")``: determinism, batch-size independence, energy equal to the analytic
mode's, the chip's [timing] keys and a bad timing mode."""

import numpy as np
import pytest

from hardware.chip import barrier_cycles, load_chip, parse_chip
from hardware.costs import COUNTERS
from hardware.program import Block, Charge, Phase, Program, Unit, mesh_links, xy_route
from hardware.simulate import simulate
from hardware.timing import EventTiming
from mapping import map_graph
from ssr_neuro.errors import ChipError, UserError
from ssr_neuro.graph.ir import LIF
from test_hardware_engine import HISTORY, LENGTH, _histories, tiny_chip, tiny_graph, tiny_mapping
from support import ssr_like

C = {c: i for i, c in enumerate(COUNTERS)}
CYCLES = {"synaptic_op": 1.0, "mac": 1.0, "weight_read_byte": 0.0, "neuron_update": 1.0, "neuron_update_idle": 1.0,
          "spike_out": 0.0, "message_out": 1.0, "hop_ew": 1.0, "hop_ns": 1.0, "barrier_sync": 10.0}


def line_chip(buffer_depth: int = 16, hop: float = 1.0, **timing):
    """1 x 3 mesh, one core per router, 1 cycle per message out, per synaptic op, per neuron update; ``hop`` cycles
    per east-west hop."""
    doc = {"schema": "ssr-neuro/chip", "version": 1, "name": "line", "description": "",
           "mesh": {"rows": 1, "cols": 3, "cores_per_router": 1, "clock_MHz": 1.0, "io_router": [0, 0]},
           "core": {"neurons": 8, "input_axons": 64, "output_axons": 64, "synapse_memory_bytes": 1024,
                    "weight_bits": 8, "state_bits": 24, "mac_units": 1, "shared_weights": True},
           "energy_pJ": dict.fromkeys(CYCLES, 1.0), "cycles": {**CYCLES, "hop_ew": hop},
           "static": {"leakage_mW_per_core": 0.0},
           "timing": {"buffer_depth": buffer_depth, **timing}}
    return parse_chip(doc, "line.toml")


def program_of(chip, flows: list[tuple[int, int]]) -> Program:
    """Three cores at routers (0, 0), (0, 1), (0, 2) and one phase whose emitter sends along ``flows`` (from core,
    to core)."""
    units = [Unit(f"core{k}", "core", (0, k)) for k in range(3)]
    units += [Unit("host", "host", (0, 0)), Unit("io", "io", (0, 0))]
    links = mesh_links(chip.mesh)
    index = {link: i for i, link in enumerate(links)}
    routes = {(a, b): [index[k] for k in xy_route(units[a].router, units[b].router)]
              for a in range(len(units)) for b in range(len(units))}
    columns = [[Charge(b, "in_spikes", "p")] for _, b in flows]
    block = Block(np.zeros((1, len(columns)), np.float32), None, columns, [(i, a, b) for i, (a, b) in enumerate(flows)])
    return Program(None, chip, units, {"p": np.array([[0, 1, 2]])}, ["p"], [Phase(0, "p", 0)], {"p": block}, {},
                   links, routes)


def run_phase(program: Program, soma: dict[int, float], sent: dict[tuple[int, int], float], synapses_per_message: float,
              chunk: int = 1) -> EventTiming:
    """Time one inference of the one-phase program: ``soma`` neuron updates per core, ``sent`` messages per flow,
    each causing ``synapses_per_message`` synaptic ops at its receiver."""
    n_units = len(program.units)
    counts = np.zeros((1, 1, n_units, len(COUNTERS)))
    packets = np.zeros((1, 1, n_units, n_units))
    for u, n in soma.items():
        counts[0, 0, u, C["neuron_update"]] = n
    for (a, b), n in sent.items():
        packets[0, 0, a, b] = n
        counts[0, 0, b, C["in_spikes"]] += n
        counts[0, 0, b, C["synaptic_op"]] += n * synapses_per_message
    timing = EventTiming(program, 1, chunk, max_rounds=1000)
    timing(slice(0, 1), counts, packets)
    return timing


def intervals(timing: EventTiming, server: str) -> list[tuple[float, float]]:
    return [(a, b) for s, a, b in timing.timeline.intervals if s == server]


def test_a_pipeline_of_stages_overlaps_sender_network_and_receiver():
    # core0: 4 updates (4 cycles), 2 messages to core1 (1 hop), 3 synaptic ops each. The soma emits message j of 2
    # at 4 j / 2 = 2, 4; output 1 cycle, link 1, synapse 3 per message:
    # msg 1: out 2-3, link 3-4, synapse 4-7;  msg 2: out 4-5, link 5-6, synapse max(6, 7)-10
    chip = line_chip()
    timing = run_phase(program_of(chip, [(0, 1)]), {0: 4}, {(0, 1): 2}, 3)
    assert intervals(timing, "core0.output") == [(2, 3), (4, 5)]
    assert intervals(timing, "link (0, 0)->(0, 1)") == [(3, 4), (5, 6)]
    assert intervals(timing, "core1.synapse") == [(4, 7), (7, 10)]
    assert intervals(timing, "core0.soma") == [(0, 4)]
    assert timing.step_cycles[0, 0] == 10 + 10  # the last synaptic op ends at 10, then the barrier (10)
    assert timing.servers[np.argmax(timing.bound_counts[0])] == "core1.synapse"
    # the analytic model adds the parts: busiest core 6 (4 updates + 2 messages) + network 2 + barrier 10 = 18,
    # but serialises nothing inside a core; here the receiver's 6 synaptic cycles start only after the first hop


def test_one_chunk_moves_cut_through_like_single_messages():
    chip = line_chip()
    one = run_phase(program_of(chip, [(0, 1)]), {0: 4}, {(0, 1): 2}, 3, chunk=2)
    assert intervals(one, "core1.synapse") == [(4, 10)]  # first message starts at 4, the last ends at 10
    assert one.step_cycles[0, 0] == 20


def test_a_full_buffer_blocks_the_link_then_the_sender():
    # core0 sends 6 messages at once (no soma work) to core1 (1 hop), 10 synaptic cycles each; buffer depth 1.
    # A message leaves a server into the next buffer only when the message ahead of it there has started its next
    # stage (blocking after service):
    #   synapse (10 each): msg k runs from 2 + 10 (k - 1); msg 1 starts at 2
    #   link: msg 1 1-2, msg 2 2-3 (enters the synapse buffer: msg 1 started at 2), msg 3 sent 3-4 but held until
    #         msg 2 starts its synaptic ops at 12, msg 4 12-13 held until 22, msg 5 22-23 held until 32, msg 6 32-42
    #   output: msg 1 0-1, 2 1-2, 3 2-3, 4 3-4 (msg 3 started on the link at 3), msg 5 4-5 held until msg 4 starts
    #           on the link at 12, msg 6 12-13 held until msg 5 starts on the link at 22
    chip = line_chip(buffer_depth=1)
    timing = run_phase(program_of(chip, [(0, 1)]), {}, {(0, 1): 6}, 10)
    assert intervals(timing, "core1.synapse") == [(2 + 10 * k, 12 + 10 * k) for k in range(6)]
    assert intervals(timing, "link (0, 0)->(0, 1)") == [(1, 2), (2, 3), (3, 12), (12, 22), (22, 32), (32, 42)]
    assert intervals(timing, "core0.output") == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 12), (12, 22)]
    # the sender hands its last message to the output stage at 12: its soma is held until then
    assert intervals(timing, "core0.soma") == [(0, 12)]
    # deep buffers: nothing waits but the receiver
    free = run_phase(program_of(line_chip(buffer_depth=16), [(0, 1)]), {}, {(0, 1): 6}, 10)
    assert intervals(free, "core0.output") == [(k, k + 1) for k in range(6)]
    assert intervals(free, "link (0, 0)->(0, 1)") == [(k + 1, k + 2) for k in range(6)]
    assert timing.step_cycles[0, 0] == free.step_cycles[0, 0] == 62 + 10


def test_two_flows_sharing_a_link_take_turns():
    # core0 -> core2 (links (0,0)->(0,1), (0,1)->(0,2)) and core1 -> core2 (link (0,1)->(0,2)), 2 messages each,
    # all emitted at 0, 1 synaptic op each. Each round serves the shorter route first:
    #   core1 msg 1: out 0-1, link12 1-2, synapse 2-3;   core0 msg 1: out 0-1, link01 1-2, link12 2-3, synapse 3-4
    #   core1 msg 2: out 1-2, link12 3-4, synapse 4-5;   core0 msg 2: out 1-2, link01 2-3, link12 4-5, synapse 5-6
    chip = line_chip()
    timing = run_phase(program_of(chip, [(0, 2), (1, 2)]), {}, {(0, 2): 2, (1, 2): 2}, 1)
    assert intervals(timing, "link (0, 1)->(0, 2)") == [(1, 2), (2, 3), (3, 4), (4, 5)]
    assert intervals(timing, "link (0, 0)->(0, 1)") == [(1, 2), (2, 3)]
    assert intervals(timing, "core2.synapse") == [(2, 3), (3, 4), (4, 5), (5, 6)]
    assert timing.step_cycles[0, 0] == 6 + 10
    # alone, core0's flow ends at 5 (msg 2: out 1-2, link01 2-3, link12 3-4, synapse 4-5): sharing costs it 1
    alone = run_phase(program_of(chip, [(0, 2)]), {}, {(0, 2): 2}, 1)
    assert alone.step_cycles[0, 0] == 5 + 10


def test_link_bandwidth_apart_from_hop_latency():
    # hop 3 cycles; by default a link carries one message per hop time: msg 1 on the link 1-4, msg 2 4-7; with
    # link_cycles_per_message = 1 the link is busy 1 cycle per message and the message arrives 2 cycles later:
    # msg 1 link 1-2, synapse 4-5; msg 2 link 2-3, synapse 5-6
    slow = run_phase(program_of(line_chip(hop=3.0), [(0, 1)]), {}, {(0, 1): 2}, 1)
    assert intervals(slow, "link (0, 0)->(0, 1)") == [(1, 4), (4, 7)]
    assert intervals(slow, "core1.synapse") == [(4, 5), (7, 8)]
    fast = run_phase(program_of(line_chip(hop=3.0, link_cycles_per_message=1.0), [(0, 1)]), {}, {(0, 1): 2}, 1)
    assert intervals(fast, "link (0, 0)->(0, 1)") == [(1, 2), (2, 3)]
    assert intervals(fast, "core1.synapse") == [(4, 5), (5, 6)]
    assert fast.step_cycles[0, 0] == 6 + 10


def test_serial_send_and_receive_sides_without_stage_overlap():
    # stages_overlap = false (SANA-FE's model): the output stage's cycle per message joins the soma pass (4 updates
    # + 2 messages = 6 cycles, messages leave at 3 and 6), and a message's receive work is one server
    chip = line_chip(stages_overlap=False)
    timing = run_phase(program_of(chip, [(0, 1)]), {0: 4}, {(0, 1): 2}, 3)
    assert intervals(timing, "core0.soma") == [(0, 6)]
    assert intervals(timing, "link (0, 0)->(0, 1)") == [(3, 4), (6, 7)]
    assert intervals(timing, "core1.synapse") == [(4, 7), (7, 10)]


def test_receiver_input_stage_and_barrier_by_tiles():
    chip = line_chip(message_in_cycles=0.5, barrier_by_tiles=[[1, 3.0], [3, 7.0]])
    assert barrier_cycles(chip, 1) == 3 and barrier_cycles(chip, 2) == 3 and barrier_cycles(chip, 3) == 7
    # output 1 - 0.5 = 0.5 cycles, link 1, input 0.5, synapse 1: one message at 0 ends at 3; 3 tiles used: + 7
    timing = run_phase(program_of(chip, [(0, 1)]), {}, {(0, 1): 1}, 1)
    assert intervals(timing, "core1.input") == [(1.5, 2.0)]
    assert timing.step_cycles[0, 0] == 3 + 7


def test_bad_timing_keys_are_refused():
    with pytest.raises(ChipError, match="timing.message_in_cycles"):
        line_chip(message_in_cycles=2.0)
    with pytest.raises(ChipError, match="timing.barrier_by_tiles"):
        line_chip(barrier_by_tiles=[[4, 1.0], [2, 3.0]])
    with pytest.raises(ChipError, match="timing.buffer_depth"):
        line_chip(buffer_depth=0)


def test_event_mode_on_the_tiny_graph_energy_equal_and_deterministic():
    chip = tiny_chip()
    graph, mapping = tiny_graph(), tiny_mapping(chip)
    analytic = simulate(graph, mapping, chip, HISTORY, LENGTH)
    event = simulate(graph, mapping, chip, HISTORY, LENGTH, timing="event")
    assert event.timing == "event" and analytic.timing == "analytic"
    for key in ("energy_pJ", "energy_pJ_compute", "energy_pJ_memory", "energy_pJ_network", "synaptic_ops",
                "packets"):
        np.testing.assert_array_equal(event.per_inference[key], analytic.per_inference[key])
    assert event.breakdown == analytic.breakdown
    # step 0 (input, then emb): core0's 2 updates + 2 spike_out = 8 cycles from 6 (after its 2 input ACs end at
    # 6); it emits at 10 and 14, out 1, link 2, core1's MAC 2: the last ends at 19; + barrier 10
    assert event.steps[0]["cycles"] == 29 and event.steps[0]["analytic_cycles"] == 30
    assert all("bound" in s for s in event.steps)
    again = simulate(graph, mapping, chip, HISTORY, LENGTH, timing="event")
    np.testing.assert_array_equal(again.per_inference["latency_cycles"], event.per_inference["latency_cycles"])
    assert again.timeline == event.timeline and event.timeline


def test_event_report_has_the_bound_column_and_the_time_plots(tmp_path):
    pytest.importorskip("matplotlib")
    from hardware.report import format_table, write_plots

    chip = tiny_chip()
    event = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH, timing="event")
    table = format_table(event.summary(), {})
    assert "bound by" in table and "core1.soma (100%)" in table and "overlapped" in table
    names = {p.name for p in write_plots(event, tmp_path)}
    assert {"timeline.png", "latency.png"} <= names and all((tmp_path / n).stat().st_size > 0 for n in names)
    analytic = simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)
    assert "timeline.png" not in {p.name for p in write_plots(analytic, tmp_path / "a")}


@pytest.mark.parametrize("preset", ["45nm", "loihi"])
def test_event_mode_on_an_ssr_shaped_graph(preset):
    graph = ssr_like(n_items=120, dim=8, blocks=2, max_len=6)
    for _, node in graph.nodes():
        if isinstance(node, LIF):
            node.threshold = 0.02  # so that the random weights make spikes
    history, length = _histories(40, 6, 120)
    chip = load_chip(preset)
    mapping = map_graph(graph, chip, seed=0)
    analytic = simulate(graph, mapping, chip, history, length, batch_size=16)
    event = simulate(graph, mapping, chip, history, length, batch_size=16, timing="event", timing_chunk=1)
    single = simulate(graph, mapping, chip, history, length, batch_size=7, timing="event", timing_chunk=1)
    # the same events: the same dynamic energy; leakage is power x latency, so static energy follows each model's
    # latency
    dynamic = [r.per_inference["energy_pJ"] - r.per_inference["energy_pJ_static"] for r in (event, analytic)]
    np.testing.assert_allclose(dynamic[0], dynamic[1], rtol=1e-12)
    np.testing.assert_allclose(event.per_inference["energy_pJ_static"] * analytic.per_inference["latency_us"],
                               analytic.per_inference["energy_pJ_static"] * event.per_inference["latency_us"])
    np.testing.assert_allclose(single.per_inference["latency_cycles"], event.per_inference["latency_cycles"])
    lat = event.per_inference["latency_cycles"]
    assert (lat > 0).all() and (event.per_inference["interval_cycles"] <= lat + 1e-9).all()
    s = event.summary()
    assert s["timing"] == "event" and s["inferences_per_s_overlapped"] >= s["inferences_per_s"]


def test_unknown_timing_mode_is_a_user_error():
    chip = tiny_chip()
    with pytest.raises(UserError, match="unknown timing"):
        simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH, timing="cycle")
