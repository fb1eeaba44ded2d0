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
POINTWISE = (".gates", ".filter", ".pointwise", ".recurrence")  # layer names whose MACs torch's counter does not see


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
    assert BaselineConfig(name="bsarec", n_items=10).n_heads == 2  # the authors' default
    assert BaselineConfig(name="narm", n_items=10).n_heads == 1
    assert BaselineConfig(name="lrurec", n_items=10, dim=32).hidden == 64  # the LRU state is 2D
    assert BaselineConfig(name="sr-gnn", n_items=10).dropout == BaselineConfig(name="stamp", n_items=10).dropout == 0
    assert BaselineConfig.from_dict(cfg.to_dict()) == cfg
    assert BaselineConfig(name="gru4rec", n_items=10, hidden=7).hidden == 7  # an explicit value wins
    caser = BaselineConfig(name="caser", n_items=10)
    assert (caser.n_layers, caser.hidden, caser.dropout) == (1, 16, 0.4)  # RecBole's nh, dropout_prob
    for bad, match in [(dict(name="bert4rec"), "unknown baseline"), (dict(name="sasrec", dropout=1.0), "dropout"),
                       (dict(name="sasrec", n_heads=3), "n_heads"), (dict(name="narm", n_items=0), "n_items"),
                       (dict(name="caser", n_layers=2), "one convolution layer"),
                       (dict(name="stamp", n_layers=2), "no layers to stack"),
                       (dict(name="bsarec", dim=64, n_heads=3), "n_heads")]:
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


@pytest.mark.parametrize("name", ["gru4rec", "sasrec", "caser", "stamp", "sr-gnn", "lrurec"])
def test_causal_models_read_only_the_real_prefix(name):
    """GRU4Rec, SASRec and LRURec at position length-1, Caser's right-aligned window, STAMP's memories and SR-GNN's
    session graph see positions 0..length-1 only: a history's score at length l equals the score of the same history
    cut after l items (structurally, not only by masking)."""
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
    # FFT and not the point-wise products, checked by hand below)
    matrix_macs = sum(o.macs for o in ops if not o.name.endswith(POINTWISE))
    counted = _flop_counter_macs(model)
    if name == "lrurec":  # the counter also sees LRURec's parallel form of the recurrence (sum_s lambda^(t-s) u_s,
        # one complex product per (t, s, state): L x L per state in each block but the last, L for the last block's
        # row), which one inference runs step by step (``.recurrence``, checked by hand below)
        H = model.cfg.hidden
        counted -= (model.cfg.n_layers - 1) * L * L * H + L * H
    assert matrix_macs == counted
    assert by_name["readout"].macs == (N_ITEMS + 1) * D
    if name in ("gru4rec", "narm"):
        assert by_name["gru0.gates"].macs == 2 * model.cfg.hidden * L
    # every parameter is stored by exactly one layer (the readout reuses the item table; a frequency filter (FMLP-Rec's
    # L/2+1 complex weights, BSARec's beta) stores its L-value circulant per channel instead of its own parameters)
    stored = sum(o.weight_bytes for o in ops if o.name != "readout") // 4
    n_params = sum(p.numel() for p in model.parameters())
    filters = [m for m in model.modules() if hasattr(m, "filter")]
    filter_params = sum(p.numel() for f in filters for p in f.parameters(recurse=False))
    assert stored == n_params - filter_params + len(filters) * L * D
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


def _total_macs(name: str, cfg: BaselineConfig) -> int:
    """Each model's MACs per inference written out by hand from its paper's equations (``base`` counting rules)."""
    n, d, h, layers = cfg.max_len, cfg.dim, cfg.hidden, cfg.n_layers
    readout = (cfg.n_items + 1) * d
    if name == "stamp":  # W_1 x_i (n), W_2 x_t, W_3 m_s, w_0 (n), sum alpha_i x_i, W_A, W_B, h_s * h_t
        return n * d * h + 2 * d * h + n * h + n * d + 2 * d * d + d + readout
    if name == "sr-gnn":  # per step: W_in, W_out, A_in, A_out, W_ih, W_hh, gates; then W_1, W_2, q, sum, W_3
        step = 2 * n * d * d + 2 * n * n * d + n * 2 * d * 3 * d + n * d * 3 * d + 2 * n * d
        return layers * step + d * h + n * d * h + n * h + n * d + 2 * d * d + readout
    if name == "lrurec":  # per block: B (n), gamma (n), lambda h (n - 1 complex products), C, FFN 4d (rows)
        rows = [n] * (layers - 1) + [1]
        per_block = [n * d * 2 * h + n * 2 * h + (n - 1) * 4 * h + r * (2 * h * d + 2 * 4 * d * d) for r in rows]
        return sum(per_block) + readout
    if name == "bsarec":  # per block: circulant filter, Q (rows), K, V (n), QK^T, AV, W_O, mix, FFN (rows)
        rows = [n] * (layers - 1) + [1]
        return sum(r * n * d + r * d * d + 2 * n * d * d + 2 * r * n * d + r * d * d + 2 * r * d + 2 * r * d * h
                   for r in rows) + readout
    raise AssertionError(name)


