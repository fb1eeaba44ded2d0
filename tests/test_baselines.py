"""The ANN baselines: config, shapes, learning, padding, the eval shortcut, op counters against independent counts,
checkpoints (and SSR-only loading refusing them), reproducibility."""

import dataclasses

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from ssr_neuro.baselines import BASELINES, BaselineConfig, build_baseline
from ssr_neuro.data import load_dataset
from ssr_neuro.errors import CheckpointError, UserError
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.training import (TrainConfig, evaluate_model, load_checkpoint, load_model_checkpoint,
                                save_checkpoint, train)

N_ITEMS, L, D = 40, 8, 16
NAMES = sorted(BASELINES)


def _model(name, seed=0, no_dropout=False, **kw):
    torch.manual_seed(seed)
    model = build_baseline(BaselineConfig(name=name, n_items=N_ITEMS, max_len=L, dim=D, **kw))
    for m in model.modules():  # NARM's context dropout is fixed: switch every dropout off
        if no_dropout and isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    return model


def _batch(seed=0, b=6):
    g = torch.Generator().manual_seed(seed)
    length = torch.randint(1, L + 1, (b,), generator=g)
    length[0] = L
    history = torch.randint(1, N_ITEMS + 1, (b, L), generator=g)
    history[torch.arange(L) >= length[:, None]] = 0
    return history, length


@pytest.fixture(scope="module")
def small_synthetic(tmp_path_factory):
    ds = load_dataset("synthetic", cache_dir=tmp_path_factory.mktemp("cache"))
    cut = lambda s, n: dataclasses.replace(s, **{f: getattr(s, f)[:n] for f in ("history", "length", "target", "user")})
    return dataclasses.replace(ds, train=cut(ds.train, 2000), valid=cut(ds.valid, 300), test=cut(ds.test, 300))


# --------------------------------------------------------------------------------------------- config

def test_config_resolves_defaults_round_trips_and_refuses_bad_values():
    cfg = BaselineConfig(name="sasrec", n_items=10, dim=32)
    assert (cfg.n_layers, cfg.hidden, cfg.n_heads) == (2, 32, 1) and 0 < cfg.dropout < 1
    assert BaselineConfig(name="fmlp-rec", n_items=10, dim=32).hidden == 128
    assert BaselineConfig.from_dict(cfg.to_dict()) == cfg
    assert BaselineConfig(name="gru4rec", n_items=10, hidden=7).hidden == 7  # an explicit value wins
    caser = BaselineConfig(name="caser", n_items=10)
    assert (caser.n_layers, caser.hidden, caser.dropout) == (1, 16, 0.4)  # RecBole's nh, dropout_prob
    for bad, match in [(dict(name="bert4rec"), "unknown baseline"), (dict(name="sasrec", dropout=1.0), "dropout"),
                       (dict(name="sasrec", n_heads=3), "n_heads"), (dict(name="narm", n_items=0), "n_items"),
                       (dict(name="caser", n_layers=2), "one convolution layer")]:
        with pytest.raises(UserError, match=match):
            BaselineConfig(**{"n_items": 10, **bad})
    with pytest.raises(UserError, match="unknown model config keys"):
        BaselineConfig.from_dict({**cfg.to_dict(), "heads": 2})


# --------------------------------------------------------------------------------------------- behaviour

@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_padding_column(name):
    model = _model(name)
    history, length = _batch()
    target = torch.randint(1, N_ITEMS + 1, (history.shape[0],))
    scores = model.scores(history, length)
    assert scores.shape == (history.shape[0], N_ITEMS + 1)
    loss = model.loss(history, length, target)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert model.eval().scores(history, length).shape == scores.shape
    with pytest.raises(ValueError, match="expects L"):
        model.scores(history[:, :-1], length)


@pytest.mark.parametrize("name", NAMES)
def test_loss_decreases_in_a_few_steps(name):
    model = _model(name, no_dropout=True)
    history, length = _batch(b=32)
    target = (history[torch.arange(32), length - 1] % N_ITEMS) + 1  # next item = last item + 1
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        loss = model.loss(history, length, target)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(model.loss(history, length, target).detach()) < 0.7 * first


@pytest.mark.parametrize("name", NAMES)
def test_what_lies_beyond_length_does_not_change_scores(name):
    model = _model(name).eval()
    history, length = _batch()
    garbage = history.clone()
    beyond = torch.arange(L) >= length[:, None]
    garbage[beyond] = torch.randint(1, N_ITEMS + 1, (int(beyond.sum()),))
    assert not torch.equal(garbage, history)
    with torch.no_grad():
        torch.testing.assert_close(model.scores(garbage, length), model.scores(history, length))


