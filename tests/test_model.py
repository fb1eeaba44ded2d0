"""SSR model properties documented for the reference: parameter count, LIF staircase, circulant filter, LIF
equations and surrogate gradients, instrumentation counts."""

import math

import pytest
import torch

from ssr_neuro.errors import UserError
from ssr_neuro.model import SSR, Recorder, SSRConfig
from ssr_neuro.model.lif import LIFKernels, atan_surrogate, lif, lif_constant, lif_reference


@pytest.mark.parametrize("n_items", [1, 1682, 3416])
def test_parameter_count_matches_reference_formula(n_items):
    model = SSR(SSRConfig(n_items=n_items))
    assert sum(p.numel() for p in model.parameters()) == 72_192 + 64 * (n_items + 1)


def test_parameter_count_ml1m_is_290880():
    assert sum(p.numel() for p in SSR(SSRConfig(n_items=3416)).parameters()) == 290_880


def test_lif1_staircase_under_constant_input():
    # rate 0 if x < 16/15, 1/4 if x < 4/3, 1/2 if x < 2, else 1 (T=4, tau=2, threshold 1)
    x = torch.linspace(-1.0, 3.0, 40_001, dtype=torch.float64)
    rate = lif_constant(x, 4).mean(0)
    expected = torch.where(x < 16 / 15, 0.0, torch.where(x < 4 / 3, 0.25, torch.where(x < 2, 0.5, 1.0)))
    assert torch.equal(rate, expected.to(rate.dtype))


def test_lif_matches_equations_step_by_step():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 500, generator=g, dtype=torch.float64) * 2
    assert torch.equal(lif(x, tau=3.0, threshold=0.7), lif_reference(x, 3.0, 0.7))
    xc = torch.randn(500, generator=g, dtype=torch.float64) * 2
    assert torch.equal(lif_constant(xc, 5), lif_reference(xc.expand(5, 500), 2.0, 1.0))


class _ATanSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2.0 / (2 * (1 + (math.pi / 2 * 2.0 * x) ** 2))


def _autograd_lif(x_seq, tau=2.0, threshold=1.0):
    """The neuron written with per-step autograd (as spikingjelly does), detached reset."""
    v = torch.zeros_like(x_seq[0])
    out = []
    for x in x_seq:
        h = v + (x - v) / tau
        s = _ATanSpike.apply(h - threshold)
        v = h * (1 - s.detach())
        out.append(s)
    return torch.stack(out)


def test_fused_backward_equals_per_step_autograd():
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(4, 300, generator=g, dtype=torch.float64) * 2).requires_grad_()
    w = torch.randn(4, 300, generator=g, dtype=torch.float64)
    g_fused, = torch.autograd.grad((lif(x) * w).sum(), x)
    g_ref, = torch.autograd.grad((_autograd_lif(x) * w).sum(), x)
    torch.testing.assert_close(g_fused, g_ref, rtol=1e-12, atol=1e-12)
    xc = (torch.randn(300, generator=g, dtype=torch.float64) * 2).requires_grad_()
    g_fused, = torch.autograd.grad((lif_constant(xc, 4) * w).sum(), xc)
    g_ref, = torch.autograd.grad((_autograd_lif(xc.expand(4, 300)) * w).sum(), xc)
    torch.testing.assert_close(g_fused, g_ref, rtol=1e-12, atol=1e-12)


def test_atan_surrogate_formula():
    assert atan_surrogate(torch.tensor(0.0), 2.0).item() == pytest.approx(1.0)
    assert atan_surrogate(torch.tensor(1.0), 2.0).item() == pytest.approx(1.0 / (1 + math.pi ** 2))


