"""``ssr-neuro train``, ``evaluate``, ``recommend``, ``datasets``, ``doctor``: the commands about models and data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ssr_neuro.app.cli.common import Baseline, EvalSplit, Split, app, emit, load_data, metrics_table, set_threads
from ssr_neuro.errors import UserError


@app.command()
def train(
    dataset: str = typer.Option("synthetic", help="synthetic | ml-100k | ml-1m | PATH to a data file"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    download: bool = typer.Option(False, help="download a missing MovieLens archive (checksum verified)"),
    out: Path = typer.Option(Path("model.pt"), "--out", "-o", help="checkpoint to write"),
    force: bool = typer.Option(False, help="overwrite --out if it exists"),
    model_name: str = typer.Option("ssr", "--model", help="ssr, or an ANN baseline to train under the same protocol: "
                                                         "gru4rec | sasrec | fmlp-rec | narm | caser | stamp | sr-gnn | lrurec | bsarec"),
    split: Split = typer.Option(Split.ufo, help="ufo: per-user 80/20 time split (SSR's); loo: leave-one-out"),
    items: Optional[int] = typer.Option(None, help="--dataset synthetic: catalog size (default 400)"),
    users: Optional[int] = typer.Option(None, help="--dataset synthetic: number of users (default 800)"),
    max_len: int = typer.Option(20, help="L, history length"),
    k_core: int = typer.Option(5, help="iterative k-core filter on users and items (0 disables)"),
    valid_ratio: float = typer.Option(0.1, help="share of each user's training samples kept for validation (ufo)"),
    dim: int = typer.Option(64, help="D, embedding size"),
    blocks: int = typer.Option(2, help="number of SSR blocks (SSR only)"),
    time_steps: int = typer.Option(4, help="T, spiking time steps (SSR only)"),
    tau: float = typer.Option(2.0, help="LIF time constant (SSR only)"),
    threshold: float = typer.Option(1.0, help="LIF threshold (SSR only)"),
    dropout: Optional[float] = typer.Option(None, help="dropout probability (default: SSR 0.3, a baseline its own)"),
    epochs: int = typer.Option(20, help="maximum epochs (cosine schedule over this many)"),
    batch_size: int = typer.Option(128, help="training batch size"),
    lr: float = typer.Option(1e-3, help="Adam learning rate"),
    weight_decay: float = typer.Option(1e-4, help="Adam weight decay"),
    patience: int = typer.Option(5, help="stop after this many epochs without a better validation MRR@10 (0: never)"),
    seed: int = typer.Option(2024, help="seed for data generation, initialisation, shuffling and dropout"),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads (default: torch's choice)"),
    compile: bool = typer.Option(True, "--compile/--no-compile", help="torch.compile the LIF kernels (faster)"),
    device: str = typer.Option("auto", help="where torch runs: auto (a GPU when torch sees one), cpu, cuda, cuda:N"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object with the results"),
) -> None:
    """Train SSR (or an ANN baseline with --model), select the epoch on validation MRR@10, report test
    HR/NDCG/MRR next to POP."""
    import torch

    from ssr_neuro.baselines import build_model, model_config
    from ssr_neuro.progress import log
    from ssr_neuro.training import (TrainConfig, evaluate_model, evaluate_pop, save_checkpoint, train as run_train,
                                    training_record)
    from ssr_neuro.files import check_writable

    check_writable(out, force)
    tcfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, patience=patience,
                       seed=seed, compile=compile, device=device)
    options = {"dropout": dropout} if dropout is not None else {}
    if model_name == "ssr":
        options.update(n_blocks=blocks, time_steps=time_steps, tau=tau, threshold=threshold)
    model_config(model_name, 1, max_len, dim, **options)  # check the options before the data preparation
    set_threads(threads)
    data_options = {"max_len": max_len, "split": split.value, "k_core": k_core, "valid_ratio": valid_ratio,
                    "seed": seed}
    if items is not None or users is not None:
        if dataset != "synthetic":
            raise UserError(f"--items and --users set the synthetic generator; drop them for --dataset {dataset}")
        from ssr_neuro.data.synthetic import SyntheticConfig

        base = SyntheticConfig()
        data_options["synthetic"] = SyntheticConfig(n_items=base.n_items if items is None else items,
                                                    n_users=base.n_users if users is None else users)
    ds = load_data(dataset, data_dir, data_options, download)
    torch.manual_seed(seed)
    model = build_model(model_config(model_name, ds.n_items, max_len, dim, **options))
    label = "SSR" if model_name == "ssr" else model_name
    log(f"{label}: {sum(p.numel() for p in model.parameters()):,} parameters, {torch.get_num_threads()} threads")
    result = run_train(model, ds, tcfg)
    if result.best_epoch == 0:
        log("no epoch finished: nothing saved")
        raise typer.Exit(130 if result.interrupted else 1)
    metrics = {"valid": result.best_valid}
    if not result.interrupted:
        metrics["test"] = evaluate_model(model, ds.test, label="test", show_progress=True)
        metrics["test_pop"] = evaluate_pop(ds.item_counts, ds.test)
    save_checkpoint(out, model, ds.describe(), training_record(tcfg, result), metrics, overwrite=force)
    log(f"saved {out} (epoch {result.best_epoch} of {len(result.history)}: {result.selection})")
    if result.interrupted:
        raise typer.Exit(130)
    obj = {"checkpoint": str(out), "model": model_name, "dataset": ds.name, "best_epoch": result.best_epoch,
           "selection": result.selection,
           "train_samples_per_s": round(result.train_samples_per_s, 1), "valid": metrics["valid"],
           "test": metrics["test"], "test_pop": metrics["test_pop"]}
    emit(obj, as_json, metrics_table({f"{label} valid": metrics["valid"], f"{label} test": metrics["test"],
                                        "POP test": metrics["test_pop"]}))


@app.command()
def evaluate(
    model: Optional[Path] = typer.Argument(None, help="checkpoint written by 'ssr-neuro train' (SSR or a baseline)"),
    baseline: Optional[Baseline] = typer.Option(None, help="evaluate a baseline instead of a model"),
    dataset: Optional[str] = typer.Option(None, help="dataset for --baseline (synthetic | ml-100k | ml-1m | PATH)"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    split: Split = typer.Option(Split.ufo, help="split protocol for --baseline"),
    on: EvalSplit = typer.Option(EvalSplit.test, "--on", help="which samples to rank: test or valid"),
    mask_history: bool = typer.Option(False, help="remove items already in the history from the ranking"),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads"),
    device: str = typer.Option("auto", help="where torch runs: auto (a GPU when torch sees one), cpu, cuda, cuda:N"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Full-ranking HR/NDCG/MRR@{5,10,20} of a checkpoint (on the data it was trained on) or of POP."""
    from ssr_neuro.app.pipeline import dataset_of
    from ssr_neuro.training import evaluate_model, evaluate_pop, load_model_checkpoint, resolve_device

    set_threads(threads)
    if (model is None) == (baseline is None):
        raise UserError("give either a checkpoint (ssr-neuro evaluate model.pt) or --baseline pop --dataset NAME")
    if baseline is not None:
        if dataset is None:
            raise UserError("--baseline pop needs --dataset NAME (synthetic, ml-100k, ml-1m or a file path)")
        ds = load_data(dataset, data_dir, {"split": split.value})
        label = "POP"
        m = evaluate_pop(ds.item_counts, getattr(ds, on.value), mask_history=mask_history)
    else:
        net, meta = load_model_checkpoint(model, device=resolve_device(device))
        ds = dataset_of(meta, data_dir, what=str(model))
        label = "SSR" if meta.get("model", "ssr") == "ssr" else meta["model"]
        m = evaluate_model(net, getattr(ds, on.value), mask_history=mask_history, label=on.value,
                           show_progress=True)
    obj = {"model": label, "dataset": ds.name, "split": on.value, "mask_history": mask_history, **m}
    emit(obj, as_json, metrics_table({f"{label} {on.value}": m}))