@pytest.mark.parametrize("name", NAMES)
def test_eval_shortcut_equals_the_full_computation(name):
    """Eval mode computes the last block at position length-1 only; without dropout, train mode computes every
    position: the readout must be the same."""
    model = _model(name, no_dropout=True)
    history, length = _batch()
    with torch.no_grad():
        full = model.train().scores(history, length)
        short = model.eval().scores(history, length)
    torch.testing.assert_close(short, full, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["gru4rec", "sasrec", "caser"])
def test_causal_models_read_only_the_real_prefix(name):
    """GRU4Rec and SASRec at position length-1, and Caser's right-aligned window, see positions 0..length-1 only: a
    history's score at length l equals the score of the same history cut after l items (structurally, not only by
    masking)."""
    model = _model(name).eval()
    history = torch.randint(1, N_ITEMS + 1, (6, L), generator=torch.Generator().manual_seed(1))
    length = torch.full((6,), 3)
    cut = history.clone()
    cut[:, 3:] = 0
    with torch.no_grad():  # encode: no masking of what lies beyond length
        torch.testing.assert_close(model.encode(history, length), model.encode(cut, length))


def test_caser_is_the_papers_convolutions_over_the_right_aligned_window():
    """Caser against a loop over explicit windows: the last ``length`` items at rows L-length..L-1 (zero rows before),
    each horizontal filter of height h max-pooled over its L-h+1 windows after ReLU, vertical filters as weighted sums
    over the L rows, then ReLU(FC)."""
    model = _model("caser").eval()
    history, length = _batch()
    E = model.item_embedding.weight
    with torch.no_grad():
        for b in range(history.shape[0]):
            n = int(length[b])
            x = torch.zeros(L, D)
            x[L - n:] = E[history[b, :n]]
            o_h = []
            for h, conv in enumerate(model.horizontal, start=1):
                windows = [(conv.weight[:, 0] * x[i:i + h]).sum((1, 2)) + conv.bias for i in range(L - h + 1)]
                o_h.append(torch.relu(torch.stack(windows)).max(0).values)
            o_v = (model.vertical.weight[:, 0, :, 0] @ x + model.vertical.bias[:, None]).flatten()
            expected = torch.relu(model.fc(torch.cat([*o_h, o_v])))
            torch.testing.assert_close(model(history[b:b + 1], length[b:b + 1])[0], expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------- op counters

def _flop_counter_macs(model) -> int:
    history, length = _batch(b=1)
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.scores(history, length)
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("name", NAMES)
def test_op_counters_against_independent_counts(name):
    model = _model(name, hidden=24)
    ops = model.layer_ops()
    by_name = {o.name: o for o in ops}
    assert len(by_name) == len(ops)
    # every matrix product: torch's FlopCounterMode on one eval inference (it counts mm/bmm/GRU products, not the
    # FFT and not the point-wise GRU gate products, checked by hand below)
    matrix_macs = sum(o.macs for o in ops if not o.name.endswith((".gates", ".filter")))
    assert matrix_macs == _flop_counter_macs(model)
    assert by_name["readout"].macs == (N_ITEMS + 1) * D
    if name in ("gru4rec", "narm"):
        assert by_name["gru0.gates"].macs == 2 * model.cfg.hidden * L
    # every parameter is stored by exactly one layer (the readout reuses the item table; a filter stores its
    # L-value circulant instead of its L/2+1 complex weights)
    stored = sum(o.weight_bytes for o in ops if o.name != "readout") // 4
    n_params = sum(p.numel() for p in model.parameters())
    filters = [m for m in model.modules() if hasattr(m, "filter") and isinstance(getattr(m, "weight", None),
                                                                               torch.nn.Parameter)]
    assert stored == n_params - sum(f.weight.numel() - L * D for f in filters)
    assert by_name["readout"].weight_bytes == model.item_embedding.weight.numel() * 4


def test_fmlp_filter_is_the_circulant_it_is_counted_as():
    model = _model("fmlp-rec").eval()
    block = model.blocks[0]
    x = torch.randn(3, L, D)
    with torch.no_grad():
        impulse = block.filter(torch.eye(L).unsqueeze(-1).expand(L, L, D))  # [l, m, D]: response at m to e_l
        matrices = impulse.permute(2, 1, 0)  # [D, m, l]
        torch.testing.assert_close(torch.einsum("dml,bld->bmd", matrices, x), block.filter(x), atol=1e-6, rtol=1e-5)
    # circulant: C[m, l] depends on (m - l) mod L only, so L distinct values per channel, L x L MACs per channel
    for shift in range(1, L):
        torch.testing.assert_close(matrices.roll((shift, shift), dims=(1, 2)), matrices)
    ops = {o.name: o for o in model.layer_ops()}
    assert ops["block0.filter"].macs == matrices[0].numel() * D
    assert ops["block1.filter"].macs == L * D  # the last block needs the readout row only
    assert ops["block0.filter"].weight_words == L * D


# --------------------------------------------------------------------------------------------- checkpoints

@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip_and_ssr_only_loading_refuses(tmp_path, small_synthetic, name):
    torch.manual_seed(0)
    model = build_baseline(BaselineConfig(name=name, n_items=small_synthetic.n_items, dim=8)).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, small_synthetic.describe(), {"best_epoch": 1}, {})
    loaded, meta = load_model_checkpoint(path)
    assert meta["model"] == name and type(loaded) is type(model) and not loaded.training
    assert BaselineConfig.from_dict(meta["model_config"]) == model.cfg
    hist, length = (torch.from_numpy(a[:32]) for a in (small_synthetic.test.history, small_synthetic.test.length))
    with torch.no_grad():
        assert torch.equal(model.scores(hist, length), loaded.scores(hist, length))
    with pytest.raises(CheckpointError, match=f"baseline '{name}', not SSR") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_ssr_checkpoints_old_and_new_load_both_ways(tmp_path, small_synthetic):
    torch.manual_seed(0)
    ssr = SSR(SSRConfig(n_items=small_synthetic.n_items, dim=8, n_blocks=1)).eval()
    path = tmp_path / "ssr.pt"
    save_checkpoint(path, ssr, small_synthetic.describe(), {}, {})
    assert isinstance(load_checkpoint(path)[0], SSR)
    model, meta = load_model_checkpoint(path)
    assert isinstance(model, SSR) and meta["model"] == "ssr"
    old = torch.load(path, weights_only=True)  # a file written before the "model" key existed is SSR
    del old["model"]
    torch.save(old, tmp_path / "old.pt")
    assert isinstance(load_checkpoint(tmp_path / "old.pt")[0], SSR)
    assert isinstance(load_model_checkpoint(tmp_path / "old.pt")[0], SSR)
    old["model"] = "bert4rec"
    torch.save(old, tmp_path / "unknown.pt")
    with pytest.raises(CheckpointError, match="unknown model 'bert4rec'"):
        load_model_checkpoint(tmp_path / "unknown.pt")


