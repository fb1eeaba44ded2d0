"""The int8 ANN priced on a chip by hand, and the decomposition of SSR's saving adding up exactly."""

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
    # accumulator RMW per MAC 0.125; weight bytes read 2,040 x 0.5 pJ; 2,040 / 8 synapse words x 2.0 pJ
    assert got["by_kind"]["memory"] == pytest.approx(150 * 0.125 + 2040 * 0.5 + 2040 / 8 * 2.0)
    # 14 activations x (spike_out 5 + message_out 7 + packet_receive 0.5 + axon_lookup 0.25)
    assert got["by_kind"]["network"] == pytest.approx(14 * 12.75)
    # cores: a 40 int8 weights, b 500 (float32 bytes / 4): 5 and 63 words, one core each; cycles 100 x 2 + 50 x 2 =
    # 300 at 100 MHz = 3 us; no leakage
    assert got["cores"] == 2 and got["latency_us"] == pytest.approx(3.0) and got["by_kind"]["static"] == 0.0
    assert got["total_pJ"] == pytest.approx(sum(got["by_kind"].values()))


def tiny_net() -> Int8Net:
    """history [2] -> embed (table 4 x 2) -> last -> linear 2 -> 3 -> relu -> readout (table 4 x 3)."""
    rng = np.random.default_rng(0)
    ops = (Op("embed", "embed", ("history",), rng.standard_normal((4, 2))), Op("last", "last", ("embed",)),
           Op("fc", "linear", ("last",), rng.standard_normal((3, 2)), rng.standard_normal(3)),
           Op("act", "lut", ("fc",), param="relu"), Op("readout", "readout", ("act",), rng.standard_normal((4, 3))))
    net = Int8Net("tiny", ops, meta={"max_len": 2})
    return quantize_net(net, np.array([[1, 2], [3, 0]]), np.array([2, 1]))


def test_an_int8_net_priced_by_hand_with_its_activations():
    chip = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)
    got = run_int8_on_chip(tiny_net(), chip, np.array([[1, 2]]), np.array([2]))
    # MACs: fc 2 x 3 = 6, readout 3 x 4 = 12; activations computed: fc 3, relu 3, readout 4; sent on: fc 3, relu 3;
    # bytes read: the 2 x 2 embedding rows, fc 6 + 3 bias, readout 12, relu's 3 table entries = 28
    assert got["macs"] == 18 and got["updates"] == 10
    assert got["by_kind"]["compute"] == pytest.approx(18 * 2.0 + 10 * 3.0)
    # accumulator 0.125 per MAC, weight bytes 0.5, synapse words 28 / 8 x 2.0, state access 1.5 per activation
    assert got["by_kind"]["memory"] == pytest.approx(18 * 0.125 + 28 * 0.5 + 28 / 8 * 2.0 + 10 * 1.5)
    assert got["by_kind"]["network"] == pytest.approx(6 * 12.75)
    net = tiny_net()
    fc, act, out = net.op("fc"), net.op("act"), net.op("readout")
    x = net.op("embed").weight[2]  # the last real item of the history
    h = saturate(round_shift(x @ fc.weight.T + fc.bias, fc.out_exp - net.op("embed").w_exp - fc.w_exp), 8).astype(int)
    np.testing.assert_array_equal(got["scores"][0], act.table[h + 128] @ out.weight.T)


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
