"""The ``ssr-neuro`` command line (typer).

    ssr-neuro train      [--dataset synthetic|ml-100k|ml-1m|PATH] [--data-dir DIR] [--epochs N] [--out model.pt]
    ssr-neuro evaluate   model.pt [--json]          |  ssr-neuro evaluate --baseline pop --dataset NAME [--json]
    ssr-neuro recommend  model.pt --history ITEM,ITEM,... [-k 10]
    ssr-neuro convert    model.pt -o model.graph [--bits 8] [--activation-bits 8] [--float] [--json]
    ssr-neuro map        model.pt|model.graph --chip 45nm|loihi|FILE [--strategy anneal|greedy] [-o mapping.json]
                         [--plot FILE.png] [--json]
    ssr-neuro simulate   model.pt|model.graph --chip 45nm|loihi|FILE [--mapping mapping.json] [--samples N]
                         [--json] [--csv FILE] [--plot DIR]
    ssr-neuro compare    --dataset ml-1m [--models pop,gru4rec,sasrec,fmlp-rec,ssr] [--ssr-checkpoint model.pt]
                         [--epochs N] [--out runs/compare] [--csv FILE] [--plot FILE] [--json]
    ssr-neuro dse        space.toml [-o dse.sqlite] [--workers 2] [--objectives ...] [--plot DIR] [--json]
    ssr-neuro datasets
    ssr-neuro doctor

Conventions: results go to stdout (with ``--json``: one JSON object and nothing else); logs, dataset statistics and
progress bars go to stderr. Bad input ends with a one-line ``error: ...`` on stderr and exit code 2, no traceback,
and nothing written. Ctrl-C during training keeps the best checkpoint so far (exit code 130).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ssr_neuro.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train SSR (spiking sequential recommender) and take it to neuromorphic hardware.")


class Split(str, Enum):
    ufo = "ufo"
    loo = "loo"


class EvalSplit(str, Enum):
    test = "test"
    valid = "valid"


class Baseline(str, Enum):
    pop = "pop"


# ----------------------------------------------------------------------------------------------- helpers

def _set_threads(threads: Optional[int]) -> None:
    """Apply --threads, and keep large freed buffers in the process (see ssr_neuro.runtime)."""
    import torch

    from ssr_neuro.runtime import keep_freed_memory

    keep_freed_memory()
    if threads is not None:
        if threads < 1:
            raise UserError(f"--threads must be >= 1 (got {threads})")
        torch.set_num_threads(threads)


def _emit(obj: dict, as_json: bool, table: str) -> None:
    """Write the result: one JSON object, or the human table."""
    if as_json:
        sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    else:
        sys.stdout.write(table.rstrip() + "\n")


def _metrics_table(rows: dict[str, dict], ks=(5, 10, 20)) -> str:
    """rows: label -> metrics dict. One line per label, columns HR/NDCG/MRR at each K."""
    cols = [f"{m}@{k}" for k in ks for m in ("HR", "NDCG", "MRR")]
    width = max(len(label) for label in rows) + 2
    lines = [" " * width + "".join(f"{c:>10}" for c in cols) + f"{'samples':>10}"]
    for label, m in rows.items():
        lines.append(f"{label:<{width}}" + "".join(f"{m[c]:>10.4f}" for c in cols) + f"{m['n_samples']:>10,}")
    return "\n".join(lines)


def _load_data(source: str, data_dir: Optional[Path], options: dict, download: bool = False):
    from ssr_neuro.data import dataset_stats, format_stats, load_dataset
    from ssr_neuro.progress import log

    ds = load_dataset(source, data_dir=data_dir, download=download, quiet=False, **options)
    log(format_stats(dataset_stats(ds)))
    return ds


def _dataset_of_checkpoint(meta: dict, data_dir: Optional[Path]):
    """Rebuild the exact dataset a checkpoint (or graph) was made from, item ids checked, and log its statistics."""
    from ssr_neuro.data import dataset_stats, format_stats, load_described
    from ssr_neuro.progress import log

    ds = load_described(meta["dataset"], data_dir, quiet=False)
    log(format_stats(dataset_stats(ds)))
    return ds


# ---------------------------------------------------------------------------------------------- commands

@app.command()
def train(
    dataset: str = typer.Option("synthetic", help="synthetic | ml-100k | ml-1m | PATH to a data file"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    download: bool = typer.Option(False, help="download a missing MovieLens archive (checksum verified)"),
    out: Path = typer.Option(Path("model.pt"), "--out", "-o", help="checkpoint to write"),
    force: bool = typer.Option(False, help="overwrite --out if it exists"),
    model_name: str = typer.Option("ssr", "--model", help="ssr, or an ANN baseline to train under the same protocol: "
                                                         "gru4rec | sasrec | fmlp-rec | narm | caser"),
    split: Split = typer.Option(Split.ufo, help="ufo: per-user 80/20 time split (SSR's); loo: leave-one-out"),
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
    as_json: bool = typer.Option(False, "--json", help="print one JSON object with the results"),
) -> None:
    """Train SSR (or an ANN baseline with --model), select the epoch on validation MRR@10, report test
    HR/NDCG/MRR next to POP."""
    import torch

    from ssr_neuro.baselines import build_model, model_config
    from ssr_neuro.progress import log
    from ssr_neuro.training import (TrainConfig, evaluate_model, evaluate_pop, save_checkpoint, train as run_train,
                                    training_record)
    from ssr_neuro.training.checkpoint import check_writable

    check_writable(out, force)
    tcfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, patience=patience,
                       seed=seed, compile=compile)
    options = {"dropout": dropout} if dropout is not None else {}
    if model_name == "ssr":
        options.update(n_blocks=blocks, time_steps=time_steps, tau=tau, threshold=threshold)
    model_config(model_name, 1, max_len, dim, **options)  # check the options before the data preparation
    _set_threads(threads)
    ds = _load_data(dataset, data_dir, {"max_len": max_len, "split": split.value, "k_core": k_core,
                                        "valid_ratio": valid_ratio, "seed": seed}, download)
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
    log(f"saved {out} (best epoch {result.best_epoch} of {len(result.history)})")
    if result.interrupted:
        raise typer.Exit(130)
    obj = {"checkpoint": str(out), "model": model_name, "dataset": ds.name, "best_epoch": result.best_epoch,
           "train_samples_per_s": round(result.train_samples_per_s, 1), "valid": metrics["valid"],
           "test": metrics["test"], "test_pop": metrics["test_pop"]}
    _emit(obj, as_json, _metrics_table({f"{label} valid": metrics["valid"], f"{label} test": metrics["test"],
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
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Full-ranking HR/NDCG/MRR@{5,10,20} of a checkpoint (on the data it was trained on) or of POP."""
    from ssr_neuro.training import evaluate_model, evaluate_pop, load_model_checkpoint

    _set_threads(threads)
    if (model is None) == (baseline is None):
        raise UserError("give either a checkpoint (ssr-neuro evaluate model.pt) or --baseline pop --dataset NAME")
    if baseline is not None:
        if dataset is None:
            raise UserError("--baseline pop needs --dataset NAME (synthetic, ml-100k, ml-1m or a file path)")
        ds = _load_data(dataset, data_dir, {"split": split.value})
        label = "POP"
        m = evaluate_pop(ds.item_counts, getattr(ds, on.value), mask_history=mask_history)
    else:
        net, meta = load_model_checkpoint(model)
        ds = _dataset_of_checkpoint(meta, data_dir)
        label = "SSR" if meta.get("model", "ssr") == "ssr" else meta["model"]
        m = evaluate_model(net, getattr(ds, on.value), mask_history=mask_history, label=on.value,
                           show_progress=True)
    obj = {"model": label, "dataset": ds.name, "split": on.value, "mask_history": mask_history, **m}
    _emit(obj, as_json, _metrics_table({f"{label} {on.value}": m}))