@app.command()
def recommend(
    model: Path = typer.Argument(..., help="checkpoint written by 'ssr-neuro train'"),
    history: str = typer.Option(..., help="original item ids, oldest first, comma-separated"),
    k: int = typer.Option(10, "-k", help="number of recommendations"),
    include_history: bool = typer.Option(False, help="allow items already in the history"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Top-k next items for a history given in the dataset's original item ids."""
    from ssr_neuro.model.recommend import recommend as top_k
    from ssr_neuro.training import load_model_checkpoint

    net, meta = load_model_checkpoint(model)
    ids = [s.strip() for s in history.split(",") if s.strip()]
    recs = top_k(net, meta["dataset"]["item_ids"], ids, k, include_history, meta["dataset"]["name"])
    table = "rank  item        score\n" + "\n".join(f"{r['rank']:>4}  {r['item']:<10} {r['score']:>7.3f}" for r in recs)
    emit({"history": ids[-net.cfg.max_len:], "recommendations": recs}, as_json, table)


@app.command()
def datasets(
    data_dir: Optional[Path] = typer.Option(None, help="also look in this folder"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """List the datasets ssr-neuro knows and whether their files are available here."""
    from ssr_neuro.data import list_datasets

    rows = list_datasets(data_dir)
    lines = [f"{'name':<14}{'available':<11}{'description':<54}where / how"]
    for r in rows:
        lines.append(f"{r['name']:<14}{('yes' if r['available'] else 'no'):<11}{r['description']:<54}{r['where']}")
    emit({"datasets": rows}, as_json, "\n".join(lines))


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
    """Say what works here: Python, torch and its compiled LIF kernels, the Lava backend, the shared datasets."""
    import platform

    import torch

    from hardware.lava_backend import lava_status
    from ssr_neuro.data import list_datasets
    from ssr_neuro.model.lif import LIFKernels

    lava_ok, lava_msg = lava_status()
    compiled = LIFKernels(compiled=True).compiled
    found = [r["name"] for r in list_datasets(None) if r["available"]]
    checks = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "compiled_lif_kernels": compiled,
        "lava_backend": lava_ok,
        "lava_message": lava_msg,
        "datasets_available": found,
    }
    lines = [f"python {checks['python']}, torch {checks['torch']}, {checks['threads']} threads",
             "LIF kernels: " + ("compiled with torch.compile" if compiled else
                                "eager (no C++ compiler for torch.compile: training about 1.5x slower)"),
             lava_msg,
             "datasets available: " + (", ".join(found) if found else "only the built-in synthetic set")]
    emit(checks, as_json, "\n".join(lines))
