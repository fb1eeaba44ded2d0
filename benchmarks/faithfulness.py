"""Faithfulness under the reference's own protocol: our SSR next to the reconstruction of the authors' code
(``reference_ssr.py``), both trained on ML-100K with no validation set, the test set evaluated after every epoch.

    bash benchmarks/setup_reference.sh     # once: the reference's own venv
    .venv/bin/python benchmarks/faithfulness.py --epochs 20 --seeds 2024 2025 2026 --out runs/faithfulness.json

The authors' protocol (their fit()): train on the first 80% of each user's samples ("ufo" split, no validation
share), evaluate the test set after every epoch, 20 epochs, Adam 1e-3, weight decay 1e-4, cosine schedule per
epoch, batch 128. Ours runs the same with ``valid_ratio=0`` and ``patience=0`` (all epochs run); the test set is
evaluated after each epoch by this script itself (``train(..., after_epoch=...)``, on the live weights), so the
result does not depend on what training does with an empty validation set. The reconstruction runs in its own
venv (``reference_ssr.py --epochs N --eval-every-epoch --no-speed``). Metrics: full ranking, per-sample means.

Prints per epoch HR@10 and NDCG@10 of both sides (mean +- sample standard deviation over the seeds) and whether
the difference of the means is within seed noise: |mean_ours - mean_ref| <= 2 * sqrt(sd_ours^2/n + sd_ref^2/n)
(two standard errors of the difference; needs at least two seeds). ``--out`` keeps every number as JSON. Each
finished (side, seed) run is kept in ``--keep`` (default runs/faithfulness/) and reused by the next call, so the
study (hours on 2 cores) can be stopped and resumed; ``benchmarks/protocol.py run`` runs it as one of its stages.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
from ssr_neuro.data import load_dataset  # noqa: E402
from ssr_neuro.files import atomic_write  # noqa: E402
from ssr_neuro.model import SSR, SSRConfig  # noqa: E402
from ssr_neuro.training import TrainConfig, evaluate_model, train  # noqa: E402

METRICS = ("HR@10", "NDCG@10")


def run_ours(dataset: str, data_dir: Path, epochs: int, seed: int) -> list[dict]:
    """Per-epoch test metrics of our SSR trained on the training share only (no validation set)."""
    ds = load_dataset(dataset, data_dir=data_dir, valid_ratio=0.0)
    torch.manual_seed(seed)
    model = SSR(SSRConfig(n_items=ds.n_items))
    cfg = TrainConfig(epochs=epochs, seed=seed, patience=0, device="cpu")

    def test_now(epoch: int, live) -> dict:
        return {f"test_{k}": v for k, v in evaluate_model(live, ds.test).items() if k in METRICS}

    result = train(model, ds, cfg, show_progress=False, after_epoch=test_now)
    return [{"epoch": row["epoch"], **{k: row[f"test_{k}"] for k in METRICS}, "train_s": row["train_s"]}
            for row in result.history]


def run_reference(dataset: str, data_dir: Path, epochs: int, seed: int, threads: int) -> list[dict]:
    """Per-epoch test metrics of the reconstruction of the authors' code, in its own venv."""
    ref_py = HERE / ".venv-ref" / "bin" / "python"
    if not ref_py.exists():
        sys.exit("the reference environment is missing: run 'bash benchmarks/setup_reference.sh' first")
    cmd = [str(ref_py), str(HERE / "reference_ssr.py"), "--dataset", dataset, "--data-root", str(data_dir),
           "--epochs", str(epochs), "--eval-every-epoch", "--no-speed", "--seed", str(seed), "--threads",
           str(threads), "--json"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"reference run failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    log = json.loads(proc.stdout.strip().splitlines()[-1])["epoch_log"]
    return [{"epoch": row["epoch"], **{k: row["test"][k] for k in METRICS}, "train_s": row["s"]} for row in log]


def kept_run(path: Path, run: Callable[[], list[dict]]) -> list[dict]:
    """The per-epoch rows of one (side, seed) run: read from ``path`` when an earlier call finished it, else run and
    keep them there, so a long study can be stopped and resumed."""
    if path.exists():
        return json.loads(path.read_text())
    rows = run()
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(rows)))
    return rows


def _mean_sd(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def within_noise(ours: list[float], ref: list[float]) -> bool | None:
    """|mean difference| <= 2 standard errors of the difference; None with fewer than two seeds a side."""
    (m_o, sd_o), (m_r, sd_r) = _mean_sd(ours), _mean_sd(ref)
    if sd_o is None or sd_r is None:
        return None
    return abs(m_o - m_r) <= 2.0 * math.sqrt(sd_o**2 / len(ours) + sd_r**2 / len(ref))


def mean_sd_cell(values: list[float]) -> str:
    """"mean +- sample sd" to 4 decimals (the mean alone for one value)."""
    mean, sd = _mean_sd(values)
    return f"{mean:.4f}" + (f" +- {sd:.4f}" if sd is not None else "")


def table(runs: dict[str, dict[int, list[dict]]], epochs: int) -> str:
    """Markdown table: per epoch, each metric for ours and the reference, and whether within seed noise."""
    head = "| epoch | " + " | ".join(f"{m} ours | {m} reference | within noise" for m in METRICS) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(METRICS))]
    for e in range(epochs):
        cells = []
        for m in METRICS:
            ours = [rows[e][m] for rows in runs["ours"].values()]
            ref = [rows[e][m] for rows in runs["reference"].values()]
            verdict = within_noise(ours, ref)
            cells += [mean_sd_cell(ours), mean_sd_cell(ref),
                      "n/a (one seed)" if verdict is None else ("yes" if verdict else "no")]
        lines.append(f"| {e + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="ml-100k", choices=["ml-100k", "ml-1m"])
    p.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[2024, 2025, 2026])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="write every number as JSON here")
    p.add_argument("--keep", type=Path, default=REPO / "runs" / "faithfulness",
                   help="folder keeping each finished (side, seed) run; a rerun reuses them (resumable)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    runs: dict[str, dict[int, list[dict]]] = {"ours": {}, "reference": {}}
    started = time.perf_counter()
    sides = {"reference": lambda seed: run_reference(args.dataset, args.data_dir, args.epochs, seed, args.threads),
             "ours": lambda seed: run_ours(args.dataset, args.data_dir, args.epochs, seed)}
    for seed in args.seeds:
        for side, run_side in sides.items():
            runs[side][seed] = kept_run(args.keep / f"{args.dataset}-{side}-{seed}-{args.epochs}ep.json",
                                        lambda: run_side(seed))
            print(f"{side:9} seed {seed}: last epoch " + json.dumps(runs[side][seed][-1]), flush=True)
    print(f"\n{args.dataset}, no validation set, test after every epoch, seeds {args.seeds}, {args.threads} threads, "
          f"{time.perf_counter() - started:.0f} s in all\n")
    print(table(runs, args.epochs))
    if args.out is not None:
        payload = {"dataset": args.dataset, "epochs": args.epochs, "seeds": args.seeds, "threads": args.threads,
                   "runs": {side: {str(s): rows for s, rows in by_seed.items()} for side, by_seed in runs.items()}}
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=1)))
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
