"""ANN baselines as all-graded int8 layer lists (``ssr_neuro.graph.int8_net``), and their int8 reference forwards.

``compile_int8(model, history, length)`` turns a trained GRU4Rec, NARM, SASRec, FMLP-Rec or Caser (eval mode) into an
:class:`Int8Net` of plain numpy arrays (``layer_list``: the same ops in float, which run the float model's
equations), quantised per layer like the SSR graph (8-bit weights with one power-of-two exponent per array, 8-bit
activations calibrated on the given samples); the chip side runs and prices it (``hardware.ann_chip``), torch-free.

``reference_scores(net, history, length)`` is the int8 computation written from the models' equations (below), in
integer arithmetic, reading only the net's quantised arrays and exponents: what the chip's run of the layer list must
reproduce bit for bit. Nonlinearities in fixed point are 256-entry tables (``int8_net``: ``lut``); every product
is accumulated exactly and requantised once, round half up, saturating to int8.

GRU layer (PyTorch's gate layout), at every position t of the L-step history, h_{-1} = 0:
    xi_t = W_i x_t + b_i (all t at once), hh = W_h h + b_h, each [3H] split into (r, z, n) parts
    r = sigmoid(xi_r + hh_r), z = sigmoid(xi_z + hh_z), n = tanh(xi_n + r * hh_n), h' = n + z * (h - n)
GRU4Rec:  scores = (W_o h_{length-1} + b_o) . E^T
NARM:     g = [h_0 .. h_{L-1}], c_g = g_{length-1}, a_j = v . sigmoid(A_1 g_j + A_2 c_g) (0 at j >= length),
          c_l = sum_j a_j g_j, scores = (B [c_l; c_g]) . E^T

LN(x) = gain * norm(x) + bias (``int8_net``: norm, then scale). In eval mode, as the torch models, the last block
works at position length - 1 only (its keys, values and filter input at every position).
SASRec:   x = E[s] + P; per block (heads split D, d_h = D / heads; 1 / sqrt(d_h) folded into W_Q, b_Q):
          a = LN_1(x), q, k, v = W_Q a + b_Q, W_K a + b_K, W_V a + b_V,
          x = x + W_O concat_heads(softmax(q k^T, causal; last block: keys < length) v) + b_O,
          x = x + W_2 relu(W_1 LN_2(x) + b_1) + b_2;   scores = LN_out(x_{length-1}) . E^T
FMLP-Rec: x = LN(E[s] + P); per block: x = LN_f(x + w (*) x), (*) the circular convolution along positions with
          each channel's impulse response w [D, L] (= irfft(rfft(delta_0, ortho) * W, ortho), exactly the block's
          filter), x = LN_ffn(x + W_2 gelu(W_1 x + b_1) + b_2);   scores = x_{length-1} . E^T
Caser:    X = E[s] right-aligned (``align``); per height h = 1..L: o_h = max_i relu(F_h flat(X[i:i+h]) + b_h);
          o_v = W_v X + b_v (over positions, every channel); z = relu(W [o_1; ..; o_L; flat(o_v)] + b);
          scores = z . E^T
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ssr_neuro.errors import UserError
from ssr_neuro.graph.fixed import round_shift, saturate
from ssr_neuro.graph.int8_net import Int8Net, Op, quantize_net

SUPPORTED = ("gru4rec", "narm", "sasrec", "fmlp-rec", "caser")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _gru_ops(model, x: str, max_len: int) -> tuple[list[Op], str]:
    """The GRU layers over ``x`` [L, D] as ops; returns them and the name of the stacked last layer [L, H]."""
    ops: list[Op] = []
    gru = model.gru
    for layer in range(gru.num_layers):
        p = f"gru{layer}"
        H = gru.hidden_size
        ops.append(Op(f"{p}.xi", "linear", (x,), _np(getattr(gru, f"weight_ih_l{layer}")),
                      _np(getattr(gru, f"bias_ih_l{layer}"))))
        ops.append(Op(f"{p}.h-1", "zeros", (), param=H))
        h = f"{p}.h-1"
        for t in range(max_len):
            q = f"{p}.t{t}"
            ops += [Op(f"{q}.xi", "step", (f"{p}.xi",), param=t),
                    Op(f"{q}.hh", "linear", (h,), _np(getattr(gru, f"weight_hh_l{layer}")),
                       _np(getattr(gru, f"bias_hh_l{layer}")))]
            for g, (a, b) in zip("rzn", ((0, H), (H, 2 * H), (2 * H, 3 * H))):
                ops += [Op(f"{q}.xi_{g}", "split", (f"{q}.xi",), param=(a, b)),
                        Op(f"{q}.hh_{g}", "split", (f"{q}.hh",), param=(a, b))]
            ops += [Op(f"{q}.r_in", "add", (f"{q}.xi_r", f"{q}.hh_r")), Op(f"{q}.r", "lut", (f"{q}.r_in",),
                                                                           param="sigmoid"),
                    Op(f"{q}.z_in", "add", (f"{q}.xi_z", f"{q}.hh_z")), Op(f"{q}.z", "lut", (f"{q}.z_in",),
                                                                           param="sigmoid"),
                    Op(f"{q}.rh", "mul", (f"{q}.r", f"{q}.hh_n")), Op(f"{q}.n_in", "add", (f"{q}.xi_n", f"{q}.rh")),
                    Op(f"{q}.n", "lut", (f"{q}.n_in",), param="tanh"), Op(f"{q}.d", "sub", (h, f"{q}.n")),
                    Op(f"{q}.zd", "mul", (f"{q}.z", f"{q}.d")), Op(f"{q}.h", "add", (f"{q}.n", f"{q}.zd"))]
            h = f"{q}.h"
        ops.append(Op(f"{p}.out", "stack", tuple(f"{p}.t{t}.h" for t in range(max_len))))
        x = f"{p}.out"
    return ops, x


def _layer_norm(name: str, x: str, ln) -> list[Op]:
    """LayerNorm ``ln`` over ``x`` as norm (param eps) then scale (gain, bias); the output is op ``name``."""
    return [Op(f"{name}.norm", "norm", (x,), param=float(ln.eps)),
            Op(name, "scale", (f"{name}.norm",), _np(ln.weight), _np(ln.bias))]


def _sasrec_ops(model) -> tuple[list[Op], str]:
    cfg = model.cfg
    heads, d_h = cfg.n_heads, cfg.dim // cfg.n_heads
    ops = [Op("pos", "const", (), _np(model.position_embedding.weight)), Op("x0", "add", ("embed", "pos"))]
    x = "x0"
    for b, block in enumerate(model.blocks):
        p, last = f"b{b}", b == len(model.blocks) - 1
        ops += _layer_norm(f"{p}.ln1", x, block.norm_1)
        a = a_q = f"{p}.ln1"
        if last:
            ops += [Op(f"{p}.a_q", "last", (a,)), Op(f"{p}.x", "last", (x,))]
            a_q, x = f"{p}.a_q", f"{p}.x"
        scale = d_h ** -0.5
        ops += [Op(f"{p}.q", "linear", (a_q,), _np(block.q.weight) * scale, _np(block.q.bias) * scale),
                Op(f"{p}.k", "linear", (a,), _np(block.k.weight), _np(block.k.bias)),
                Op(f"{p}.v", "linear", (a,), _np(block.v.weight), _np(block.v.bias))]
        outs = []
        for h in range(heads):
            q, k, v = f"{p}.q", f"{p}.k", f"{p}.v"
            if heads > 1:
                cols = (h * d_h, (h + 1) * d_h)
                ops += [Op(f"{p}.h{h}.{t}", "split", (f"{p}.{t}",), param=cols) for t in "qkv"]
                q, k, v = f"{p}.h{h}.q", f"{p}.h{h}.k", f"{p}.h{h}.v"
            ops += [Op(f"{p}.h{h}.logits", "matmul", (q, k), param="nt"),
                    Op(f"{p}.h{h}.p", "softmax", (f"{p}.h{h}.logits",), param="length" if last else "causal"),
                    Op(f"{p}.h{h}.att", "matmul", (f"{p}.h{h}.p", v), param="nn")]
            outs.append(f"{p}.h{h}.att")
        if heads > 1:
            ops.append(Op(f"{p}.att", "concat", tuple(outs)))
        ops += [Op(f"{p}.o", "linear", (f"{p}.att" if heads > 1 else outs[0],), _np(block.o.weight),
                   _np(block.o.bias)), Op(f"{p}.res1", "add", (x, f"{p}.o"))]
        ops += _layer_norm(f"{p}.ln2", f"{p}.res1", block.norm_2)
        ops += [Op(f"{p}.ffn_1", "linear", (f"{p}.ln2",), _np(block.ffn_1.weight), _np(block.ffn_1.bias)),
                Op(f"{p}.relu", "lut", (f"{p}.ffn_1",), param="relu"),
                Op(f"{p}.ffn_2", "linear", (f"{p}.relu",), _np(block.ffn_2.weight), _np(block.ffn_2.bias)),
                Op(f"{p}.out", "add", (f"{p}.res1", f"{p}.ffn_2"))]
        x = f"{p}.out"
    return ops + _layer_norm("ln_out", x, model.norm_out), "ln_out"


def impulse_response(block) -> np.ndarray:
    """FMLP-Rec's filter irfft(rfft(x, ortho) * W, ortho) along positions as each channel's circulant: its
    response to a unit impulse at position 0, [D, L] (the filter is linear and commutes with cyclic shifts)."""
    L = block.max_len
    w = block.weight.detach().cpu().double()
    spec = torch.complex(w[..., 0], w[..., 1]) * L ** -0.5  # rfft(delta_0, ortho) is 1 / sqrt(L) at every bin
    return torch.fft.irfft(spec, n=L, dim=0, norm="ortho").numpy().T


def _fmlp_ops(model) -> tuple[list[Op], str]:
    ops = [Op("pos", "const", (), _np(model.position_embedding.weight)), Op("x0", "add", ("embed", "pos"))]
    ops += _layer_norm("x_ln", "x0", model.norm)
    x = "x_ln"
    for b, block in enumerate(model.blocks):
        p, last = f"b{b}", b == len(model.blocks) - 1
        ops.append(Op(f"{p}.filter", "filter", (x,), impulse_response(block), param="last" if last else "all"))
        if last:
            ops.append(Op(f"{p}.x", "last", (x,)))
            x = f"{p}.x"
        ops.append(Op(f"{p}.res1", "add", (x, f"{p}.filter")))
        ops += _layer_norm(f"{p}.ln1", f"{p}.res1", block.norm_filter)
        ops += [Op(f"{p}.dense_1", "linear", (f"{p}.ln1",), _np(block.dense_1.weight), _np(block.dense_1.bias)),
                Op(f"{p}.gelu", "lut", (f"{p}.dense_1",), param="gelu"),
                Op(f"{p}.dense_2", "linear", (f"{p}.gelu",), _np(block.dense_2.weight), _np(block.dense_2.bias)),
                Op(f"{p}.res2", "add", (f"{p}.ln1", f"{p}.dense_2"))]
        ops += _layer_norm(f"{p}.out", f"{p}.res2", block.norm_ffn)
        x = f"{p}.out"
    return ops, x


def _caser_ops(model) -> tuple[list[Op], str]:
    ops = [Op("aligned", "align", ("embed",))]
    pools = []
    for h, conv in enumerate(model.horizontal, start=1):
        ops += [Op(f"conv_h{h}", "conv", ("aligned",), _np(conv.weight).reshape(conv.out_channels, -1),
                   _np(conv.bias), param=h),
                Op(f"relu_h{h}", "lut", (f"conv_h{h}",), param="relu"), Op(f"pool_h{h}", "maxpool", (f"relu_h{h}",))]
        pools.append(f"pool_h{h}")
    v = model.vertical
    ops += [Op("conv_v", "posmix", ("aligned",), _np(v.weight).reshape(v.out_channels, -1), _np(v.bias)),
            Op("features", "concat", (*pools, "conv_v"), param="flat"),
            Op("fc", "linear", ("features",), _np(model.fc.weight), _np(model.fc.bias)),
            Op("z", "lut", ("fc",), param="relu")]
    return ops, "z"


def _recurrent_ops(model) -> tuple[list[Op], str]:
    cfg = model.cfg
    ops, g = _gru_ops(model, "embed", cfg.max_len)
    if cfg.name == "gru4rec":
        return ops + [Op("last", "last", (g,)), Op("dense", "linear", ("last",), _np(model.dense.weight),
                                                   _np(model.dense.bias))], "dense"
    return ops + [Op("c_g", "last", (g,)), Op("a_1", "linear", (g,), _np(model.a_1.weight)),
                  Op("a_2", "linear", ("c_g",), _np(model.a_2.weight)), Op("att_in", "add", ("a_1", "a_2")),
                  Op("att", "lut", ("att_in",), param="sigmoid"), Op("v", "linear", ("att",), _np(model.v.weight)),
                  Op("alpha", "mask", ("v",)), Op("c_l", "wsum", ("alpha", g)), Op("ctx", "concat", ("c_l", "c_g")),
                  Op("b", "linear", ("ctx",), _np(model.b.weight))], "b"


BODIES = {"gru4rec": _recurrent_ops, "narm": _recurrent_ops, "sasrec": _sasrec_ops, "fmlp-rec": _fmlp_ops,
          "caser": _caser_ops}


def layer_list(model) -> Int8Net:
    """A baseline (eval mode) as a float layer list (not quantised; ``run_net(..., exact=False)`` gives its float
    scores); UserError for a baseline without one."""
    cfg = model.cfg
    if cfg.name not in SUPPORTED:
        raise UserError(f"no int8 layer list for baseline {cfg.name!r} yet (have: {', '.join(SUPPORTED)}); its "
                        "int8 cost on the chip is estimated from layer_ops (hardware.ann_chip.int8_ann_on_chip)")
    table = _np(model.item_embedding.weight)
    body, h = BODIES[cfg.name](model)
    ops = [Op("embed", "embed", ("history",), table), *body, Op("readout", "readout", (h,), table)]
    return Int8Net(cfg.name, tuple(ops), meta={"max_len": cfg.max_len, "n_items": cfg.n_items, "dim": cfg.dim,
                                               "hidden": cfg.hidden, "n_layers": cfg.n_layers,
                                               "n_heads": cfg.n_heads})


def compile_int8(model, history: np.ndarray, length: np.ndarray) -> Int8Net:
    """A supported baseline (``SUPPORTED``) as a quantised int8 layer list, calibrated on ``history`` [B, L],
    ``length`` [B] (UserError for another baseline)."""
    return quantize_net(layer_list(model), history, length)


# ------------------------------------------------------------------------------------------------ reference

def _rq(acc: np.ndarray, acc_exp: int, out_exp: int) -> np.ndarray:
    return saturate(round_shift(acc, out_exp - acc_exp), 8).astype(np.int64)


def _add(a: np.ndarray, ea: int, b: np.ndarray, eb: int, out: int) -> np.ndarray:
    """requant(a + b) after exact alignment of the two units."""
    m = min(ea, eb)
    return _rq(a * 2 ** (ea - m) + b * 2 ** (eb - m), m, out)


def _gru_reference(net: Int8Net, x: np.ndarray, x_exp: int) -> tuple[list[np.ndarray], int]:
    """The GRU equations (module docstring) in integers; returns the last layer's h_t per step and their unit."""
    meta = net.meta
    H = meta["hidden"]
    for layer in range(meta["n_layers"]):
        p = f"gru{layer}"
        wi = net.op(f"{p}.xi")
        e_x = x_exp
        xi = _rq(x @ wi.weight.T + wi.bias, e_x + wi.w_exp, wi.out_exp)
        h, e_h = np.zeros((x.shape[0], H), np.int64), net.op(f"{p}.h-1").out_exp
        hs = []
        for t in range(meta["max_len"]):
            o = lambda name: net.op(f"{p}.t{t}.{name}")
            wh = o("hh")  # the same W_h at every step; its bias in that step's accumulator unit
            hh = _rq(h @ wh.weight.T + wh.bias, e_h + wh.w_exp, wh.out_exp)
            parts = {g: (xi[:, t, k * H:(k + 1) * H], hh[:, k * H:(k + 1) * H]) for k, g in enumerate("rzn")}
            add = _add
            gates = {}
            for g in "rz":
                pre = add(*(parts[g][0], wi.out_exp, parts[g][1], o("hh").out_exp), o(f"{g}_in").out_exp)
                gates[g] = o(g).table[pre + 128]
            rh = _rq(gates["r"] * parts["n"][1], o("r").out_exp + o("hh").out_exp, o("rh").out_exp)
            n = o("n").table[add(parts["n"][0], wi.out_exp, rh, o("rh").out_exp, o("n_in").out_exp) + 128]
            d = add(h, e_h, -n, o("n").out_exp, o("d").out_exp)
            zd = _rq(gates["z"] * d, o("z").out_exp + o("d").out_exp, o("zd").out_exp)
            h, e_h = add(n, o("n").out_exp, zd, o("zd").out_exp, o("h").out_exp), o("h").out_exp
            hs.append(h)
        out = net.op(f"{p}.out").out_exp
        x = np.stack([_rq(h_t, net.op(f"{p}.t{t}.h").out_exp, out) for t, h_t in enumerate(hs)], axis=1)
        x_exp = out
    return x, x_exp


