"""Large catalogs on the chip: item tables (lookup and split fan-in, ``mapping.tables``) and the on-chip top-k
(``hardware.topk``): values bit for bit those of the one-hot graph, both backends equal, costs counted, refusals named."""

import dataclasses

import numpy as np
import pytest

from hardware.chip import load_chip, parse_chip, read_chip_doc
from ssr_neuro.metrics import target_ranks
from hardware.engine import run_program
from hardware.program import compile_program
from hardware.simulate import simulate
from hardware.topk import chip_topk, ranks_from_topk
from mapping import map_graph
from mapping.pieces import limit
from ssr_neuro.graph.quantize import quantize
from ssr_neuro.errors import ChipError, MappingError
from ssr_neuro.graph.execute import run
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from test_lava_equality import _lava, assert_same, needs_lava, serial

L, N, D = 5, 3000, 8


def catalog_graph(seed: int = 0) -> tuple[NeuroGraph, np.ndarray, np.ndarray]:
    """A quantised SSR-shaped graph with N items (more than the small chip's input axons) and some histories."""
    rng = np.random.default_rng(seed)
    g = NeuroGraph()
    g.add("input", ItemInput(L, N))
    g.add("emb", Graded((L, D), rng.standard_normal((L, D))))
    g.connect("input", "emb", Synapse("dense", rng.standard_normal((D, N + 1))))
    g.add("lif", LIF((L, D), 2.0, 1.0, 2, rng.standard_normal((L, D))))
    g.connect("emb", "lif", Synapse("dense", rng.standard_normal((D, D))))
    g.add("readout", Readout((1, N + 1), rng.standard_normal((1, N + 1))))
    g.connect("lif", "readout", Synapse("dense", rng.standard_normal((N + 1, D)), "readout"))
    history = rng.integers(0, N + 1, size=(9, L))
    length = rng.integers(1, L + 1, size=9)
    return quantize(g, (history, length)), history, length


def small_chip(embedding: str, top_k: int = 10, **core):
    base = load_chip("45nm")
    return dataclasses.replace(base, name="small", top_k=top_k, core=dataclasses.replace(
        base.core, embedding=embedding, **{"input_axons": 500, "synapse_memory_bytes": 4096, **core}))


