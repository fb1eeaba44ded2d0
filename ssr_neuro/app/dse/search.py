"""Multi-objective search of a large design space with NSGA-II (Optuna's ``NSGAIISampler``; ``optuna`` imported only
here: ``pip install 'ssr-neuro[optuna]'``).

``search(space, base, store_path, objectives, executor) -> SweepReport`` runs ``space.n`` trials in generations of
``space.population``: Optuna proposes a generation (each axis a categorical over its settings, or an int / float
range, log-uniform with ``log``), the generation's points are evaluated by ``run.run_sweep`` (so any executor, the
same results store and the same resume), then every trial is told its objective values, in the order it was asked
(a failed point is a failed trial). The objectives are columns of a point's result with a direction, as for
``pareto.pareto_front`` (e.g. ``{"energy_uJ": "min", "HR@10": "max"}``).

Deterministic: the sampler is seeded with ``space.seed`` and every point is a pure function of the base, so a re-run
proposes the same points, finds them stored and computes only those missing (an interrupted search resumes where it
stopped). Optuna may propose a point twice; it is evaluated once. ``SweepReport.total`` counts distinct points.
"""

from __future__ import annotations

from pathlib import Path

from ssr_neuro.app.dse.evaluate import Base
from ssr_neuro.app.dse.run import Bases, Executor, SweepReport, run_sweep
from ssr_neuro.app.dse.space import Axis, Space, point_id
from ssr_neuro.app.dse.store import load_results
from ssr_neuro.errors import UserError

MEASURED = ("energy_uJ", "latency_us", "HR@10", "NDCG@10", "cores_used", "area_mm2", "core_area_mm2",
            "used_area_mm2")  # the numeric values of an "ok" result that may be objectives (ssr_neuro.app.dse.evaluate)


def _import_optuna():
    try:
        import optuna
    except ImportError:
        raise UserError('sampling = "nsga2" needs Optuna: pip install \'ssr-neuro[optuna]\' (or pip install optuna)') \
            from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _suggest(trial, axis: Axis):
    """One axis' setting for an Optuna trial."""
    if axis.settings is not None:
        return trial.suggest_categorical(axis.name, list(axis.settings))
    if axis.kind is int:
        return trial.suggest_int(axis.name, int(axis.low), int(axis.high), log=axis.log)
    return trial.suggest_float(axis.name, axis.low, axis.high, log=axis.log)


def search(space: Space, bases: Base | Bases, store_path: Path | str, objectives: dict[str, str],
           executor: Executor | None = None, progress: bool = True) -> SweepReport:
    """Run the NSGA-II search of ``space`` (see the module docstring); every evaluated point lands in the store.
    ``bases``: the space's Base, or its :class:`~ssr_neuro.app.dse.run.Bases` when it has model axes."""
    if space.sampling != "nsga2":
        raise UserError(f'search() is for sampling = "nsga2" spaces (got {space.sampling!r}); sweep the others')
    if not objectives or any(d not in ("min", "max") for d in objectives.values()):
        raise UserError(f"objectives must be NAME:min|max, at least one (got {objectives})")
    for name in objectives:
        if name not in MEASURED:
            raise UserError(f"objective {name} is not a measured value; choose from {', '.join(MEASURED)}")
    optuna = _import_optuna()
    sampler = optuna.samplers.NSGAIISampler(population_size=space.population, seed=space.seed)
    study = optuna.create_study(directions=["minimize" if d == "min" else "maximize" for d in objectives.values()],
                                sampler=sampler)
    seen: set[str] = set()
    bases = bases if isinstance(bases, Bases) else Bases(bases)
    skipped = computed = failed = 0
    for start in range(0, space.n, space.population):
        trials = [study.ask() for _ in range(min(space.population, space.n - start))]
        points = [{axis.name: _suggest(t, axis) for axis in space.axes} for t in trials]
        report = run_sweep(points, bases, store_path, executor, progress=progress)  # Bases keeps prepared graphs
        skipped, computed, failed = skipped + report.skipped, computed + report.computed, failed + report.failed
        results = load_results(store_path).set_index("id")
        for trial, point in zip(trials, points):
            row = results.loc[point_id(point)]
            if row["status"] != "ok":
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            study.tell(trial, [float(row[k]) for k in objectives])
        seen.update(point_id(p) for p in points)
    # a point proposed again in a later generation counts once: skipped there, computed where it first ran
    repeats = skipped + computed - len(seen)
    return SweepReport(total=len(seen), skipped=skipped - repeats, computed=computed, failed=failed,
                       store=Path(store_path))
