"""spike_linear (dense_2 on binary spikes by table look-up) equals the dense Linear: values and gradients, alone and
through SSR's surrogate gradients."""

import pytest
import torch
import torch.nn.functional as F

import ssr_neuro.model.ssr as ssr_module
from ssr_neuro.model import SSR, SSRConfig
from ssr_neuro.model.spike_linear import pack_spikes, spike_linear, subset_sum_table


def _spikes(shape, rate, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < rate).to(dtype)


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_equals_dense(rate, with_bias):
    g = torch.Generator().manual_seed(1)
    s = _spikes((3, 5, 7, 32), rate, 2)
    w = torch.randn(6, 32, generator=g, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64) if with_bias else None
    out = spike_linear(s, w, b)
    assert out.shape == (3, 5, 7, 6)
    torch.testing.assert_close(out, F.linear(s, w, b), rtol=1e-12, atol=1e-12)


def test_table_rows_are_subset_sums():
    w = torch.arange(16.0).reshape(1, 16)  # columns 0..15: group 0 = columns 0-7, group 1 = 8-15
    table = subset_sum_table(w, torch.tensor([100.0]))
    assert table.shape == (2 * 256, 1)
    assert table[0b101, 0] == 0 + 2 + 100  # bits 0 and 2 of group 0, plus the bias
    assert table[256 + 0b11, 0] == 8 + 9  # bits 0 and 1 of group 1, no bias
    s = torch.zeros(1, 16)
    s[0, [0, 2, 8, 9]] = 1
    assert pack_spikes(s).tolist() == [[0b101, 256 + 0b11]]


def test_gradients_equal_dense():
    g = torch.Generator().manual_seed(3)
    s = _spikes((4, 9, 64), 0.12, 4).requires_grad_()
    w = torch.randn(16, 64, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(16, generator=g, dtype=torch.float64, requires_grad=True)
    up = torch.randn(4, 9, 16, generator=g, dtype=torch.float64)
    ours = torch.autograd.grad((spike_linear(s, w, b) * up).sum(), (s, w, b))
    dense = torch.autograd.grad((F.linear(s, w, b) * up).sum(), (s, w, b))
    for a, d in zip(ours, dense):
        torch.testing.assert_close(a, d, rtol=1e-12, atol=1e-12)


def test_width_not_a_multiple_of_8_falls_back_to_dense():
    s = _spikes((5, 12), 0.3, 5)
    w = torch.randn(3, 12, dtype=torch.float64)
    torch.testing.assert_close(spike_linear(s, w), F.linear(s, w))


def _ssr_grads(monkeypatch, dense: bool) -> dict[str, torch.Tensor]:
    if dense:
        monkeypatch.setattr(ssr_module, "spike_linear", F.linear)
    torch.manual_seed(0)
    model = SSR(SSRConfig(n_items=50, max_len=8, dim=16)).double()
    g = torch.Generator().manual_seed(1)
    history = torch.randint(0, 51, (24, 8), generator=g)
    length = torch.randint(1, 9, (24,), generator=g)
    target = torch.randint(1, 51, (24,), generator=g)
    with torch.no_grad():  # stronger first-layer input so that LIF#1 fires (the surrogate path is exercised)
        for inter in model.intermediates:
            inter.norm_1.weight.fill_(1.5)
    torch.manual_seed(7)  # same dropout masks in both runs
    model.loss(history, length, target).backward()
    monkeypatch.undo()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def test_ssr_gradients_through_the_surrogate_equal_dense(monkeypatch):
    ours = _ssr_grads(monkeypatch, dense=False)
    dense = _ssr_grads(monkeypatch, dense=True)
    assert ours.keys() == dense.keys()
    for name in ours:
        torch.testing.assert_close(ours[name], dense[name], rtol=1e-9, atol=1e-12, msg=name)
    assert ours["intermediates.0.dense_1.weight"].abs().sum() > 0  # gradient reached past LIF#1's surrogate