@pytest.mark.parametrize("embedding", ["lookup", "fanin", "auto"])
def test_item_tables_give_the_one_hot_graphs_scores_bit_for_bit(embedding):
    graph, history, length = catalog_graph()
    chip = small_chip(embedding)
    mapping = map_graph(graph, chip, strategy="anneal")
    mode = {"auto": "lookup"}.get(embedding, embedding)
    info = mapping.info["embedding"]["emb"]
    assert info["mode"] == mode and info["table_cores"] >= -(-(N + 1) * D // 4096)
    for core in mapping.cores:  # every table core within the chip's limits
        for key in ("neurons", "input_axons", "synapse_words", "output_axons"):
            assert core.resources[key] <= limit(chip, key)
    program = compile_program(graph, mapping, chip)
    scores, ledger, _ = run_program(program, history, length)
    np.testing.assert_array_equal(scores, run(graph, history, length)[0])
    result = simulate(graph, mapping, chip, history, length)
    ev = result.cores
    table_cores = [c for c, p in zip(ev, mapping.cores) if mapping.pieces[p.pieces[0]].population == "table>emb"]
    assert table_cores and all(c["memory_read_bytes"].get("embedding_table", 0) >= 0 for c in table_cores)
    # each position reads one row of D weights (lookup) or makes D synaptic ops (fanin) on its table core
    read = sum(c["memory_read_bytes"].get("embedding_table", 0.0) for c in table_cores)
    assert read == pytest.approx(L * D)
    ops = sum(c["events"].get("synaptic_op", 0.0) for c in table_cores)
    assert ops == pytest.approx(0.0 if mode == "lookup" else L * D)


def test_fanin_merge_costs_more_axons_and_updates_than_lookup():
    graph, history, length = catalog_graph()
    got = {}
    for mode in ("lookup", "fanin"):
        chip = small_chip(mode)
        mapping = map_graph(graph, chip, strategy="greedy")
        result = simulate(graph, mapping, chip, history, length)
        emb_axons = sum(c.resources["input_axons"] for c in mapping.cores
                        if any(mapping.pieces[i].population == "emb" for i in c.pieces))
        got[mode] = (emb_axons, result.per_inference["neuron_updates"].mean(), result.per_inference["energy_pJ"].mean())
    assert got["fanin"][0] > got["lookup"][0]
    assert got["fanin"][1] == pytest.approx(got["lookup"][1] + L * D)
    assert got["fanin"][2] > got["lookup"][2]


TABLES = [("lookup", {}), ("lookup", {"table_channels": 3}), ("fanin", {})]  # lookup rows split by channel too


@pytest.mark.parametrize("embedding,core", TABLES)
def test_lowered_units_equal_the_fast_engine_with_tables_and_topk(embedding, core, tmp_path):
    graph, history, length = catalog_graph(1)
    chip = small_chip(embedding, top_k=5, **core)
    program = compile_program(graph, map_graph(graph, chip, strategy="anneal"), chip)
    assert_same(program, run_program(program, history, length), serial(program, history, length, tmp_path))


@needs_lava
@pytest.mark.parametrize("embedding,core", [TABLES[1], TABLES[2]])
def test_lava_equals_the_fast_engine_with_tables_and_topk(embedding, core):
    graph, history, length = catalog_graph(2)
    chip = small_chip(embedding, top_k=5, **core)
    program = compile_program(graph, map_graph(graph, chip, strategy="greedy"), chip)
    assert_same(program, run_program(program, history[:3], length[:3]), _lava(program, history[:3], length[:3]))


@pytest.mark.parametrize("items,ties", [(300, True), (3416, False), (3416, True), (20, True)])
def test_chip_topk_is_the_hosts_ranking_and_gives_the_same_metrics(items, ties):
    # every path of topk.best: a threshold from block maxima (narrow blocks for small catalogs), and a catalog
    # smaller than 4k, where blocks are single columns
    rng = np.random.default_rng(3)
    scores = (rng.integers(-4, 5, size=(200, items + 1)).astype(np.float64) if ties  # many ties
              else rng.standard_normal((200, items + 1)))
    target = rng.integers(1, items + 1, size=200)
    for k in (k for k in (1, 10, 40) if k < items):
        top = chip_topk(scores, k, chunk=37)
        masked = scores.copy()
        masked[:, 0] = -np.inf
        order = np.argsort(-masked, axis=1, kind="stable")[:, :k + 1]  # the host's order: score, then lower id
        np.testing.assert_array_equal(top["ids"], order[:, :k])
        np.testing.assert_array_equal(top["boundary"], np.take_along_axis(masked, order[:, k:], 1)[:, 0])
        full = target_ranks(scores, target)
        np.testing.assert_array_equal(ranks_from_topk(top, target), np.minimum(full, k + 1))


def test_simulated_topk_equals_the_host_topk_and_is_what_leaves_the_chip():
    graph, history, length = catalog_graph()
    chip = small_chip("lookup", top_k=10)
    result = simulate(graph, map_graph(graph, chip), chip, history, length)
    masked = result.scores.copy()
    masked[:, 0] = -np.inf
    np.testing.assert_array_equal(result.topk["ids"], np.argsort(-masked, axis=1, kind="stable")[:, :10])
    io = next(c for c in result.cores if c["name"] == "io")
    assert io["events"]["result_out"] == 11
    all_out = simulate(graph, map_graph(graph, small_chip("lookup", top_k=0)), small_chip("lookup", top_k=0),
                       history, length)
    assert next(c for c in all_out.cores if c["name"] == "io")["events"]["result_out"] == N + 1
    assert not all_out.topk


def test_table_channels_spread_a_lookup_over_channel_ranges_with_the_same_scores():
    graph, history, length = catalog_graph()
    whole = map_graph(graph, small_chip("lookup"), strategy="greedy")
    chip = small_chip("lookup", table_channels=3)  # D = 8 -> channel ranges 0-3, 3-6, 6-8
    split = map_graph(graph, chip, strategy="greedy")
    ranges = whole.info["embedding"]["emb"]["table_cores"]
    assert split.info["embedding"]["emb"]["table_cores"] == 3 * ranges
    program = compile_program(graph, split, chip)
    scores, _, _ = run_program(program, history, length)
    np.testing.assert_array_equal(scores, run(graph, history, length)[0])
    def table_cores(mapping, chip):
        result = simulate(graph, mapping, chip, history, length)
        return [(c, p) for c, p in zip(result.cores, mapping.cores)
                if mapping.pieces[p.pieces[0]].population == "table>emb"]

    cores, before = table_cores(split, chip), table_cores(whole, small_chip("lookup"))
    for _, placed in cores:  # each table core holds at most 3 channels: P x 3 output routes
        assert placed.resources["output_axons"] <= L * 3
    # the same L x D values are read and sent, now by three cores per item range, and each position's address goes
    # to the three cores of its range: three times the address packets
    assert sum(e["memory_read_bytes"].get("embedding_table", 0.0) for e, _ in cores) == pytest.approx(L * D)

    def received(cs):
        return sum(e["events"].get("packet_receive", 0.0) for e, _ in cs)

    assert received(before) > 0 and received(cores) == pytest.approx(3 * received(before))


def test_a_table_that_cannot_fit_is_refused_naming_the_key():
    graph, _, _ = catalog_graph()
    with pytest.raises(MappingError, match=r"core\.synapse_memory_bytes"):
        map_graph(graph, small_chip("lookup", synapse_memory_bytes=4))
    with pytest.raises(MappingError, match=r"core\.neurons"):
        map_graph(graph, small_chip("fanin", neurons=3))


def test_embedding_and_top_k_keys_are_checked():
    doc, source = read_chip_doc("45nm")
    with pytest.raises(ChipError, match=r"core\.embedding"):
        parse_chip({**doc, "core": {**doc["core"], "embedding": "hash"}}, source)
    with pytest.raises(ChipError, match=r"core\.table_channels"):
        parse_chip({**doc, "core": {**doc["core"], "table_channels": -1}}, source)
    with pytest.raises(ChipError, match=r"output\.top_k"):
        parse_chip({**doc, "output": {"top_k": -1}}, source)
    plain = {k: v for k, v in doc.items() if k != "output"}
    plain["core"] = {k: v for k, v in doc["core"].items() if k != "embedding"}
    chip = parse_chip(plain, source)
    assert chip.core.embedding == "fanin" and chip.top_k == 0