def _shift_half_up(v: int, s: int) -> int:
    return (v + (1 << (s - 1))) >> s if s > 0 else v << -s


def _sat8(v: int) -> int:
    return max(-128, min(127, v))


def _norm_reference(op, x: np.ndarray, e: int) -> np.ndarray:
    """LayerNorm's z = (x - mean) / sqrt(var + eps) in integers, row by row (``int8_net`` docstring: norm)."""
    D = x.shape[-1]
    eps = math.floor(op.param * D ** 3 * 2.0 ** (-2 * e) + 0.5)
    z = np.zeros_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        row = [int(v) for v in x[idx]]
        c = [D * v - sum(row) for v in row]
        q = sum(v * v for v in c) + eps
        if q == 0:
            continue
        k = 0
        while q >> 2 * k >= 256:
            k += 1
        while (q >> 2 * k if k >= 0 else q << -2 * k) < 64:
            k -= 1
        m = q >> 2 * k if k >= 0 else q << -2 * k
        z[idx] = [_sat8(_shift_half_up(v * int(op.table[m]), op.out_exp - op.table_exp[0] + k)) for v in c]
    return z


def _softmax_reference(op, x: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Softmax over the allowed keys in integers, row by row (``int8_net`` docstring: softmax)."""
    t_r = op.table_exp[1]  # p_j = E_j / sum E: the exponentials' unit cancels
    p = np.zeros_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        keys = range(idx[-1] + 1) if op.param == "causal" else range(int(length[idx[0]]))
        top = max(int(x[idx][j]) for j in keys)
        e = {j: int(op.table[0][top - int(x[idx][j])]) for j in keys}
        total = sum(e.values())
        k = total.bit_length() - 8
        m = total >> k if k >= 0 else total << -k
        for j in keys:
            p[idx + (j,)] = _sat8(_shift_half_up(e[j] * int(op.table[1][m]), op.out_exp - t_r + k))
    return p


def _linear(net: Int8Net, name: str, x: np.ndarray, e: int) -> tuple[np.ndarray, int]:
    o = net.op(name)
    acc = x @ o.weight.T + (0 if o.bias is None else o.bias)
    return _rq(acc, e + o.w_exp, o.out_exp), o.out_exp


def _layer_norm_reference(net: Int8Net, name: str, x: np.ndarray, e: int) -> tuple[np.ndarray, int]:
    n, sc = net.op(f"{name}.norm"), net.op(name)
    return _rq(_norm_reference(n, x, e) * sc.weight + sc.bias, n.out_exp + sc.w_exp, sc.out_exp), sc.out_exp


def _with_positions(net: Int8Net, x: np.ndarray, e: int) -> tuple[np.ndarray, int]:
    pos = net.op("pos")
    return _add(x, e, pos.weight[None], pos.w_exp, net.op("x0").out_exp), net.op("x0").out_exp


def _sasrec_reference(net: Int8Net, x: np.ndarray, e: int, length: np.ndarray) -> tuple[np.ndarray, int]:
    heads, rows = net.meta["n_heads"], np.arange(x.shape[0])
    x, e = _with_positions(net, x, e)
    for b in range(net.meta["n_layers"]):
        p, last = f"b{b}", b == net.meta["n_layers"] - 1
        a, ea = _layer_norm_reference(net, f"{p}.ln1", x, e)
        a_q = a[rows, length - 1] if last else a
        if last:
            x = x[rows, length - 1]
        (q, eq), (k, ek), (v, ev) = (_linear(net, f"{p}.{t}", a_q if t == "q" else a, ea) for t in "qkv")
        d_h = q.shape[-1] // heads
        outs = []
        for h in range(heads):
            cols = slice(h * d_h, (h + 1) * d_h)
            lo, po, ao = (net.op(f"{p}.h{h}.{t}") for t in ("logits", "p", "att"))
            logits = _rq(np.einsum("b...k,bjk->b...j", q[..., cols], k[..., cols]), eq + ek, lo.out_exp)
            probs = _softmax_reference(po, logits, length)
            outs.append((_rq(np.einsum("b...j,bjk->b...k", probs, v[..., cols]), po.out_exp + ev, ao.out_exp),
                         ao.out_exp))
        if heads > 1:
            cat = net.op(f"{p}.att").out_exp
            outs = [(np.concatenate([_rq(o, eo, cat) for o, eo in outs], axis=-1), cat)]
        o, eo = _linear(net, f"{p}.o", *outs[0])
        x, e = _add(x, e, o, eo, net.op(f"{p}.res1").out_exp), net.op(f"{p}.res1").out_exp
        f, ef = _layer_norm_reference(net, f"{p}.ln2", x, e)
        f, ef = _linear(net, f"{p}.ffn_1", f, ef)
        relu = net.op(f"{p}.relu")
        f, ef = _linear(net, f"{p}.ffn_2", relu.table[f + 128], relu.out_exp)
        x, e = _add(x, e, f, ef, net.op(f"{p}.out").out_exp), net.op(f"{p}.out").out_exp
    return _layer_norm_reference(net, "ln_out", x, e)


def _fmlp_reference(net: Int8Net, x: np.ndarray, e: int, length: np.ndarray) -> tuple[np.ndarray, int]:
    x, e = _layer_norm_reference(net, "x_ln", *_with_positions(net, x, e))
    L = x.shape[1]
    for b in range(net.meta["n_layers"]):
        p, last = f"b{b}", b == net.meta["n_layers"] - 1
        fo = net.op(f"{p}.filter")
        w = fo.weight
        if last:  # y[c] = sum_j w[c, (length - 1 - j) mod L] x[j, c]
            acc = np.stack([sum(w[:, (n - 1 - j) % L] * x[i, j] for j in range(L)) for i, n in enumerate(length)])
            x = x[np.arange(x.shape[0]), length - 1]
        else:  # y[i, c] = sum_j w[c, (i - j) mod L] x[j, c]
            acc = np.stack([sum(w[:, (i - j) % L] * x[:, j] for j in range(L)) for i in range(L)], axis=1)
        f = _rq(acc, e + fo.w_exp, fo.out_exp)
        x, e = _add(x, e, f, fo.out_exp, net.op(f"{p}.res1").out_exp), net.op(f"{p}.res1").out_exp
        x, e = _layer_norm_reference(net, f"{p}.ln1", x, e)
        f, ef = _linear(net, f"{p}.dense_1", x, e)
        gelu = net.op(f"{p}.gelu")
        f, ef = _linear(net, f"{p}.dense_2", gelu.table[f + 128], gelu.out_exp)
        x, e = _add(x, e, f, ef, net.op(f"{p}.res2").out_exp), net.op(f"{p}.res2").out_exp
        x, e = _layer_norm_reference(net, f"{p}.out", x, e)
    return x, e


def _caser_reference(net: Int8Net, x: np.ndarray, e: int, length: np.ndarray) -> tuple[np.ndarray, int]:
    B, L, _ = x.shape
    aligned = np.zeros_like(x)
    for i, n in enumerate(length):  # the history's n items at rows L - n .. L - 1
        aligned[i, L - n:] = x[i, :n]
    feat = net.op("features").out_exp
    parts = []
    for h in range(1, L + 1):
        conv, relu = net.op(f"conv_h{h}"), net.op(f"relu_h{h}")
        acc = np.stack([aligned[:, i:i + h].reshape(B, -1) @ conv.weight.T + conv.bias for i in range(L - h + 1)],
                       axis=1)
        pooled = relu.table[_rq(acc, e + conv.w_exp, conv.out_exp) + 128].max(axis=1)
        parts.append(_rq(pooled, relu.out_exp, feat))
    v = net.op("conv_v")
    o_v = _rq(np.einsum("ol,blc->boc", v.weight, aligned) + v.bias[:, None], e + v.w_exp, v.out_exp)
    parts.append(_rq(o_v.reshape(B, -1), v.out_exp, feat))
    z, ez = _linear(net, "fc", np.concatenate(parts, axis=1), feat)
    return net.op("z").table[z + 128], net.op("z").out_exp


def reference_scores(net: Int8Net, history: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Int64 scores [B, N + 1] of the int8 model (module docstring), written from its equations."""
    emb = net.op("embed")
    x = emb.weight[np.asarray(history)]
    length = np.asarray(length)
    body = {"sasrec": _sasrec_reference, "fmlp-rec": _fmlp_reference, "caser": _caser_reference}.get(net.name)
    if body is not None:
        h, _ = body(net, x, emb.w_exp, length)
        return h @ net.op("readout").weight.T.astype(np.int64)
    g, e_g = _gru_reference(net, x, emb.w_exp)
    rows = np.arange(g.shape[0])
    last = g[rows, np.asarray(length) - 1]
    if net.name == "gru4rec":
        d = net.op("dense")
        h = _rq(last @ d.weight.T + d.bias, e_g + d.w_exp, d.out_exp)
        e_h = d.out_exp
    else:
        a1, a2, att, v, c_l, ctx, b = (net.op(n) for n in ("a_1", "a_2", "att", "v", "c_l", "ctx", "b"))
        q1 = _rq(g @ a1.weight.T, e_g + a1.w_exp, a1.out_exp)
        q2 = _rq(last @ a2.weight.T, e_g + a2.w_exp, a2.out_exp)
        m = min(a1.out_exp, a2.out_exp)
        pre = _rq(q1 * 2 ** (a1.out_exp - m) + q2[:, None] * 2 ** (a2.out_exp - m), m, net.op("att_in").out_exp)
        alpha = _rq(att.table[pre + 128] @ v.weight.T, att.out_exp + v.w_exp, v.out_exp)
        alpha = alpha * (np.arange(g.shape[1])[None, :, None] < np.asarray(length)[:, None, None])
        local = _rq((alpha * g).sum(axis=1), v.out_exp + e_g, c_l.out_exp)
        both = np.concatenate([_rq(local, c_l.out_exp, ctx.out_exp), _rq(last, e_g, ctx.out_exp)], axis=-1)
        h = _rq(both @ b.weight.T, ctx.out_exp + b.w_exp, b.out_exp)
        e_h = b.out_exp
    return h @ net.op("readout").weight.T.astype(np.int64)
