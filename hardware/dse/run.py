"""Running a sweep: the points not yet in the results store are evaluated by an executor and stored one by one.

``run_sweep(points, base, store_path, executor) -> SweepReport``. An executor is anything with
``imap_unordered(fn, items) -> iterator of fn(item)`` in any order (the :class:`Executor` protocol), so a Ray
executor can stand next to the two here:

- :class:`InProcess`   evaluates in this process, one point after the other (workers = 1; also what tests count with)
- :class:`LocalPool`   a ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` processes (default 2); each task
                       carries the base (pickled by the pool between our own processes, never read from a file)

The graph of each bit-width pair is quantised once, before the points are sent out (``evaluate.prepare``).
Every result is stored the moment it arrives, so Ctrl-C or a crash loses at most the points in flight, and a re-run
skips every stored id (``SweepReport.skipped``) and computes the rest (``computed``). A point that fails (the model does
not fit the chip, ...) is stored with its reason and the sweep goes on. Results do not depend on the executor or the
number of workers: each point is a pure function of the base and its parameters. Progress: a bar with ETA on stderr
(``ssr_neuro.progress``).
"""

from __future__ import annotations

import functools
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from hardware.dse.evaluate import Base, evaluate_point, prepare
from hardware.dse.space import point_id
from hardware.dse.store import ResultStore
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


def executor_for(workers: int) -> Executor:
    """InProcess for 1 worker, a LocalPool otherwise."""
    return InProcess() if workers == 1 else LocalPool(workers)


@dataclass(frozen=True)
class SweepReport:
    """What a run did: points in the space, already stored (skipped), evaluated now, of which failed."""

    total: int
    skipped: int
    computed: int
    failed: int
    store: Path


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
