"""The SSR paper's protocol in full (issue 16), as one resumable script: every model, a 20-epoch budget, several
seeds, MovieLens-100K and -1M, each (dataset, seed) one ``ssr-neuro compare`` run.

    nohup nice -n 10 .venv/bin/python benchmarks/protocol.py run --threads 2 >>runs/protocol/run.log 2>&1 &
    .venv/bin/python benchmarks/protocol.py table          # markdown tables of whatever has finished

Stages, in this order (``stages()``): ML-100K with seeds 2024, 2025, 2026 for every model; the faithfulness study
(``faithfulness.py``: our SSR and the reconstruction of the authors' code under their protocol, 20 epochs, the same
three seeds; resumable per run, skipped when the reference's venv is missing); ML-1M seed 2024 for every model; ML-1M seeds 2025 and 2026 for SSR and the two strongest baselines (by validation MRR@10 of their seed-2024
run, chosen when that stage has finished). Each stage is ``ssr-neuro compare --dataset D --models M --epochs 20
--patience 5 --seed S --out runs/protocol/<D>/seed-<S> --samples 2000 --json`` (the protocol of BENCHMARKS.md's
quality section: ``ufo`` split, L 20, D 64, Adam 1e-3, weight decay 1e-4, batch 128, cosine schedule over the budget,
the epoch kept by validation MRR@10, test by full ranking). ``compare`` keeps every trained model's checkpoint in the
stage's folder and reuses it on the next call, so the script can be stopped at any time and run again (across
sessions): it retrains nothing that finished, and a stage is done when its ``compare.json`` exists. SSR is listed
first, so its checkpoint lands first.

``table`` reads the finished stages' ``compare.json`` and, for every trained model, the checkpoint's training record
(epochs run, best epoch, seconds of training summed over the epochs, threads): per dataset one row per model with
HR/NDCG/MRR@10 as mean +- sample standard deviation over its seeds, parameters, MACs and ACs per inference, and the
energy per inference by every counting ``compare`` prints (ANN at 45 nm, ANN on a GPU, the SNN papers' rule, SSR on
the chip, the ANN in int8 on the same chip), means over the seeds. ``--partial`` also lists models whose stage has
not finished (from their checkpoints alone: quality, no energy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from ssr_neuro.files import atomic_write  # noqa: E402

OUT = REPO / "runs" / "protocol"
DATA = REPO.parent / "shared" / "datasets"
SEEDS = (2024, 2025, 2026)
ALL = ("ssr", "pop", "gru4rec", "sasrec", "fmlp-rec", "narm", "caser", "stamp", "sr-gnn", "lrurec", "bsarec")
QUALITY = ("HR@10", "NDCG@10", "MRR@10")
ENERGY = ("energy_45nm_uJ", "energy_gpu_uJ", "energy_paper_rule_uJ", "energy_chip_uJ", "energy_chip_int8_ann_uJ")


def log(message: str) -> None:
    print(f"[{time.strftime('%F %T')}] {message}", flush=True)


def stage_dir(dataset: str, seed: int) -> Path:
    return OUT / dataset / f"seed-{seed}"


def checkpoint_payload(path: Path) -> dict:
    """A checkpoint's record without its weights, read safely (``weights_only``)."""
    from ssr_neuro.training.checkpoint import load_model_checkpoint

    return load_model_checkpoint(path)[1]


def strongest_baselines(dataset: str, seed: int, n: int = 2) -> list[str]:
    """The ``n`` baselines with the best validation MRR@10 in the finished stage (dataset, seed)."""
    folder = stage_dir(dataset, seed)
    scored = []
    for name in ALL:
        if name in ("ssr", "pop") or not (folder / f"{name}.pt").exists():
            continue
        valid = checkpoint_payload(folder / f"{name}.pt")["metrics"]["valid"]
        scored.append((valid["MRR@10"], name))
    return [name for _, name in sorted(scored, reverse=True)[:n]]


def stages() -> list[tuple[str, int, tuple[str, ...] | None]]:
    """(dataset, seed, models) in run order; models None = chosen when the stage before has finished; dataset
    "faithfulness" = ``faithfulness.py``'s study (ours vs the reconstruction of the authors' code, ML-100K)."""
    plan: list[tuple[str, int, tuple[str, ...] | None]] = [("ml-100k", s, ALL) for s in SEEDS]
    plan.append(("faithfulness", 0, None))
    plan.append(("ml-1m", SEEDS[0], ALL))
    plan += [("ml-1m", s, None) for s in SEEDS[1:]]
    return plan


def faithfulness(threads: int, epochs: int) -> None:
    """faithfulness.py with every seed, resumable (it keeps each finished run); done when its JSON exists."""
    out = REPO / "runs" / "faithfulness.json"
    if out.exists():
        return
    if not (REPO / "benchmarks" / ".venv-ref" / "bin" / "python").exists():
        print("faithfulness: skipped, the reference's venv is missing (bash benchmarks/setup_reference.sh)", flush=True)
        return
    log(f"faithfulness, seeds {' '.join(map(str, SEEDS))}")
    cmd = [sys.executable, str(REPO / "benchmarks" / "faithfulness.py"), "--epochs", str(epochs), "--seeds",
           *map(str, SEEDS), "--threads", str(threads), "--out", str(out)]
    done = subprocess.run(cmd, cwd=REPO)
    if done.returncode != 0:
        log(f"faithfulness stopped (exit {done.returncode}); run again to resume")
        sys.exit(done.returncode)