@pytest.mark.parametrize("name,options", [("stamp", {}), ("sr-gnn", {"n_layers": 2}), ("lrurec", {}),
                                          ("bsarec", {"n_layers": 3})])
def test_new_models_op_counts_against_a_hand_computation(name, options):
    model = _model(name, hidden=24, **options)
    assert sum(o.macs for o in model.layer_ops()) == _total_macs(name, model.cfg)


def test_stamp_is_the_papers_attention_memory_and_trilinear_readout():
    model = _model("stamp").eval()
    with torch.no_grad():
        model.b_a.normal_()  # 0 at initialisation
    history, length = _batch()
    E = model.item_embedding.weight
    with torch.no_grad():
        for b in range(history.shape[0]):
            x = E[history[b, :length[b]]]  # the real items only
            x_t, m_s = x[-1], x.mean(0)
            context = model.w_2.weight @ x_t + model.w_3.weight @ m_s + model.b_a
            alpha = torch.stack([model.w_0.weight[0] @ torch.sigmoid(model.w_1.weight @ x_i + context) for x_i in x])
            m_a = (alpha[:, None] * x).sum(0) + m_s
            expected = torch.tanh(model.mlp_a(m_a)) * torch.tanh(model.mlp_b(x_t))
            torch.testing.assert_close(model(history[b:b + 1], length[b:b + 1])[0], expected, rtol=1e-5, atol=1e-6)


def test_srgnn_session_graph_and_gated_step_on_a_hand_built_session():
    from ssr_neuro.baselines.srgnn import session_graph

    # RecBole's example session 1, 2, 3, 2, 4 (nodes 1..4 in slots 0, 1, 2, 4) and 1, 2, 1, 2 (a repeated transition)
    history = torch.tensor([[1, 2, 3, 2, 4, 0, 0, 0], [1, 2, 1, 2, 7, 7, 7, 7]])
    real = torch.arange(L) < torch.tensor([[5], [4]])  # the 7s lie beyond length: no node, no edge
    nodes, alias, a_in, a_out = session_graph(history, real)
    assert nodes.tolist() == [[1, 2, 3, 0, 4, 0, 0, 0], [1, 2, 0, 0, 0, 0, 0, 0]]
    assert alias[0, :5].tolist() == [0, 1, 2, 1, 4] and alias[1, :4].tolist() == [0, 1, 0, 1]
    out, into = torch.zeros(2, L, L), torch.zeros(2, L, L)
    out[0, 0, 1], out[0, 1, 2], out[0, 1, 4], out[0, 2, 1] = 1, 0.5, 0.5, 1  # 1->2, 2->3 and 2->4, 3->2
    into[0, 1, 0], into[0, 1, 2], into[0, 2, 1], into[0, 4, 1] = 0.5, 0.5, 1, 1  # 2<-1 and 2<-3, 3<-2, 4<-2
    out[1, 0, 1], out[1, 1, 0], into[1, 1, 0], into[1, 0, 1] = 1, 1, 1, 1  # 1->2 twice counts once
    torch.testing.assert_close(a_out, out)
    torch.testing.assert_close(a_in, into)
    # one gated step node by node, as the paper's equations (h' = (1 - z) h + z n)
    step = _model("sr-gnn").step
    h = torch.randn(2, L, D, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        result = step(h, a_in, a_out)
        for b in range(2):
            for v in range(L):
                a_i = sum(a_in[b, v, u] * step.edge_in(h[b, u]) for u in range(L)) + step.b_iah
                a_o = sum(a_out[b, v, u] * step.edge_out(h[b, u]) for u in range(L)) + step.b_ioh
                g_i, g_h = step.w_ih(torch.cat([a_i, a_o])), step.w_hh(h[b, v])
                r = torch.sigmoid(g_i[:D] + g_h[:D])
                z = torch.sigmoid(g_i[D:2 * D] + g_h[D:2 * D])
                n = torch.tanh(g_i[2 * D:] + r * g_h[2 * D:])
                torch.testing.assert_close(result[b, v], (1 - z) * h[b, v] + z * n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 5, 8, 13])
