"""Progress bars on stderr (rate and ETA), so stdout stays clean for --json output."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)


class _RateColumn(TextColumn):
    def __init__(self, unit: str) -> None:
        super().__init__("")
        self.unit = unit

    def render(self, task):  # noqa: D102 - rich API
        speed = task.finished_speed or task.speed
        return f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s"


@contextlib.contextmanager
def progress_bar(label: str, total: int, unit: str = "samples", enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``. Shows a bar with count, rate and ETA on stderr when enabled and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(unit),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                  transient=True) as prog:
        task = prog.add_task(label, total=total)
        yield lambda n: prog.advance(task, n)


def log(message: str) -> None:
    """One line of progress information on stderr."""
    print(message, file=sys.stderr, flush=True)
