"""The actions a spike and a step really cost (input-axon look-up, packet receive, accumulator read-modify-write,
neuron-state access, neuron reset between inferences) and the words each reads from the core's memories, each
counted and priced by hand on the tiny graph of tests/test_hardware_engine.py; a chip file without them prices them
0. The word model itself (formats, the mapper's check) is in tests/test_memory_words.py."""

import pytest

from hardware.chip import EXTRA_ACTIONS, load_chip, parse_chip
from hardware.program import WORDS
from hardware.simulate import simulate
from test_hardware_engine import CYCLES, ENERGY, HISTORY, LENGTH, tiny_graph, tiny_mapping

EXTRA_PJ = {"axon_lookup": 0.25, "packet_receive": 0.5, "accumulator_rmw": 0.125, "neuron_state_access": 1.5,
            "neuron_reset": 0.75}
SYNAPSE_WORDS_ONLY = {"synapse_read_pJ": 2.0, "neuron_state_read_pJ": 0.0, "axon_table_read_pJ": 0.0,
                      "route_table_read_pJ": 0.0}  # 64-bit words; only synapse words priced


def chip_with(energy: dict, cycles: dict, memory: dict | None = None, synapse_format: dict | None = None):
    core = {"neurons": 8, "input_axons": 64, "output_axons": 64, "synapse_memory_bytes": 1024, "weight_bits": 8,
            "state_bits": 24, "mac_units": 1, "shared_weights": True}
    extra = {"memory": memory} if memory is not None else {}
    if synapse_format is not None:
        extra["synapse_format"] = synapse_format
    doc = {**extra, "schema": "ssr-neuro/chip", "version": 1, "name": "tiny", "description": "",
           "mesh": {"rows": 1, "cols": 3, "cores_per_router": 1, "clock_MHz": 100.0, "io_router": [0, 0]},
           "core": core, "energy_pJ": {**ENERGY, **energy}, "cycles": {**CYCLES, **cycles},
           "static": {"leakage_mW_per_core": 0.0}}
    return parse_chip(doc, "tiny.toml")


def run(chip):
    return simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)


def test_each_new_action_counted_and_priced_by_hand():
    r = run(chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY))
    core0, core1, host, io = r.cores
    # accumulates on cores: input -> emb 2 ACs (core0), emb -> lif 2 MACs and lif -> out 4 ACs (core1): one
    # accumulator read-modify-write each, and 8 weight bits / 64-bit words = 1/8 word each
    assert core0["events"]["accumulator_rmw"] == 2 and core1["events"]["accumulator_rmw"] == 6
    assert core0["events"]["words_synapse"] + core1["events"]["words_synapse"] == pytest.approx(8 / 8)
    # events arriving at a core look up their input axon: core0 the 2 input spikes; core1 emb's 2 graded values and
    # lif's 1 spike that reaches the readout (the io port looks nothing up)
    assert core0["events"]["axon_lookup"] == 2 and core1["events"]["axon_lookup"] == 2 + 1
    assert "axon_lookup" not in io["events"]
    # packets taken off the mesh by cores: input -> core0 2, emb -> core1 2 (the 4 scores go to io, not a core)
    assert core0["events"]["packet_receive"] == 2 and core1["events"]["packet_receive"] == 2
    # one state access per neuron update (10 updates); one reset per neuron on a core per inference (2 + 2 + 4)
    assert core0["events"]["neuron_state_access"] + core1["events"]["neuron_state_access"] == 10
    assert core0["events"]["neuron_reset"] == 2 and core1["events"]["neuron_reset"] == 6
    extra = 5 * 0.25 + 4 * 0.5 + 1.0 * 2.0 + 8 * 0.125 + 10 * 1.5 + 8 * 0.75  # 27.25 pJ
    assert r.per_inference["energy_pJ"][0] == pytest.approx(667 + extra)
    by_action = r.breakdown["by_action"]
    assert by_action["neuron_reset"] == pytest.approx(6.0) and by_action["axon_lookup"] == pytest.approx(1.25)
    assert r.per_inference["energy_pJ_network"][0] == pytest.approx(35 + 56 + 132 + 400 + 2.0)
    assert r.breakdown["by_layer"]["out"] > 0 and r.breakdown["by_layer"]["lif"] > 0


