"""Catalog size against chip cost: SSR with N items mapped and simulated on the presets (item tables by lookup,
on-chip top-k), one row per (N, chip), measured in one run.

    .venv/bin/python benchmarks/catalog_scale.py [--items 10000,50000,200000] [--dim 16] [--inferences 1000]
                                                 [--chips 45nm,loihi,examples/chips/45nm-large.toml]
                                                 [--trained [--users 1000]] [--json F]

The model: by default a fresh SSR initialisation (D=--dim, L=20, 2 blocks; BatchNorm statistics randomised as after
training) with random histories of the catalog; with --trained, SSR trained for one epoch through the Python API on
the synthetic generator with a catalog of N items (``SyntheticConfig(n_items=N, n_users=--users, min_len=15,
max_len=30, zipf_exponent=0.5)``, no k-core filter), whose catalog is all N items (those the users never met keep
their initial weights), evaluated on the test histories (repeated up to --inferences). Calibration
and activity use the first 256 histories. Columns: cores used (table cores in brackets); energy per inference (uJ)
and its share by kind (compute/memory/network/static); latency (us); readout share = the Readout's layer energy
(scoring MACs or synaptic ops, compares, results out) over the total; map time (s); compile time (s, once per
mapping); simulate time per 1,000 inferences (s, compile included, chunks of 250); simulator time per inference
(ms, without the compile): what grows with N. A chip without enough cores is reported by its error.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent


def build(n_items: int, dim: int, samples: int, seed: int = 0):
    """A quantised fresh SSR graph with ``n_items`` items and random histories (calibration and evaluation)."""
    from ssr_neuro.model import SSR, SSRConfig

    torch.manual_seed(seed)
    cfg = SSRConfig(n_items=n_items, dim=dim)
    model = SSR(cfg).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    rng = np.random.default_rng(seed)
    length = rng.integers(1, cfg.max_len + 1, size=samples)
    history = rng.integers(1, n_items + 1, size=(samples, cfg.max_len))
    history[np.arange(cfg.max_len)[None, :] >= length[:, None]] = 0
    return _convert(model, history, length) + ({"model": "fresh"},)


def build_trained(n_items: int, dim: int, samples: int, users: int, seed: int = 0):
    """A quantised SSR graph trained one epoch on a synthetic catalog of ``n_items`` items, its test histories
    (repeated to ``samples``) and what the training cost (module docstring)."""
    from ssr_neuro.data import load_dataset
    from ssr_neuro.data.synthetic import SyntheticConfig
    from ssr_neuro.model import SSR, SSRConfig
    from ssr_neuro.training import TrainConfig, evaluate_model, train

    t = time.perf_counter()
    data = load_dataset("synthetic", synthetic=SyntheticConfig(n_items=n_items, n_users=users, min_len=15,
                                                               max_len=30, zipf_exponent=0.5),
                        k_core=0, seed=seed, use_cache=False)
    torch.manual_seed(seed)
    model = SSR(SSRConfig(n_items=n_items, dim=dim))
    train(model, data, TrainConfig(epochs=1, patience=0), show_progress=False)
    train_s = time.perf_counter() - t
    model.eval()
    quality = evaluate_model(model, data.test)
    idx = np.resize(np.arange(len(data.test.length)), samples)
    history, length = data.test.history[idx], data.test.length[idx]
    info = {"model": "trained", "users": users, "items_seen": int(data.n_items), "train_samples":
            int(len(data.train.length)), "train_s": train_s, "test_HR@10": float(quality["HR@10"])}
    return _convert(model, history, length) + (info,)


def _convert(model, history: np.ndarray, length: np.ndarray):
    from ssr_neuro.conversion import to_graph
    from ssr_neuro.graph.quantize import quantize

    graph = quantize(to_graph(model.eval()), (history[:256], length[:256]))
    return graph, history, length


def measure(graph, history, length, chip_name: str, chunk: int = 250) -> dict:
    from hardware.chip import load_chip
    from hardware.engine import run_program
    from hardware.program import compile_program
    from hardware.simulate import assemble
    from mapping import map_graph
    from ssr_neuro.errors import MappingError
    from ssr_neuro.graph.execute import run

    chip = load_chip(chip_name)
    _, activity = run(graph, history[:256], length[:256], record=True, batch_size=64)
    t = time.perf_counter()
    try:
        mapping = map_graph(graph, chip, strategy="anneal", activity=activity, seed=0)
    except MappingError as e:
        return {"chip": chip.name, "error": str(e)}
    map_s = time.perf_counter() - t
    t = time.perf_counter()
    program = compile_program(graph, mapping, chip)
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    parts = []
    for i in range(0, len(length), chunk):
        scores, ledger, raster = run_program(program, history[i:i + chunk], length[i:i + chunk], batch_size=64)
        parts.append(assemble(program, ledger, scores, raster))
    run_s = time.perf_counter() - t
    energy = np.concatenate([p.per_inference["energy_pJ"] for p in parts])
    latency = np.concatenate([p.per_inference["latency_us"] for p in parts])
    kinds = {k: float(np.mean([p.breakdown["by_kind"][k] for p in parts])) for k in parts[0].breakdown["by_kind"]}
    readout = float(np.mean([p.breakdown["by_layer"].get(graph.output_name(), 0.0) for p in parts]))
    tables = sum(t["table_cores"] for t in mapping.info["embedding"].values())
    n = len(length)
    return {"chip": chip.name, "cores": mapping.info["cores_used"], "table_cores": tables,
            "energy_uJ": float(energy.mean()) / 1e6, "by_kind_uJ": {k: v / 1e6 for k, v in kinds.items()},
            "latency_us": float(latency.mean()), "readout_share": readout / float(energy.mean()),
            "map_s": map_s, "compile_s": compile_s, "simulate_s_per_1000": (compile_s + run_s) * 1000.0 / n,
            "ms_per_inference": run_s * 1000.0 / n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", default="10000,50000,200000")
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--inferences", type=int, default=1000)
    ap.add_argument("--chips", default="45nm,loihi,examples/chips/45nm-large.toml")
    ap.add_argument("--trained", action="store_true", help="train SSR one epoch on a synthetic catalog of N items")
    ap.add_argument("--users", type=int, default=1000, help="synthetic users with --trained")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    print(f"{'N':>8} {'chip':<11} {'cores':>10} {'uJ/inf':>8} {'compute/memory/network/static':>30} {'lat us':>8} "
          f"{'readout':>8} {'map s':>6} {'comp s':>6} {'sim s/1k':>9} {'ms/inf':>7}")
    for n_items in [int(x) for x in args.items.split(",")]:
        graph, history, length, info = (build_trained(n_items, args.dim, args.inferences, args.users) if args.trained
                                        else build(n_items, args.dim, args.inferences))
        if args.trained:
            print(f"{n_items:>8} trained: {info['users']} users, {info['items_seen']:,} items seen, "
                  f"{info['train_samples']:,} samples, {info['train_s']:.0f} s, test HR@10 {info['test_HR@10']:.4f}",
                  flush=True)
        for chip in args.chips.split(","):
            r = {"N": n_items, **info, **measure(graph, history, length, chip)}
            rows.append(r)
            if "error" in r:
                print(f"{n_items:>8} {r['chip']:<11} does not fit: {r['error']}", flush=True)
                continue
            k = r["by_kind_uJ"]
            print(f"{n_items:>8} {r['chip']:<11} {r['cores']:>5} ({r['table_cores']:>2}) {r['energy_uJ']:>8.3f} "
                  f"{k['compute']:>7.3f}/{k['memory']:.3f}/{k['network']:.3f}/{k['static']:.3f} "
                  f"{r['latency_us']:>8.1f} {r['readout_share']:>8.1%} {r['map_s']:>6.2f} {r['compile_s']:>6.2f} "
                  f"{r['simulate_s_per_1000']:>9.2f} {r['ms_per_inference']:>7.2f}", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
