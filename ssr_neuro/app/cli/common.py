"""What every command of the ``ssr-neuro`` CLI shares: the typer app, the option enums, output (one JSON object or a
table on stdout), threads, dataset loading with its statistics on stderr."""

from __future__ import annotations

import json
import sys
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


class Backend(str, Enum):
    fast = "fast"
    lava = "lava"


class Timing(str, Enum):
    analytic = "analytic"
    event = "event"


def set_threads(threads: Optional[int]) -> None:
    """Apply --threads, and keep large freed buffers in the process (see ssr_neuro.runtime)."""
    import torch

    from ssr_neuro.runtime import keep_freed_memory

    keep_freed_memory()
    if threads is not None:
        if threads < 1:
            raise UserError(f"--threads must be >= 1 (got {threads})")
        torch.set_num_threads(threads)


def emit(obj: dict, as_json: bool, table: str) -> None:
    """Write the result: one JSON object, or the human table."""
    if as_json:
        sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    else:
        sys.stdout.write(table.rstrip() + "\n")


def metrics_table(rows: dict[str, dict], ks=(5, 10, 20)) -> str:
    """rows: label -> metrics dict. One line per label, columns HR/NDCG/MRR at each K; a metric without a value
    (a split with no samples) prints as "-"."""
    cols = [f"{m}@{k}" for k in ks for m in ("HR", "NDCG", "MRR")]
    width = max(len(label) for label in rows) + 2
    lines = [" " * width + "".join(f"{c:>10}" for c in cols) + f"{'samples':>10}"]
    for label, m in rows.items():
        cells = "".join(f"{'-':>10}" if m.get(c) is None else f"{m[c]:>10.4f}" for c in cols)
        lines.append(f"{label:<{width}}" + cells + f"{m.get('n_samples', 0):>10,}")
    return "\n".join(lines)


def load_data(source: str, data_dir: Optional[Path], options: dict, download: bool = False):
    """A dataset by name or path with the given preprocessing options; its statistics on stderr."""
    from ssr_neuro.data import dataset_stats, format_stats, load_dataset
    from ssr_neuro.progress import log

    ds = load_dataset(source, data_dir=data_dir, download=download, quiet=False, **options)
    log(format_stats(dataset_stats(ds)))
    return ds
