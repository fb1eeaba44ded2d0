"""``ssr-neuro convert``, ``map``, ``simulate``: the walk checkpoint -> fixed-point graph -> mapping -> simulation,
each a thin call of ``ssr_neuro.app.pipeline`` (one ``SamplePlan``: ``--calibration-samples`` calibrate the
quantisation, ``--activity-samples`` record the activity the mapper places by, ``--samples`` are the inferences
simulated; ``--seed`` chooses all three and seeds the mapping strategy)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ssr_neuro.app.cli.common import Backend, EvalSplit, Timing, app, emit, metrics_table, set_threads
from ssr_neuro.app.pipeline import SamplePlan
from ssr_neuro.errors import UserError

CALIBRATION_HELP = "training samples that calibrate the activation ranges (when converting a checkpoint)"
ACTIVITY_HELP = "training samples run to record the spike activity the mapper places by"
SEED_HELP = "seed of the calibration, activity and evaluation samples and of the mapping strategy"
PLAN = SamplePlan()


def _check_strategy(strategy: str) -> None:
    from mapping import STRATEGIES

    if strategy not in STRATEGIES:
        raise UserError(f"unknown --strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")


@app.command()
def convert(
    model: Path = typer.Argument(..., help="checkpoint written by 'ssr-neuro train'"),
    out: Path = typer.Option(Path("model.graph"), "--out", "-o", help="graph file to write"),
    force: bool = typer.Option(False, help="overwrite --out if it exists"),
    bits: int = typer.Option(8, "--bits", help="weight bits (signed integers, per-layer power-of-two exponent)"),
    activation_bits: int = typer.Option(8, help="bits of graded (non-spiking) activations"),
    float_only: bool = typer.Option(False, "--float", help="keep float weights (no quantisation)"),
    calibration_samples: int = typer.Option(PLAN.calibration, help=CALIBRATION_HELP),
    seed: int = typer.Option(PLAN.seed, help="seed of the calibration samples"),
    check: bool = typer.Option(True, "--check/--no-check", help="evaluate float and fixed graphs on valid and test"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads"),
    device: str = typer.Option("auto", help="where --check evaluates the torch model: auto, cpu, cuda, cuda:N "
                                            "(the conversion itself runs on the CPU)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Convert a checkpoint into a graph of LIF populations and synapse layers in fixed point; compare with float."""
    from ssr_neuro.app.pipeline import fixed_graph, graph_line
    from ssr_neuro.conversion import evaluate_graph
    from ssr_neuro.files import check_writable
    from ssr_neuro.graph.io import save_graph
    from ssr_neuro.training import evaluate_model, resolve_device

    check_writable(out, force)
    where = resolve_device(device) if check else None
    plan = SamplePlan(calibration=calibration_samples, seed=seed)
    set_threads(threads)
    src = fixed_graph(model, plan, data_dir, weight_bits=bits, activation_bits=activation_bits, float_only=float_only)
    quality: dict[str, dict] = {}
    if check:
        src.model.to(where)
        for split in ("valid", "test"):
            samples = getattr(src.dataset, split)
            quality[f"torch {split}"] = evaluate_model(src.model, samples)
            quality[f"float graph {split}"] = evaluate_graph(src.float_graph, samples)
            if src.graph is not src.float_graph:
                quality[f"fixed graph {split}"] = evaluate_graph(src.graph, samples)
    save_graph(src.graph, out, overwrite=force)
    graph = src.graph
    obj = {"graph": str(out), "quantized": graph.quantized, "stats": graph.stats(),
           "conversion": graph.meta.get("conversion", {}), "quantization": graph.meta.get("quantization", {}),
           "quality": quality}
    table = f"wrote {out}: {graph_line(graph)}"
    if quality:
        table += "\n" + metrics_table(quality, ks=(10,))
    emit(obj, as_json, table)


