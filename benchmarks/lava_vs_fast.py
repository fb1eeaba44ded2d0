"""Fast engine vs Lava backend on the same workload, in one run: ML-100K test inferences through the quantised
graph of runs/ml-100k/model.pt mapped on the 45nm preset (anneal). Prints synaptic events per second of each backend
and their ratio, and the Lava run's start-up and per-inference time (two Lava runs of --small and --n inferences:
time = start-up + n x per-inference), after checking that both backends give identical scores and counts.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lava_vs_fast.py [--checkpoint runs/ml-100k/model.pt] [--n 64]

Synaptic events = accumulates on spikes + multiply-accumulates of graded values (cores and host), from the Ledger.
Fast engine time: the best of --repeats runs of ``run_program`` on the n inferences (compile excluded, as for Lava:
both start from the same Program). Lava time: ``run_lava`` wall time, lowering and subprocess start included.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=REPO / "runs/ml-100k/model.pt")
    ap.add_argument("--n", type=int, default=64, help="test inferences of the large Lava run (and the fast engine)")
    ap.add_argument("--small", type=int, default=8, help="inferences of the small Lava run (start-up estimate)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--chip", default="45nm")
    args = ap.parse_args()

    import torch

    from hardware.chip import load_chip
    from hardware.costs import COUNTERS
    from hardware.engine import run_program
    from hardware.lava_backend import run_lava
    from hardware.program import compile_program
    from mapping import map_graph
    from ssr_neuro.app.pipeline import SamplePlan, fixed_graph, record_activity

    torch.set_num_threads(1)
    plan = SamplePlan()
    src = fixed_graph(args.checkpoint, plan, DATA)
    graph, ds = src.graph, src.dataset
    activity = record_activity(graph, plan.activity_of(ds))
    chip = load_chip(args.chip)
    program = compile_program(graph, map_graph(graph, chip, strategy="anneal", activity=activity, seed=0), chip)
    pick = np.sort(np.random.default_rng(0).choice(len(ds.test), size=args.n, replace=False))
    history, length = ds.test.history[pick], ds.test.length[pick]
    events = [COUNTERS.index(c) for c in ("synaptic_op", "mac", "host_mac")]

    fast_s = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        scores, ledger, _ = run_program(program, history, length)
        fast_s.append(time.perf_counter() - t)
    n_events = float(ledger.counts[:, events].sum())
    small = run_lava(program, history[:args.small], length[:args.small])
    large = run_lava(program, history, length)
    assert np.array_equal(scores, large.scores) and np.array_equal(ledger.counts, large.ledger.counts)
    per_inference = (large.timings_s["total"] - small.timings_s["total"]) / (args.n - args.small)
    startup = large.timings_s["total"] - args.n * per_inference
    fast_rate = n_events / min(fast_s)
    lava_rate = n_events / large.timings_s["total"]
    steady_rate = n_events / (args.n * per_inference)
    out = {
        "chip": args.chip, "n_inferences": args.n, "cores": program.n_cores, "phases": len(program.phases),
        "synaptic_events_per_inference": n_events / args.n,
        "fast_s": min(fast_s), "fast_events_per_s": fast_rate,
        "lava_s": large.timings_s["total"], "lava_events_per_s": lava_rate,
        "ratio": fast_rate / lava_rate, "ratio_steady_state": fast_rate / steady_rate,
        "lava_startup_s": startup, "lava_per_inference_s": per_inference,
        "lava_timings_s": large.timings_s, "identical": True,
    }
    print(f"{args.n} ML-100K test inferences on {args.chip} ({program.n_cores} cores, {len(program.phases)} phases "
          f"per inference, {n_events / args.n:,.0f} synaptic events per inference); scores and counts identical")
    print(f"fast engine : {min(fast_s) * 1e3:8.1f} ms  {fast_rate / 1e6:10.2f} M synaptic events/s")
    print(f"Lava backend: {large.timings_s['total'] * 1e3:8.1f} ms  {lava_rate / 1e6:10.4f} M synaptic events/s")
    print(f"ratio fast / Lava: {fast_rate / lava_rate:,.0f}x (steady state, start-up excluded: "
          f"{fast_rate / steady_rate:,.0f}x)")
    print(f"Lava start-up {startup:.2f} s, then {per_inference * 1e3:.1f} ms per inference")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
