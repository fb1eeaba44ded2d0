"""The chip's optional counting rules ([core] neuron_updates, active_update, charge_local_messages), each pinned on
the tiny hand-placed graph of test_hardware_engine (input -> emb on core0 -> lif and out on core1) with the rule off
(the default) and on, every changed count, cycle and pJ computed by hand; and the active-update rule on hand-made
LIF inputs (fixed point and float)."""

import numpy as np
import pytest

from hardware.engine import active_updates
from hardware.simulate import simulate
from ssr_neuro.graph.execute import lif_spikes_float
from ssr_neuro.graph.fixed import lif_run
from ssr_neuro.graph.ir import LIF, LIFFixed
from test_hardware_engine import HISTORY, LENGTH, _check_conservation, tiny_chip, tiny_graph, tiny_mapping


def _run(graph=None, history=HISTORY, length=LENGTH, **rules):
    chip = tiny_chip(**rules)
    r = simulate(graph or tiny_graph(), tiny_mapping(chip), chip, history, length)
    _check_conservation(r)
    return r, {k: float(v[0]) for k, v in r.per_inference.items()}


def test_defaults_are_the_old_rules():
    chip = tiny_chip()
    assert (chip.core.neuron_updates, chip.core.active_update, chip.core.charge_local_messages) == \
        ("own_steps", "input_or_spike", False)
    assert _run()[0].summary() == _run(neuron_updates="own_steps", active_update="input_or_spike",
                                       charge_local_messages=False)[0].summary()


def test_every_step_updates_every_neuron_on_a_core_in_every_step():
    off, pi_off = _run()
    on, pi_on = _run(neuron_updates="every_step")
    # 8 neurons on cores (emb 2 on core0; lif 2 and out 4 on core1) x 4 steps = 32 updates; own steps: 10 (all
    # active here); the 22 others idle: emb in steps 1-3 (6), lif in steps 0 and 3 (4), out in steps 0-2 (12)
    assert pi_off["neuron_updates"] == 10 and pi_on["neuron_updates"] == 32
    assert on.breakdown["by_action"]["neuron_update_idle"] == 22 * 1.0
    assert pi_on["energy_pJ"] == pi_off["energy_pJ"] + 22 * 1.0 == 667 + 22
    assert on.cores[0]["events"]["neuron_update_idle"] == 6 and on.cores[1]["events"]["neuron_update_idle"] == 16
    assert [s["events"].get("neuron_update_idle", 0) for s in on.steps] == [6, 4 + 2, 4 + 2, 2 + 2]
    # idle updates take 1 cycle each on their core, in the step's first phase: step 0's input phase is core1's 6
    # (was io's 2): 6 + network 4 + emb phase 14 + barrier 10 = 34; lif t=0: core1 6 + 4 = 10 (+10); lif t=1:
    # core1 11 + 4 = 15 (+10); out: core1 20 + 2 = 22, + network 8 + 10 = 40
    assert [s["cycles"] for s in off.steps] == [30.0, 16.0, 21.0, 38.0]
    assert [s["cycles"] for s in on.steps] == [34.0, 20.0, 25.0, 40.0]
    assert on.breakdown["by_layer"]["out"] == off.breakdown["by_layer"]["out"] + 12
    np.testing.assert_array_equal(on.scores, off.scores)


def _biased_graph():
    """The tiny graph with lif row 1's bias_mant = 1 (v grows by 1 per step, never reaching 960)."""
    graph = tiny_graph()
    graph.node("lif").fixed.bias_mant[1, 0] = 1
    return graph


def test_state_change_counts_a_neuron_with_bias_or_state_as_active():
    # history [2, 0]: lif row 0 gets 20 and fires at t=0 and t=1; row 1 gets 0 (item 0) but has bias 1
    history, length = np.array([[2, 0]]), np.array([2])
    off, pi_off = _run(_biased_graph(), history, length)
    on, pi_on = _run(_biased_graph(), history, length, active_update="state_change")
    # input_or_spike: row 1 idle at t=0 and t=1 (a_in = 0, no spike); state_change: active (its bias is non-zero)
    assert off.cores[1]["events"]["neuron_update"] == 2 + 4 and off.cores[1]["events"]["neuron_update_idle"] == 2
    assert on.cores[1]["events"]["neuron_update"] == 4 + 4 and "neuron_update_idle" not in on.cores[1]["events"]
    assert pi_on["neuron_updates"] == pi_off["neuron_updates"] == 10
    assert pi_on["energy_pJ"] == pi_off["energy_pJ"] + 2 * (3.0 - 1.0)
    assert pi_on["latency_cycles"] == pi_off["latency_cycles"] + 2 * (3.0 - 1.0)
    # the graph without the bias: every lif update has input, so the rule changes nothing
    assert _run(active_update="state_change")[0].summary() == _run()[0].summary()


def test_charged_local_messages_cost_a_message_out_and_no_hop():
    off, pi_off = _run()
    on, pi_on = _run(charge_local_messages=True)
    # lif row 1's spike at t=1 reaches out (readout edge) on its own core1: one more packet, 0 hops, 7 pJ, 1 cycle
    assert pi_on["packets"] == pi_off["packets"] + 1 == 9 and pi_on["hops"] == pi_off["hops"] == 12
    assert pi_on["energy_pJ"] == 667 + 7.0
    assert on.cores[1]["events"]["message_out"] == 4 + 1 and on.cores[1]["incoming"]["packets"] == 2 + 1
    assert [s["cycles"] for s in on.steps] == [30.0, 16.0, 22.0, 38.0]


def _lif(fixed: bool) -> LIF:
    fx = LIFFixed(du=4095, dv=0, vth=10, bias_mant=np.zeros((1, 3), np.int64), bias_exp=0, in_exp=0)
    return LIF((1, 3), tau=1.0 if fixed else 2.0, threshold=1.0, time_steps=3, bias=np.zeros((1, 3)),
               fixed=fx if fixed else None)


@pytest.mark.parametrize("fixed", [True, False])
def test_active_update_rules_on_hand_made_inputs(fixed):
    # a_in per step [T, b=1, P=1, C=3] for 3 neurons: a pulse below threshold, a late pulse, a pulse that fires
    a_in = np.array([[5, 0, 20], [0, 0, 0], [0, 7, 0]], np.float64)[:, None, None, :]
    if not fixed:
        a_in = np.array([[1.0, 0, 4.0], [0, 0, 0], [0, 0.5, 0]])[:, None, None, :]
    node = _lif(fixed)
    spikes = (lif_run(node.fixed, a_in)[0] if fixed else lif_spikes_float(node, a_in)).reshape(3, 1, 3)
    np.testing.assert_array_equal(spikes[:, 0], [[0, 0, 1], [0, 0, 0], [0, 0, 0]])
    simple = active_updates(node, a_in, spikes, "input_or_spike")[:, 0]
    np.testing.assert_array_equal(simple, [[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    state = active_updates(node, a_in, spikes, "state_change")[:, 0]
    # neuron 0 keeps v != 0 (no leak in fixed point; halving in float): active every step; neuron 2 fired at t=0
    # (v reset to 0) but its current u = 20 << 6 is still non-zero before t=1 in fixed point (float has no u)
    np.testing.assert_array_equal(state, [[1, 0, 1], [1, 0, int(fixed)], [1, 1, 0]])
    if fixed:
        node.fixed.bias_mant[0, 1] = 3
    else:
        node.bias[0, 1] = 0.5
    assert active_updates(node, a_in, spikes, "state_change")[:, 0, 1].all()  # a bias: active every step
