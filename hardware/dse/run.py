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
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from hardware.dse.evaluate import Base, evaluate_point, load_base, prepare
from hardware.dse.space import Space, point_id
from hardware.dse.store import ResultStore, load_results
from ssr_neuro.errors import UserError
from ssr_neuro.graph.io import graph_digest
from ssr_neuro.progress import progress_bar

Evaluate = Callable[[Base, dict], dict]


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


def run_space(space: Space, store_path: Path | str, executor: Executor | None = None,
              progress: bool = True) -> tuple[SweepReport, object]:
    """Load the space's base, sweep its points into ``store_path`` (resuming), and return (SweepReport, the
    ``load_results`` table of the whole store)."""
    report = run_sweep(space.points(), load_base(space.base), store_path, executor, progress=progress)
    return report, load_results(store_path)


def base_key(base: Base) -> dict:
    """What a results store is tied to: the [base] settings and the base graph's digest."""
    return {**base.config.key(), "graph_digest": graph_digest(base.graph)}


def _tagged(evaluate: Evaluate, base: Base, item: tuple[str, dict]) -> tuple[str, dict, dict]:
    pid, point = item
    return pid, point, evaluate(base, point)


def run_sweep(points: list[dict], base: Base, store_path: Path | str, executor: Executor | None = None,
              evaluate: Evaluate = evaluate_point, progress: bool = True) -> SweepReport:
    """Evaluate every point not yet stored in ``store_path``; store each result as it arrives."""
    executor = executor or LocalPool()
    with ResultStore(store_path, base_key(base)) as store:
        done = store.done_ids()
        unique = {point_id(p): p for p in points}
        todo = [(pid, p) for pid, p in unique.items() if pid not in done]
        base = prepare(base, [p for _, p in todo])
        failed = 0
        with progress_bar("dse", total=len(todo), unit="points", enabled=progress) as advance:
            for pid, point, result in executor.imap_unordered(functools.partial(_tagged, evaluate, base), todo):
                store.put(pid, point, result)
                failed += result["status"] != "ok"
                advance(1)
    return SweepReport(total=len(unique), skipped=len(unique) - len(todo), computed=len(todo), failed=failed,
                       store=Path(store_path))
