"""The int8 ANN packed onto cores and priced on a chip by hand, and the decomposition of SSR's saving adding up
exactly."""

from dataclasses import replace

import pytest

import numpy as np

from hardware.ann_chip import int8_ann_on_chip, run_int8_on_chip, saving_decomposition
from ssr_neuro.graph.fixed import round_shift, saturate
from ssr_neuro.graph.int8_net import Int8Net, Op, op_counts, quantize_net
from ssr_neuro.counting import LayerOps
from test_hardware_actions import EXTRA_PJ, SYNAPSE_WORDS_ONLY, chip_with

LAYERS = [LayerOps("a", macs=100, weight_words=40, weight_bytes=160, activation_words=10),
          LayerOps("b", macs=50, weight_words=2000, weight_bytes=2000, activation_words=4)]


def test_int8_ann_priced_by_hand():
    chip = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)  # mac 2 pJ / 2 cycles, 1 MAC unit, 1,024-byte synapse memory
    got = int8_ann_on_chip(LAYERS, chip)                 # (128 words of 64 bits), 100 MHz
    assert got["by_kind"]["compute"] == 150 * 2.0 and got["updates"] == 0
    # accumulator RMW per MAC 0.125; weight bytes read 2,040 x 0.5 pJ; 2,040 / 8 synapse words x 2.0 pJ; the 14
    # activation words arrive: an input-axon lookup each (0.25, memory as SSR's)
    assert got["by_kind"]["memory"] == pytest.approx(150 * 0.125 + 2040 * 0.5 + 2040 / 8 * 2.0 + 14 * 0.25)
    # the estimate keeps every activation word a message: spike_out 5 + message_out 7 + packet_receive 0.5
    assert got["by_kind"]["network"] == pytest.approx(14 * 12.5)
    # cores: a 40 int8 weights, b 500 (float32 bytes / 4): 5 and 62.5 words share one core (128 words); cycles
    # 100 x 2 + 50 x 2 = 300 at 100 MHz = 3 us; no leakage
    assert got["cores"] == 1 and got["latency_us"] == pytest.approx(3.0) and got["by_kind"]["static"] == 0.0
    assert got["total_pJ"] == pytest.approx(sum(got["by_kind"].values()))


def test_a_layer_bigger_than_a_core_still_split_by_its_words():
    chip = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)  # 128 synapse words a core
    layers = [LayerOps("small", 10, 10, 4 * 80), LayerOps("big", 10, 10, 4 * 2000), LayerOps("after", 10, 10, 4 * 8)]
    got = int8_ann_on_chip(layers, chip)
    # small: 10 words on core 0; big: 250 words, more than a core: ceil(250 / 128) = 2 new cores of its own, 125 words
    # each (as the old rule split it; the estimate has no values to cut it by); after: 1 word joins the open core 2
    packing = got["packing"]
    assert packing.item_cores == ((0,), (1, 2), (2,)) and packing.busiest == (1.0, 0.5, 1.0)
    assert all(w <= 128 for w in packing.words) and got["cores"] == 3


def tiny_net() -> Int8Net:
    """history [2] -> embed (table 4 x 2) -> last -> linear 2 -> 3 -> relu -> readout (table 4 x 3)."""
    rng = np.random.default_rng(0)
    ops = (Op("embed", "embed", ("history",), rng.standard_normal((4, 2))), Op("last", "last", ("embed",)),
           Op("fc", "linear", ("last",), rng.standard_normal((3, 2)), rng.standard_normal(3)),
           Op("act", "lut", ("fc",), param="relu"), Op("readout", "readout", ("act",), rng.standard_normal((4, 3))))
    net = Int8Net("tiny", ops, meta={"max_len": 2})
    return quantize_net(net, np.array([[1, 2], [3, 0]]), np.array([2, 1]))