@app.command()
def recommend(
    model: Path = typer.Argument(..., help="checkpoint written by 'ssr-neuro train'"),
    history: str = typer.Option(..., help="original item ids, oldest first, comma-separated"),
    k: int = typer.Option(10, "-k", help="number of recommendations"),
    include_history: bool = typer.Option(False, help="allow items already in the history"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Top-k next items for a history given in the dataset's original item ids."""
    import torch

    from ssr_neuro.training import load_model_checkpoint

    net, meta = load_model_checkpoint(model)
    ids = [s.strip() for s in history.split(",") if s.strip()]
    if not ids:
        raise UserError("--history is empty; give original item ids such as --history 1193,661,914")
    if k < 1:
        raise UserError(f"-k must be >= 1 (got {k})")
    index = {orig: i + 1 for i, orig in enumerate(meta["dataset"]["item_ids"])}
    unknown = [s for s in ids if s not in index]
    if unknown:
        raise UserError(f"items unknown to the model: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}; "
                        f"use item ids of the dataset '{meta['dataset']['name']}' it was trained on")
    L = net.cfg.max_len
    items = [index[s] for s in ids][-L:]
    hist = torch.zeros(1, L, dtype=torch.long)
    hist[0, :len(items)] = torch.tensor(items)
    with torch.no_grad():
        scores = net.scores(hist, torch.tensor([len(items)]))[0]
    scores[0] = -torch.inf
    if not include_history:
        scores[torch.tensor(items)] = -torch.inf
    k = min(k, int(torch.isfinite(scores).sum()))
    top = torch.topk(scores, k)
    item_ids = meta["dataset"]["item_ids"]
    recs = [{"rank": r + 1, "item": item_ids[int(i) - 1], "score": round(float(s), 4)}
            for r, (s, i) in enumerate(zip(top.values, top.indices))]
    table = "rank  item        score\n" + "\n".join(f"{r['rank']:>4}  {r['item']:<10} {r['score']:>7.3f}" for r in recs)
    _emit({"history": ids[-L:], "recommendations": recs}, as_json, table)


def _calibration_and_activity(meta: dict, data_dir: Optional[Path], n: int, seed: int):
    """Histories to calibrate on and to record activity with: ``n`` training samples of the model's own dataset."""
    ds = _dataset_of_checkpoint(meta, data_dir)
    chosen = ds.train.choose(n, seed)
    return ds, (chosen.history, chosen.length)


def _convert(model_path: Path, data_dir: Optional[Path], weight_bits: int, activation_bits: int, float_only: bool,
             calibration_samples: int, seed: int = 0, dataset: Optional[str] = None):
    """checkpoint -> (torch model, float graph, graph to use (fixed unless float_only), dataset, calibration)."""
    from ssr_neuro.conversion import to_graph
    from ssr_neuro.conversion.quantize import quantize
    from ssr_neuro.progress import log
    from ssr_neuro.training import load_checkpoint

    if calibration_samples < 1:
        raise UserError(f"--calibration-samples must be >= 1 (got {calibration_samples})")
    net, meta = load_checkpoint(model_path)
    ds, calib = _calibration_and_activity(_with_dataset(meta, dataset), data_dir, calibration_samples, seed)
    float_graph = to_graph(net, meta["dataset"])
    log(f"converted {model_path}: {_graph_line(float_graph)}")
    if float_only:
        return net, float_graph, float_graph, ds, calib
    graph = quantize(float_graph, calib, weight_bits=weight_bits, activation_bits=activation_bits)
    log(f"quantised to {weight_bits}-bit weights, {activation_bits}-bit activations "
        f"(calibrated on {len(calib[0]):,} training samples)")
    return net, float_graph, graph, ds, calib


def _graph_line(graph) -> str:
    st = graph.stats()
    return (f"{st['populations']} populations, {st['synapse_layers']} synapse layers, "
            f"{sum(st['neurons'].values()):,} neurons, {st['synapses']:,} synapses")


@dataclass
class _Source:
    """What ``map`` and ``simulate`` start from: the graph to run (fixed point unless a float graph file was given),
    its dataset (None for a graph that records none), the torch model (checkpoints only) and activity samples."""

    graph: object
    dataset: object
    model: object
    activity: Optional[tuple]


def _load_source(path: Path, data_dir: Optional[Path], samples: int, seed: int,
                 dataset: Optional[str] = None) -> _Source:
    """A graph file as it is, or a checkpoint converted with the defaults; ``dataset`` overrides where the data is."""
    from ssr_neuro.graph.io import is_graph_file, load_graph

    if not path.exists():
        raise UserError(f"{path}: no such file; give a model.pt from 'ssr-neuro train' or a graph from 'ssr-neuro convert'")
    if path.is_file() and is_graph_file(path):
        graph = load_graph(path)
        meta = graph.meta
        if not meta.get("dataset", {}).get("item_ids"):
            if dataset is not None:
                raise UserError(f"{path} records no dataset, so its items cannot be matched to '{dataset}'; "
                                "convert the checkpoint again with 'ssr-neuro convert'")
            return _Source(graph, None, None, None)
        ds, hist = _calibration_and_activity(_with_dataset(meta, dataset), data_dir, samples, seed)
        return _Source(graph, ds, None, hist)
    net, _, graph, ds, calib = _convert(path, data_dir, 8, 8, False, max(samples, 1024), seed, dataset)
    return _Source(graph, ds, net, (calib[0][:samples], calib[1][:samples]))


def _with_dataset(meta: dict, dataset: Optional[str]) -> dict:
    """The checkpoint's (or graph's) metadata with the dataset's source replaced by ``--dataset``."""
    if dataset is None:
        return meta
    desc = dict(meta["dataset"])
    desc["options"] = {**desc["options"], "source": dataset}
    return {**meta, "dataset": desc}


def _map(src: _Source, chip, strategy: str, seed: int):
    """Map the source's graph on ``chip`` with activity recorded on its training samples (when it has data)."""
    from mapping import map_graph
    from ssr_neuro.graph.execute import run as run_graph
    from ssr_neuro.progress import log

    activity = None
    if src.activity is not None:
        _, activity = run_graph(src.graph, src.activity[0], src.activity[1], record=True)
    else:
        log("no dataset recorded with this graph: assuming every neuron sends one message per step")
    return map_graph(src.graph, chip, strategy=strategy, activity=activity, seed=seed)


@app.command()
def convert(
    model: Path = typer.Argument(..., help="checkpoint written by 'ssr-neuro train'"),
    out: Path = typer.Option(Path("model.graph"), "--out", "-o", help="graph file to write"),
    force: bool = typer.Option(False, help="overwrite --out if it exists"),
    bits: int = typer.Option(8, "--bits", help="weight bits (signed integers, per-layer power-of-two exponent)"),
    activation_bits: int = typer.Option(8, help="bits of graded (non-spiking) activations"),
    float_only: bool = typer.Option(False, "--float", help="keep float weights (no quantisation)"),
    calibration_samples: int = typer.Option(4096, help="training samples used to calibrate activation ranges"),
    check: bool = typer.Option(True, "--check/--no-check", help="evaluate float and fixed graphs on valid and test"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Convert a checkpoint into a graph of LIF populations and synapse layers in fixed point; compare with float."""
    from ssr_neuro.conversion import evaluate_graph
    from ssr_neuro.graph.io import save_graph
    from ssr_neuro.training import evaluate_model
    from ssr_neuro.training.checkpoint import check_writable

    check_writable(out, force)
    _set_threads(threads)
    net, float_graph, graph, ds, _ = _convert(model, data_dir, bits, activation_bits, float_only, calibration_samples)
    quality: dict[str, dict] = {}
    if check:
        for split in ("valid", "test"):
            samples = getattr(ds, split)
            quality[f"torch {split}"] = evaluate_model(net, samples)
            quality[f"float graph {split}"] = evaluate_graph(float_graph, samples)
            if graph is not float_graph:
                quality[f"fixed graph {split}"] = evaluate_graph(graph, samples)
    save_graph(graph, out, overwrite=force)
    obj = {"graph": str(out), "quantized": graph.quantized, "stats": graph.stats(),
           "conversion": graph.meta.get("conversion", {}), "quantization": graph.meta.get("quantization", {}),
           "quality": quality}
    table = f"wrote {out}: {_graph_line(graph)}"
    if quality:
        table += "\n" + _metrics_table(quality, ks=(10,))
    _emit(obj, as_json, table)


@app.command("map")
def map_(
    source: Path = typer.Argument(..., help="model.pt (converted with the defaults) or a graph from 'ssr-neuro convert'"),
    chip: str = typer.Option("45nm", help="chip preset (45nm, loihi) or a chip .toml file"),
    strategy: str = typer.Option("anneal", help="mapping strategy: anneal (optimising) or greedy (layer order)"),
    out: Path = typer.Option(Path("mapping.json"), "--out", "-o", help="mapping file to write"),
    force: bool = typer.Option(False, help="overwrite --out / --plot if they exist"),
    plot: Optional[Path] = typer.Option(None, help="also draw the mesh (utilisation and traffic) to this PNG"),
    seed: int = typer.Option(0, help="seed of the optimising strategy and of the activity samples"),
    samples: int = typer.Option(256, help="training samples run to record spike activity (traffic)"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Split the graph into core-sized pieces and place them on the chip's mesh; report cores, utilisation, traffic."""
    from hardware.chip import load_chip
    from mapping import STRATEGIES, format_summary, plot_mapping
    from ssr_neuro.training.checkpoint import check_writable

    if strategy not in STRATEGIES:
        raise UserError(f"unknown --strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if samples < 1:
        raise UserError(f"--samples must be >= 1 (got {samples})")
    check_writable(out, force)
    if plot is not None:
        check_writable(plot, force)
    chip_desc = load_chip(chip)
    src = _load_source(source, data_dir, samples, seed)
    mapping = _map(src, chip_desc, strategy, seed)
    mapping.save(out, overwrite=force)
    if plot is not None:
        plot_mapping(mapping, chip_desc, plot)
    summary = mapping.summary()
    _emit({"mapping": str(out), "chip": chip_desc.name, **summary}, as_json, format_summary(summary))


class Backend(str, Enum):
    fast = "fast"
    lava = "lava"


@app.command()
def simulate(
    source: Path = typer.Argument(..., help="model.pt (converted with the defaults) or a graph from 'ssr-neuro convert'"),
    chip: str = typer.Option("45nm", help="chip preset (45nm, loihi) or a chip .toml file"),
    mapping: Optional[Path] = typer.Option(None, help="mapping.json from 'ssr-neuro map' (default: map it now)"),
    strategy: str = typer.Option("anneal", help="mapping strategy when no --mapping is given"),
    dataset: Optional[str] = typer.Option(None, help="where the model's dataset is: its name or a file (default: the "
                                                     "one recorded in the model); its items must be the model's"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    on: EvalSplit = typer.Option(EvalSplit.test, "--on", help="which samples to run: test or valid"),
    samples: int = typer.Option(10_000, help="inferences to simulate (spread over the split; at most all of it)"),
    seed: int = typer.Option(0, help="seed for the choice of samples and of the mapping"),
    batch_size: int = typer.Option(256, help="inferences simulated together"),
    backend: Backend = typer.Option(Backend.fast, help="fast (vectorised engine) or lava (every core a Lava process: "
                                                       "the same results, about 500x slower; see ssr-neuro doctor)"),
    timeout: float = typer.Option(600.0, help="seconds a Lava run may take before it is stopped (--backend lava)"),
    csv: Optional[Path] = typer.Option(None, help="write one record per inference to this CSV file"),
    plot: Optional[Path] = typer.Option(None, help="write PNG plots (energy breakdown, spike raster, core load) here"),
    force: bool = typer.Option(False, help="overwrite --csv / --plot files"),
    threads: Optional[int] = typer.Option(None, help="CPU threads"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Run real sequences through the mapped fixed-point SSR on the simulated chip: energy, latency, quality."""
    from hardware.chip import load_chip
    from hardware.counting import compare
    from hardware.report import PLOT_FILES, format_table, write_csv, write_plots
    from hardware.simulate import simulate as run_simulation
    from mapping import STRATEGIES, load_mapping
    from ssr_neuro.conversion import evaluate_graph, metrics_of_scores
    from ssr_neuro.progress import progress_bar
    from ssr_neuro.training import evaluate_model
    from ssr_neuro.training.checkpoint import check_writable

    if samples < 1:
        raise UserError(f"--samples must be >= 1 (got {samples}): there is nothing to simulate")
    if batch_size < 1:
        raise UserError(f"--batch-size must be >= 1 (got {batch_size})")
    if timeout <= 0:
        raise UserError(f"--timeout must be > 0 seconds (got {timeout})")
    if backend is Backend.lava:
        from hardware.lava_backend import lava_status

        usable, message = lava_status()
        if not usable:
            raise UserError(message)
    if mapping is None and strategy not in STRATEGIES:
        raise UserError(f"unknown --strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if csv is not None:
        check_writable(csv, force)
    if plot is not None:
        if plot.exists() and not plot.is_dir():
            raise UserError(f"--plot {plot} is a file; give a folder for the plots")
        for name in PLOT_FILES:
            check_writable(plot / name, force)
    _set_threads(threads)
    chip_desc = load_chip(chip)
    placed = load_mapping(mapping) if mapping is not None else None
    src = _load_source(source, data_dir, 256, seed, dataset)
    if src.dataset is None:
        raise UserError(f"{source} records no dataset to simulate on; convert the checkpoint with 'ssr-neuro convert'")
    if not src.graph.quantized:
        raise UserError(f"{source} is a float graph; the chip runs fixed point: convert without --float")
    if placed is None:
        placed = _map(src, chip_desc, strategy, seed)
    split = getattr(src.dataset, on.value)
    if len(split) == 0:
        raise UserError(f"the {on.value} split of {src.dataset.name} is empty: there is nothing to simulate")
    chosen = split.choose(samples, seed)
    if backend is Backend.lava:
        from hardware.lava_backend import simulate_lava
        from ssr_neuro.progress import log

        log(f"running {len(chosen):,} inferences in Lava (about 6 s to start, then about 0.4 s per inference)")
        result = simulate_lava(src.graph, placed, chip_desc, chosen.history, chosen.length, timeout_s=timeout)
    else:
        with progress_bar("simulate", total=len(chosen), unit="inferences") as advance:
            done = [0]

            def tick(n_done: int) -> None:
                advance(n_done - done[0])
                done[0] = n_done

            result = run_simulation(src.graph, placed, chip_desc, chosen.history, chosen.length, batch_size, tick)
    result.counting = compare(src.graph, result.rates, result)
    on_chip = metrics_of_scores(result.scores, chosen)
    reference = (evaluate_model(src.model, chosen) if src.model is not None
                 else evaluate_graph(src.graph.float_copy(), chosen))
    label = "float model (torch)" if src.model is not None else "float graph"
    quality = {"chip (fixed point)": on_chip, label: reference}
    if csv is not None:
        write_csv(result, csv, overwrite=force)
    if plot is not None:
        write_plots(result, plot, overwrite=force)
    summary = result.summary()
    obj = {"chip": chip_desc.name, "backend": backend.value, "dataset": src.dataset.name, "split": on.value,
           "n_inferences": int(result.n_inferences),
           "energy_uj_per_inference": summary["energy_uj_per_inference"],
           "latency_us_per_inference": summary["latency_us_per_inference"],
           **{k: on_chip[k] for k in ("HR@10", "NDCG@10", "MRR@10")},
           "quality": quality, **{k: v for k, v in summary.items() if k not in ("chip", "n_inferences")}}
    _emit(obj, as_json, format_table(summary, quality))


@app.command("compare")
def compare_(
    dataset: str = typer.Option(..., help="synthetic | ml-100k | ml-1m | PATH to a data file"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    models: str = typer.Option("pop,gru4rec,sasrec,fmlp-rec,ssr", help="models to compare, comma-separated"),
    ssr_checkpoint: Optional[Path] = typer.Option(None, help="an SSR model.pt trained on this dataset (default: "
                                                             "train SSR here like the baselines)"),
    out: Path = typer.Option(Path("runs/compare"), "--out", "-o", help="folder of the trained models (reused when "
                                                                       "their settings match) and the table"),
    csv: Optional[Path] = typer.Option(None, help="write the table here (default: OUT/compare.csv)"),
    plot: Optional[Path] = typer.Option(None, help="draw quality vs energy here (default: OUT/compare.png where "
                                                   "matplotlib is installed)"),
    force: bool = typer.Option(False, help="overwrite the CSV and plot, and retrain models whose saved checkpoint "
                                           "records other settings"),
    split: Split = typer.Option(Split.ufo, help="ufo: per-user 80/20 time split (SSR's); loo: leave-one-out"),
    max_len: int = typer.Option(20, help="L, history length (every model)"),
    dim: int = typer.Option(64, help="D, embedding size (every model)"),
    epochs: int = typer.Option(20, help="maximum epochs (every model)"),
    patience: int = typer.Option(5, help="stop after this many epochs without a better validation MRR@10"),
    seed: int = typer.Option(2024, help="seed for data, initialisation, shuffling and dropout"),
    chip: str = typer.Option("45nm", help="chip preset (45nm, loihi) or a chip .toml file SSR is simulated on"),
    samples: int = typer.Option(2000, help="test inferences SSR is simulated on (chip energy)"),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads"),
    compile: bool = typer.Option(True, "--compile/--no-compile", help="torch.compile SSR's LIF kernels (faster)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Train SSR and the baselines under one protocol; quality, size, operations and energy per inference."""
    import importlib.util

    from ssr_neuro.compare import (CompareConfig, compare_models, format_comparison, parse_models,
                                   plot_comparison, write_csv)
    from ssr_neuro.training import TrainConfig
    from ssr_neuro.training.checkpoint import check_writable

    cfg = CompareConfig(dataset=dataset, data_dir=data_dir, models=parse_models(models), out=out,
                        ssr_checkpoint=ssr_checkpoint,
                        training=TrainConfig(epochs=epochs, patience=patience, seed=seed, compile=compile),
                        split=split.value, max_len=max_len, dim=dim, chip=chip, samples=samples, force=force)
    have_matplotlib = importlib.util.find_spec("matplotlib") is not None
    if plot is not None and not have_matplotlib:
        raise UserError("--plot needs matplotlib: pip install 'ssr-neuro[plot]'")
    csv_path = csv or out / "compare.csv"
    plot_path = plot if plot is not None else (out / "compare.png" if have_matplotlib else None)
    for path in filter(None, (csv_path, plot_path)):
        check_writable(path, force)
    _set_threads(threads)
    try:
        result = compare_models(cfg)
    except KeyboardInterrupt:
        print("interrupted: models finished so far are saved in " + str(out), file=sys.stderr)
        raise typer.Exit(130)
    write_csv(result, csv_path, overwrite=force)
    if plot_path is not None:
        plot_comparison(result, plot_path, overwrite=force)
    written = f"wrote {csv_path}" + (f" and {plot_path}" if plot_path else " (no plot: matplotlib is not installed)")
    obj = {"dataset": dataset, "out": str(out), "csv": str(csv_path), "plot": plot_path and str(plot_path),
           **result.to_json()}
    _emit(obj, as_json, format_comparison(result) + "\n" + written)


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
    _emit({"datasets": rows}, as_json, "\n".join(lines))


@app.command()
def dse(
    space: Path = typer.Argument(..., help="design space file (TOML; see examples/dse/space.toml)"),
    out: Path = typer.Option(Path("dse.sqlite"), "--out", "-o", help="results table (SQLite); an existing one "
                                                                     "resumes: stored points are not recomputed"),
    workers: int = typer.Option(2, help="parallel worker processes (with --executor ray and no --address: the CPUs "
                                        "of the local Ray instance started for the sweep)"),
    executor: str = typer.Option("local", help="local (a process pool) or ray (needs Ray: pip install ray); "
                                               "results are identical"),
    address: Optional[str] = typer.Option(None, help="with --executor ray: the Ray cluster to run on ('auto', "
                                                     "'ray://HEAD:10001'; its nodes need ssr-neuro installed)"),
    objectives: str = typer.Option("energy_uJ:min,latency_us:min,area_mm2:min,HR@10:max",
                                   help="Pareto objectives, NAME:min|max, comma-separated (also what "
                                        'sampling = "nsga2" searches for)'),
    plot: Optional[Path] = typer.Option(None, help="write pareto.png and sensitivity.png into this folder"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Sweep a hardware design space: every point's energy, latency, area and on-chip HR@10, and the Pareto front."""
    from hardware.dse.evaluate import load_base
    from hardware.dse.pareto import pareto_front, plot_pareto, plot_sensitivity
    from hardware.dse.run import Bases, executor_for, run_sweep
    from hardware.dse.space import load_space
    from hardware.dse.store import load_results

    if workers < 1:
        raise UserError(f"--workers must be >= 1 (got {workers})")
    pool = executor_for(workers, executor, address)
    wanted: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in objectives.split(","))):
        name, _, direction = part.rpartition(":")
        if not name or direction not in ("min", "max"):
            raise UserError(f"--objectives: {part!r} is not NAME:min or NAME:max (e.g. energy_uJ:min,HR@10:max)")
        wanted[name] = direction
    spec = load_space(space)
    models = None
    if spec.has_model_axes():  # each model variant trained here once, cached (ssr_neuro.model_variants)
        from ssr_neuro.model_variants import VariantTrainer

        folder = spec.training.models or out.parent / f"{out.stem}-models"
        models = VariantTrainer(spec.base.graph, spec.training, folder, spec.base.data_dir, spec.base.seed)
    bases = Bases(load_base(spec.base), models, spec.training)
    if spec.sampling == "nsga2":
        from hardware.dse.search import search

        report = search(spec, bases, out, wanted, pool, progress=True)
    else:
        report = run_sweep(spec.points(), bases, out, pool, progress=True)
    df = load_results(out)
    front = pareto_front(df, wanted)
    if plot is not None:
        x, y = list(wanted)[:2] if len(wanted) >= 2 else (list(wanted) * 2)[:2]
        plot.mkdir(parents=True, exist_ok=True)
        plot_pareto(df, x, y, plot / "pareto.png", objectives=wanted)
        plot_sensitivity(df, [axis.name for axis in spec.axes], x, plot / "sensitivity.png")
    cols = [c for c in front.columns
            if c in ("id", *wanted, "cores_used") or c.startswith(("chip.", "conversion.", "model."))]
    obj = {"results": str(out), "points": report.total, "skipped": report.skipped, "computed": report.computed,
           "failed": report.failed, "pareto": front[cols].to_dict(orient="records")}
    table = (f"{report.total} points: {report.computed} computed now, {report.skipped} already stored, "
             f"{report.failed} failed (reasons in {out}); load with hardware.dse.store.load_results('{out}')\n"
             f"Pareto front over {', '.join(f'{k} ({v})' for k, v in wanted.items())}: {len(front)} points\n"
             + front[cols].to_string(index=False))
    _emit(obj, as_json, table)


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
    _emit(checks, as_json, "\n".join(lines))


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point: runs the app; a UserError becomes one line on stderr and exit code 2 (usage errors are 2 too)."""
    try:
        app(args=argv, prog_name="ssr-neuro")  # standalone mode: ends with SystemExit
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
