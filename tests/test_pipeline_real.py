"""The model-to-chip pipeline on real data in every CI run: an SSR trained for one epoch on MovieLens-100K
(../shared/datasets) converts to a float graph with the torch model's scores, quantises with little loss, and maps
on both preset chips with every per-core limit held (skipped, with the reason, where the folder is absent).
The ML-1M figures of BENCHMARKS.md come from the same code (tests/test_conversion_real.py and
tests/test_quantize_real.py check them where the ML-1M checkpoint exists)."""


import numpy as np
import pytest
import torch

from hardware.chip import load_chip
from paths import SHARED, shared
from mapping import map_graph
from ssr_neuro.conversion import compare_scores, evaluate_graph, to_graph
from ssr_neuro.graph.quantize import quantize
from ssr_neuro.data import load_dataset
from ssr_neuro.data.types import Samples
from ssr_neuro.graph.execute import run
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.training import TrainConfig, train

pytestmark = pytest.mark.realdata


def _subset(samples: Samples, step: int) -> Samples:
    pick = np.arange(0, len(samples), step)
    return Samples(history=samples.history[pick], length=samples.length[pick], target=samples.target[pick],
                   user=samples.user[pick])


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    shared("ml-100k/u.data")
    ds = load_dataset("ml-100k", data_dir=SHARED, cache_dir=tmp_path_factory.mktemp("cache"))
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=ds.n_items, dim=32, n_blocks=1))  # one epoch: a trained model in about a minute
    train(model, ds, TrainConfig(epochs=1, compile=False), show_progress=False)
    model.eval()
    rng = np.random.default_rng(0)
    calib = rng.choice(len(ds.train), size=2048, replace=False)
    float_graph = to_graph(model, ds.describe())
    fixed = quantize(float_graph, (ds.train.history[calib], ds.train.length[calib]))
    return model, ds, float_graph, fixed


def test_float_graph_reproduces_the_torch_model_on_ml100k(pipeline):
    model, ds, float_graph, _ = pipeline
    cmp = compare_scores(model, float_graph, _subset(ds.test, 10))
    assert cmp["top10_same"] >= 0.999
    assert cmp["rel_err_median"] < 1e-5


def test_fixed_point_graph_keeps_the_quality_on_ml100k(pipeline):
    _, ds, float_graph, fixed = pipeline
    test = _subset(ds.test, 4)
    f, q = evaluate_graph(float_graph, test), evaluate_graph(fixed, test)
    from ssr_neuro.training import evaluate_pop
    assert f["HR@10"] > evaluate_pop(ds.item_counts, test)["HR@10"]  # a trained model, not a random one
    assert q["HR@10"] >= 0.95 * f["HR@10"]


@pytest.mark.parametrize("chip_name", ["45nm", "loihi"])
def test_ml100k_graph_maps_on_the_preset_chips(pipeline, chip_name):
    _, ds, _, fixed = pipeline
    _, activity = run(fixed, ds.train.history[:256], ds.train.length[:256], record=True)
    chip = load_chip(chip_name)
    greedy = map_graph(fixed, chip, strategy="greedy", activity=activity).summary()
    anneal = map_graph(fixed, chip, strategy="anneal", activity=activity, seed=0).summary()
    for s in (greedy, anneal):
        assert 1 <= s["cores_used"] <= chip.n_cores
        assert all(u["max"] <= 1.0 for u in s["utilisation"].values())
    assert anneal["hop_weighted_traffic"] <= greedy["hop_weighted_traffic"]