def test_an_int8_net_priced_by_hand_with_its_activations():
    chip = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)  # 8 neurons, 128 synapse words, 64 input axons a core
    got = run_int8_on_chip(tiny_net(), chip, np.array([[1, 2]]), np.array([2]))
    # MACs: fc 2 x 3 = 6, readout 3 x 4 = 12; activations computed: fc 3, relu 3, readout 4; sent on: fc 3, relu 3;
    # bytes read: the 2 x 2 embedding rows, fc 6 + 3 bias, readout 12, relu's 3 table entries = 28
    assert got["macs"] == 18 and got["updates"] == 10
    assert got["by_kind"]["compute"] == pytest.approx(18 * 2.0 + 10 * 3.0)
    # packing: embed (1 word), fc (3 neurons) and relu (3 neurons, its 256-entry table: 32 words) share core 0; the
    # readout's 4 neurons do not fit there (6 + 4 > 8): core 1; "last" is a data move, on no core
    assert got["packing"].item_cores == ((0,), (), (0,), (0,), (1,)) and got["cores"] == 2
    # fc's 3 values reach relu on its own core (an axon lookup each, no packet); relu's 3 cross to core 1 (an axon
    # lookup and a packet each): 6 sent (spike_out 5), 3 packets (message_out 7 + packet_receive 0.5)
    p = got["packing"]
    assert (p.sent, p.arrivals, p.packets, p.input_axons, p.output_routes) == (6, 6, 3, (0, 3), (3, 0))
    assert got["by_kind"]["network"] == pytest.approx(6 * 5.0 + 3 * 7.5)
    local = replace(chip, core=replace(chip.core, charge_local_messages=True))  # a value to its own core is a packet
    assert run_int8_on_chip(tiny_net(), local, np.array([[1, 2]]), np.array([2]))["packing"].packets == 6
    # accumulator 0.125 per MAC, weight bytes 0.5, synapse words 28 / 8 x 2.0, state access 1.5 per activation,
    # axon lookups 0.25 per arrival
    assert got["by_kind"]["memory"] == pytest.approx(18 * 0.125 + 28 * 0.5 + 28 / 8 * 2.0 + 10 * 1.5 + 6 * 0.25)
    net = tiny_net()
    fc, act, out = net.op("fc"), net.op("act"), net.op("readout")
    x = net.op("embed").weight[2]  # the last real item of the history
    h = saturate(round_shift(x @ fc.weight.T + fc.bias, fc.out_exp - net.op("embed").w_exp - fc.w_exp), 8).astype(int)
    np.testing.assert_array_equal(got["scores"][0], act.table[h + 128] @ out.weight.T)


def test_an_op_bigger_than_a_core_is_cut_by_rows_and_limits_hold():
    """history [4] -> embed (10 x 8) -> linear 8 -> 6 at each position [4, 6] -> relu -> last -> readout (10 x 6), on
    cores of 8 neurons: the 24-neuron ops are cut by their values (row-major, 6 a row)."""
    rng = np.random.default_rng(2)
    ops = (Op("embed", "embed", ("history",), rng.standard_normal((10, 8))),
           Op("fc", "linear", ("embed",), rng.standard_normal((6, 8)), rng.standard_normal(6)),
           Op("act", "lut", ("fc",), param="relu"), Op("last", "last", ("act",)),
           Op("readout", "readout", ("last",), rng.standard_normal((10, 6))))
    net = quantize_net(Int8Net("rows", ops, meta={"max_len": 4}), rng.integers(1, 10, (8, 4)), np.full(8, 4))
    chip = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)
    got = run_int8_on_chip(net, chip, np.array([[1, 2, 3, 4]]), np.array([4]))
    p = got["packing"]
    # embed: 80 bytes = 10 words, no neurons: core 0. fc (24 neurons, more than a core): its first 8 values fill
    # core 0's 8 neurons, the other 16 go to 2 new cores, 8 each; relu (24): core 2 is full, so 3 new cores of 8;
    # readout (10 neurons): 2 new cores of 5
    assert p.item_cores == ((0,), (0, 1, 2), (3, 4, 5), (), (6, 7)) and p.cores == 8
    assert p.busiest == (1.0, 1 / 3, 1 / 3, 0.0, 0.5) and p.neurons == (8, 8, 8, 8, 8, 8, 5, 5)
    # relu's core k holds values 8k..8k+7 (rows 8k // 6 .. (8k + 7) // 6) and reads those rows of fc: 12 values
    # each (fc 0-11, 6-17, 12-23), all made on cores 0-2: 36 arrivals and packets for fc's 24 values; the readout's
    # two cores both read relu's last row (values 18-23, on core 5): 6 values sent, 12 arrivals and packets
    assert (p.sent, p.arrivals, p.packets) == (24 + 6, 36 + 12, 36 + 12)
    # with core.shared_weights an input axon is a channel of its maker: a relu core reads fc's 6 channels, fc's
    # core 1 embed's 8 (rows 1-2), a readout core relu's 6
    assert p.input_axons == (0, 8, 8, 6, 6, 6, 6, 6)
    assert max(p.neurons) <= 8 and max(p.words) <= 128 and max(p.output_routes) <= 64
    assert got["by_kind"]["network"] == pytest.approx(30 * 5.0 + 48 * 7.5)


