"""The float graph of the trained ML-1M model (runs/ml-1m/model.pt, not in git) against the torch model on a spread
of ML-1M test samples (../shared/datasets); skipped, with the reason, where either is absent."""

import copy

import numpy as np
import pytest
import torch

from paths import SHARED, ml1m_checkpoint
from ssr_neuro.conversion import compare_scores, to_graph
from ssr_neuro.data import load_described
from ssr_neuro.data.types import Samples
from ssr_neuro.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def trained():
    model, meta = load_checkpoint(ml1m_checkpoint())
    ds = load_described(meta["dataset"], SHARED)  # item ids checked against the checkpoint's
    return model, meta, ds


def test_ml1m_graph_reproduces_the_torch_scores(trained):
    torch.set_num_threads(1)
    model, meta, ds = trained
    pick = np.arange(0, len(ds.test), 100)  # ~2,000 samples spread over the test set
    t = ds.test
    samples = Samples(t.history[pick], t.length[pick], t.target[pick], t.user[pick])
    graph = to_graph(model, meta["dataset"])
    res = compare_scores(model, graph, samples, batch_size=512)
    assert res["rel_err_median"] < 1e-6  # float32 rounding only; a folding mistake would be far larger
    assert res["frac_rel_err_over_1e-4"] <= 0.002 and res["top10_same"] >= 0.998  # spike flips at the threshold
    assert abs(res["graph"]["HR@10"] - res["torch"]["HR@10"]) <= 2 / len(samples)
    exact = compare_scores(copy.deepcopy(model).double(), graph, samples, batch_size=512)  # no float32 rounding
    assert exact["rel_err_max"] < 1e-9 and exact["top10_same"] == 1.0
