"""Baselines compiled into all-graded int8 layer lists (ssr_neuro.baselines.int8): the chip's run of the layer list
(hardware.ann_chip, torch-free) gives exactly the scores of the int8 reference written from the models' equations,
and those scores follow the float model's; a baseline without a layer list is refused naming the way out."""

import numpy as np
import pytest
import torch

from hardware.ann_chip import run_int8_on_chip
from hardware.chip import load_chip
from ssr_neuro.baselines import BASELINES, BaselineConfig
from ssr_neuro.baselines.int8 import compile_int8, reference_scores
from ssr_neuro.errors import UserError

N_ITEMS, L = 40, 6


def model_and_samples(name: str, seed: int = 0):
    torch.manual_seed(seed)
    model = BASELINES[name](BaselineConfig(name, N_ITEMS, max_len=L, dim=16, hidden=12)).eval()
    with torch.no_grad():  # weights large enough that every gate and table is exercised
        for p in model.parameters():
            p.mul_(8.0 if p.dim() == 2 and p.shape[0] == N_ITEMS + 1 else 1.5)
        model.item_embedding.weight[0].zero_()
    rng = np.random.default_rng(seed)
    length = rng.integers(1, L + 1, size=64)
    history = rng.integers(1, N_ITEMS + 1, size=(64, L)) * (np.arange(L)[None] < length[:, None])
    return model, history, length


@pytest.mark.parametrize("name", ["gru4rec", "narm"])
def test_chip_run_equals_the_int8_reference(name):
    model, history, length = model_and_samples(name)
    net = compile_int8(model, history[:32], length[:32])
    assert net.quantized and all(op.weight is None or op.weight.dtype == np.int64 for op in net.ops)
    for chip in ("45nm", "loihi"):
        got = run_int8_on_chip(net, load_chip(chip), history[32:], length[32:])
        np.testing.assert_array_equal(got["scores"], reference_scores(net, history[32:], length[32:]))
        assert got["total_pJ"] > 0 and got["updates"] > 0
    with torch.no_grad():
        float_scores = model.scores(torch.as_tensor(history[32:]), torch.as_tensor(length[32:])).numpy()
    int_scores = reference_scores(net, history[32:], length[32:]).astype(float)
    for f, q in zip(float_scores, int_scores):
        assert np.corrcoef(f[1:], q[1:])[0, 1] > 0.9  # int8 follows float (items 1..N)


def test_gates_use_their_tables():
    model, history, length = model_and_samples("gru4rec")
    net = compile_int8(model, history, length)
    sig = net.op("gru0.t0.r")
    assert sig.table.min() >= 0 and np.all(np.diff(sig.table) >= 0)  # sigmoid: non-negative, monotone
    tanh = net.op("gru0.t0.n")
    assert tanh.table.min() < 0 < tanh.table.max() and np.all(np.diff(tanh.table) >= 0)


def test_a_baseline_without_a_layer_list_is_refused():
    model, history, length = model_and_samples("gru4rec")
    model.cfg = BaselineConfig("sasrec", N_ITEMS, max_len=L, dim=16)
    with pytest.raises(UserError, match="int8_ann_on_chip"):
        compile_int8(model, history, length)
