"""Side by side, in one run: training and evaluation throughput of the authors' SSR (reconstructed,
``reference_ssr.py``) and of ours (``speed_ours.py``), same model, batch 128, same thread count; prints the ratios.

    bash benchmarks/setup_reference.sh      # once: the reference's own venv (spikingjelly 0.0.0.0.14)
    .venv/bin/python benchmarks/compare_speed.py --dataset ml-100k --dataset ml-1m --threads 2

Each side runs in its own process, one after the other (reference, ours, reference, ours with --rounds 2), so that
both see the same machine; ``foreign_cpu_pct`` in each round flags contention from other processes. Prints one JSON
row per dataset, the table, then the ratios ours / reference against the goal (``--goal``, 4x training). Beside
the wall-clock ratio (the one that counts) it prints the ratio of CPU time per training batch of the two main
processes (medians over rounds): on a loaded machine wall time also counts the time a process waited for a core,
CPU time much less so (the reference's DataLoader workers are not in it: they only collate batches).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _run(cmd: list[str]) -> dict:
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"benchmark failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", action="append", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2, help="alternations reference/ours per dataset")
    p.add_argument("--workers", type=int, default=4, help="the reference's DataLoader workers (authors: 4)")
    p.add_argument("--goal", type=float, default=4.0, help="training speed ratio ours / reference to reach")
    args = p.parse_args()
    ref_py = HERE / ".venv-ref" / "bin" / "python"
    if not ref_py.exists():
        sys.exit("the reference environment is missing: run 'bash benchmarks/setup_reference.sh' first")
    rows = []
    for ds in args.dataset or ["ml-100k"]:
        ref_runs, our_runs = [], []
        for _ in range(args.rounds):
            ref_runs.append(_run([str(ref_py), "benchmarks/reference_ssr.py", "--dataset", ds, "--threads",
                                  str(args.threads), "--batches", str(args.batches), "--repeats", "3",
                                  "--workers", str(args.workers), "--json"]))
            our_runs.append(_run([str(REPO / ".venv" / "bin" / "python"), "benchmarks/speed_ours.py", "--dataset", ds,
                                  "--threads", str(args.threads), "--batches", str(args.batches), "--repeats", "3",
                                  "--json"]))
        med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
        row = {
            "dataset": ds, "threads": args.threads,
            "ref_train_sps": med(ref_runs, "train_samples_per_s"), "ours_train_sps": med(our_runs, "train_samples_per_s"),
            "ref_eval_sps": med(ref_runs, "eval_samples_per_s"), "ours_eval_sps": med(our_runs, "eval_samples_per_s"),
            "ref_peak_rss_mib": max(r["peak_rss_mib"] for r in ref_runs),
            "ours_peak_rss_mib": max(r["peak_rss_mib"] for r in our_runs),
            "max_foreign_cpu_pct": max(x.get("foreign_cpu_pct") or 0 for r in ref_runs + our_runs
                                       for x in r["train_runs"] + r["eval_runs"]),
        }
        row["train_speedup"] = round(row["ours_train_sps"] / row["ref_train_sps"], 2)
        cpu = lambda runs: statistics.median(x["cpu_ms_per_batch"] for r in runs for x in r["train_runs"])  # noqa: E731
        row["ref_train_cpu_ms_per_batch"], row["ours_train_cpu_ms_per_batch"] = cpu(ref_runs), cpu(our_runs)
        row["train_cpu_speedup"] = round(row["ref_train_cpu_ms_per_batch"] / row["ours_train_cpu_ms_per_batch"], 2)
        row["eval_speedup"] = round(row["ours_eval_sps"] / row["ref_eval_sps"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| dataset | threads | train samples/s: reference | ours | ratio | eval samples/s: reference | ours | ratio "
          "| peak RSS MiB: reference | ours | max foreign CPU % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['threads']} | {r['ref_train_sps']:,.0f} | {r['ours_train_sps']:,.0f} | "
              f"{r['train_speedup']:.2f}x | {r['ref_eval_sps']:,.0f} | {r['ours_eval_sps']:,.0f} | "
              f"{r['eval_speedup']:.2f}x | {r['ref_peak_rss_mib']:,.0f} | {r['ours_peak_rss_mib']:,.0f} | "
              f"{r['max_foreign_cpu_pct']:.0f} |")
    print()
    for r in rows:
        verdict = "met" if r["train_speedup"] >= args.goal else "not met"
        print(f"{r['dataset']}: training ours / reference = {r['train_speedup']:.2f}x (goal {args.goal:g}x: {verdict}), "
              f"by CPU time per batch {r['train_cpu_speedup']:.2f}x ({r['ref_train_cpu_ms_per_batch']:.0f} vs "
              f"{r['ours_train_cpu_ms_per_batch']:.0f} ms); evaluation {r['eval_speedup']:.2f}x")


if __name__ == "__main__":
    main()
