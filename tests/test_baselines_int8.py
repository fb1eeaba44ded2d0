"""Baselines compiled into all-graded int8 layer lists (ssr_neuro.baselines.int8): the layer list in float is the
torch model; the chip's run of the quantised list (hardware.ann_chip, torch-free) gives exactly the scores of the int8
reference written from the models' equations, and those scores follow the float model's; a baseline without a layer
list is refused naming the way out."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from hardware.ann_chip import run_int8_on_chip
from hardware.chip import load_chip
from ssr_neuro.baselines import BASELINES, BaselineConfig
from ssr_neuro.baselines.int8 import SUPPORTED, compile_int8, impulse_response, layer_list, reference_scores
from ssr_neuro.errors import UserError
from ssr_neuro.graph.int8_net import op_counts, run_net
from mapping.memory import synapse_words_limit

N_ITEMS, L = 40, 6
CASES = [("gru4rec", {}), ("narm", {}), ("sasrec", {}), ("sasrec", {"n_heads": 2, "n_layers": 1}),
         ("fmlp-rec", {}), ("fmlp-rec", {"n_layers": 1}), ("caser", {})]


def model_and_samples(name: str, seed: int = 0, **options):
    torch.manual_seed(seed)
    model = BASELINES[name](BaselineConfig(name, N_ITEMS, max_len=L, dim=16, hidden=12, **options)).eval()
    with torch.no_grad():  # weights large enough that every gate and table is exercised
        for p in model.parameters():
            p.mul_(8.0 if p.dim() == 2 and p.shape[0] == N_ITEMS + 1 else 1.5)
        model.item_embedding.weight[0].zero_()
    rng = np.random.default_rng(seed)
    length = rng.integers(1, L + 1, size=64)
    history = rng.integers(1, N_ITEMS + 1, size=(64, L)) * (np.arange(L)[None] < length[:, None])
    return model, history, length


@pytest.mark.parametrize("name, options", CASES)
def test_chip_run_equals_the_int8_reference(name, options):
    model, history, length = model_and_samples(name, **options)
    net = compile_int8(model, history[:32], length[:32])
    assert net.quantized and all(op.weight is None or op.weight.dtype == np.int64 for op in net.ops)
    for chip in ("45nm", "loihi"):
        got = run_int8_on_chip(net, load_chip(chip), history[32:], length[32:])
        np.testing.assert_array_equal(got["scores"], reference_scores(net, history[32:], length[32:]))
        assert got["total_pJ"] > 0 and got["updates"] > 0
    with torch.no_grad():
        float_scores = model.scores(torch.as_tensor(history[32:]), torch.as_tensor(length[32:])).numpy()
    int_scores = reference_scores(net, history[32:], length[32:]).astype(float)
    overlap = []
    for f, q in zip(float_scores, int_scores):
        assert np.corrcoef(f[1:], q[1:])[0, 1] > 0.9  # int8 follows float (items 1..N)
        overlap.append(len(set(np.argsort(-f[1:])[:10]) & set(np.argsort(-q[1:])[:10])) / 10)
    assert np.mean(overlap) >= 0.8  # and keeps most of its top 10 (measured 0.93-0.98 on these models)


@pytest.mark.parametrize("name, options", CASES)
def test_packed_onto_small_cores_within_their_limits(name, options):
    """Cores of 32 neurons and 256 input and output axons cut most ops of every kind (mapping.int8_pack): no core
    goes over a limit, the cores are near the neuron bound, and every value read elsewhere is sent."""
    model, history, length = model_and_samples(name, **options)
    net = compile_int8(model, history[:32], length[:32])
    chip = load_chip("45nm")
    small = replace(chip, core=replace(chip.core, neurons=32, input_axons=256, output_axons=256))
    got = run_int8_on_chip(net, small, history[32:], length[32:])
    p = got["packing"]
    assert max(p.neurons) <= 32 and max(p.input_axons) <= 256 and max(p.output_routes) <= 256
    assert max(p.words) <= synapse_words_limit(small) and sum(p.neurons) == got["updates"]
    assert -(-got["updates"] // 32) <= p.cores <= 2 * -(-got["updates"] // 32)
    assert 0 < p.packets <= p.arrivals and p.sent <= sum(c.messages for c in op_counts(net, L))
    np.testing.assert_array_equal(got["scores"], reference_scores(net, history[32:], length[32:]))


@pytest.mark.parametrize("name, options", CASES)
def test_the_float_layer_list_is_the_model(name, options):
    model, history, length = model_and_samples(name, **options)
    with torch.no_grad():
        want = model.scores(torch.as_tensor(history), torch.as_tensor(length)).double().numpy()
    got = run_net(layer_list(model), history, length, exact=False)["readout"]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_the_frequency_filter_is_a_circulant():
    model, _, _ = model_and_samples("fmlp-rec")
    block = model.blocks[0]
    x = torch.randn(3, L, 16, dtype=torch.float64)
    with torch.no_grad():
        want = block.filter(x.float()).double().numpy()
    w = impulse_response(block)  # [D, L]
    got = np.einsum("cij,bjc->bic", w[:, (np.arange(L)[:, None] - np.arange(L)[None, :]) % L], x.numpy())
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_norm_and_softmax_tables():
    model, history, length = model_and_samples("sasrec")
    net = compile_int8(model, history, length)
    exp_table, recip = net.op("b0.h0.p").table
    assert exp_table[0] == 2 ** -net.op("b0.h0.p").table_exp[0] and np.all(np.diff(exp_table) <= 0)
    assert np.all(recip[:128] == 0) and np.all(np.diff(recip[128:]) <= 0) and recip[255] > 0
    rsqrt = net.op("b0.ln1.norm").table
    assert np.all(rsqrt[:64] == 0) and np.all(np.diff(rsqrt[64:]) <= 0)
    probs = run_net(net, history, length)["b0.h0.p"] * 2.0 ** net.op("b0.h0.p").out_exp
    assert np.all(np.triu(probs, 1) == 0)  # causal: no weight on later positions
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=0.1)


def test_gates_use_their_tables():
    model, history, length = model_and_samples("gru4rec")
    net = compile_int8(model, history, length)
    sig = net.op("gru0.t0.r")
    assert sig.table.min() >= 0 and np.all(np.diff(sig.table) >= 0)  # sigmoid: non-negative, monotone
    tanh = net.op("gru0.t0.n")
    assert tanh.table.min() < 0 < tanh.table.max() and np.all(np.diff(tanh.table) >= 0)


def test_a_baseline_without_a_layer_list_is_refused():
    model, history, length = model_and_samples("gru4rec")
    model.cfg = BaselineConfig("stamp", N_ITEMS, max_len=L, dim=16)
    assert "stamp" not in SUPPORTED
    with pytest.raises(UserError, match="int8_ann_on_chip"):
        compile_int8(model, history, length)
