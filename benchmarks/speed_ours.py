"""Training and evaluation throughput of ssr-neuro's SSR, clocked like ``reference_ssr.py`` clocks the authors' code.

    .venv/bin/python benchmarks/speed_ours.py --dataset ml-1m --threads 2 --batches 30 --repeats 3 --json

Same model (defaults: L 20, D 64, 2 blocks, T 4), batch 128, thread count, same data protocol (our loader: 5-core,
ufo split). A training round = N consecutive batches of the real training loop body (index the pre-built sample
tensors with a shuffled permutation, forward, full-softmax cross-entropy, backward, Adam step, loss read back).
Warm-up (2 batches, plus the torch.compile of the LIF kernels) is outside the clock, as the reference's warm-up is.
Evaluation: full ranking of test samples at our evaluation batch size (1024) or ``--eval-batch-size``.
Peak RSS from getrusage. ``foreign_cpu_pct``: CPU used by other processes during a round (see reference_ssr.py).
``cpu_ms_per_batch``: this process's CPU time per batch (all its threads), as reference_ssr.py reports it: less
sensitive than wall time to being descheduled on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.cpu_clock import busy_jiffies, foreign_cpu_pct  # noqa: E402
from ssr_neuro.data import load_dataset  # noqa: E402
from ssr_neuro.model import SSR, SSRConfig  # noqa: E402
from ssr_neuro.runtime import keep_freed_memory  # noqa: E402
from ssr_neuro.training.metrics import target_ranks  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="ml-1m")
    p.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "datasets")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--eval-batch-size", type=int, default=1024)
    p.add_argument("--eval-samples", type=int, default=20480, help="test samples ranked per evaluation round")
    p.add_argument("--no-compile", action="store_true", help="run the LIF kernels eagerly (ablation)")
    p.add_argument("--no-keep-memory", action="store_true", help="leave glibc malloc at its defaults (ablation)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    if not args.no_keep_memory:
        keep_freed_memory()  # as the ssr-neuro CLI does
    ds = load_dataset(args.dataset, data_dir=args.data_dir)
    torch.manual_seed(2024)
    model = SSR(SSRConfig(n_items=ds.n_items))
    compiled = model.use_compiled_kernels(not args.no_compile)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4, fused=True)
    hist, length, target = (torch.from_numpy(a) for a in (ds.train.history, ds.train.length, ds.train.target))
    order = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(0))
    B = args.batch_size

    def train_step(b: int) -> int:
        idx = order[(b * B) % (len(order) - B):][:B]
        loss = model.loss(hist[idx], length[idx], target[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        float(loss.detach())
        return idx.shape[0]

    thist, tlen, ttarget = (torch.from_numpy(a) for a in (ds.test.history, ds.test.length, ds.test.target))

    @torch.no_grad()
    def eval_step(b: int) -> int:
        sl = slice((b * args.eval_batch_size) % max(1, len(ttarget) - args.eval_batch_size), None)
        h, ln, t = thist[sl][:args.eval_batch_size], tlen[sl][:args.eval_batch_size], ttarget[sl][:args.eval_batch_size]
        ranks = target_ranks(model.scores(h, ln), t)
        (ranks <= 10).double().mean().item()
        return t.shape[0]

    def measure(step, n_steps):
        step(0), step(1)  # warm-up (and compilation) outside the clock
        runs = []
        for r in range(args.repeats):
            busy0 = busy_jiffies()
            cpu0, t0, samples = time.process_time(), time.perf_counter(), 0
            for b in range(n_steps):
                samples += step(2 + r * n_steps + b)
            sec, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            runs.append({"samples_per_s": round(samples / sec, 1), "ms_per_batch": round(1000 * sec / n_steps, 1),
                         "cpu_ms_per_batch": round(1000 * cpu / n_steps, 1),
                         "foreign_cpu_pct": foreign_cpu_pct(busy0, busy_jiffies(), sec)})
        rates = sorted(x["samples_per_s"] for x in runs)
        return rates[len(rates) // 2], runs

    model.train()
    train_rate, train_runs = measure(train_step, args.batches)
    model.eval()
    eval_rate, eval_runs = measure(eval_step, max(1, args.eval_samples // args.eval_batch_size))
    result = {"dataset": args.dataset, "threads": args.threads, "batch_size": B, "items": ds.n_items,
              "compiled_lif": compiled, "keep_memory": not args.no_keep_memory, "train_samples": len(ds.train),
              "train_samples_per_s": train_rate,
              "train_runs": train_runs, "eval_batch_size": args.eval_batch_size, "eval_samples_per_s": eval_rate,
              "eval_runs": eval_runs, "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "loadavg_1m": round(os.getloadavg()[0], 2)}
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
