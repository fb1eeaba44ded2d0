"""Training and evaluation: beats POP on synthetic data, reproducible, keeps a real copy of the best weights,
Ctrl-C keeps the best so far; metrics by full ranking; checkpoints round-trip and refuse code."""

import os
import pickle

import numpy as np
import pytest
import torch

from ssr_neuro.data import load_dataset
from ssr_neuro.errors import CheckpointError, UserError
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.training import TrainConfig, evaluate_model, evaluate_pop, load_checkpoint, save_checkpoint, train
from ssr_neuro.metrics import metrics_from_ranks
from ssr_neuro.training.metrics import target_ranks


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return load_dataset("synthetic", cache_dir=tmp_path_factory.mktemp("cache"))


def _small_model(ds, seed=0, **kw):
    torch.manual_seed(seed)
    return SSR(SSRConfig(n_items=ds.n_items, dim=kw.pop("dim", 32), n_blocks=kw.pop("n_blocks", 1), **kw))


def test_ranks_and_metrics_by_hand():
    scores = torch.tensor([[9.0, 1.0, 5.0, 3.0, 5.0],    # target 2 ties with item 4 -> rank 2 (ties count against)
                           [9.0, 4.0, 3.0, 2.0, 1.0],    # target 1 is best -> rank 1 (item 0 never ranked)
                           [0.0, 1.0, 2.0, 3.0, 4.0]])   # target 1 is worst -> rank 4
    target = torch.tensor([2, 1, 1])
    assert target_ranks(scores, target).tolist() == [2, 1, 4]
    # masking history item 4 lifts the first target to rank 1
    assert target_ranks(scores, target, torch.tensor([[4, 0], [0, 0], [0, 0]])).tolist() == [1, 1, 4]
    m = metrics_from_ranks(np.array([2, 1, 4]), ks=(1, 3))
    assert m["HR@1"] == pytest.approx(1 / 3)
    assert m["HR@3"] == pytest.approx(2 / 3)
    assert m["NDCG@3"] == pytest.approx((1 / np.log2(3) + 1) / 3)
    assert m["MRR@3"] == pytest.approx((0.5 + 1) / 3)
    assert m["n_samples"] == 3


def test_short_training_beats_pop_on_synthetic(synthetic):
    model = _small_model(synthetic)
    result = train(model, synthetic, TrainConfig(epochs=3, compile=False), show_progress=False)
    test = evaluate_model(model, synthetic.test)
    pop = evaluate_pop(synthetic.item_counts, synthetic.test)
    assert test["n_samples"] == pop["n_samples"] == len(synthetic.test)
    assert test["HR@10"] > 2 * pop["HR@10"]
    assert test["MRR@10"] > 2 * pop["MRR@10"]
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_best_weights_are_a_real_copy_and_are_the_ones_returned(synthetic):
    model = _small_model(synthetic, dim=16)
    result = train(model, synthetic, TrainConfig(epochs=3, compile=False, lr=3e-3), show_progress=False)
    live = model.state_dict()
    for k, v in result.best_state.items():
        assert v.data_ptr() != live[k].data_ptr()
    assert evaluate_model(model, synthetic.valid)["MRR@10"] == pytest.approx(result.best_valid["MRR@10"], abs=1e-12)
    best_row = result.history[result.best_epoch - 1]
    assert best_row["valid_MRR@10"] == max(r["valid_MRR@10"] for r in result.history)


def test_seeded_cpu_training_is_reproducible(synthetic):
    states = []
    for _ in range(2):
        model = _small_model(synthetic, seed=7, dim=16)
        train(model, synthetic, TrainConfig(epochs=1, seed=5, compile=False), show_progress=False)
        states.append(model.state_dict())
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_ctrl_c_keeps_the_best_weights_so_far(synthetic):
    model = _small_model(synthetic, dim=16)
    n_batches = -(-len(synthetic.train) // 128)
    calls = {"n": 0}
    real_loss = model.loss

    def loss_then_interrupt(*args):
        calls["n"] += 1
        if calls["n"] == n_batches + 5:  # a few batches into epoch 2
            raise KeyboardInterrupt
        return real_loss(*args)

    model.loss = loss_then_interrupt
    result = train(model, synthetic, TrainConfig(epochs=3, compile=False), show_progress=False)
    assert result.interrupted and result.best_epoch == 1 and len(result.history) == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, result.best_state[k])