def run(threads: int, samples: int, epochs: int, only: str | None, device: str = "auto") -> None:
    for dataset, seed, models in stages():
        if only and dataset != only:
            continue
        if dataset == "faithfulness":
            faithfulness(threads, epochs)
            continue
        folder = stage_dir(dataset, seed)
        if (folder / "compare.json").exists():
            continue
        if models is None:
            models = ("ssr", *strongest_baselines(dataset, SEEDS[0]))
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "ssr_neuro", "compare", "--dataset", dataset, "--data-dir", str(DATA),
               "--models", ",".join(models), "--epochs", str(epochs), "--patience", "5", "--seed", str(seed),
               "--out", str(folder), "--samples", str(samples), "--threads", str(threads), "--device", device,
               "--json"]
        log(f"{dataset} seed {seed}: {' '.join(models)}")
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            log(f"stopped (exit {done.returncode}); run again to resume")
            sys.exit(done.returncode)
        atomic_write(folder / "compare.json", lambda tmp: tmp.write_text(done.stdout))
        log(f"{dataset} seed {seed} done in {time.perf_counter() - start:.0f} s")


def _training(path: Path) -> dict:
    from ssr_neuro.training.checkpoint import load_model_checkpoint

    model, rec = load_model_checkpoint(path)
    t = rec["training"]
    return {"test": rec["metrics"].get("test"), "epochs_run": t["epochs_run"], "best_epoch": t["best_epoch"],
            "train_s": sum(row["train_s"] for row in t["history"]), "threads": t.get("threads"),
            "params": sum(p.numel() for p in model.parameters())}


def collect(dataset: str, partial: bool) -> dict[str, list[dict]]:
    """model -> one record per seed: test metrics, counts and energies (finished stages), training record."""
    runs: dict[str, list[dict]] = {}
    for seed in SEEDS:
        folder = stage_dir(dataset, seed)
        result = json.loads((folder / "compare.json").read_text()) if (folder / "compare.json").exists() else None
        if result is None and not partial:
            continue
        rows = {r["model"]: r for r in result["rows"]} if result else {}
        for name in ALL:
            ckpt = folder / f"{name}.pt"
            record = dict(rows.get(name, {}), seed=seed, finished=result is not None)
            if ckpt.exists():
                train = _training(ckpt)
                record.update({k: v for k, v in train.items() if k != "test"})
                if name not in rows and train["test"]:
                    record.update({k: train["test"][k] for k in QUALITY})
            if any(k in record for k in QUALITY):
                runs.setdefault(name, []).append(record)
    return runs


def _mean(records: list[dict], key: str, fmt: str) -> str:
    values = [r[key] for r in records if r.get(key) is not None]
    return format(statistics.mean(values), fmt) if values else "-"


def table(dataset: str, partial: bool) -> str:
    from benchmarks.faithfulness import mean_sd_cell

    runs = collect(dataset, partial)
    head = ("| model | seeds | HR@10 | NDCG@10 | MRR@10 | params | MACs | ACs | ANN 45 nm | ANN GPU | paper rule "
            "| SSR chip | int8 ANN chip | epochs run (best) | training min |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in ALL:
        records = runs.get(name)
        if not records:
            continue
        quality = [mean_sd_cell([r[k] for r in records]) for k in QUALITY]
        epochs = ", ".join(f"{r['epochs_run']} ({r['best_epoch']})" for r in records if "epochs_run" in r) or "-"
        minutes = ", ".join(f"{r['train_s'] / 60:.0f}" for r in records if "train_s" in r) or "-"
        seeds = ", ".join(str(r["seed"]) + ("" if r["finished"] else "*") for r in records)
        lines.append(f"| {name} | {seeds} | " + " | ".join(quality) + " | "
                     + " | ".join(_mean(records, k, ",.0f") for k in ("params", "MACs", "ACs")) + " | "
                     + " | ".join(_mean(records, k, ".2f") for k in ENERGY) + f" | {epochs} | {minutes} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run (or resume) the stages in order")
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--samples", type=int, default=2000, help="test inferences SSR is simulated on")
    r.add_argument("--epochs", type=int, default=20)
    r.add_argument("--dataset", choices=("ml-100k", "faithfulness", "ml-1m"), help="only this dataset's stages")
    r.add_argument("--device", default="auto", help="where the models train: auto (a GPU when torch sees one), cpu, "
                                                     "cuda (a stage's checkpoints are reused whichever trained them)")
    t = sub.add_parser("table", help="print the tables of the finished stages")
    t.add_argument("--partial", action="store_true", help="also models of unfinished stages (marked *)")
    args = parser.parse_args()
    if args.command == "run":
        run(args.threads, args.samples, args.epochs, args.dataset, args.device)
    else:
        for dataset in ("ml-100k", "ml-1m"):
            print(f"\n{dataset}\n\n{table(dataset, args.partial)}")


if __name__ == "__main__":
    main()