def test_lru_parallel_form_equals_the_recurrence(n):
    """sum_{s <= t} lambda^(t - s) u_s, as LRURec computes the states, against h_t = lambda h_{t-1} + u_t step by
    step."""
    from ssr_neuro.baselines.lrurec import decay_matrix

    g = torch.Generator().manual_seed(n)
    u = torch.complex(torch.randn(3, n, 6, generator=g), torch.randn(3, n, 6, generator=g))
    nu, theta = 0.2 * torch.rand(6, generator=g), 6.28 * torch.rand(6, generator=g)
    lam = torch.exp(torch.complex(-nu, theta))
    h, expected = torch.zeros(3, 6, dtype=u.dtype), []
    for t in range(n):
        h = lam * h + u[:, t]
        expected.append(h)
    parallel = torch.einsum("tsh,bsh->bth", decay_matrix(nu, theta, n), u)
    torch.testing.assert_close(parallel, torch.stack(expected, dim=1), rtol=1e-5, atol=1e-5)


def test_lru_layer_is_the_authors_complex_layer_and_its_ring_initialisation():
    model = _model("lrurec", no_dropout=True).eval()
    layer, H = model.blocks[0].lru, model.cfg.hidden
    nu, theta, gamma = torch.exp(layer.params_log).detach()
    lam = torch.polar(torch.exp(-nu), theta)
    assert ((lam.abs() >= 0.8 - 1e-6) & (lam.abs() <= 0.99 + 1e-6)).all()  # r_min, r_max
    torch.testing.assert_close(gamma, torch.sqrt(1 - lam.abs() ** 2))
    # the authors' complex maps: u = gamma (B x + b), y = Re(C h + c) with B = W_re + i W_im, C = C_re - i C_im
    w, bias = layer.in_proj.weight, layer.in_proj.bias
    B, b = torch.complex(w[:H], w[H:]), torch.complex(bias[:H], bias[H:])
    C = torch.complex(layer.out_proj.weight[:, :H], -layer.out_proj.weight[:, H:])
    x = torch.randn(2, L, D, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h, states = torch.zeros(2, H, dtype=B.dtype), []
        for t in range(L):
            h = lam * h + gamma * (x[:, t].to(B.dtype) @ B.T + b)
            states.append(h)
        y = (torch.stack(states, dim=1) @ C.T).real + layer.out_proj.bias
        torch.testing.assert_close(layer(x), layer.norm(x + y), rtol=1e-5, atol=1e-5)
        length = torch.tensor([3, L])  # the eval shortcut: the state at length - 1 only
        torch.testing.assert_close(layer(x, length)[:, 0], layer.norm(x + y)[torch.arange(2), length - 1],
                                   rtol=1e-5, atol=1e-5)
    ops = {o.name: o for o in model.layer_ops()}
    assert ops["block0.lru.recurrence"].macs == (L - 1) * 4 * H  # a complex product is 4 real MACs
    assert ops["block0.lru.recurrence"].weight_words + ops["block0.lru.gamma.pointwise"].weight_words \
        == layer.params_log.numel()


def test_bsarec_fourier_low_pass_and_its_circulant():
    import math

    from ssr_neuro.baselines.bsarec import C

    model = _model("bsarec").eval()
    layer = model.blocks[0].frequency
    k = torch.arange(L)
    dft = torch.exp(-2j * math.pi * torch.outer(k, k) / L) / math.sqrt(L)  # orthonormal DFT
    kept = (torch.minimum(k, L - k) < C // 2 + 1).to(dft.dtype)  # bins 0..c//2 and their mirror images
    low_pass = (dft.conj().T @ torch.diag(kept) @ dft).real  # [L, L]
    x = torch.randn(3, L, D, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(layer.low_pass(x), torch.einsum("ml,bld->bmd", low_pass, x), rtol=1e-5, atol=1e-5)
        constant = torch.ones(1, L, D)  # frequency 0 passes whatever beta
        torch.testing.assert_close(layer.filter(constant), constant)
        alternating = ((-1.0) ** k)[None, :, None].expand(1, L, D)  # the highest frequency: scaled by beta^2
        torch.testing.assert_close(layer.filter(alternating), alternating * layer.sqrt_beta ** 2, rtol=1e-5, atol=1e-5)
        impulse = layer.filter(torch.eye(L).unsqueeze(-1).expand(L, L, D))  # [l, m, D]
        matrices = impulse.permute(2, 1, 0)  # [D, m, l]
    for shift in range(1, L):
        torch.testing.assert_close(matrices.roll((shift, shift), dims=(1, 2)), matrices)
    ops = {o.name: o for o in model.layer_ops()}
    assert ops["block0.filter"].macs == matrices[0].numel() * D and ops["block1.filter"].macs == L * D
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
