"""Simulator speed and cost, in one run: ML-1M test inferences on the 45nm and loihi presets (energy per inference and
its breakdown, latency, simulation time, synaptic events per second), then how the simulation time grows with the
batch size, the number of items and the model size.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/simulate_speed.py [--graph runs/ml-1m/model.graph] [--n 10000]

The ML-1M graph is the quantised graph of runs/ml-1m/model.pt (``ssr-neuro convert``; built here with the same
defaults if the file is absent) mapped with ``map_graph(graph, load_chip(chip))``; inputs are ``--n`` test samples
drawn without replacement (seed 0). The items and model-size rows use freshly initialised SSR models (D, blocks, N
as given; cost depends on shapes and firing, not on training), quantised on random histories and mapped on
examples/chips/45nm-10x.toml (the 45nm preset cannot hold 50,000-item inputs), each simulated on ``--scale-n``
random histories. Synaptic events = accumulates on spikes + multiply-accumulates of graded values.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"


def _ml1m_graph(path: Path):
    from ssr_neuro.graph.io import load_graph

    if path.is_file():
        return load_graph(path)
    from ssr_neuro.app.pipeline import SamplePlan, fixed_graph

    return fixed_graph(REPO / "runs/ml-1m/model.pt", SamplePlan(), DATA).graph


def _random_graph(n_items: int, dim: int, blocks: int, samples: int):
    import torch

    from ssr_neuro.conversion import to_graph
    from ssr_neuro.graph.quantize import quantize
    from ssr_neuro.model import SSR, SSRConfig

    torch.manual_seed(0)
    cfg = SSRConfig(n_items=n_items, dim=dim, n_blocks=blocks)
    model = SSR(cfg).eval()
    history, length = _random_histories(samples, cfg.max_len, n_items)
    return quantize(to_graph(model), (history, length)), (history, length)


def _random_histories(n: int, max_len: int, n_items: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    length = rng.integers(1, max_len + 1, n)
    history = rng.integers(1, n_items + 1, (n, max_len))
    history[np.arange(max_len)[None, :] >= length[:, None]] = 0
    return history, length


def _timed(graph, mapping, chip, history, length, batch_size: int = 256) -> tuple[float, object]:
    from hardware.simulate import simulate

    t = time.perf_counter()
    result = simulate(graph, mapping, chip, history, length, batch_size=batch_size)
    return time.perf_counter() - t, result


def _events(result) -> float:
    return float(result.per_inference["synaptic_ops"].sum() + result.per_inference["macs"].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, default=REPO / "runs/ml-1m/model.graph")
    ap.add_argument("--n", type=int, default=10_000, help="ML-1M test inferences")
    ap.add_argument("--scale-n", type=int, default=1000, help="inferences per scaling row")
    args = ap.parse_args()

    from hardware.chip import load_chip
    from mapping import map_graph
    from ssr_neuro.app.pipeline import dataset_of
    from ssr_neuro.metrics import metrics_of_scores

    graph = _ml1m_graph(args.graph)
    ds = dataset_of(graph.meta, DATA)
    pick = np.sort(np.random.default_rng(0).choice(len(ds.test), size=min(args.n, len(ds.test)), replace=False))
    history, length, target = ds.test.history[pick], ds.test.length[pick], ds.test.target[pick]
    out: dict = {"graph": str(args.graph), "n_inferences": int(len(pick)), "presets": {}}
    print(f"ML-1M: {len(pick):,} test inferences, graph {graph.stats()['neurons']} neurons")
    mappings = {}
    for name in ("45nm", "loihi"):
        chip = load_chip(name)
        mappings[name] = (chip, map_graph(graph, chip))
        seconds, r = _timed(graph, mappings[name][1], chip, history, length)
        s = r.summary()
        quality = metrics_of_scores(r.scores, target, ks=(10,))
        row = {"cores": len(mappings[name][1].cores), "sim_s": seconds, "inferences_per_s": len(pick) / seconds,
               "synaptic_events_per_s": _events(r) / seconds,
               "energy_uj": s["energy_uj_per_inference"], "latency_us": s["latency_us_per_inference"],
               "by_kind_uj": s["breakdown"]["by_kind"], "by_layer_uj": s["breakdown"]["by_layer"],
               "per_inference_mean": s["per_inference_mean"], "HR@10": quality["HR@10"]}
        out["presets"][name] = row
        print(f"\n{name}: {row['cores']} cores; {seconds:.1f} s ({row['inferences_per_s']:,.0f} inferences/s, "
              f"{row['synaptic_events_per_s'] / 1e6:,.1f} M synaptic events/s); HR@10 {quality['HR@10']:.4f}")
        print(f"  energy {row['energy_uj']:.3f} uJ per inference: " +
              ", ".join(f"{k} {v:.3f}" for k, v in row["by_kind_uj"].items()))
        print("  by layer (uJ): " + ", ".join(f"{k} {v:.3f}" for k, v in row["by_layer_uj"].items()))
        print(f"  latency {row['latency_us']:,.1f} us; per inference: " +
              ", ".join(f"{k} {v:,.0f}" for k, v in s["per_inference_mean"].items()
                        if k in ("spikes", "synaptic_ops", "macs", "neuron_updates", "packets", "hops")))

    chip, mapping = mappings["45nm"]
    n_batch = min(2000, len(pick))
    print(f"\nbatch size (45nm, {n_batch:,} inferences): batch, s, inferences/s")
    out["batch_size"] = []
    for batch in (16, 64, 256, 1024):
        seconds, _ = _timed(graph, mapping, chip, history[:n_batch], length[:n_batch], batch_size=batch)
        out["batch_size"].append({"batch_size": batch, "sim_s": seconds, "inferences_per_s": n_batch / seconds})
        print(f"  {batch:>6} {seconds:8.2f} {n_batch / seconds:10,.0f}")

    big = load_chip(REPO / "examples/chips/45nm-10x.toml")
    print(f"\nscaling (45nm-10x, {args.scale_n:,} random histories): items, D, blocks, neurons, synapses, cores, "
          "s, us per inference, M synaptic events/s, uJ per inference")
    out["scaling"] = []
    for n_items, dim, blocks in ((1000, 64, 2), (3416, 64, 2), (10_000, 64, 2), (50_000, 64, 2),
                                 (3416, 32, 2), (3416, 128, 2), (3416, 256, 2), (3416, 64, 4)):
        g, _ = _random_graph(n_items, dim, blocks, 256)
        m = map_graph(g, big)
        h, n = _random_histories(args.scale_n, g.node(g.input_name()).max_len, n_items, seed=1)
        seconds, r = _timed(g, m, big, h, n)
        st = g.stats()
        row = {"items": n_items, "dim": dim, "blocks": blocks, "neurons": sum(st["neurons"].values()),
               "synapses": st["synapses"], "cores": len(m.cores), "sim_s": seconds,
               "us_per_inference": 1e6 * seconds / args.scale_n, "synaptic_events_per_s": _events(r) / seconds,
               "energy_uj": r.summary()["energy_uj_per_inference"]}
        out["scaling"].append(row)
        print(f"  {n_items:>6} {dim:>4} {blocks:>2} {row['neurons']:>8,} {row['synapses']:>11,} {row['cores']:>4} "
              f"{seconds:7.2f} {row['us_per_inference']:8.0f} {row['synaptic_events_per_s'] / 1e6:8.1f} "
              f"{row['energy_uj']:8.3f}")
    print("\n" + json.dumps(out, default=float))


if __name__ == "__main__":
    main()