# --------------------------------------------------------------------------------------------- reproducibility

def test_seeded_training_is_reproducible_and_learns(small_synthetic):
    def run():
        torch.manual_seed(3)
        model = build_baseline(BaselineConfig(name="sasrec", n_items=small_synthetic.n_items, dim=16))
        result = train(model, small_synthetic, TrainConfig(epochs=2, batch_size=64, lr=3e-3), show_progress=False)
        return model, result

    (m1, r1), (m2, r2) = run(), run()  # compile=True (the default) is a no-op for a baseline
    for k, v in m1.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k]), k
    assert [h["loss"] for h in r1.history] == [h["loss"] for h in r2.history]
    assert r1.history[-1]["loss"] < r1.history[0]["loss"]
    assert evaluate_model(m1, small_synthetic.test) == evaluate_model(m2, small_synthetic.test)
    assert np.isfinite(r1.best_valid["MRR@10"])


def test_the_cli_trains_evaluates_and_recommends_with_a_baseline(tmp_path, capsys, monkeypatch):
    import json

    from test_cli import TINY, _assert_clean_error, run_cli

    monkeypatch.setenv("SSR_NEURO_HOME", str(tmp_path / "home"))
    path = tmp_path / "sasrec.pt"
    rc, out, err = run_cli(capsys, "train", "--model", "sasrec", "--out", str(path), "--json", "--max-len", "8", *TINY)
    assert rc == 0, err
    trained = json.loads(out)
    assert trained["model"] == "sasrec" and 0 < trained["test"]["HR@10"] <= 1
    rc, out, _ = run_cli(capsys, "evaluate", str(path), "--json")
    assert rc == 0 and json.loads(out)["model"] == "sasrec"
    assert json.loads(out)["HR@10"] == pytest.approx(trained["test"]["HR@10"])
    rc, out, _ = run_cli(capsys, "recommend", str(path), "--history", "1,2,3", "-k", "5", "--json")
    assert rc == 0 and len(json.loads(out)["recommendations"]) == 5
    _assert_clean_error(*run_cli(capsys, "convert", str(path), "-o", str(tmp_path / "g.graph")), "sasrec", "not SSR")
    assert not (tmp_path / "g.graph").exists()
    _assert_clean_error(*run_cli(capsys, "train", "--model", "bert4rec", "--out", str(tmp_path / "b.pt")),
                        "unknown model", "sasrec")
