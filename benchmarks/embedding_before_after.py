"""A MovieLens model on the presets before and after the catalog work, measured in one run: "before" = the spiking
fan-in embedding (``core.embedding = "fanin"``) and every score leaving the chip (no ``[output]``); "after" = the
presets as shipped (lookup item tables, on-chip top-10). Same graph, same inferences, same mapper settings.

    .venv/bin/python benchmarks/embedding_before_after.py [--graph runs/ml-1m/model.graph] [--inferences 1000]
                                                          [--chips 45nm,loihi] [--data-dir ../shared/datasets]

The graph: --graph if given, else runs/ml-1m/model.graph where it exists, else an ML-100K model: the checkpoint
--checkpoint if given, else one trained here through the Python API (SSR defaults, --epochs 2),
converted (8-bit weights, 4,096 calibration samples) and saved as runs/ml-100k/model.graph for the next run. Columns: the embedding as mapped (mode and table cores), cores,
energy per inference (uJ) with compute/memory/network, latency (us), readout share of the energy, HR@10 of the
full scores and of the chip's top-10 list (equal by ``hardware.topk``).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent


def model_graph(args):
    """(quantised graph, test samples, what it is)."""
    from ssr_neuro.data import load_dataset
    from ssr_neuro.graph.io import load_graph, save_graph

    ml1m = REPO / "runs" / "ml-1m" / "model.graph"
    path = args.graph or (ml1m if ml1m.is_file() else REPO / "runs" / "ml-100k" / "model.graph")
    name = "ml-1m" if "ml-1m" in str(path) else "ml-100k"
    data = load_dataset(name, data_dir=args.data_dir)
    if path.is_file():
        return load_graph(path), data.test, f"{name} graph {path}"
    from ssr_neuro.conversion import to_graph
    from ssr_neuro.graph.quantize import quantize
    from ssr_neuro.model import SSR, SSRConfig
    from ssr_neuro.training import TrainConfig, evaluate_model, load_checkpoint, train

    if args.checkpoint is not None:
        model, meta = load_checkpoint(args.checkpoint)
        how = f"checkpoint {args.checkpoint} ({meta.get('training', {}).get('epochs', '?')} epochs)"
    else:
        torch.manual_seed(0)
        model = SSR(SSRConfig(n_items=data.n_items))
        t = time.perf_counter()
        train(model, data, TrainConfig(epochs=args.epochs, patience=0), show_progress=False)
        how = f"SSR trained here ({args.epochs} epochs, {time.perf_counter() - t:.0f} s)"
    model.eval()
    hr = evaluate_model(model, data.test)["HR@10"]
    n = min(4096, len(data.train.length))
    graph = quantize(to_graph(model), (data.train.history[:n], data.train.length[:n]))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_graph(graph, path, overwrite=True)
    return graph, data.test, f"{name} {how}, torch HR@10 {hr:.4f}, graph saved as {path}"


def main() -> None:
    from hardware.chip import load_chip
    from hardware.simulate import simulate
    from hardware.topk import ranks_from_topk
    from mapping import map_graph
    from ssr_neuro.graph.execute import run
    from ssr_neuro.metrics import metrics_from_ranks, metrics_of_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, default=None)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--checkpoint", type=Path, default=None, help="an ML-100K checkpoint to convert instead of training")
    ap.add_argument("--inferences", type=int, default=1000)
    ap.add_argument("--chips", default="45nm,loihi")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    graph, test, what = model_graph(args)
    samples = test.choose(args.inferences, seed=0)  # as the CLI picks evaluation samples
    n, hist, length, target = len(samples), samples.history, samples.length, samples.target
    _, activity = run(graph, hist[:256], length[:256], record=True, batch_size=64)
    print(f"{what}; N = {graph.node(graph.input_name()).n_items:,} items; {n} test inferences")
    print(f"{'chip':<7} {'':<7} {'embedding':<22} {'cores':>5} {'uJ/inf':>8} {'compute/memory/network':>24} "
          f"{'lat us':>8} {'readout':>8} {'HR@10':>7} {'top-k HR@10':>11}")
    for name in args.chips.split(","):
        after = load_chip(name)
        before = dataclasses.replace(after, top_k=0, core=dataclasses.replace(after.core, embedding="fanin"))
        for label, chip in (("before", before), ("after", after)):
            mapping = map_graph(graph, chip, strategy="anneal", activity=activity, seed=0)
            r = simulate(graph, mapping, chip, hist, length, batch_size=64)
            emb = mapping.info["embedding"]
            mode = (", ".join(f"{v['mode']} ({v['table_cores']} table cores)" for v in emb.values()) if emb
                    else "fanin (on its cores)")
            k = {kind: v / 1e6 for kind, v in r.breakdown["by_kind"].items()}
            energy = float(r.per_inference["energy_pJ"].mean())
            readout = r.breakdown["by_layer"].get(graph.output_name(), 0.0) / energy
            hr = metrics_of_scores(r.scores, target, ks=(10,))["HR@10"]
            top = (f"{metrics_from_ranks(ranks_from_topk(r.topk, target), (10,))['HR@10']:.4f}" if r.topk
                   else "-")
            print(f"{chip.name:<7} {label:<7} {mode:<22} {mapping.info['cores_used']:>5} {energy / 1e6:>8.3f} "
                  f"{k['compute']:>10.3f}/{k['memory']:.3f}/{k['network']:.3f} "
                  f"{float(r.per_inference['latency_us'].mean()):>8.1f} {readout:>8.1%} {hr:>7.4f} {top:>11}",
                  flush=True)


if __name__ == "__main__":
    main()
