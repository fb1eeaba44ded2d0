"""The numpy graph executor on hand-made graphs: each synapse structure against a direct loop, the LIF equations,
batching, activity recording, and bad input."""

import numpy as np
import pytest

from ssr_neuro.errors import UserError
from ssr_neuro.graph import LIF, NeuroGraph, Synapse
from ssr_neuro.graph.execute import lif_spikes_float, propagate, run, trace

RNG = np.random.default_rng(0)
L, N, D, T = 5, 9, 3, 4


def _syn(structure, shape, positions="each", scale=1.0):
    return Synapse(structure, RNG.normal(0, scale, shape), positions)


@pytest.fixture
def tiny(ssr_graph) -> NeuroGraph:
    """One block: input -> embedding -> block0.filter (circulant) -> block0.lif_1 (readout row) -> block0.lif_2
    (+ diagonal from the filter) -> readout; weights of standard deviation 1, so that the LIFs fire sometimes."""
    return ssr_graph(n_items=N, dim=D, blocks=1, max_len=L, time_steps=T, hidden=2 * D, scale=1.0)


def histories(n):
    length = RNG.integers(1, L + 1, n)
    hist = RNG.integers(1, N + 1, (n, L)) * (np.arange(L) < length[:, None])
    return hist, length


def lif_loop(x_per_step, tau, threshold):
    """The IR's float LIF, one scalar at a time."""
    out = np.zeros_like(x_per_step)
    for idx in np.ndindex(x_per_step.shape[1:]):
        v = 0.0
        for t in range(x_per_step.shape[0]):
            v = v + (x_per_step[(t,) + idx] - v) / tau
            if v >= threshold:
                out[(t,) + idx] = 1.0
                v = 0.0
    return out


def reference(g: NeuroGraph, hist, length):
    """The graph of ``tiny`` computed sample by sample with explicit loops -> scores, spike counts of both LIFs."""
    w = {(s, t): syn.weight for s, t, syn in g.edges()}
    scores, counts1, counts2 = [], [], []
    for h, n in zip(hist, length):
        emb = g.node("embedding").bias + np.stack([w["input", "embedding"][:, i] for i in h])
        filt = g.node("block0.filter").bias.copy()
        for m in range(L):
            for c in range(D):
                filt[m, c] += sum(w["embedding", "block0.filter"][c, m, l] * emb[l, c] for l in range(L))
        row = filt[n - 1]
        s1 = lif_loop(np.repeat((w["block0.filter", "block0.lif_1"] @ row + g.node("block0.lif_1").bias[0])[None], T, 0), 2.0, 1.0)
        x2 = np.stack([w["block0.lif_1", "block0.lif_2"] @ s + w["block0.filter", "block0.lif_2"] * row + g.node("block0.lif_2").bias[0] for s in s1])
        s2 = lif_loop(x2, 2.0, 1.0)
        scores.append(w["block0.lif_2", "readout"] @ s2.sum(0) + g.node("readout").bias[0])
        counts1.append(s1.sum(0))
        counts2.append(s2.sum(0))
    return np.array(scores), np.array(counts1), np.array(counts2)


