"""The int8 ANN priced on a chip by hand, and the decomposition of SSR's saving adding up exactly."""

import pytest

from hardware.ann_chip import int8_ann_on_chip, saving_decomposition
from hardware.counting import LayerOps
from test_hardware_actions import EXTRA_PJ, SYNAPSE_WORDS_ONLY, chip_with

LAYERS = [LayerOps("a", macs=100, weight_words=40, weight_bytes=160, activation_words=10),
          LayerOps("b", macs=50, weight_words=2000, weight_bytes=2000, activation_words=4)]


def test_int8_ann_priced_by_hand():
    chip = chip_with(EXTRA_PJ, {}, SYNAPSE_WORDS_ONLY)  # mac 2 pJ / 2 cycles, 1 MAC unit, 1,024-byte synapse memory, 100 MHz
    got = int8_ann_on_chip(LAYERS, chip)
    assert got["by_kind"]["compute"] == 150 * 2.0
    # accumulator RMW per MAC 0.125; weight bytes read 2,040 x 0.5 pJ; 2,040 x 8 / 64 words x 2.0 pJ
    assert got["by_kind"]["memory"] == pytest.approx(150 * 0.125 + 2040 * 0.5 + 2040 / 8 * 2.0)
    # 14 activations x (spike_out 5 + message_out 7 + axon_lookup 0.25)
    assert got["by_kind"]["network"] == pytest.approx(14 * 12.25)
    # cores: a 1, b ceil(2000 / 1024) = 2; cycles 100 x 2 / 1 + 50 x 2 / 2 = 250 at 100 MHz = 2.5 us; no leakage
    assert got["cores"] == 3 and got["latency_us"] == pytest.approx(2.5) and got["by_kind"]["static"] == 0.0
    assert got["total_pJ"] == pytest.approx(sum(got["by_kind"].values()))


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
