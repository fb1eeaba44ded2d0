"""The actions a spike and a step really cost (input-axon look-up, packet receive, synapse-memory words,
accumulator read-modify-write, neuron-state access, neuron reset between inferences), each counted and priced by
hand on the tiny graph of tests/test_hardware_engine.py; a chip file without them prices them 0."""

import pytest

from hardware.chip import EXTRA_ACTIONS, load_chip, parse_chip
from hardware.simulate import simulate
from test_hardware_engine import CYCLES, ENERGY, HISTORY, LENGTH, tiny_graph, tiny_mapping

EXTRA_PJ = {"axon_lookup": 0.25, "packet_receive": 0.5, "synapse_word_read": 2.0, "accumulator_rmw": 0.125,
            "neuron_state_access": 1.5, "neuron_reset": 0.75}


def chip_with(energy: dict, cycles: dict, word_bits: int | None = None):
    core = {"neurons": 8, "input_axons": 64, "output_axons": 64, "synapse_memory_bytes": 1024, "weight_bits": 8,
            "state_bits": 24, "mac_units": 1, "shared_weights": True}
    if word_bits is not None:
        core["synapse_word_bits"] = word_bits
    doc = {"schema": "ssr-neuro/chip", "version": 1, "name": "tiny", "description": "",
           "mesh": {"rows": 1, "cols": 3, "cores_per_router": 1, "clock_MHz": 100.0, "io_router": [0, 0]},
           "core": core, "energy_pJ": {**ENERGY, **energy}, "cycles": {**CYCLES, **cycles},
           "static": {"leakage_mW_per_core": 0.0}}
    return parse_chip(doc, "tiny.toml")


def run(chip):
    return simulate(tiny_graph(), tiny_mapping(chip), chip, HISTORY, LENGTH)


def test_each_new_action_counted_and_priced_by_hand():
    r = run(chip_with(EXTRA_PJ, {}))
    core0, core1, host, io = r.cores
    # accumulates on cores: input -> emb 2 ACs (core0), emb -> lif 2 MACs and lif -> out 4 ACs (core1): one
    # accumulator read-modify-write each, and 8 weight bits / 64-bit words = 1/8 word each
    assert core0["events"]["accumulator_rmw"] == 2 and core1["events"]["accumulator_rmw"] == 6
    assert core0["events"]["synapse_word_read"] + core1["events"]["synapse_word_read"] == pytest.approx(8 / 8)
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
    r = run(chip_with(EXTRA_PJ, {}, word_bits=16))
    words = sum(c["events"].get("synapse_word_read", 0.0) for c in r.cores)
    assert words == pytest.approx(8 * 8 / 16)


def test_a_chip_file_without_the_new_actions_prices_them_zero():
    r = run(chip_with({}, {}))
    assert r.per_inference["energy_pJ"][0] == 667
    assert all(r.breakdown["by_action"][a] == 0 for a in EXTRA_ACTIONS)


@pytest.mark.parametrize("name", ["45nm", "45nm-ideal", "loihi"])
def test_presets_price_every_new_action_explicitly(name):
    chip = load_chip(name)
    assert set(EXTRA_ACTIONS) <= set(chip.energy_pJ) and set(EXTRA_ACTIONS) <= set(chip.cycles)
