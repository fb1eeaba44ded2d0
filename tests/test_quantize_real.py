"""The default quantisation of the trained ML-1M model (runs/ml-1m/model.pt, data in ../shared/datasets) loses at
most 2% relative HR@10 on 5,000 validation samples (skipped, with the reason, where either is absent)."""


import numpy as np
import pytest
import torch

from paths import SHARED, ml1m_checkpoint
from ssr_neuro.conversion.evaluate import evaluate_graph
from ssr_neuro.conversion.from_torch import to_graph
from ssr_neuro.graph.quantize import quantize
from ssr_neuro.data import load_described
from ssr_neuro.data.types import Samples
from ssr_neuro.graph.fixed import check_fixed
from ssr_neuro.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.realdata


def _subset(samples: Samples, n: int, seed: int) -> Samples:
    idx = np.sort(np.random.default_rng(seed).choice(len(samples), n, replace=False))
    return Samples(samples.history[idx], samples.length[idx], samples.target[idx], samples.user[idx])


def test_default_quantisation_of_ml1m_loses_at_most_2_percent_hr10():
    checkpoint = ml1m_checkpoint()
    torch.set_num_threads(1)
    model, payload = load_checkpoint(checkpoint)
    ds = load_described(payload["dataset"], SHARED)
    graph = to_graph(model, payload["dataset"])
    cal = _subset(ds.train, 2048, 0)
    q = quantize(graph, (cal.history, cal.length))
    check_fixed(q)
    valid = _subset(ds.valid, 5000, 1)
    base, got = evaluate_graph(graph, valid, (10,)), evaluate_graph(q, valid, (10,))
    assert got["HR@10"] >= 0.98 * base["HR@10"], (base, got)
    assert got["NDCG@10"] >= 0.97 * base["NDCG@10"], (base, got)
