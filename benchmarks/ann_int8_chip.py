"""SSR on each chip preset next to the ANN baselines in int8 on the same chips, and where SSR's saving comes from.

    .venv/bin/python benchmarks/ann_int8_chip.py [--graph runs/ml-1m/model.graph] [--samples 200]

SSR: ``hardware.simulate`` of the converted graph on its dataset's test inferences (``--samples``, chosen and mapped
as ``ssr-neuro simulate`` does; random histories for a graph that records no dataset) on 45nm, 45nm-ideal and
loihi, energy per inference by kind. Baselines at ML-1M's shapes (3,416 items, L = 20, D = 64, defaults of ``MODEL_DEFAULTS``): the
float32 figure at 45 nm (``counting.ann_45nm`` of ``layer_ops``) and the int8 figure on each chip: GRU4Rec, NARM,
SASRec, FMLP-Rec and Caser compiled into int8 layer lists (``ssr_neuro.baselines.int8``; exact per-op work, neuron
updates and table reads included; a dense ANN's work does not depend on its weight values, so an untrained model
gives the trained one's energy), packed onto cores by the core's limits (``mapping.int8_pack``: only values read on
another core are packets), the others from ``layer_ops`` (``int8_ann_on_chip``: no neuron updates, a low estimate);
for the compiled ones the ``layer_ops`` estimate is printed too. Then ``saving_decomposition`` of SSR's
saving against each baseline on the 45nm chip. ``--baselines-only`` skips SSR (no graph needed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PRESETS = ("45nm", "45nm-ideal", "loihi")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, default=REPO / "runs/ml-1m/model.graph")
    ap.add_argument("--samples", type=int, default=200, help="SSR's inferences (the graph's test set when it records "
                                                               "its dataset, else random histories)")
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--baselines-only", action="store_true", help="skip SSR (ML-1M's shape: 3,416 items, L = 20)")
    args = ap.parse_args()
    import torch

    from hardware.ann_chip import int8_ann_on_chip, run_int8_on_chip, saving_decomposition
    from hardware.chip import load_chip
    from hardware.costs import KINDS
    from ssr_neuro.counting import ann_45nm
    from hardware.simulate import simulate
    from mapping import map_graph
    from ssr_neuro.baselines import BASELINES, BaselineConfig
    from ssr_neuro.baselines.int8 import SUPPORTED, compile_int8
    from ssr_neuro.app.pipeline import SamplePlan, load_source, map_source

    plan = SamplePlan(evaluation=args.samples)
    src = None if args.baselines_only else load_source(args.graph, plan, args.data_dir)
    graph = None if src is None else src.graph
    n_items, max_len = (3416, 20) if graph is None else (graph.node(graph.input_name()).n_items,
                                                         graph.node(graph.input_name()).max_len)
    if src is not None and src.dataset is not None:  # the graph's own test inferences, as ssr-neuro simulate runs
        chosen = plan.evaluation_of(src.dataset)
        history, length = chosen.history, chosen.length
        what = f"{len(length)} {src.dataset.name} test inferences, mapped as ssr-neuro simulate maps"
    else:
        rng = np.random.default_rng(0)
        length = rng.integers(1, max_len + 1, size=args.samples)
        history = (rng.integers(1, n_items + 1, size=(args.samples, max_len))
                   * (np.arange(max_len)[None] < length[:, None]))
        what = f"{args.samples} random histories"
    chips = {name: load_chip(name) for name in PRESETS}
    ssr = {}
    if graph is not None:
        print(f"SSR ({args.graph}, {what}), uJ per inference:")
    for name, chip in chips.items() if graph is not None else ():
        mapping = map_source(src, chip, plan) if src.dataset is not None else map_graph(graph, chip)
        r = simulate(graph, mapping, chip, history, length)
        kinds = {k: float(np.mean(r.per_inference[f"energy_pJ_{k}"])) for k in KINDS}
        ssr[name] = kinds
        print(f"  {name:11s} {sum(kinds.values()) * 1e-6:9.3f}  ("
              + ", ".join(f"{k} {v * 1e-6:.3f}" for k, v in kinds.items())
              + f"; latency {float(np.mean(r.per_inference['latency_us'])):.1f} us)")
    print("\nbaselines, uJ per inference: float32 at 45 nm (Horowitz) | int8 on each chip "
          "(exact = compiled layer list)")
    print(f"  {'model':9s} {'float32':>9s} " + " ".join(f"{n:>11s}" for n in PRESETS) + "   how")
    rows = {}
    for name in BASELINES:
        torch.manual_seed(0)
        model = BASELINES[name](BaselineConfig(name, n_items, max_len=max_len, dim=64)).eval()
        f32 = ann_45nm(model.layer_ops())["total_pJ"]
        estimate = {c: int8_ann_on_chip(model.layer_ops(), chips[c]) for c in PRESETS}
        int8, how = estimate, "layer_ops estimate"
        if name in SUPPORTED:
            net = compile_int8(model, history[:64], length[:64])
            int8 = {c: run_int8_on_chip(net, chips[c], history[:1], length[:1]) for c in PRESETS}
            how = (f"exact ({int8['45nm']['macs']:,.0f} MACs, {int8['45nm']['updates']:,} activations, "
                   f"{int8['45nm']['cores']} cores, {int8['45nm']['packets']:,} packets, "
                   f"{int8['45nm']['latency_us']:.1f} us on 45nm); layer_ops estimate "
                   + " | ".join(f"{estimate[c]['total_pJ'] * 1e-6:.3f}" for c in PRESETS))
        rows[name] = (f32, int8)
        print(f"  {name:9s} {f32 * 1e-6:9.3f} " + " ".join(f"{int8[c]['total_pJ'] * 1e-6:11.3f}" for c in PRESETS)
              + f"   {how}")
        print(f"  {'':9s} {'':9s} by kind on 45nm: " + ", ".join(
            f"{k} {v * 1e-6:.3f}" for k, v in int8["45nm"]["by_kind"].items()))
    if graph is None:
        return
    print("\nSSR's saving against each baseline on 45nm (uJ per inference; parts add up to the total):")
    parts = ("precision_pJ", "chip_pJ", "spike_sparsity_pJ", "memory_traffic_pJ", "network_pJ", "static_pJ")
    print(f"  {'model':9s} {'total':>8s} " + " ".join(f"{p[:-3]:>15s}" for p in parts) + "  vs int8 on chip")
    for name, (f32, int8) in rows.items():
        d = saving_decomposition(f32, int8["45nm-ideal"], int8["45nm"], ssr["45nm"])
        print(f"  {name:9s} {d['total_saving_pJ'] * 1e-6:8.3f} " + " ".join(f"{d[p] * 1e-6:15.3f}" for p in parts)
              + f"  {d['saving_vs_int8_ann_on_chip']:+.1%}")


if __name__ == "__main__":
    main()