def test_too_many_output_routes_spread_their_maker():
    """10 linears (8 neurons each: a core each, the first on the embedding's) read the 8 channels of one embedding:
    9 x 8 = 72 routes from its core, over the 64 output axons of a core, so the embedding is spread over 2 cores of
    its own, 4 values each (fc0 joins the second): 4 channels to 10 cores from core 0, to 9 from core 1."""
    rng = np.random.default_rng(4)
    ops = (Op("embed", "embed", ("history",), rng.standard_normal((10, 8))),
           *(Op(f"fc{i}", "linear", ("embed",), rng.standard_normal((8, 8))) for i in range(10)),
           Op("readout", "readout", ("fc9",), rng.standard_normal((10, 8))))
    net = quantize_net(Int8Net("fan", ops, meta={"max_len": 1}), rng.integers(1, 10, (8, 1)), np.full(8, 1))
    p = run_int8_on_chip(net, chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY), np.array([[3]]), np.array([1]))["packing"]
    assert p.item_cores[:3] == ((0, 1), (1,), (2,)) and p.output_routes[:2] == (40, 36)
    assert max(p.output_routes) <= 64


def test_energy_equals_the_old_rule_when_every_op_fills_a_core():
    """Every op fills a core (the embedding its words, the others its neurons) and each value has one reader on the
    next core: the packing is the old one-op-a-core rule, and so is the energy, static included."""
    rng = np.random.default_rng(3)
    ops = (Op("embed", "embed", ("history",), rng.standard_normal((16, 64))),          # 1,024 bytes = 128 words
           Op("fc", "linear", ("embed",), rng.standard_normal((8, 64)), rng.standard_normal(8)),  # [2, 8]: 16
           Op("act", "lut", ("fc",), param="relu"),                                      # 16 neurons
           Op("readout", "readout", ("act",), rng.standard_normal((8, 8))))              # [2, 8]: 16 neurons
    net = quantize_net(Int8Net("full", ops, meta={"max_len": 2}), rng.integers(1, 16, (8, 2)), np.full(8, 2))
    base = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)
    chip = replace(base, core=replace(base.core, neurons=16), static={"leakage_mW_per_core": 0.5})
    got = run_int8_on_chip(net, chip, np.array([[1, 2]]), np.array([2]))
    assert got["packing"].item_cores == ((0,), (1,), (2,), (3,))
    counts = op_counts(net, 2)
    macs, updates = sum(c.macs for c in counts), sum(c.updates for c in counts)
    weights, messages = sum(c.weights for c in counts), sum(c.messages for c in counts)
    assert messages == 32  # fc's 16 and relu's 16, each read on the next core
    # the old rule: a core per op, every activation one message (spike_out, message_out, packet_receive, axon lookup)
    cycles = sum(c.macs * 2.0 + c.updates * 3.0 for c in counts)  # 1 MAC unit, each op on one core
    old = (macs * 2.0 + updates * 3.0 + macs * 0.125 + weights * 0.5 + weights / 8 * 2.0 + updates * 1.5
           + messages * 12.75 + 1000 * 0.5 * 4 * cycles / 100.0)
    assert got["cores"] == 4 and got["latency_us"] == pytest.approx(cycles / 100.0)
    assert got["total_pJ"] == pytest.approx(old)