def test_scores_equal_a_direct_loop_and_do_not_depend_on_batching(tiny):
    g = tiny
    hist, length = histories(40)
    scores, activity = run(g, hist, length)
    assert activity is None
    assert scores.shape == (40, N + 1) and scores.dtype == np.float64
    np.testing.assert_allclose(scores, reference(g, hist, length)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(run(g, hist, length, batch_size=7)[0], scores)


def test_propagate_structures_against_einsum():
    x = RNG.normal(size=(2, 6, L, D))  # leading step axis, batch 6
    length = RNG.integers(1, L + 1, 6)
    dense = _syn("dense", (4, D))
    np.testing.assert_allclose(propagate(dense, dense.weight, x, length), np.einsum("oc,tbpc->tbpo", dense.weight, x))
    circ = _syn("circulant", (D, L, L))
    np.testing.assert_allclose(propagate(circ, circ.weight, x, length), np.einsum("cml,tblc->tbmc", circ.weight, x))
    diag = _syn("diagonal", (D,), "readout")
    rows = x[:, np.arange(6), length - 1][:, :, None, :]
    np.testing.assert_allclose(propagate(diag, diag.weight, x, length), rows * diag.weight)


def test_item_ids_act_as_one_hot_input():
    hist, length = histories(8)
    one_hot = (hist[..., None] == np.arange(N + 1)).astype(np.float64)
    for structure, shape, positions in [("dense", (D, N + 1), "each"), ("dense", (D, N + 1), "readout"),
                                        ("diagonal", (N + 1,), "each")]:
        syn = _syn(structure, shape, positions)
        np.testing.assert_allclose(propagate(syn, syn.weight, hist, length),
                                   propagate(syn, syn.weight, one_hot, length))


def test_lif_float_matches_the_scalar_equations_including_exact_threshold():
    x = RNG.normal(1.0, 1.0, (T, 3, 2, 5))
    x[:, 0, 0, 0] = 2.0  # v reaches exactly the threshold at step 0: fires (>=)
    node = LIF((2, 5), 2.0, 1.0, T, np.zeros((2, 5)))
    spikes = lif_spikes_float(node, x)
    np.testing.assert_array_equal(spikes, lif_loop(x, 2.0, 1.0))
    assert spikes[0, 0, 0, 0] == 1.0
    # constant input 1.5 with tau 2: v = 0.75, 1.125 (fire), 0.75, 1.125 (fire)
    const = lif_spikes_float(LIF((1, 1), 2.0, 1.0, 4, np.full((1, 1), 1.5)), np.zeros((4, 1, 1, 1)))
    np.testing.assert_array_equal(const.ravel(), [0, 1, 0, 1])


def test_activity_counts_messages_per_neuron(tiny):
    g = tiny
    hist, length = histories(50)
    _, act = run(g, hist, length, record=True, batch_size=16)
    assert act.n_inferences == 50
    assert {k: v.shape for k, v in act.rates.items()} == {n: node.shape for n, node in g.nodes()}
    expected_items = np.stack([(hist[:, p, None] == np.arange(N + 1)).mean(0) for p in range(L)])
    np.testing.assert_allclose(act.rates["input"], expected_items)
    np.testing.assert_allclose(act.rates["embedding"], 1.0)  # read by the circulant layer: every row
    rows = np.bincount(length - 1, minlength=L) / 50  # filt is read through "readout" edges only
    np.testing.assert_allclose(act.rates["block0.filter"], np.repeat(rows[:, None], D, 1))
    assert not act.rates["readout"].any()
    _, counts1, counts2 = reference(g, hist, length)  # LIF rates: mean spike counts per neuron
    assert 0 < counts1.sum() < counts1.size * T
    np.testing.assert_allclose(act.rates["block0.lif_1"], counts1.mean(0)[None])
    np.testing.assert_allclose(act.rates["block0.lif_2"], counts2.mean(0)[None])


@pytest.mark.parametrize("bad", ["shape", "ids", "length"])
def test_bad_histories_are_user_errors(bad, tiny):
    g = tiny
    hist, length = histories(4)
    if bad == "shape":
        hist = hist[:, :-1]
    elif bad == "ids":
        hist[0, 0] = N + 1
    else:
        length[0] = 0
    with pytest.raises(UserError):
        run(g, hist, length)


def test_trace_yields_each_nodes_input_and_output_per_batch(tiny):
    g = tiny
    hist, length = histories(10)
    batches = list(trace(g, hist, length, batch_size=4))
    assert [b.history.shape[0] for b in batches] == [4, 4, 2]
    b = batches[0]
    np.testing.assert_array_equal(b.outputs["embedding"], b.inputs["embedding"] + g.node("embedding").bias)
    assert b.inputs["block0.lif_1"].shape == b.outputs["block0.lif_1"].shape == (T, 4, 1, 2 * D)
    np.testing.assert_array_equal(b.outputs["block0.lif_1"], lif_spikes_float(g.node("block0.lif_1"), b.inputs["block0.lif_1"]))
    np.testing.assert_array_equal(np.concatenate([b.outputs["readout"] for b in batches]), run(g, hist, length)[0])