@app.command("map")
def map_(
    source: Path = typer.Argument(..., help="model.pt (converted as 'ssr-neuro convert' does) or a graph file"),
    chip: str = typer.Option("45nm", help="chip preset (45nm, loihi) or a chip .toml file"),
    strategy: str = typer.Option("anneal", help="mapping strategy: anneal (optimising) or greedy (layer order)"),
    out: Path = typer.Option(Path("mapping.json"), "--out", "-o", help="mapping file to write"),
    force: bool = typer.Option(False, help="overwrite --out / --plot if they exist"),
    plot: Optional[Path] = typer.Option(None, help="also draw the mesh (utilisation and traffic) to this PNG"),
    seed: int = typer.Option(PLAN.seed, help=SEED_HELP),
    activity_samples: int = typer.Option(PLAN.activity, help=ACTIVITY_HELP),
    calibration_samples: int = typer.Option(PLAN.calibration, help=CALIBRATION_HELP),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Split the graph into core-sized pieces and place them on the chip's mesh; report cores, utilisation, traffic."""
    from hardware.chip import load_chip
    from mapping import format_summary, plot_mapping
    from ssr_neuro.app.pipeline import load_source, map_source
    from ssr_neuro.files import check_writable

    _check_strategy(strategy)
    plan = SamplePlan(calibration=calibration_samples, activity=activity_samples, seed=seed)
    check_writable(out, force)
    if plot is not None:
        check_writable(plot, force)
    chip_desc = load_chip(chip)
    mapping = map_source(load_source(source, plan, data_dir), chip_desc, plan, strategy)
    mapping.save(out, overwrite=force)
    if plot is not None:
        plot_mapping(mapping, chip_desc, plot)
    summary = mapping.summary()
    emit({"mapping": str(out), "chip": chip_desc.name, **summary}, as_json, format_summary(summary))


@app.command()
def simulate(
    source: Path = typer.Argument(..., help="model.pt (converted as 'ssr-neuro convert' does) or a graph file"),
    chip: str = typer.Option("45nm", help="chip preset (45nm, loihi) or a chip .toml file"),
    mapping: Optional[Path] = typer.Option(None, help="mapping.json from 'ssr-neuro map' (default: map it now)"),
    strategy: str = typer.Option("anneal", help="mapping strategy when no --mapping is given"),
    dataset: Optional[str] = typer.Option(None, help="where the model's dataset is: its name or a file (default: the "
                                                     "one recorded in the model); its items must be the model's"),
    data_dir: Optional[Path] = typer.Option(None, help="folder holding the dataset's files"),
    on: EvalSplit = typer.Option(EvalSplit.test, "--on", help="which samples to run: test or valid"),
    samples: int = typer.Option(PLAN.evaluation, help="inferences to simulate (spread over the split; at most all "
                                                      "of it)"),
    seed: int = typer.Option(PLAN.seed, help=SEED_HELP),
    activity_samples: int = typer.Option(PLAN.activity, help=ACTIVITY_HELP + " (when no --mapping is given)"),
    calibration_samples: int = typer.Option(PLAN.calibration, help=CALIBRATION_HELP),
    batch_size: int = typer.Option(256, help="inferences simulated together"),
    backend: Backend = typer.Option(Backend.fast, help="fast (vectorised engine) or lava (every core a Lava process: "
                                                       "the same results, about 500x slower; see ssr-neuro doctor)"),
    timeout: float = typer.Option(600.0, help="seconds a Lava run may take before it is stopped (--backend lava)"),
    timing: Timing = typer.Option(Timing.analytic, help="analytic (busiest unit + network + barrier per step) or event "
                                                        "(discrete events through core stages and router buffers; "
                                                        "same energy; adds timeline.png and latency.png to --plot)"),
    timing_chunk: int = typer.Option(4, help="--timing event: messages moved as one chunk (1: message by message)"),
    csv: Optional[Path] = typer.Option(None, help="write one record per inference to this CSV file"),
    plot: Optional[Path] = typer.Option(None, help="write PNG plots (energy breakdown, spike raster, core load) here"),
    force: bool = typer.Option(False, help="overwrite --csv / --plot files"),
    threads: Optional[int] = typer.Option(None, help="CPU threads"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Run real sequences through the mapped fixed-point SSR on the simulated chip: energy, latency, quality."""
    from hardware.chip import load_chip
    from hardware.report import EVENT_PLOT_FILES, PLOT_FILES, format_table, write_csv, write_plots
    from mapping import load_mapping
    from ssr_neuro.app.pipeline import check_run, load_source, map_source, reference_quality, run_on_chip
    from ssr_neuro.files import check_writable

    plan = SamplePlan(calibration=calibration_samples, activity=activity_samples, evaluation=samples,
                      split=on.value, seed=seed)
    check_run(backend.value, batch_size, timeout, timing.value, timing_chunk)
    if backend is Backend.lava:
        from hardware.lava_backend import lava_status

        usable, message = lava_status()
        if not usable:
            raise UserError(message)
    if mapping is None:
        _check_strategy(strategy)
    if csv is not None:
        check_writable(csv, force)
    if plot is not None:
        if plot.exists() and not plot.is_dir():
            raise UserError(f"--plot {plot} is a file; give a folder for the plots")
        for name in PLOT_FILES + (EVENT_PLOT_FILES if timing is Timing.event else ()):
            check_writable(plot / name, force)
    set_threads(threads)
    chip_desc = load_chip(chip)
    placed = load_mapping(mapping) if mapping is not None else None
    src = load_source(source, plan, data_dir, dataset)
    if src.dataset is None:
        raise UserError(f"{source} records no dataset to simulate on; convert the checkpoint with 'ssr-neuro convert'")
    if not src.graph.quantized:
        raise UserError(f"{source} is a float graph; the chip runs fixed point: convert without --float")
    if placed is None:
        placed = map_source(src, chip_desc, plan, strategy)
    chosen = plan.evaluation_of(src.dataset)
    result = run_on_chip(src.graph, placed, chip_desc, chosen, backend.value, batch_size, timeout, progress=True,
                         timing=timing.value, timing_chunk=timing_chunk)
    label, reference = reference_quality(src, chosen)
    quality = {"chip (fixed point)": result.quality, label: reference}
    if csv is not None:
        write_csv(result, csv, overwrite=force)
    if plot is not None:
        write_plots(result, plot, overwrite=force)
    summary = result.summary()
    obj = {"chip": chip_desc.name, "backend": backend.value, "timing": timing.value, "dataset": src.dataset.name, "split": on.value,
           "n_inferences": int(result.n_inferences),
           "energy_uj_per_inference": summary["energy_uj_per_inference"],
           "latency_us_per_inference": summary["latency_us_per_inference"],
           **{k: result.quality[k] for k in ("HR@10", "NDCG@10", "MRR@10")},
           "quality": quality, **{k: v for k, v in summary.items() if k not in ("chip", "n_inferences")}}
    emit(obj, as_json, format_table(summary, quality))
