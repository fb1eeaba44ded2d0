"""The mapper: SSR-shaped graphs map on the 45nm and loihi presets with every rule re-checked independently,
anneal beats the layer-order baseline, results are deterministic and round-trip through mapping.json, and graphs
that cannot fit fail with a MappingError naming the constraint."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hardware.chip import load_chip
from mapping import STRATEGIES, format_summary, load_mapping, map_graph, plot_mapping
from mapping.mapping import check_fits
from mapping.traffic import ASSUMED
from ssr_neuro.errors import MappingError, UserError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse, WeightFixed
from support import check_mapping, made_up_rates, ssr_like


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
    if chip_name == "loihi":  # no MAC units: only the filter fed by graded input alone runs on the host
        assert set(s["host"]["populations"]) == {"block0.filter"}  # block1.filter has spike input: on cores
        assert set(s["host"]["layers"]) == {f"block{b}.filter -> block{b}.lif_{i}" for b in (0, 1) for i in (1, 2)}
        assert all(p.core is not None for p in m.pieces if "lif" in p.population)
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
        if p.population.startswith("table>"):
            continue  # an item table's pieces are item-id ranges (mapping.tables)
        if p.population.endswith("filter"):
            assert p.rows == (0, 8)  # all positions of its channels: the circulant fan-in stays on the core
        else:
            assert p.rows[1] - p.rows[0] == 1
    first = [m.pieces[i] for i in m.cores[0].pieces]  # shared weights: pieces ordered channel-major, so the
    assert len({p.rows for p in first if p.population == "embedding"}) > 1  # first core holds several positions


def test_shared_axons_let_an_embedding_core_hold_many_positions_on_the_ml_1m_shaped_graph():
    n_items, dim = 3416, 64
    g = ssr_like(n_items=n_items, dim=dim, blocks=2, max_len=20)
    chip = load_chip("45nm")
    chip = dataclasses.replace(chip, core=dataclasses.replace(chip.core, embedding="fanin"))  # today's fan-in
    m = map_graph(g, chip, "greedy")
    emb = [p for p in m.pieces if p.population == "embedding"]
    assert all(p.resources["input_axons"] == n_items + 1 for p in emb)  # one axon per item, not per (position, item)
    cores = {p.core for p in emb}
    for k in cores:
        assert len({r for p in emb if p.core == k for r in range(*p.rows)}) > 1
    weight_bytes = dim * (n_items + 1) * chip.core.weight_bits // 8  # what the embedding must store at least
    assert len(cores) <= 2 * -(-weight_bytes // chip.core.synapse_memory_bytes)
    unshared = dataclasses.replace(chip, core=dataclasses.replace(chip.core, shared_weights=False, input_axons=8192))
    m_old = map_graph(g, unshared, "greedy")  # the per-(position, item) rule: one position per embedding core
    assert all(p.rows[1] - p.rows[0] == 1 for p in m_old.pieces if p.population == "embedding")
    assert all(p.resources["input_axons"] == n_items + 1 for p in m_old.pieces if p.population == "embedding")
    assert m.summary()["cores_used"] < m_old.summary()["cores_used"]


def test_graded_layers_into_lif_run_on_the_host_of_a_chip_without_macs():
    """input -> emb (Graded, spike input: cores) -> lif (LIF) <- g (Graded, graded input only: host); readout."""
    rng = np.random.default_rng(0)
    g = NeuroGraph()
    g.add("input", ItemInput(4, 5))
    g.add("emb", Graded((4, 3), rng.standard_normal((4, 3))))
    g.connect("input", "emb", Synapse("dense", rng.standard_normal((3, 6))))
    g.add("g", Graded((4, 3), rng.standard_normal((4, 3))))
    g.connect("emb", "g", Synapse("diagonal", rng.standard_normal(3)))
    g.add("lif", LIF((4, 3), 2.0, 1.0, 4, rng.standard_normal((4, 3))))
    g.connect("emb", "lif", Synapse("dense", rng.standard_normal((3, 3))))
    g.connect("g", "lif", Synapse("diagonal", rng.standard_normal(3)))
    g.add("out", Readout((1, 6), rng.standard_normal((1, 6))))
    g.connect("lif", "out", Synapse("dense", rng.standard_normal((6, 3)), "readout"))
    g.validate()
    chip = load_chip("loihi")
    m = map_graph(g, chip, "greedy")
    check_mapping(m, g, chip)
    host = m.summary()["host"]
    assert set(host["populations"]) == {"g"} and set(host["layers"]) == {"emb -> lif", "g -> lif"}
    for key, (src, dst) in [("emb -> lif", ("emb", "lif")), ("g -> lif", ("g", "lif")), ("g", ("emb", "g"))]:
        syn = g.synapse(src, dst)
        work = host["layers"].get(key) or host["populations"][key]
        assert work["macs_per_inference"] == syn.n_synapses(g.node(src), g.node(dst))
        assert work["memory_bytes"] == syn.weight.size * chip.core.weight_bits // 8
    assert host["macs_per_inference"] == sum(w["macs_per_inference"] for w in [*host["populations"].values(),
                                                                             *host["layers"].values()])
    lif = [p for p in m.pieces if p.population == "lif"]
    assert lif and all(p.core is not None for p in lif)  # LIF always on cores
    for p in lif:  # two host layers, one axon per neuron (the host sends their sum), no synapse memory
        assert p.resources["input_axons"] == p.neurons and p.resources["synapse_words"] == 0
    assert host["messages_out"] == sum(p.neurons for p in lif)  # one graded message per target neuron
    assert {p.population for p in m.pieces if p.core is None} == {"g"}
    assert "g -> lif" in format_summary(m.summary())


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


def test_an_item_fan_in_over_the_axon_limit_is_split_into_table_cores(graph):
    chip = load_chip("45nm")
    tiny = dataclasses.replace(chip, core=dataclasses.replace(chip.core, input_axons=200, embedding="fanin"))
    m = map_graph(graph, tiny)
    assert m.info["embedding"]["embedding"] == {"mode": "fanin", "table_cores": 2, "item_ranges": 2}
    assert all(c.resources["input_axons"] <= 200 for c in m.cores)


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


def test_10x_graph_maps_on_the_scaled_example_chip_only():
    g = ssr_like(n_items=50_000, dim=256, blocks=4, max_len=20)
    with pytest.raises(MappingError, match=r"needs [\d,]+ cores.*mesh\.rows"):  # the item table fits, the rest not
        map_graph(g, load_chip("45nm"), "greedy")
    chip = load_chip(Path(__file__).parent.parent / "examples" / "chips" / "45nm-10x.toml")
    s = map_graph(g, chip, "greedy").summary()
    assert s["cores_used"] <= s["cores_available"] and s["host"] is None



def _edited(path: Path, edit) -> Path:
    """A copy of a mapping file with ``edit(doc)`` applied to its JSON."""
    doc = json.loads(path.read_text())
    edit(doc)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(doc))
    return out


@pytest.fixture
def saved(graph, small_45nm, tmp_path):
    """A mapping of ``graph`` on ``small_45nm`` (cores listing their pieces out of id order), and its file."""
    m = map_graph(graph, small_45nm, "anneal", made_up_rates(graph))
    assert any(c.pieces != sorted(c.pieces) for c in m.cores)
    m.save(tmp_path / "mapping.json")
    return m, tmp_path / "mapping.json"


def test_a_file_with_pieces_piled_on_one_core_is_refused_naming_the_resource(graph, small_45nm, saved):
    m, path = saved
    assert check_fits(load_mapping(path), graph, small_45nm).cores == m.cores  # a true file checks as it is

    def pile(doc):  # every piece on core 0; the stated resources left as the mapper wrote them
        for p in doc["pieces"]:
            if p["core"] is not None:
                p["core"], p["mesh"] = 0, doc["cores"][0]["mesh"]
        doc["cores"][0]["pieces"] = [p["id"] for p in doc["pieces"] if p["core"] == 0]

    neurons = sum(p.neurons for p in m.pieces if p.core is not None)
    assert neurons > small_45nm.core.neurons
    with pytest.raises(MappingError, match=rf"core 0 of the mapping needs {neurons:,} neurons, a core of chip "
                                           rf"'45nm' has 128 \(core.neurons\)"):
        check_fits(load_mapping(_edited(path, pile)), graph, small_45nm)


def test_stated_resources_that_lie_are_recomputed(graph, small_45nm, saved):
    m, path = saved

    def lie(doc):
        for c in doc["cores"]:
            c["resources"] = {key: 0 for key in c["resources"]}

    checked = check_fits(load_mapping(_edited(path, lie)), graph, small_45nm)
    assert checked.cores == m.cores
    # the same file on a chip whose cores are too small for what its core 0 really needs
    need = m.cores[0].resources["input_axons"]
    small = dataclasses.replace(small_45nm, core=dataclasses.replace(small_45nm.core, input_axons=need - 1))
    with pytest.raises(MappingError, match=rf"core 0 of the mapping needs {need:,} input axons.*core.input_axons"):
        check_fits(load_mapping(_edited(path, lie)), graph, small)


def test_cores_sharing_a_slot_or_pieces_off_their_side_are_refused(graph, small_45nm, saved):
    _, path = saved

    def same_slot(doc):
        doc["cores"][1]["mesh"] = doc["cores"][0]["mesh"]

    with pytest.raises(MappingError, match="cores 0 and 1 of the mapping sit in the same slot"):
        check_fits(load_mapping(_edited(path, same_slot)), graph, small_45nm)

    def to_host(doc):
        doc["pieces"][0]["core"] = None

    with pytest.raises(MappingError, match="piece 0 .* sits on the host, but embedding runs on cores"):
        check_fits(load_mapping(_edited(path, to_host)), graph, small_45nm)
