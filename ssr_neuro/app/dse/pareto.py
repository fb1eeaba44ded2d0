"""The Pareto front of a sweep and its plots (matplotlib imported only when plotting).

Objectives are columns of ``load_results`` with a direction: ``{"energy_uJ": "min", "latency_us": "min",
"area_mm2": "min", "HR@10": "max"}`` (``DEFAULT_OBJECTIVES``). Point a dominates point b when a is at least as good in
every objective and strictly better in one; the front is the set of points no other point dominates (ties: points
with equal values all stay). Only points with status "ok" take part.

Plots (PNG): ``plot_pareto`` draws every ok point on two objectives (x, y), the front over all chosen objectives
highlighted (and, when those are more than x and y, the front of x and y alone as a dashed staircase), failed points
counted in the title; ``plot_sensitivity`` draws, for each parameter, the mean of one
objective at each of its settings (over all other parameters), one panel per parameter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.files import atomic_write, pyplot

DEFAULT_OBJECTIVES = {"energy_uJ": "min", "latency_us": "min", "area_mm2": "min", "HR@10": "max"}
DIRECTIONS = ("min", "max")


def non_dominated(values: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """Boolean mask [n] of the rows of ``values`` [n, k] that no other row dominates."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != len(maximize):
        raise ValueError(f"values must be [n, {len(maximize)}] (got shape {v.shape})")
    v = np.where(np.asarray(maximize)[None, :], -v, v)  # everything minimised
    no_worse = (v[:, None, :] <= v[None, :, :]).all(axis=2)  # [a, b]: a no worse than b everywhere
    better = (v[:, None, :] < v[None, :, :]).any(axis=2)
    dominated = (no_worse & better).any(axis=0)
    return ~dominated


def _check_objectives(df, objectives: dict[str, str]) -> None:
    if not objectives:
        raise UserError("choose at least one objective")
    for name, direction in objectives.items():
        if direction not in DIRECTIONS:
            raise UserError(f"objective {name}: direction must be 'min' or 'max' (got {direction!r})")
        if name not in df.columns:
            raise UserError(f"objective {name} is not a column of the results "
                            f"(columns: {', '.join(map(str, df.columns))})")


def ok_rows(df):
    """The points that were measured (status "ok")."""
    return df[df["status"] == "ok"] if "status" in df.columns else df


def pareto_front(df, objectives: dict[str, str] | None = None):
    """Rows of ``df`` (a ``load_results`` table) on the Pareto front of ``objectives``."""
    objectives = objectives or DEFAULT_OBJECTIVES
    ok = ok_rows(df)
    if ok.empty:  # nothing measured (every point failed): no front, whatever the objectives
        return ok
    _check_objectives(ok, objectives)
    mask = non_dominated(ok[list(objectives)].to_numpy(dtype=np.float64), [d == "max" for d in objectives.values()])
    return ok[mask]


def _save(fig, plt, path: Path) -> None:
    def write(tmp: Path) -> None:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")

    try:
        atomic_write(Path(path), write)
    finally:
        plt.close(fig)


def plot_pareto(df, x: str, y: str, path: Path | str, objectives: dict[str, str] | None = None) -> Path:
    """Scatter of every ok point on (x, y) with the front over ``objectives`` (default: x and y with
    DEFAULT_OBJECTIVES' directions, else min) highlighted."""
    objectives = objectives or {k: DEFAULT_OBJECTIVES.get(k, "min") for k in (x, y)}
    ok = ok_rows(df)
    _check_objectives(ok, {x: "min", y: "min", **objectives})
    front = pareto_front(df, objectives)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(ok[x], ok[y], s=14, c="0.7", label=f"design points ({len(ok)})")
    ax.scatter(front[x], front[y], s=28, c="tab:red", label=f"Pareto front ({len(front)})", zorder=3)
    plane = {k: objectives.get(k, DEFAULT_OBJECTIVES.get(k, "min")) for k in (x, y)}
    if set(objectives) != set(plane):  # the front over more objectives than these two: also draw the 2-D one
        line = pareto_front(df, plane).sort_values(x)
        ax.step(line[x], line[y], where="post", c="0.2", lw=0.8, ls="--", zorder=2,
                label=f"front of {x}, {y} alone ({len(line)})")
    else:
        line = front.sort_values(x)
        ax.plot(line[x], line[y], c="tab:red", lw=0.8, zorder=2)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    failed = len(df) - len(ok)
    ax.set_title(f"front over {', '.join(f'{k} ({d})' for k, d in objectives.items())}"
                 + (f"; {failed} points failed" if failed else ""), fontsize=8)
    ax.legend(fontsize=8)
    _save(fig, plt, Path(path))
    return Path(path)


def plot_sensitivity(df, params: list[str], objective: str, path: Path | str) -> Path:
    """For each parameter, the mean of ``objective`` at each of its settings, one panel per parameter."""
    ok = ok_rows(df)
    _check_objectives(ok, {objective: "min", **{p: "min" for p in params}})
    if not params:
        raise UserError("choose at least one parameter for the sensitivity chart")
    plt = pyplot()
    fig, axes = plt.subplots(1, len(params), figsize=(3.2 * len(params), 3), squeeze=False, sharey=True)
    for ax, param in zip(axes[0], params):
        means = ok.groupby(param)[objective].mean().sort_index()
        ax.plot(means.index.to_numpy(dtype=np.float64), means.to_numpy(), marker="o")
        ax.set_xlabel(param)
    axes[0][0].set_ylabel(f"mean {objective}")
    _save(fig, plt, Path(path))
    return Path(path)
