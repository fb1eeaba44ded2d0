"""What the three design-space examples (examples/dse_*.py) share: their command line and one grid sweep.

Each example varies one or two axes around the ML-1M default model on the 45 nm chip with the ``ssr_neuro.app.dse`` API,
keeps its results in ``OUT/<name>-<chip>-<samples>.sqlite`` (a re-run only computes missing points) and writes
``OUT/<name>.png``. Defaults are small (1,000 test inferences per point, 2 workers): each finishes within a minute
on 2 cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ssr_neuro.app.dse.run import executor_for, run_space
from ssr_neuro.app.dse.space import grid_space

ROOT = Path(__file__).resolve().parents[1]


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--graph", type=Path, default=ROOT / "runs" / "ml-1m" / "model.graph",
                        help="fixed-point graph from 'ssr-neuro convert' (default: runs/ml-1m/model.graph)")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets",
                        help="folder holding the graph's dataset")
    parser.add_argument("--chip", default="45nm", help="chip preset or .toml file to vary")
    parser.add_argument("--samples", type=int, default=1000, help="test inferences simulated per design point")
    parser.add_argument("--workers", type=int, default=2, help="parallel worker processes")
    parser.add_argument("--executor", default="local", choices=("local", "ray"))
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "dse" / "examples",
                        help="folder of the results file and the plot")
    return parser.parse_args()


def sweep(args: argparse.Namespace, name: str, axes: dict[str, list]) -> pd.DataFrame:
    """Sweep the grid of ``axes`` into ``args.out/<name>-<chip>-<samples>.sqlite``; the measured (status "ok") rows."""
    base = {"graph": str(args.graph.resolve()), "chip": args.chip, "samples": args.samples,
            "data_dir": str(args.data_dir.resolve())}
    report, df = run_space(grid_space(base, axes), args.out / f"{name}-{Path(args.chip).stem}-{args.samples}.sqlite",
                           executor_for(args.workers, args.executor))
    print(f"{report.total} points: {report.computed} computed, {report.skipped} already stored, "
          f"{report.failed} failed")
    for reason in df.loc[df["status"] != "ok", "reason"]:
        print("failed:", reason)
    return df[df["status"] == "ok"]


def save(fig, path: Path) -> None:
    """Write the figure as PNG (atomically) and say where."""
    from ssr_neuro.files import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight"))
    print("plot:", path)
