"""The three counting methods (ssr_neuro.counting): exact MACs, ACs, weight reads and pJ on a tiny hand-computed graph,
and agreement of the SNN rule on a converted torch SSR with the model's own Recorder, layer by layer."""

import copy
import json

import numpy as np
import pytest
import torch

from ssr_neuro.counting import HOROWITZ_45NM, ann, chip_figure, count_methods, fan_out, snn_rule
from hardware.result import PER_INFERENCE_KEYS, SimResult
from ssr_neuro.conversion import to_graph
from ssr_neuro.errors import UserError
from ssr_neuro.graph import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from ssr_neuro.graph.execute import run
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.model.instrument import Recorder


def tiny_graph() -> NeuroGraph:
    """L = 2 positions, N = 3 items; every structure, both positions kinds, spike and graded inputs."""
    g = NeuroGraph()
    w = np.ones
    g.add("input", ItemInput(2, 3))
    g.add("emb", Graded((2, 2), np.zeros((2, 2))))
    g.add("filt", Graded((2, 2), np.zeros((2, 2))))
    g.add("lif1", LIF((2, 3), 2.0, 1.0, 4, np.zeros((2, 3))))
    g.add("lif2", LIF((2, 2), 2.0, 1.0, 4, np.zeros((2, 2))))
    g.add("lif3", LIF((2, 2), 2.0, 1.0, 4, np.zeros((2, 2))))
    g.add("out", Readout((1, 4), np.zeros((1, 4))))
    g.connect("input", "emb", Synapse("dense", w((2, 4))))
    g.connect("emb", "filt", Synapse("circulant", w((2, 2, 2))))
    g.connect("filt", "lif1", Synapse("dense", w((3, 2))))
    g.connect("lif1", "lif2", Synapse("dense", w((2, 3))))
    g.connect("filt", "lif2", Synapse("diagonal", w(2)))
    g.connect("lif2", "lif3", Synapse("circulant", w((2, 2, 2))))
    g.connect("lif2", "out", Synapse("dense", w((4, 2)), "readout"))
    g.connect("lif3", "out", Synapse("dense", w((4, 2)), "readout"))
    g.validate()
    return g


RATES = {"lif1": np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]),  # 5 spikes per inference
         "lif2": np.array([[1.0, 1.0], [0.0, 2.0]]),  # 4
         "lif3": np.array([[0.5, 0.0], [0.0, 0.0]])}


def test_snn_rule_on_a_hand_computed_graph():
    r = snn_rule(tiny_graph(), RATES)
    ops = {name: (v["kind"], v["ops"]) for name, v in r["layers"].items()}
    assert ops == {
        "input->emb": ("ac", 2 * 2),  # one spike per position x fan-out C_out = 2
        "emb->filt": ("mac", 2 * 2 * 2),  # circulant: C x P_out x P_in
        "filt->lif1": ("mac", 2 * 3 * 2),  # rows x C_out x C_in, computed once (constant drive over T)
        "lif1->lif2": ("ac", 5 * 2),  # spikes x C_out
        "filt->lif2": ("mac", 2 * 2),  # diagonal: rows x C
        "lif2->lif3": ("ac", 4 * 2),  # circulant fan-out: P_out
        "lif2->out": ("mac", 1 * 4 * 2),  # a LIF's window sum into a Readout: MACs at every synapse
        "lif3->out": ("mac", 1 * 4 * 2),
    }
    assert (r["macs"], r["acs"]) == (40, 22)
    assert r["total_pJ"] == pytest.approx(40 * 4.6 + 22 * 0.9)
    assert r["constants"] == {"E_MAC_pJ": 4.6, "E_AC_pJ": 0.9}
    assert sum(v["pJ"] for v in r["layers"].values()) == pytest.approx(r["total_pJ"])


def test_snn_rule_scales_with_spikes_only_on_spike_layers():
    doubled = {k: 2 * v for k, v in RATES.items()}
    a, b = snn_rule(tiny_graph(), RATES), snn_rule(tiny_graph(), doubled)
    assert b["macs"] == a["macs"]
    assert b["acs"] - a["acs"] == (5 * 2 + 4 * 2)  # the input's spikes do not depend on activity


def test_ann_on_a_hand_computed_graph():
    r = ann(tiny_graph())
    lay = r["layers"]
    assert (lay["input->emb"]["macs"], lay["input->emb"]["weight_words"]) == (0, 2 * 2)  # lookup of L rows of D
    assert (lay["lif1->lif2"]["macs"], lay["lif1->lif2"]["weight_words"]) == (2 * 2 * 3, 6)  # one pass, no T
    assert (lay["filt->lif2"]["macs"], lay["filt->lif2"]["weight_words"]) == (4, 2)
    assert r["macs"] == 8 + 12 + 12 + 4 + 8 + 8 + 8
    assert r["weight_words"] == 4 + 8 + 6 + 6 + 2 + 8 + 8 + 8
    assert all(v["sram"] == "8KB" and v["sram_pJ_per_word"] == 5.0 for v in lay.values())  # 10 pJ / 2 words
    assert r["compute_pJ"] == pytest.approx(60 * (3.7 + 0.9))
    assert r["memory_pJ"] == pytest.approx(50 * 5.0)
    assert r["total_pJ"] == pytest.approx(r["compute_pJ"] + r["memory_pJ"])


@pytest.mark.parametrize("layer_bytes, sram", [(1, "8KB"), (8192, "8KB"), (8193, "32KB"), (32768, "32KB"),
                                                (32769, "1MB"), (1 << 20, "1MB"), (5 << 20, "1MB")])
def test_sram_class_is_the_smallest_table_row_that_holds_the_layer(layer_bytes, sram):
    assert HOROWITZ_45NM.sram_class(layer_bytes)[0] == sram