def test_new_actions_take_their_cycles():
    base = run(chip_with(EXTRA_PJ, {}))
    slow = run(chip_with(EXTRA_PJ, {"neuron_reset": 1.0}))
    # resets happen in the input phase: core0 2 neurons, core1 6: that phase's busiest unit goes from 2 (io's
    # messages, core0's ACs) to core1's 6 cycles
    assert [c["busy_cycles"] for c in slow.cores[:2]] == [c["busy_cycles"] + d for c, d in
                                                          zip(base.cores[:2], (2, 6))]
    assert slow.per_inference["latency_cycles"][0] == base.per_inference["latency_cycles"][0] + 4


def test_word_width_sets_the_words_read():
    r = run(chip_with(EXTRA_PJ, {}, {"synapse_word_bits": 16}))
    words = sum(c["events"].get("words_synapse", 0.0) for c in r.cores)
    assert words == pytest.approx(8 * 8 / 16)


def test_words_of_every_memory_counted_and_priced_by_hand():
    """Sparse lists of 8-bit weights + 4-bit target index in 16-bit words (one entry per word), a 16-bit header per
    list, aligned; 32-bit neuron-state words (u and v, 2 x 24 bits: 2 words a neuron)."""
    memory = {"synapse_word_bits": 16, "neuron_state_word_bits": 32, "axon_table_word_bits": 16,
              "route_table_word_bits": 16, "synapse_read_pJ": 2.0, "neuron_state_read_pJ": 0.5,
              "axon_table_read_pJ": 0.25}  # the route table priced by its size
    fmt = {"dense": "sparse", "index_bits": 4, "header_bits": 16, "align": True}
    r = run(chip_with({}, {}, memory, fmt))
    words = {k: sum(c["events"].get(f"words_{k}", 0.0) for c in r.cores)
             for k in ("synapse", "neuron_state", "axon_table", "route_table")}
    # synapse: input -> emb 2 events x (1 entry + 1 header); emb -> lif 2 x (1 + 1); lif row 1's spike to the
    # readout's 4 targets 4 + 1 header: 13
    assert words["synapse"] == 13
    # neuron state: 10 updates x 2 words read and written, 8 resets x 2 words written: 56
    assert words["neuron_state"] == 10 * 2 * 2 + 8 * 2
    assert words["axon_table"] == 5 and words["route_table"] == 7  # arrivals at cores; spikes sent by cores
    route_pJ = 10.0 * (64 * 16 / 8 / 8192) ** 0.5 * 16 / 64  # Horowitz by size: 64 entries of 16 bits, 128 bytes
    assert route_pJ == pytest.approx(0.3125)
    assert r.per_inference["energy_pJ"][0] == pytest.approx(667 + 13 * 2.0 + 56 * 0.5 + 5 * 0.25 + 7 * route_pJ)
    memory_pJ = 8 * 0.5 + 13 * 2.0 + 56 * 0.5 + 5 * 0.25 + 7 * route_pJ  # weight bytes as before, + the words
    assert r.per_inference["energy_pJ_memory"][0] == pytest.approx(memory_pJ)


def test_a_chip_file_without_the_new_actions_prices_them_zero():
    r = run(chip_with({}, {}))
    assert r.per_inference["energy_pJ"][0] == 667
    assert all(r.breakdown["by_action"][a] == 0 for a in EXTRA_ACTIONS)
    assert all(r.breakdown["by_action"][w] == 0 for w in WORDS)


@pytest.mark.parametrize("name", ["45nm", "45nm-ideal", "loihi"])
def test_presets_price_every_new_action_explicitly(name):
    chip = load_chip(name)
    assert set(EXTRA_ACTIONS) <= set(chip.energy_pJ) and set(EXTRA_ACTIONS) <= set(chip.cycles)
