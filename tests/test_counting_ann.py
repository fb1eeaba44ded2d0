"""Pricing one float32 ANN inference from its LayerOps (ssr_neuro.counting.ann_45nm / ann_gpu): hand-computed tiny
cases, the GPU figure derived from its stored data, and ann(graph) as the same pricing of the graph's layers."""

import numpy as np
import pytest

from ssr_neuro.counting import GPU_A100, HOROWITZ_45NM, AcceleratorTable, LayerOps, ann, ann_45nm, ann_gpu, \
    graph_layer_ops
from ssr_neuro.errors import UserError
from ssr_neuro.graph import Graded, ItemInput, NeuroGraph, Readout, Synapse

OPS = [LayerOps("a", macs=10, weight_words=6, weight_bytes=24, activation_words=4),
       LayerOps("b", macs=0, weight_words=3, weight_bytes=40_000, activation_words=3_000)]


def test_45nm_prices_macs_weights_and_activations_by_sram_size():
    r = ann_45nm(OPS)
    a, b = r["layers"]["a"], r["layers"]["b"]
    # a: 10 MACs x 4.6; 24 weight bytes and 16 activation bytes both in the 8 KB class (10 pJ / 64 bits = 5 pJ a word)
    assert (a["sram"], a["activation_sram"]) == ("8KB", "8KB")
    assert a["compute_pJ"] == pytest.approx(46.0)
    assert a["memory_pJ"] == pytest.approx(6 * 5.0 + 4 * 5.0)
    # b: 40,000 weight bytes -> the 1 MB class (50 pJ a word); 12,000 activation bytes -> 32 KB (10 pJ a word)
    assert (b["sram"], b["activation_sram"], b["above_1MB"]) == ("1MB", "32KB", False)
    assert b["compute_pJ"] == 0
    assert b["memory_pJ"] == pytest.approx(3 * 50.0 + 3_000 * 10.0)
    assert r["total_pJ"] == pytest.approx(46 + 50 + 150 + 30_000)
    assert (r["macs"], r["weight_words"], r["activation_words"]) == (10, 9, 3_004)
    assert r["compute_pJ"] + r["memory_pJ"] == pytest.approx(r["total_pJ"])
    assert "4.6 pJ per MAC" in r["label"]


def test_the_paper_rule_for_an_ann_is_the_45nm_compute_part():
    r = ann_45nm(OPS)
    assert r["compute_pJ"] == pytest.approx(HOROWITZ_45NM.mac_pJ * r["macs"])


def test_gpu_figure_is_derived_from_its_stored_data_and_cited():
    assert GPU_A100.mac_pJ == pytest.approx(2 * 400 / 19.5)  # pJ per FMA at board power and FP32 peak
    assert GPU_A100.memory_pJ_per_byte == pytest.approx(8 * 3.9)  # HBM2 pJ per bit x 8
    assert "datasheet" in GPU_A100.sources and "O'Connor" in GPU_A100.sources


def test_gpu_prices_macs_at_board_power_and_every_word_from_dram():
    gpu = AcceleratorTable("toy", board_power_W=100.0, fp32_peak_TFLOPS=10.0, dram="HBM", dram_pJ_per_bit=1.0,
                           sources="made up")
    r = ann_gpu(OPS, gpu)
    assert r["layers"]["a"]["compute_pJ"] == pytest.approx(10 * 20.0)  # 2 x 100 W / 10 TFLOP/s = 20 pJ per MAC
    assert r["layers"]["a"]["memory_pJ"] == pytest.approx((6 + 4) * 4 * 8.0)  # 40 bytes x 8 pJ
    assert r["layers"]["b"]["memory_pJ"] == pytest.approx((3 + 3_000) * 4 * 8.0)
    assert r["bytes_read"] == (6 + 4 + 3 + 3_000) * 4
    assert r["total_pJ"] == pytest.approx(200 + 40 * 8 + 3_003 * 32)
    assert "toy" in r["label"] and "20.0 pJ per MAC" in r["label"]


def test_negative_counts_are_refused_naming_the_layer():
    for price in (ann_45nm, ann_gpu):
        with pytest.raises(UserError, match="'bad'.*macs"):
            price([LayerOps("bad", macs=-1, weight_words=0, weight_bytes=0)])


def small_graph() -> NeuroGraph:
    g = NeuroGraph()
    g.add("input", ItemInput(3, 5))
    g.add("emb", Graded((3, 2), np.zeros((3, 2))))
    g.add("out", Readout((1, 6), np.zeros((1, 6))))
    g.connect("input", "emb", Synapse("dense", np.ones((2, 6))))
    g.connect("emb", "out", Synapse("dense", np.ones((6, 2)), "readout"))
    g.validate()
    return g


def test_ann_of_a_graph_is_the_45nm_pricing_of_its_layer_ops():
    g = small_graph()
    ops = {op.name: op for op in graph_layer_ops(g)}
    # the lookup reads L=3 rows of D=2 words and multiplies nothing; the table (2 x 6 floats) sizes its SRAM
    assert ops["input->emb"] == LayerOps("input->emb", 0, 3 * 2, 12 * 4, 0)
    assert ops["emb->out"] == LayerOps("emb->out", 6 * 2, 12, 12 * 4, 0)
    r, direct = ann(g), ann_45nm(list(ops.values()))
    assert r["layers"] == direct["layers"]
    assert r["total_pJ"] == pytest.approx(direct["total_pJ"]) == pytest.approx(12 * 4.6 + 18 * 5.0)
    assert r["label"].startswith("same network as a float32 ANN")