def test_ann_marks_layers_above_the_largest_sram():
    g = NeuroGraph()
    g.add("input", ItemInput(1, 299_999))
    g.add("emb", Graded((1, 1), np.zeros((1, 1))))
    g.add("out", Readout((1, 300_000), np.zeros((1, 300_000))))
    g.connect("input", "emb", Synapse("dense", np.ones((1, 300_000))))
    g.connect("emb", "out", Synapse("dense", np.ones((300_000, 1))))
    lay = ann(g)["layers"]
    assert lay["emb->out"]["above_1MB"] and lay["emb->out"]["sram"] == "1MB"
    assert lay["emb->out"]["memory_pJ"] == pytest.approx(300_000 * 50.0)


def test_fan_out_per_structure():
    assert fan_out(Synapse("dense", np.ones((5, 3)))) == 5
    assert fan_out(Synapse("circulant", np.ones((2, 7, 4)))) == 7
    assert fan_out(Synapse("diagonal", np.ones(3))) == 1


def test_missing_or_misshaped_activity_is_named():
    with pytest.raises(UserError, match="lif1"):
        snn_rule(tiny_graph(), {k: v for k, v in RATES.items() if k != "lif1"})
    with pytest.raises(UserError, match="shape"):
        snn_rule(tiny_graph(), {**RATES, "lif2": np.ones(4)})


def fake_result(total_pJ: np.ndarray) -> SimResult:
    n = len(total_pJ)
    per = {k: np.zeros(n) for k in PER_INFERENCE_KEYS}
    per["energy_pJ"] = total_pJ
    return SimResult(chip="toy", n_inferences=n, scores=np.zeros((n, 4)), per_inference=per,
                     breakdown={"by_kind": {"compute": float(total_pJ.mean())}}, steps=[], cores=[], raster={},
                     links=[])


def test_compare_puts_the_methods_side_by_side_json_ready():
    g = tiny_graph()
    empty = count_methods(g, RATES)
    assert empty["methods"]["chip"]["total_pJ"] is None and "snn_rule/chip" not in empty["ratios"]
    c = count_methods(g, RATES, fake_result(np.array([100.0, 300.0])))
    json.dumps(c)
    snn, a = c["methods"]["snn_rule"]["total_pJ"], c["methods"]["ann"]["total_pJ"]
    assert c["methods"]["chip"]["total_pJ"] == 200.0
    assert c["ratios"]["snn_rule/chip"] == pytest.approx(snn / 200.0)
    assert c["ratios"]["snn_rule/ann"] == pytest.approx(snn / a)
    assert c["ratios"]["snn_rule/ann_compute"] == pytest.approx(snn / c["methods"]["ann"]["compute_pJ"])
    assert chip_figure(None)["total_pJ"] is None


# ------------------------------------------------------------------------------------------------ against torch

N, L, D, BLOCKS = 30, 6, 8, 2


@pytest.fixture(scope="module")
def converted():
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=N, max_len=L, dim=D, n_blocks=BLOCKS))
    with torch.no_grad():  # BatchNorm statistics that make both LIF layers fire at a few different rates
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)):
            bn.running_var.uniform_(0.3, 3.0)
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.normal_(0.5, 0.5)
    model = copy.deepcopy(model).double().eval()  # float64: no spike flips between torch and the graph
    rng = np.random.default_rng(1)
    length = rng.integers(1, L + 1, 50)
    history = rng.integers(1, N + 1, (50, L)) * (np.arange(L) < length[:, None])
    rec = Recorder()
    with torch.no_grad():
        model.scores(torch.from_numpy(history), torch.from_numpy(length), rec)
    graph = to_graph(model)
    _, activity = run(graph, history, length, record=True)
    return rec.summary(), snn_rule(graph, activity.rates), activity


def test_snn_rule_on_the_graph_agrees_with_the_models_recorder(converted):
    torch_counts, graph_counts, activity = converted
    rec, lay = torch_counts["layers"], graph_counts["layers"]
    assert rec["block0.lif_1"]["spikes"] > 0 and rec["block1.lif_1"]["spikes"] > 0
    for i in range(BLOCKS):
        src = "embedding" if i == 0 else f"block{i - 1}.lif_2"
        b = f"block{i}"
        assert activity.rates[f"{b}.lif_1"].sum() == pytest.approx(rec[f"{b}.lif_1"]["spikes"])
        for torch_name, layer in ((f"{b}.filter", f"{src}->{b}.filter"), (f"{b}.dense_1", f"{b}.filter->{b}.lif_1"),
                                  (f"{b}.dense_2", f"{b}.lif_1->{b}.lif_2")):
            assert lay[layer]["kind"] == rec[torch_name]["kind"], layer
            assert lay[layer]["ops"] == pytest.approx(rec[torch_name]["ops"], rel=1e-12), layer
    # the readout computes padding column 0 too (the Recorder counts D x N)
    assert lay[f"block{BLOCKS - 1}.lif_2->readout"]["ops"] == rec["readout"]["ops"] + D
    # what the graph has and the Recorder does not count: the lookup (L spikes x D) and the residual diagonals
    assert (lay["input->embedding"]["kind"], lay["input->embedding"]["ops"]) == ("ac", L * D)
    residual = sum(v["ops"] for k, v in lay.items() if k.endswith(".lif_2") and ".filter->" in k)
    assert residual == (L + 1) * D  # block 0 at every position, the pruned last block at the readout row
    totals = torch_counts["totals"]
    assert graph_counts["macs"] == pytest.approx(totals["mac"] + D + residual)
    assert graph_counts["acs"] == pytest.approx(totals["ac"] + L * D)
