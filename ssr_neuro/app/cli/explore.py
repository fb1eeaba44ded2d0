"""``ssr-neuro compare`` and ``ssr-neuro dse``: the application layer's studies (the paper's comparison, the
design-space exploration)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ssr_neuro.app.cli.common import Split, app, emit, set_threads
from ssr_neuro.errors import UserError


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
    from ssr_neuro.app.compare import (CompareConfig, compare_models, format_comparison, parse_models,
                                   plot_comparison, write_csv)
    from ssr_neuro.training import TrainConfig
    from ssr_neuro.files import check_writable, have_matplotlib as have_matplotlib_

    cfg = CompareConfig(dataset=dataset, data_dir=data_dir, models=parse_models(models), out=out,
                        ssr_checkpoint=ssr_checkpoint,
                        training=TrainConfig(epochs=epochs, patience=patience, seed=seed, compile=compile),
                        split=split.value, max_len=max_len, dim=dim, chip=chip, samples=samples, force=force)
    have_matplotlib = have_matplotlib_()
    if plot is not None and not have_matplotlib:
        raise UserError("--plot needs matplotlib: pip install 'ssr-neuro[plot]'")
    csv_path = csv or out / "compare.csv"
    plot_path = plot if plot is not None else (out / "compare.png" if have_matplotlib else None)
    for path in filter(None, (csv_path, plot_path)):
        check_writable(path, force)
    set_threads(threads)
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
    emit(obj, as_json, format_comparison(result) + "\n" + written)


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
    from ssr_neuro.app.dse.evaluate import load_base
    from ssr_neuro.app.dse.pareto import pareto_front, plot_pareto, plot_sensitivity
    from ssr_neuro.app.dse.run import Bases, executor_for, run_sweep
    from ssr_neuro.app.dse.space import load_space
    from ssr_neuro.app.dse.store import load_results

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
    if spec.has_model_axes():  # each model variant trained here once, cached (ssr_neuro.app.model_variants)
        from ssr_neuro.app.model_variants import VariantTrainer

        folder = spec.training.models or out.parent / f"{out.stem}-models"
        models = VariantTrainer(spec.base.graph, spec.training, folder, spec.base.data_dir, spec.base.seed)
    bases = Bases(load_base(spec.base), models, spec.training)
    if spec.sampling == "nsga2":
        from ssr_neuro.app.dse.search import search

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
             f"{report.failed} failed (reasons in {out}); load with ssr_neuro.app.dse.store.load_results('{out}')\n"
             f"Pareto front over {', '.join(f'{k} ({v})' for k, v in wanted.items())}: {len(front)} points\n"
             + front[cols].to_string(index=False))
    emit(obj, as_json, table)
