"""Speed of the event timing model against the analytic one on a whole SSR graph: ``simulate`` on N test inferences
(default 10,000) with ``timing="analytic"`` and ``timing="event"`` in one process, and event timing split over 2
worker processes (the machine's 2 cores); every time measured in this run, ratios printed.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/timing_speed.py [--graph runs/ml-1m/model.graph] [--n 10000]

Compiling and mapping are done once before the clock starts (as ``ssr-neuro simulate`` does once per model). The
two timings use the same counts, so the dynamic energies must agree exactly (checked); static energy (leakage x
latency) follows each model's latency and is printed for both.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "datasets"
DYNAMIC = ("compute", "memory", "network")  # the energy kinds the counts alone give
_JOB: dict = {}  # what the forked workers inherit: graph, mapping, chip, inputs, settings


def dynamic(r) -> np.ndarray:
    """[kinds, inferences] energy by ``DYNAMIC`` kind: what both timings must share (static energy is leakage x
    latency and follows each timing model's latency)."""
    return np.stack([r.per_inference[f"energy_pJ_{k}"] for k in DYNAMIC])


def _half(rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    from hardware.simulate import simulate

    j = _JOB
    a, b = rows
    r = simulate(j["graph"], j["mapping"], j["chip"], j["history"][a:b], j["length"][a:b], batch_size=j["batch"],
                 timing="event", timing_chunk=j["chunk"])
    return r.per_inference["latency_us"], dynamic(r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, default=REPO / "runs/ml-1m/model.graph")
    ap.add_argument("--chip", default="45nm")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--chunk", type=int, default=4)
    args = ap.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("warning: OMP_NUM_THREADS is not 1; numpy may use more than one thread per process")
    from hardware.chip import load_chip
    from hardware.simulate import simulate
    from mapping import map_graph
    from ssr_neuro.app.pipeline import dataset_of
    from ssr_neuro.graph.io import load_graph

    graph = load_graph(args.graph)
    chip = load_chip(args.chip)
    ds = dataset_of(graph.meta, DATA)
    pick = np.resize(np.random.default_rng(0).permutation(len(ds.test)), args.n)
    history, length = ds.test.history[pick], ds.test.length[pick]
    mapping = map_graph(graph, chip)
    _JOB.update(graph=graph, mapping=mapping, chip=chip, history=history, length=length, batch=args.batch_size,
                chunk=args.chunk)
    n = args.n
    print(f"{args.graph} on {chip.name}: {len(mapping.cores)} cores, {n:,} test inferences, batch {args.batch_size}, "
          f"event chunks of at most {args.chunk} messages")

    t0 = time.perf_counter()
    analytic = simulate(graph, mapping, chip, history, length, batch_size=args.batch_size)
    t_analytic = time.perf_counter() - t0
    t0 = time.perf_counter()
    event = simulate(graph, mapping, chip, history, length, batch_size=args.batch_size, timing="event",
                     timing_chunk=args.chunk)
    t_event = time.perf_counter() - t0
    with mp.get_context("fork").Pool(2) as pool:
        t0 = time.perf_counter()
        halves = pool.map(_half, [(0, n // 2), (n // 2, n)])
        t_two = time.perf_counter() - t0
    lat2 = np.concatenate([h[0] for h in halves])
    assert np.array_equal(dynamic(event), dynamic(analytic))
    assert np.array_equal(np.concatenate([h[1] for h in halves], axis=1), dynamic(event))
    print(f"analytic, 1 process:         {t_analytic:7.2f} s ({n / t_analytic:,.0f} inferences/s)")
    print(f"event, 1 process:            {t_event:7.2f} s ({n / t_event:,.0f} inferences/s; "
          f"{t_event / t_analytic:.2f}x "
          f"the analytic run; the event model alone about {t_event - t_analytic:.2f} s)")
    print(f"event, 2 processes:          {t_two:7.2f} s ({n / t_two:,.0f} inferences/s)  goal: under 60 s for 10,000")
    lat_e, lat_a = event.per_inference["latency_us"], analytic.per_inference["latency_us"]
    print(f"latency per inference, us: event {lat_e.mean():.3f} (p50 {np.median(lat_e):.3f}, p99 "
          f"{np.percentile(lat_e, 99):.3f}), analytic {lat_a.mean():.3f}; "
          f"event / analytic {lat_e.mean() / lat_a.mean():.3f}; "
          f"2-process event latencies {'equal' if np.allclose(lat2, lat_e, rtol=0.02) else 'differ by more than 2%'} "
          f"(chunks follow each batch's largest flow)")
    s = event.summary()
    print(f"throughput: {s['inferences_per_s']:,.0f} inferences/s one at a time, "
          f"{s['inferences_per_s_overlapped']:,.0f}/s with consecutive inferences overlapped")
    static_e, static_a = (float(r.per_inference["energy_pJ_static"].mean()) * 1e-6 for r in (event, analytic))
    print(f"dynamic energy per inference identical in both timings: yes (checked); static (leakage x latency): "
          f"event {static_e:.3f} uJ, analytic {static_a:.3f} uJ")


if __name__ == "__main__":
    main()
