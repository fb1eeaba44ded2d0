"""Running a sweep: the points not yet in the results store are evaluated by an executor and stored one by one.

``run_sweep(points, base, store_path, executor) -> SweepReport``. An executor is anything with
``imap_unordered(fn, items) -> iterator of fn(item)`` in any order (the :class:`Executor` protocol):

- :class:`InProcess`   evaluates in this process, one point after the other (workers = 1; also what tests count with)
- :class:`LocalPool`   a ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` processes (default 2); each task
                       carries the base (pickled by the pool between our own processes, never read from a file)
- :class:`RayPool`     Ray tasks (``pip install 'ssr-neuro[ray]'``; ``ray`` imported only here): on the cluster at
                       ``address`` ("auto", "ray://head:10001", ...; its nodes need ssr-neuro installed), or on a Ray
                       instance of ``workers`` CPUs started for the sweep and shut down after it. ``fn`` (with the
                       base inside) is put into Ray's object store once; at most 2 x the cluster's CPUs tasks are in
                       flight, and an interrupt cancels them.

``executor_for(workers, kind="local", address=None)`` picks one for the CLI's ``--workers/--executor/--address``;
``run_space(space, store_path, executor)`` loads a space's base, sweeps it and returns (report, results table).

Model axes: the points are grouped by their model settings (``model.*`` keys); each group runs on the base of its
own graph, which ``models`` (a :data:`ModelSource`, given by the caller: ``ssr_neuro.app.model_variants.VariantTrainer``
trains, converts and caches; hardware/ never imports torch) returns for the settings, loaded once per run
(:class:`Bases`). Every model a run needs is obtained before the first point is sent out, so the training happens
in this process, once per model setting, and the executors only map and simulate. A model setting that cannot be
built (its graph refused, training failed with a UserError) fails its points with the reason.
The graph of each bit-width pair is quantised once, before the points are sent out (``evaluate.prepare``).
Every result is stored the moment it arrives, so Ctrl-C or a crash loses at most the points in flight, and a re-run
skips every stored id (``SweepReport.skipped``) and computes the rest (``computed``). A point that fails (the model does
not fit the chip, ...) is stored with its reason and the sweep goes on. Results do not depend on the executor or the
number of workers: each point is a pure function of the base and its parameters. Progress: a bar with ETA on stderr
(``ssr_neuro.progress``).
"""

from __future__ import annotations

import functools
import itertools
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from ssr_neuro.app.dse.evaluate import Base, evaluate_point, load_base, prepare
from ssr_neuro.app.dse.space import Space, TrainingSpec, canonical_json, point_id
from ssr_neuro.app.dse.store import ResultStore, load_results
from ssr_neuro.errors import UserError
from ssr_neuro.graph.io import graph_digest
from ssr_neuro.progress import progress_bar

Evaluate = Callable[[Base, dict], dict]
ModelSource = Callable[[dict], Path]  # model settings ({"time_steps": 2}) -> the fixed-point graph file of that model


def model_settings(point: dict) -> dict:
    """The point's model axes without their prefix: {"model.time_steps": 2, ...} -> {"time_steps": 2}."""
    return {k.partition(".")[2]: v for k, v in point.items() if k.startswith("model.")}


@dataclass
class Bases:
    """The base of each model setting of a sweep: ``base`` for points without model axes, otherwise the base of the
    graph ``models`` gives for the settings (the [base] settings kept), loaded at most once; a setting whose model
    cannot be built is remembered with its reason. ``training`` (the space's) is part of the results store's key."""

    base: Base
    models: ModelSource | None = None
    training: TrainingSpec | None = None
    loaded: dict[str, Base | str] = field(default_factory=dict)

    def prepared(self, settings: dict, points: list[dict]) -> Base | str:
        """The base for ``settings`` with the graphs of ``points``' bit widths made (``evaluate.prepare``) and kept
        for later calls, or the one-line reason it cannot be had."""
        base = self.get(settings)
        if isinstance(base, str):
            return base
        base = prepare(base, points)
        if settings:
            self.loaded[canonical_json(settings)] = base
        else:
            self.base = base
        return base

    def get(self, settings: dict) -> Base | str:
        """The base for ``settings``, or the one-line reason it cannot be had."""
        if not settings:
            return self.base
        key = canonical_json(settings)
        if key not in self.loaded:
            if self.models is None:
                raise UserError("the space has model axes: they need a trainer (run it with 'ssr-neuro dse', which "
                                "trains each model variant, or pass models= to run_space / run_sweep)")
            try:
                self.loaded[key] = load_base(replace(self.base.config, graph=self.models(settings)))
            except UserError as e:
                self.loaded[key] = f"model {settings}: {e}"
        return self.loaded[key]

    def key(self) -> dict:
        """What a results store is tied to: the [base] settings, the base graph's digest and the [training] table."""
        key = {**self.base.config.key(), "graph_digest": graph_digest(self.base.graph)}
        return {**key, "training": self.training.key()} if self.training else key


class Executor(Protocol):
    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator: ...


@dataclass(frozen=True)
class InProcess:
    """Evaluate in this process, in order."""

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        return map(fn, items)


@dataclass(frozen=True)
class LocalPool:
    """A pool of ``workers`` processes; at most ``2 x workers`` tasks in flight (so an interrupt loses few)."""

    workers: int = 2

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise UserError(f"workers must be >= 1 (got {self.workers})")

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        todo = iter(items)
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            running = set()
            for item in todo:
                running.add(pool.submit(fn, item))
                if len(running) >= 2 * self.workers:
                    break
            try:
                while running:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
                        nxt = next(todo, None)
                        if nxt is not None:
                            running.add(pool.submit(fn, nxt))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise


@dataclass(frozen=True)
class RayPool:
    """Ray tasks on the cluster at ``address``, or on a local instance of ``workers`` CPUs when ``address`` is None."""

    workers: int = 2
    address: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise UserError(f"workers must be >= 1 (got {self.workers})")

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator:
        ray = _import_ray()
        started = not ray.is_initialized()
        if started:
            _ray_init(ray, self.workers, self.address)
        try:
            task = ray.remote(num_cpus=1, max_retries=0)(_call)
            fn_ref = ray.put(fn)
            limit = 2 * max(1, int(ray.cluster_resources().get("CPU", self.workers)))
            todo = iter(items)
            running = [task.remote(fn_ref, item) for item in itertools.islice(todo, limit)]
            try:
                while running:
                    done, running = ray.wait(running, num_returns=1)
                    yield ray.get(done[0])
                    running += [task.remote(fn_ref, item) for item in itertools.islice(todo, 1)]
            except BaseException:
                for ref in running:
                    ray.cancel(ref, force=True)
                raise
        finally:
            if started:
                ray.shutdown()


def _call(fn: Callable, item):
    """The Ray task: ``fn`` arrives from the object store (resolved by Ray), ``item`` with the task."""
    return fn(item)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UserError("--executor ray needs Ray: pip install 'ssr-neuro[ray]' (or pip install ray)") from None
    return ray


def _ray_init(ray, workers: int, address: str | None) -> None:
    """Connect to the cluster at ``address``, or start a local instance of ``workers`` CPUs; UserError on failure."""
    options = {"address": address} if address else {"num_cpus": workers, "include_dashboard": False}
    try:
        ray.init(**options, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray instance"
        hint = ("start one with 'ray start --head' and pass its address (or 'auto')" if address
                else "check 'ray start --head' works here, or use --executor local")
        raise UserError(f"cannot start or reach {where} ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
                        f"{hint}") from None


EXECUTORS = ("local", "ray")


def executor_for(workers: int, kind: str = "local", address: str | None = None) -> Executor:
    """``kind`` "local": InProcess for 1 worker, a LocalPool otherwise; "ray": a RayPool (``address``: a cluster,
    None: a local instance of ``workers`` CPUs). UserError for an unknown kind or an address without Ray."""
    if kind not in EXECUTORS:
        raise UserError(f"--executor must be one of {', '.join(EXECUTORS)} (got {kind!r})")
    if kind == "ray":
        return RayPool(workers, address)
    if address is not None:
        raise UserError("--address is the Ray cluster's address: use it with --executor ray")
    return InProcess() if workers == 1 else LocalPool(workers)


@dataclass(frozen=True)
class SweepReport:
    """What a run did: points in the space, already stored (skipped), evaluated now, of which failed."""

    total: int
    skipped: int
    computed: int
    failed: int
    store: Path


def run_space(space: Space, store_path: Path | str, executor: Executor | None = None, progress: bool = True,
              models: ModelSource | None = None) -> tuple[SweepReport, object]:
    """Load the space's base, sweep its points into ``store_path`` (resuming), and return (SweepReport, the
    ``load_results`` table of the whole store). ``models`` builds the graphs of model axes (see the docstring)."""
    bases = Bases(load_base(space.base), models, space.training)
    report = run_sweep(space.points(), bases, store_path, executor, progress=progress)
    return report, load_results(store_path)


def _tagged(evaluate: Evaluate, base: Base, item: tuple[str, dict]) -> tuple[str, dict, dict]:
    pid, point = item
    return pid, point, evaluate(base, point)


def run_sweep(points: list[dict], bases: Base | Bases, store_path: Path | str, executor: Executor | None = None,
              evaluate: Evaluate = evaluate_point, progress: bool = True) -> SweepReport:
    """Evaluate every point not yet stored in ``store_path``; store each result as it arrives. ``bases``: a Base
    (no model axes) or the :class:`Bases` of a space with model axes."""
    executor = executor or LocalPool()
    bases = bases if isinstance(bases, Bases) else Bases(bases)
    with ResultStore(store_path, bases.key()) as store:
        done = store.done_ids()
        unique = {point_id(p): p for p in points}
        todo = [(pid, p) for pid, p in unique.items() if pid not in done]
        groups: dict[str, list[tuple[str, dict]]] = {}
        for pid, point in todo:
            groups.setdefault(canonical_json(model_settings(point)), []).append((pid, point))
        ready = []  # (base or reason, items) per model setting; every model obtained before the first point runs
        for items in groups.values():
            start = time.perf_counter()
            base = bases.prepared(model_settings(items[0][1]), [p for _, p in items])
            if isinstance(base, str):
                seconds = time.perf_counter() - start
                for pid, point in items:
                    store.put(pid, point, {"status": "failed", "reason": base, "seconds": seconds})
                continue
            ready.append((base, items))
        failed = len(todo) - sum(len(items) for _, items in ready)
        with progress_bar("dse", total=len(todo), unit="points", enabled=progress) as advance:
            advance(failed)
            for base, items in ready:
                for pid, point, result in executor.imap_unordered(functools.partial(_tagged, evaluate, base), items):
                    store.put(pid, point, result)
                    failed += result["status"] != "ok"
                    advance(1)
    return SweepReport(total=len(unique), skipped=len(unique) - len(todo), computed=len(todo), failed=failed,
                       store=Path(store_path))
