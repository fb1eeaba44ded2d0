"""A model ten times larger than the ML-1M default (D=256, 4 blocks, 50,000 items): time to convert, quantise and
map it, stage by stage, in one run.

    .venv/bin/python benchmarks/large_model.py [--chip examples/chips/45nm-10x.toml] [--threads 2]

The weights are a fresh initialisation (BatchNorm running statistics randomised so that folding is not trivial);
conversion and mapping cost depend on the shapes, not on training. Calibration and activity use random histories.
A 50,000-item embedding needs 50,001 input axons per neuron, more than a 45nm or loihi preset core has (4,096), so
the default chip is the user chip file examples/chips/45nm-10x.toml; ``--chip 45nm`` shows the error that says so.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chip", default=str(REPO / "examples/chips/45nm-10x.toml"))
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--samples", type=int, default=256, help="random histories for calibration and activity")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from hardware.chip import load_chip
    from mapping import map_graph
    from ssr_neuro.conversion import to_graph
    from ssr_neuro.graph.quantize import quantize
    from ssr_neuro.graph.execute import run
    from ssr_neuro.model import SSR, SSRConfig

    torch.manual_seed(0)
    cfg = SSRConfig(n_items=args.items, dim=args.dim, n_blocks=args.blocks)
    model = SSR(cfg).eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics, as after training
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    rng = np.random.default_rng(0)
    length = rng.integers(1, cfg.max_len + 1, size=args.samples)
    history = rng.integers(1, args.items + 1, size=(args.samples, cfg.max_len))
    history[np.arange(cfg.max_len)[None, :] >= length[:, None]] = 0

    times: dict[str, float] = {}
    t = time.perf_counter()
    graph = to_graph(model)
    times["convert_s"] = time.perf_counter() - t
    t = time.perf_counter()
    fixed = quantize(graph, (history, length))
    times["quantize_s"] = time.perf_counter() - t
    t = time.perf_counter()
    _, activity = run(fixed, history, length, record=True)
    times["record_activity_s"] = time.perf_counter() - t
    chip = load_chip(args.chip)
    result = {"model": cfg.to_dict(), "graph": fixed.stats(), "chip": chip.name, **times}
    for strategy in ("greedy", "anneal"):
        t = time.perf_counter()
        mapping = map_graph(fixed, chip, strategy=strategy, activity=activity, seed=0)
        s = mapping.summary()
        result[strategy] = {"map_s": time.perf_counter() - t, "cores_used": s["cores_used"],
                            "hop_weighted_traffic": s["hop_weighted_traffic"]}
    result["total_s_anneal"] = times["convert_s"] + times["quantize_s"] + times["record_activity_s"] + \
        result["anneal"]["map_s"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
