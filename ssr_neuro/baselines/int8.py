"""ANN baselines as all-graded int8 layer lists (``ssr_neuro.graph.int8_net``), and their int8 reference forwards.

``compile_int8(model, history, length)`` turns a trained GRU4Rec or NARM (eval mode) into an :class:`Int8Net` of plain
numpy arrays, quantised per layer like the SSR graph (8-bit weights with one power-of-two exponent per array, 8-bit
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
"""

from __future__ import annotations

import numpy as np
import torch

from ssr_neuro.errors import UserError
from ssr_neuro.graph.fixed import round_shift, saturate
from ssr_neuro.graph.int8_net import Int8Net, Op, quantize_net

SUPPORTED = ("gru4rec", "narm")


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


def compile_int8(model, history: np.ndarray, length: np.ndarray) -> Int8Net:
    """A GRU4Rec or NARM baseline as a quantised int8 layer list, calibrated on ``history`` [B, L], ``length`` [B]
    (UserError for another baseline)."""
    cfg = model.cfg
    if cfg.name not in SUPPORTED:
        raise UserError(f"no int8 layer list for baseline {cfg.name!r} yet (have: {', '.join(SUPPORTED)}); its "
                        "int8 cost on the chip is estimated from layer_ops (hardware.ann_chip.int8_ann_on_chip)")
    table = _np(model.item_embedding.weight)
    ops = [Op("embed", "embed", ("history",), table)]
    gru, g = _gru_ops(model, "embed", cfg.max_len)
    ops += gru
    if cfg.name == "gru4rec":
        ops += [Op("last", "last", (g,)), Op("dense", "linear", ("last",), _np(model.dense.weight),
                                              _np(model.dense.bias))]
        h = "dense"
    else:
        ops += [Op("c_g", "last", (g,)), Op("a_1", "linear", (g,), _np(model.a_1.weight)),
                Op("a_2", "linear", ("c_g",), _np(model.a_2.weight)), Op("att_in", "add", ("a_1", "a_2")),
                Op("att", "lut", ("att_in",), param="sigmoid"), Op("v", "linear", ("att",), _np(model.v.weight)),
                Op("alpha", "mask", ("v",)), Op("c_l", "wsum", ("alpha", g)), Op("ctx", "concat", ("c_l", "c_g")),
                Op("b", "linear", ("ctx",), _np(model.b.weight))]
        h = "b"
    ops.append(Op("readout", "readout", (h,), table))
    net = Int8Net(cfg.name, tuple(ops), meta={"max_len": cfg.max_len, "n_items": cfg.n_items, "dim": cfg.dim,
                                             "hidden": cfg.hidden, "n_layers": cfg.n_layers})
    return quantize_net(net, history, length)


# ------------------------------------------------------------------------------------------------ reference

def _rq(acc: np.ndarray, acc_exp: int, out_exp: int) -> np.ndarray:
    return saturate(round_shift(acc, out_exp - acc_exp), 8).astype(np.int64)


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

            def add(a, ea, b, eb, out):
                m = min(ea, eb)
                return _rq(a * 2 ** (ea - m) + b * 2 ** (eb - m), m, out)

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


def reference_scores(net: Int8Net, history: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Int64 scores [B, N + 1] of the int8 model (module docstring), written from its equations."""
    emb = net.op("embed")
    x = emb.weight[np.asarray(history)]
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