def test_the_new_op_kinds_counted_by_hand():
    """L = 2, D = 2: one op of every kind the attention, filter and convolution models add, counted by hand."""
    rng = np.random.default_rng(1)
    w = lambda *shape: rng.standard_normal(shape)
    ops = (Op("embed", "embed", ("history",), w(4, 2)), Op("pos", "const", (), w(2, 2)),
           Op("x0", "add", ("embed", "pos")), Op("n", "norm", ("x0",), param=1e-5),
           Op("s", "scale", ("n",), w(2), w(2)), Op("logits", "matmul", ("s", "s"), param="nt"),
           Op("p", "softmax", ("logits",), param="causal"), Op("att", "matmul", ("p", "s"), param="nn"),
           Op("f", "filter", ("s",), w(2, 2), param="all"), Op("c", "conv", ("s",), w(3, 4), w(3), param=2),
           Op("mp", "maxpool", ("c",)), Op("al", "align", ("s",)), Op("v", "posmix", ("al",), w(1, 2), w(1)),
           Op("cat", "concat", ("mp", "v", "att", "f"), param="flat"), Op("readout", "readout", ("cat",), w(4, 13)))
    net = Int8Net("kinds", ops, meta={"max_len": 2})
    got = {c.name: (c.macs, c.weights, c.stored, c.updates, c.messages) for c in op_counts(net, 2)}
    # (MACs, bytes read, bytes stored, activations computed, sent); tables are 256 entries (softmax: two)
    assert got["pos"] == (0, 4, 4, 0, 0)                     # the 2 x 2 array read whole
    assert got["n"] == (3 * 4, 2, 256, 4, 4)                 # sum, squares, scaling per element; rsqrt once a row
    assert got["s"] == (4, 4, 4, 4, 4)                       # gain x + bias: one MAC, two parameters a channel
    assert got["logits"] == (4 * 2, 0, 0, 4, 4)              # [2, 2] outputs x 2 channels
    assert got["p"] == (2 * 4, 4 + 2, 512, 4, 4)             # exp per element (+ its sum), 1 / S once a row
    assert got["att"] == (4 * 2, 0, 0, 4, 4)                 # [2, 2] outputs x 2 positions mixed
    assert got["f"] == (4 * 2, 4, 4, 4, 4)                   # each output sums L = 2 positions
    assert got["c"] == (3 * 4, 15, 15, 3, 3)                 # one window (2 rows x 2 channels) x 3 filters
    assert got["mp"] == (0, 0, 0, 3, 3) and got["al"] == (0, 0, 0, 0, 0)
    assert got["v"] == (2 * 2, 3, 3, 2, 2)                   # [1, 2] outputs x L = 2
    assert got["readout"] == (4 * 13, 52, 52, 4, 0)
    quantized = quantize_net(net, np.array([[1, 2], [3, 0]]), np.array([2, 1]))
    assert [c.macs for c in op_counts(quantized, 2)] == [c.macs for c in op_counts(net, 2)]


def test_decomposition_adds_up():
    ideal = {"total_pJ": 500.0, "by_kind": {}}
    chip = {"total_pJ": 900.0, "by_kind": {"compute": 400.0, "memory": 300.0, "network": 150.0, "static": 50.0}}
    ssr = {"compute": 100.0, "memory": 200.0, "network": 120.0, "static": 80.0}
    d = saving_decomposition(2000.0, ideal, chip, ssr)
    assert d["total_saving_pJ"] == 2000 - 500
    parts = ("precision_pJ", "chip_pJ", "spike_sparsity_pJ", "memory_traffic_pJ", "network_pJ", "static_pJ")
    assert sum(d[p] for p in parts) == pytest.approx(d["total_saving_pJ"])
    assert d["precision_pJ"] == 1500 and d["chip_pJ"] == -400 and d["spike_sparsity_pJ"] == 300
    assert d["static_pJ"] == -30 and d["saving_vs_int8_ann_on_chip"] == pytest.approx(1 - 500 / 900)
