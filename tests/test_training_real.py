"""A short real training run: SSR on MovieLens-100K (../shared/datasets) beats POP after one epoch, and the CLI
evaluates the checkpoint on the same data it was trained on (skipped, with the reason, where the folder is absent)."""

import json

import pytest
import torch

from paths import SHARED, shared
from ssr_neuro.app.cli import main
from ssr_neuro.data import load_dataset
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.training import TrainConfig, evaluate_model, evaluate_pop, train

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    shared("ml-100k/u.data")
    return load_dataset("ml-100k", data_dir=SHARED, cache_dir=tmp_path_factory.mktemp("cache"))


def test_one_epoch_on_ml100k_beats_pop(ml100k):
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=ml100k.n_items, dim=32, n_blocks=1))
    train(model, ml100k, TrainConfig(epochs=1, compile=False), show_progress=False)
    ssr = evaluate_model(model, ml100k.test)
    pop = evaluate_pop(ml100k.item_counts, ml100k.test)
    assert ssr["n_samples"] == pop["n_samples"] == 20_037
    assert ssr["HR@10"] > 1.5 * pop["HR@10"]
    assert ssr["NDCG@10"] > 1.5 * pop["NDCG@10"]


def test_cli_pop_baseline_on_ml100k(ml100k, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SSR_NEURO_HOME", str(tmp_path))
    assert main(["evaluate", "--baseline", "pop", "--dataset", "ml-100k", "--data-dir", str(SHARED), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["n_samples"] == 20_037
    assert obj["HR@10"] == pytest.approx(evaluate_pop(ml100k.item_counts, ml100k.test)["HR@10"])
