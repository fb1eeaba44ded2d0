"""The mapper: SSR-shaped graphs map on the 45nm and loihi presets with every rule re-checked independently,
anneal beats the layer-order baseline, results are deterministic and round-trip through mapping.json, and graphs
that cannot fit fail with a MappingError naming the constraint."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from hardware.chip import load_chip
from mapping import STRATEGIES, format_summary, load_mapping, map_graph, plot_mapping
from mapping.traffic import ASSUMED
from ssr_neuro.errors import MappingError, UserError
from ssr_neuro.graph.ir import WeightFixed
from test_mapping_helpers import check_mapping, made_up_rates, ssr_like


@pytest.fixture(scope="module")
def graph():
    return ssr_like(n_items=300, dim=16, blocks=2, max_len=8)


@pytest.fixture(scope="module")
def small_45nm():
    chip = load_chip("45nm")
    return dataclasses.replace(chip, mesh=dataclasses.replace(chip.mesh, rows=4, cols=4),
                               core=dataclasses.replace(chip.core, neurons=128, synapse_memory_bytes=8192,
                                                        input_axons=512))


def _without_time(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["summary"].pop("map_time_s")
    return doc


def test_importing_mapping_does_not_import_torch():
    code = "import sys, mapping, mapping.plot; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("chip_name", ["45nm", "loihi"])
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_ssr_graph_maps_on_presets_with_every_rule_held(graph, chip_name, strategy):
    chip = load_chip(chip_name)
    m = map_graph(graph, chip, strategy, made_up_rates(graph), seed=1)
    check_mapping(m, graph, chip)
    s = m.summary()
    assert s["cores_used"] == len(m.cores) and s["strategy"] == strategy and s["seed"] == 1
    assert s["activity"] == "recorded activity"
    for u in s["utilisation"].values():
        assert 0 < u["mean"] <= u["max"] <= 1
    if chip_name == "loihi":  # no MAC units: every population with graded input runs on the host
        assert set(s["host"]["populations"]) == {"block0.filter", "block0.lif_1", "block0.lif_2", "block1.lif_1",
                                                 "block1.lif_2"}
    else:
        assert s["host"] is None
    assert "cores" in format_summary(s)


def test_anneal_beats_layer_order_on_hop_weighted_traffic(graph, small_45nm):
    rates = made_up_rates(graph)
    greedy = map_graph(graph, small_45nm, "greedy", rates).summary()
    anneal = map_graph(graph, small_45nm, "anneal", rates).summary()
    assert anneal["hop_weighted_traffic"] < greedy["hop_weighted_traffic"]


def test_circulant_layers_split_by_channels_and_position_wise_by_rows(graph, small_45nm):
    m = map_graph(graph, small_45nm, "greedy")
    for p in m.pieces:
        if p.population.endswith("filter"):
            assert p.rows == (0, 8)  # all positions of its channels: the circulant fan-in stays on the core
        else:
            assert p.rows[1] - p.rows[0] == 1


def test_deterministic_for_a_seed(graph, small_45nm):
    rates = made_up_rates(graph)
    a = map_graph(graph, small_45nm, "anneal", rates, seed=3).to_json()
    b = map_graph(graph, small_45nm, "anneal", rates, seed=3).to_json()
    assert _without_time(a) == _without_time(b)


def test_no_activity_assumes_one_message_per_step(graph, small_45nm):
    s = map_graph(graph, small_45nm, "greedy").summary()
    assert s["activity"] == ASSUMED
    bad = made_up_rates(graph)
    bad["block0.lif_1"] = bad["block0.lif_1"][:, :3]
    with pytest.raises(UserError, match="block0.lif_1"):
        map_graph(graph, small_45nm, "greedy", bad)


def test_save_load_round_trip_and_plot(graph, small_45nm, tmp_path):
    m = map_graph(graph, small_45nm, "anneal", made_up_rates(graph))
    path = tmp_path / "mapping.json"
    m.save(path)
    back = load_mapping(path)
    assert back.pieces == m.pieces and back.cores == m.cores and back.summary() == m.summary()
    with pytest.raises(UserError, match="exists"):
        m.save(path)
    m.save(path, overwrite=True)
    (tmp_path / "bad.json").write_text(json.dumps({"format": "ssr-neuro/mapping", "version": 99}))
    with pytest.raises(UserError, match="newer|upgrade"):
        load_mapping(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(UserError, match="not a mapping"):
        load_mapping(tmp_path / "junk.json")
    png = tmp_path / "mesh.png"
    plot_mapping(load_mapping(path), small_45nm, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_single_neuron_over_the_axon_limit_fails_naming_it(graph):
    chip = load_chip("45nm")
    tiny = dataclasses.replace(chip, core=dataclasses.replace(chip.core, input_axons=200))
    with pytest.raises(MappingError, match=r"embedding\[0:1, 0:1\]: needs 301 input axons.*core.input_axons"):
        map_graph(graph, tiny)


def test_too_few_cores_and_missing_mac_and_weight_bits(graph):
    chip = load_chip("45nm")
    small = dataclasses.replace(chip, mesh=dataclasses.replace(chip.mesh, rows=1, cols=1, cores_per_router=1))
    with pytest.raises(MappingError, match=r"needs \d+ cores.*has 1 \(mesh.rows"):
        map_graph(graph, small, "greedy")
    no_host = dataclasses.replace(load_chip("loihi"), host=None)
    with pytest.raises(MappingError, match="block0.filter.*core.mac_units = 0"):
        map_graph(graph, no_host)
    wide = ssr_like(n_items=300, dim=16, blocks=2, max_len=8)
    syn = wide.synapse("embedding", "block0.filter")
    syn.fixed = WeightFixed(np.zeros(syn.weight.shape, np.int64), -8, 16)
    with pytest.raises(MappingError, match="16-bit weights.*core.weight_bits"):
        map_graph(wide, chip)
    with pytest.raises(UserError, match="unknown mapping strategy"):
        map_graph(graph, chip, "magic")


def test_output_routes_are_repaired_by_splitting():
    g = ssr_like(n_items=2000, dim=16, blocks=1, max_len=4)
    chip = load_chip("45nm")
    narrow = dataclasses.replace(chip, core=dataclasses.replace(chip.core, output_axons=100, neurons=256))
    m = map_graph(g, narrow, "greedy")
    check_mapping(m, g, narrow)
    assert any(p.population == "block0.lif_2" and p.neurons < 16 for p in m.pieces)  # split to fit its routes
