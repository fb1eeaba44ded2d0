"""torch SSR -> float NeuroGraph: the graph's scores, spikes and metrics against the torch model's eval mode, on a
small model trained for a few steps with random BatchNorm statistics (so every fold matters)."""

import copy

import numpy as np
import pytest
import torch

from ssr_neuro.conversion import compare_scores, evaluate_graph, to_graph
from ssr_neuro.conversion.from_torch import circulant
from ssr_neuro.data.types import Samples
from ssr_neuro.graph import ItemInput, LIF
from ssr_neuro.graph.execute import propagate, run
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.model.instrument import Recorder
from ssr_neuro.training import evaluate_model

N, L, D, BLOCKS = 40, 8, 16, 2


def random_samples(n: int, seed: int) -> Samples:
    rng = np.random.default_rng(seed)
    length = rng.integers(1, L + 1, n)
    history = rng.integers(1, N + 1, (n, L)) * (np.arange(L) < length[:, None])
    return Samples(history=history, length=length, target=rng.integers(1, N + 1, n), user=np.arange(n))


@pytest.fixture(scope="module")
def model() -> SSR:
    torch.manual_seed(0)
    m = SSR(SSRConfig(n_items=N, max_len=L, dim=D, n_blocks=BLOCKS))
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    train = random_samples(64, 1)
    for _ in range(5):
        opt.zero_grad()
        batch = (torch.from_numpy(a) for a in (train.history, train.length, train.target))
        m.loss(*batch).backward()
        opt.step()
    with torch.no_grad():
        for bn in (mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm1d)):
            bn.running_mean.normal_(0.0, 0.5)
            bn.running_var.uniform_(0.3, 3.0)
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.normal_(0.3, 0.5)
    return m.eval()


@pytest.fixture(scope="module")
def model64(model) -> SSR:
    """The same model in float64: no float32 rounding, so no spike flips at threshold-close potentials."""
    return copy.deepcopy(model).double().eval()


def test_float_circulant_equals_the_filter_layer(model):
    for filt in model.filters:
        np.testing.assert_allclose(circulant(filt.weight, L), filt.circulant().detach().double().numpy(), atol=1e-6)


def test_graph_is_valid_and_described(model):
    g = to_graph(model, {"name": "unit"})
    g.validate()
    assert g.meta["format"] == "ssr-neuro/graph" and g.meta["dataset"] == {"name": "unit"}
    assert g.meta["model_config"] == model.cfg.to_dict()
    lifs = {name: node for name, node in g.nodes() if isinstance(node, LIF)}
    assert len(lifs) == 2 * BLOCKS
    assert all((n.tau, n.threshold, n.time_steps) == (2.0, 1.0, 4) for n in lifs.values())
    assert lifs[f"block{BLOCKS - 1}.lif_1"].shape == (1, 4 * D) and lifs["block0.lif_1"].shape == (L, 4 * D)


def test_item_input_is_one_hot_into_the_folded_embedding(model64):
    g = to_graph(model64)
    assert isinstance(g.node("input"), ItemInput) and g.node("input").shape == (L, N + 1)
    s = random_samples(30, 2)
    emb = propagate(g.synapse("input", "embedding"), g.synapse("input", "embedding").weight, s.history, s.length)
    expected = model64._embed(torch.from_numpy(s.history)).detach().numpy()
    np.testing.assert_allclose(emb + g.node("embedding").bias, expected, rtol=1e-12, atol=1e-12)


def test_graph_scores_equal_the_float64_model_exactly_enough(model64):
    s = random_samples(300, 3)
    res = compare_scores(model64, to_graph(model64), s, batch_size=128)
    assert res["rel_err_max"] < 1e-10
    assert res["top10_same"] == 1.0
    assert res["torch"] == res["graph"]


def test_graph_scores_equal_the_float32_model_to_rounding(model):
    s = random_samples(300, 4)
    res = compare_scores(model, to_graph(model), s, batch_size=128)
    assert res["rel_err_median"] < 1e-6  # float32 rounding; a folding mistake is orders larger
    assert res["rel_err_p999"] < 1e-4 or res["top10_same"] >= 0.99
    assert res["top10_same"] >= 0.98


def test_pruning_the_last_block_keeps_scores_and_reports_the_saving(model64):
    pruned, full = to_graph(model64), to_graph(model64, prune=False)
    s = random_samples(100, 5)
    np.testing.assert_allclose(run(pruned, s.history, s.length)[0], run(full, s.history, s.length)[0],
                               rtol=1e-12, atol=1e-12)
    saving = pruned.meta["conversion"]["saving"]
    assert saving["neurons"] == (L - 1) * 5 * D  # last lif_1 (4D) and lif_2 (D) at L-1 positions fewer
    assert saving["synapses"] == (L - 1) * (8 * D * D + D)  # dense_1, dense_2, residual diagonal per position
    assert pruned.meta["conversion"]["full"]["neurons"] == sum(full.stats()["neurons"].values())


def test_lif_rates_match_the_model_recorder(model64):
    s = random_samples(200, 6)
    rec = Recorder()
    with torch.no_grad():
        model64.scores(torch.from_numpy(s.history), torch.from_numpy(s.length), rec)
    g = to_graph(model64)
    _, act = run(g, s.history, s.length, record=True, batch_size=64)
    layers = rec.summary()["layers"]
    rates = []
    for name, node in g.nodes():
        if isinstance(node, LIF):
            rate = act.rates[name].sum() / (node.time_steps * node.shape[0] * node.shape[1])
            assert rate == pytest.approx(layers[name]["firing_rate"], rel=1e-12, abs=1e-12)
            rates.append(rate)
    assert 0.02 < min(rates) and max(rates) < 0.98  # the check is not trivial: neurons fire, not all the time


def test_evaluate_graph_matches_evaluate_model(model64):
    s = random_samples(250, 7)
    assert evaluate_graph(to_graph(model64), s, ks=(5, 10), batch_size=100) == evaluate_model(model64, s, ks=(5, 10))
