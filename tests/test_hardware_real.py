"""The simulator on the quantised ML-1M graph (runs/ml-1m/model.graph from ``ssr-neuro convert``) mapped on both
presets, 300 real test histories: the chip's scores equal the executor's bit for bit, every breakdown adds up, the
MACs are the graph's graded synapses (skipped, with the reason, where the graph or the datasets are absent)."""


import numpy as np
import pytest

from hardware.chip import load_chip
from hardware.simulate import simulate
from mapping import map_graph
from paths import SHARED, ml1m_graph
from ssr_neuro.data import load_described
from ssr_neuro.graph.execute import run
from ssr_neuro.graph.io import load_graph
from ssr_neuro.graph.ir import Graded

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ml1m():
    graph = load_graph(ml1m_graph())
    test = load_described(graph.meta["dataset"], SHARED).test
    pick = np.random.default_rng(0).choice(len(test), size=300, replace=False)
    return graph, test.history[pick], test.length[pick]


@pytest.mark.parametrize("chip_name", ["45nm", "loihi"])
def test_ml1m_on_presets(ml1m, chip_name):
    graph, history, length = ml1m
    chip = load_chip(chip_name)
    r = simulate(graph, map_graph(graph, chip), chip, history, length)
    scores, _ = run(graph, history, length)
    assert np.array_equal(r.scores, scores)
    total = r.per_inference["energy_pJ"].mean()
    for table in r.breakdown.values():
        assert sum(table.values()) == pytest.approx(total, rel=1e-9)
    graded = sum(syn.n_synapses(graph.node(s), graph.node(t)) for s, t, syn in graph.edges()
                 if isinstance(graph.node(s), Graded))
    assert (r.per_inference["macs"] == graded).all()
    assert (r.per_inference["spikes"] > 0).all() and (r.per_inference["latency_us"] > 0).all()
    if chip_name == "loihi":  # graded work on the host dominates the dynamic energy of a chip without MAC units
        dynamic = total - r.breakdown["by_kind"]["static"]
        assert r.breakdown["by_action"]["host_mac"] > 0.5 * dynamic