def test_train_config_rejects_bad_values():
    with pytest.raises(UserError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(UserError, match="patience"):
        TrainConfig(patience=-1)


# --------------------------------------------------------------------------------------------- checkpoints

def test_checkpoint_round_trip(tmp_path, synthetic):
    model = _small_model(synthetic, dim=16).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, synthetic.describe(), {"best_epoch": 1}, {"valid": {"MRR@10": 0.5}})
    loaded, meta = load_checkpoint(path)
    hist = torch.from_numpy(synthetic.test.history[:64])
    length = torch.from_numpy(synthetic.test.length[:64])
    with torch.no_grad():
        assert torch.equal(model.scores(hist, length), loaded.scores(hist, length))
    assert meta["dataset"]["item_ids"] == synthetic.item_ids
    assert meta["model_config"]["n_items"] == synthetic.n_items
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary file left


def test_checkpoint_refuses_to_overwrite_unless_asked(tmp_path, synthetic):
    model = _small_model(synthetic, dim=8)
    path = tmp_path / "model.pt"
    path.write_text("user's file")
    with pytest.raises(UserError, match="already exists"):
        save_checkpoint(path, model, synthetic.describe(), {}, {})
    assert path.read_text() == "user's file"
    save_checkpoint(path, model, synthetic.describe(), {}, {}, overwrite=True)
    load_checkpoint(path)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_with_pickled_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "ssr-neuro/checkpoint", "payload": _Evil(marker)}, path)
    with pytest.raises(CheckpointError, match="run code"):
        load_checkpoint(path)
    assert not marker.exists()
    # a plain pickle (not a torch zip) carrying code is refused too
    path2 = tmp_path / "evil2.pt"
    path2.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(CheckpointError):
        load_checkpoint(path2)
    assert not marker.exists()


def test_truncated_foreign_and_missing_checkpoints_are_refused(tmp_path, synthetic):
    model = _small_model(synthetic, dim=8)
    good = tmp_path / "good.pt"
    save_checkpoint(good, model, synthetic.describe(), {}, {})
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not an ssr-neuro checkpoint"):
        load_checkpoint(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError):
        load_checkpoint(text)
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "absent.pt")


def test_without_a_validation_set_the_last_epoch_is_kept_and_said(tmp_path, monkeypatch):
    import importlib

    from ssr_neuro.training import training_record

    train_module = importlib.import_module("ssr_neuro.training.train")  # the module, not the function of that name

    data = load_dataset("synthetic", cache_dir=tmp_path, valid_ratio=0.0)
    assert len(data.valid) == 0
    after_epoch = []
    real_evaluate = train_module.evaluate_model

    def recording(model, samples, **kw):  # called once after each epoch: the weights that epoch ended with
        after_epoch.append({k: v.clone() for k, v in model.state_dict().items()})
        return real_evaluate(model, samples, **kw)

    monkeypatch.setattr(train_module, "evaluate_model", recording)
    model = _small_model(data, dim=16)
    cfg = TrainConfig(epochs=2, patience=1, compile=False, lr=3e-3)
    result = train(model, data, cfg, show_progress=False)
    assert len(after_epoch) == len(result.history) == 2  # patience 1 would have stopped after epoch 1 otherwise
    assert result.best_epoch == 2 and result.selection == "last epoch (no validation set)"
    kept = model.state_dict()
    assert all(torch.equal(kept[k], after_epoch[1][k]) for k in kept)
    assert not all(torch.equal(kept[k], after_epoch[0][k]) for k in kept)
    assert result.best_valid["n_samples"] == 0 and result.best_valid["MRR@10"] is None
    assert all(row["valid_MRR@10"] is None for row in result.history)
    assert training_record(cfg, result)["selection"] == "last epoch (no validation set)"


def test_metrics_of_no_samples_are_none():
    m = metrics_from_ranks(np.array([], dtype=np.int64))
    assert m["n_samples"] == 0
    assert {v for k, v in m.items() if k != "n_samples"} == {None}