def test_fft_filter_equals_per_channel_circulant():
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=10, max_len=20, dim=8))
    filt = model.filters[0]
    with torch.no_grad():
        filt.weight.normal_()  # a non-trivial filter
    C = filt.circulant()  # [D, L, L]
    L = C.shape[-1]
    idx = (torch.arange(L)[:, None] - torch.arange(L)[None, :]) % L
    first_col = C[:, :, 0]  # C[d, m, 0]
    torch.testing.assert_close(C, first_col[:, idx], rtol=0, atol=1e-6)  # C[d, m, l] = c_d[(m - l) mod L]
    h = torch.randn(5, L, 8)
    torch.testing.assert_close(filt.filter(h), torch.einsum("dml,bld->bmd", C, h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("field,value", [("max_len", 0), ("time_steps", 0), ("dim", 0), ("dropout", 1.0)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(UserError, match=field.split("_")[0]):
        SSRConfig(n_items=5, **{field: value})


def test_compiled_kernels_give_the_same_spikes_and_gradients():
    kernels = LIFKernels(compiled=True)
    if not kernels.compiled:
        pytest.skip("torch.compile is not available here (no C++ compiler?)")
    g = torch.Generator().manual_seed(2)
    x = (torch.randn(4, 3, 7, generator=g) * 2).requires_grad_()
    s_c = lif(x, kernels=kernels)
    s_e = lif(x)
    assert torch.equal(s_c, s_e)
    w = torch.randn(4, 3, 7, generator=g)
    g_c, = torch.autograd.grad((lif(x, kernels=kernels) * w).sum(), x)
    g_e, = torch.autograd.grad((s_e * w).sum(), x)
    torch.testing.assert_close(g_c, g_e)


def test_instrumentation_counts_follow_the_rules():
    torch.manual_seed(0)
    cfg = SSRConfig(n_items=50, max_len=6, dim=8, n_blocks=2, time_steps=3)
    model = SSR(cfg).eval()
    hist = torch.randint(1, 51, (5, 6))
    length = torch.tensor([6, 3, 1, 6, 2])
    rec = Recorder()
    with torch.no_grad():
        model.scores(hist, length, rec)
    summary = rec.summary()
    L, D, H, T = 6, 8, 32, 3
    layers = summary["layers"]
    assert summary["n_inferences"] == 5
    assert layers["block0.dense_1"]["ops"] == L * D * H
    assert layers["block1.dense_1"]["ops"] == 1 * D * H  # eval: last block's feed-forward at the readout position
    assert layers["block0.filter"]["ops"] == L * L * D
    assert layers["readout"]["ops"] == D * 50
    # ACs of dense_2 = spikes of LIF#1 over all T x fan-out D, per inference
    assert layers["block1.dense_2"]["ops"] == pytest.approx(layers["block1.lif_1"]["spikes"] * D)
    assert layers["block0.lif_1"]["neuron_updates"] == T * L * H
    assert layers["block1.lif_1"]["neuron_updates"] == T * 1 * H
    for name in ("block0.lif_1", "block0.lif_2", "block1.lif_1", "block1.lif_2"):
        assert 0.0 <= layers[name]["firing_rate"] <= 1.0
    # firing rate recomputed independently from the spikes of LIF#2 of the last block
    with torch.no_grad():
        h = model.encode(hist)  # no recorder
    assert h.shape == (5, L, D)
    totals = summary["totals"]
    assert totals["ac"] == pytest.approx(layers["block0.dense_2"]["ops"] + layers["block1.dense_2"]["ops"])
    assert totals["mac"] == pytest.approx((L * D * H + L * L * D) + (D * H + L * L * D) + D * 50)


def test_eval_shortcut_equals_the_full_computation():
    """Eval mode runs the last block's feed-forward part at the readout position only: same representation."""
    torch.manual_seed(4)
    model = SSR(SSRConfig(n_items=40, max_len=10, dim=16, n_blocks=2)).eval()
    hist = torch.randint(1, 41, (64, 10))
    length = torch.randint(1, 11, (64,))
    with torch.no_grad():
        full = model.encode(hist)[torch.arange(64), length - 1]
        short = model(hist, length)
    torch.testing.assert_close(short, full, rtol=1e-5, atol=1e-6)


def test_recorded_firing_rate_matches_manual_count():
    torch.manual_seed(3)
    cfg = SSRConfig(n_items=20, max_len=4, dim=4, n_blocks=1, time_steps=4)
    model = SSR(cfg).eval()
    hist = torch.randint(1, 21, (3, 4))
    rec = Recorder()
    spikes = {}

    inter = model.intermediates[0]
    original = inter.forward

    def capture(h, rec_=None, name=""):
        from ssr_neuro.model.ssr import _bn
        z = _bn(inter.norm_1, inter.dense_1(h))
        spikes["s1"] = lif_constant(z, 4)
        return original(h, rec_, name)

    inter.forward = capture
    with torch.no_grad():
        model(hist, torch.tensor([4, 4, 4]), rec)
    per_sample = spikes["s1"].sum(dim=(0, 2, 3)).double()
    torch.testing.assert_close(rec.layers["block0.lif_1"].per_inference(), per_sample)


def test_lif_keeps_only_its_input_for_backward():
    """The backward pass recomputes charges and spikes from the input: nothing of size T x neurons is saved."""
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    x = torch.randn(300, dtype=torch.float64, requires_grad=True)
    x_seq = torch.randn(4, 300, dtype=torch.float64, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        lif_constant(x * 1.0, 4)
        lif(x_seq * 1.0)
    assert saved == [300, 4 * 300]


def test_dropout_mask_distribution():
    from ssr_neuro.model.ssr import _dropout_mask
    torch.manual_seed(0)
    for p in (0.1, 0.3, 0.5):
        mask = _dropout_mask(torch.empty(501, 399), p)  # odd size: the last draw is half used
        assert mask.shape == (501, 399)
        assert mask.unique().tolist() == pytest.approx([0.0, 1 / (1 - p)])
        keep = (mask > 0).double()
        n = keep.numel()
        assert abs(keep.mean().item() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
        pairs = keep.view(-1)[: n - 1].view(-1, 2)  # the two halves of each draw are independent
        assert abs(torch.corrcoef(pairs.t())[0, 1].item()) < 5 / math.sqrt(n / 2)
        assert abs(mask.mean().item() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_add_is_residual_plus_dropout():
    from ssr_neuro.model.ssr import Dropout
    x, res = torch.randn(4, 6, 5), torch.randn(6, 5)
    drop = Dropout(0.3)
    torch.manual_seed(1)
    fused = drop.add(x, res, mask_like=res)
    torch.manual_seed(1)
    mask = drop(torch.ones(6, 5))
    torch.testing.assert_close(fused, x * mask + res)
    assert torch.equal(drop.eval().add(x, res), x + res)
