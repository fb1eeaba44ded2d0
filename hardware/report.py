"""The simulator's report: a terminal table, one CSV record per inference, and PNG plots of a :class:`SimResult`.

- :func:`format_table` (from ``SimResult.summary()`` and the quality metrics): energy per inference by kind (compute,
  memory, network, static), the top layers and cores, latency with its per-step parts (slowest core, network,
  barrier), the counting methods of ``ssr_neuro.counting`` side by side with their ratios, and HR / NDCG / MRR@10 of
  the chip's own scores next to the float model's.
- :func:`write_csv`: one row per inference, the columns of ``SimResult.per_inference`` (units in the names).
- :func:`write_plots`: ``energy_breakdown.png`` (by kind, by layer, and the counting methods side by side),
  ``raster.png`` (every LIF population's spikes in inference 0, neuron x time step), ``core_load.png`` (energy and
  busy cycles per router on the mesh; the host apart); with event timing also ``timeline.png`` (inference 0: each
  unit's stages and each used link against time, step boundaries marked) and ``latency.png`` (the distribution of
  latency per inference, and of the interval between inferences when they overlap).

Files are written atomically and never replace an existing file unless ``overwrite``; every check runs (and every
plot is rendered) before the first file is written, so a failure leaves nothing behind. 1 uJ = 1e6 pJ;
1 cycle = 1 / clock_MHz us. matplotlib is imported lazily (extras ``plot`` / ``test``). No torch.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

import numpy as np

from hardware.result import KINDS, PER_INFERENCE_KEYS, SimResult
from ssr_neuro.errors import UserError
from ssr_neuro.files import atomic_write, check_writable, pyplot

QUALITY_METRICS = ("HR@10", "NDCG@10", "MRR@10")
PLOT_FILES = ("energy_breakdown.png", "raster.png", "core_load.png")
EVENT_PLOT_FILES = ("timeline.png", "latency.png")  # with event timing only
TOP = 8  # rows of the "top layers / cores" sections


# ------------------------------------------------------------------------------------------------ terminal table

def _uj(value: float) -> str:
    """An energy in uJ to 4 significant digits (values span nJ to mJ)."""
    return f"{value:.4g}"


def _columns(title: str, header: Sequence[str], rows: list[Sequence[str]]) -> list[str]:
    """A titled block: the first column left-aligned, the others right-aligned, two spaces apart."""
    table = [list(header)] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [title]
    for r in table:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def _share_rows(parts_uj: dict[str, float], total_uj: float, top: int | None = None) -> list[list[str]]:
    """Rows (name, uJ, share of total) largest first; beyond ``top``, one "(N others)" row."""
    items = sorted(parts_uj.items(), key=lambda kv: -kv[1])
    shown, rest = (items, []) if top is None else (items[:top], items[top:])
    if rest:
        shown = shown + [(f"({len(rest)} others)", sum(v for _, v in rest))]
    share = (lambda v: f"{100 * v / total_uj:.1f}%") if total_uj else (lambda v: "-")
    return [[name, _uj(v), share(v)] for name, v in shown]


def _steps_block(steps: list[dict], latency_cycles: float) -> list[str]:
    if steps and "bound" in steps[0]:  # event timing: the analytic estimate beside it, and what bound each step
        rows = [[s["name"], f"{s['cycles']:,.1f}", f"{s['analytic_cycles']:,.1f}", f"{s['barrier_cycles']:,.1f}",
                 str(s["bound"])] for s in steps]
        total = [sum(s[k] for s in steps) for k in ("cycles", "analytic_cycles", "barrier_cycles")]
        rows.append(["total", f"{total[0]:,.1f}", f"{total[1]:,.1f}", f"{total[2]:,.1f}", ""])
        return _columns(f"latency per step, event timing (cycles, mean per inference; inference "
                        f"{latency_cycles:,.1f} cycles)", ["step", "cycles", "analytic", "barrier",
                                                            "bound by (share of inferences)"], rows)
    rows = [[s["name"], f"{s['cycles']:,.1f}", f"{s['core_cycles_max']:,.1f}", str(s["slowest_core"]),
             f"{s['network_cycles']:,.1f}", f"{s['barrier_cycles']:,.1f}"] for s in steps]
    total = [sum(s[k] for s in steps) for k in ("cycles", "core_cycles_max", "network_cycles", "barrier_cycles")]
    rows.append(["total", f"{total[0]:,.1f}", f"{total[1]:,.1f}", "", f"{total[2]:,.1f}", f"{total[3]:,.1f}"])
    return _columns(f"latency per step (cycles, mean per inference; inference {latency_cycles:,.1f} cycles)",
                    ["step", "cycles", "busiest core", "which", "network", "barrier"], rows)


def _counting_block(counting: dict) -> list[str]:
    methods = counting.get("methods", {})
    chip_pj = (methods.get("chip") or {}).get("total_pJ")
    ann_pj = (methods.get("ann") or {}).get("total_pJ")
    names = {"chip": "chip (simulated)", "snn_rule": "SNN-paper rule", "ann": "same model as a float32 ANN"}
    rows = []
    for key in ("chip", "snn_rule", "ann"):
        m = methods.get(key)
        if not m or m.get("total_pJ") is None:
            continue
        pj = m["total_pJ"]
        rows.append([names[key], _uj(pj * 1e-6), f"{pj / chip_pj:.3g}x" if chip_pj else "-",
                     f"{pj / ann_pj:.3g}x" if ann_pj else "-"])
    lines = _columns("energy per inference by counting method", ["method", "uJ", "/ chip", "/ ANN"], rows)
    lines += [f"  - {methods[key]['label']}" for key in ("chip", "snn_rule", "ann")
              if key in methods and methods[key].get("total_pJ") is not None]
    paper = counting.get("ratios", {}).get("snn_rule/ann_compute")
    if paper is not None:
        lines.append(f"  the paper's comparison (arithmetic only on both sides): SNN rule / ANN MACs = {paper:.3f}, "
                     f"a saving of {100 * (1 - paper):.1f}%")
    return lines


def _quality_block(quality: dict) -> list[str]:
    rows = [[label] + [f"{m[k]:.4f}" if k in m else "-" for k in QUALITY_METRICS] for label, m in quality.items()]
    return _columns("recommendation quality (full ranking)", ["scores of"] + list(QUALITY_METRICS), rows)


def format_table(summary: dict, quality: dict) -> str:
    """The report of one simulation for the terminal. ``summary`` is ``SimResult.summary()``; ``quality`` maps a
    label (e.g. "chip (fixed point)", "float model") to its metrics (``HR@10``, ``NDCG@10``, ``MRR@10``); either
    section is left out when empty."""
    total_uj = summary["energy_uj_per_inference"]
    bound = summary.get("chip_bound")
    lines = [f"chip {summary['chip']}: {summary['n_inferences']:,} inferences"
             + (f" (this chip file is a {bound} bound, not a calibrated chip: real silicon costs "
                f"{'more' if bound == 'lower' else 'less'})" if bound else ""),
             f"energy  {_uj(total_uj)} uJ per inference    latency  {summary['latency_us_per_inference']:,.3f} us "
             f"per inference ({summary.get('latency_cycles_per_inference', 0.0):,.1f} cycles)"]
    if "inferences_per_s_overlapped" in summary:
        lines.append(f"timing  event: {summary['inferences_per_s']:,.0f} inferences/s one at a time, "
                     f"{summary['inferences_per_s_overlapped']:,.0f}/s with consecutive inferences overlapped")
    lines.append("")
    breakdown = summary.get("breakdown", {})
    by_kind = {k: breakdown.get("by_kind", {}).get(k, 0.0) for k in KINDS}
    lines += _columns("energy by kind", ["kind", "uJ", "share"], _share_rows(by_kind, total_uj)) + [""]
    if breakdown.get("by_layer"):
        lines += _columns(f"top layers (of {len(breakdown['by_layer'])})", ["layer", "uJ", "share"],
                          _share_rows(breakdown["by_layer"], total_uj, TOP)) + [""]
    cores = sorted(summary.get("cores", []), key=lambda c: -c["energy_pJ"])
    if cores:
        rows = [[c["name"], _uj(c["energy_pJ"] * 1e-6),
                 f"{100 * c['energy_pJ'] * 1e-6 / total_uj:.1f}%" if total_uj else "-", f"{c['busy_cycles']:,.1f}"]
                for c in cores[:TOP]]
        lines += _columns(f"top cores (of {len(cores)})", ["unit", "uJ", "share", "busy cycles"], rows) + [""]
    if summary.get("steps"):
        lines += _steps_block(summary["steps"], summary.get("latency_cycles_per_inference", 0.0)) + [""]
    if summary.get("counting", {}).get("methods"):
        lines += _counting_block(summary["counting"]) + [""]
    if quality:
        lines += _quality_block(quality) + [""]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------------ files

def write_csv(result: SimResult, path: Path | str, overwrite: bool = False) -> None:
    """One record per inference: ``inference`` (0-based, in input order) and every ``per_inference`` column."""
    path = Path(path)
    check_writable(path, overwrite)
    keys = [k for k in PER_INFERENCE_KEYS if k in result.per_inference]
    keys += sorted(set(result.per_inference) - set(keys))
    columns = [np.asarray(result.per_inference[k]).tolist() for k in keys]
    bad = [k for k, col in zip(keys, columns) if len(col) != result.n_inferences]
    if bad:
        raise ValueError(f"per_inference columns {bad} do not have n_inferences = {result.n_inferences} values")

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["inference"] + keys)
            w.writerows([i] + [col[i] for col in columns] for i in range(result.n_inferences))

    atomic_write(path, write)


def _png(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def _energy_figure(plt, result: SimResult):
    by_kind = {k: result.breakdown.get("by_kind", {}).get(k, 0.0) * 1e-6 for k in KINDS}
    layers = sorted(result.breakdown.get("by_layer", {}).items(), key=lambda kv: -kv[1])
    shown = layers[:15] + ([(f"({len(layers) - 15} others)", sum(v for _, v in layers[15:]))] if len(layers) > 15
                           else [])
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(16, 0.8 + 0.35 * max(len(shown), 5)),
                                  gridspec_kw={"width_ratios": [1, 2, 1]})
    a.bar(list(by_kind), list(by_kind.values()), color=["tab:blue", "tab:orange", "tab:green", "tab:gray"])
    a.set_ylabel("uJ per inference")
    a.set_title("by kind", fontsize=9)
    b.barh([name for name, _ in shown][::-1], [v * 1e-6 for _, v in shown][::-1], color="tab:blue")
    b.set_xlabel("uJ per inference")
    b.set_title("by layer", fontsize=9)
    b.tick_params(axis="y", labelsize=7)
    _counting_panel(c, result.counting.get("methods", {}))
    total = float(np.mean(result.per_inference["energy_pJ"])) * 1e-6 if result.n_inferences else 0.0
    fig.suptitle(f"{result.chip}: {total:.4f} uJ per inference (mean of {result.n_inferences:,})", fontsize=10)
    fig.tight_layout()
    return fig


def _counting_panel(ax, methods: dict) -> None:
    """Stacked bars, uJ per inference: the chip by kind, the SNN rule (arithmetic), the ANN (compute + memory)."""
    chip_kinds = (methods.get("chip") or {}).get("by_kind_pJ") or {}
    bars = [("chip", [(k, chip_kinds.get(k, 0.0)) for k in KINDS])] if chip_kinds else []
    if "snn_rule" in methods:
        bars.append(("SNN rule", [("compute", methods["snn_rule"]["total_pJ"])]))
    if "ann" in methods:
        bars.append(("float32 ANN", [("compute", methods["ann"]["compute_pJ"]),
                                     ("memory", methods["ann"]["memory_pJ"])]))
    colors = dict(zip(KINDS, ["tab:blue", "tab:orange", "tab:green", "tab:gray"]))
    for x, (_, parts) in enumerate(bars):
        bottom = 0.0
        for kind, pj in parts:
            ax.bar(x, pj * 1e-6, bottom=bottom, color=colors[kind], label=kind)
            bottom += pj * 1e-6
    ax.set_xticks(range(len(bars)), [name for name, _ in bars])
    ax.set_ylabel("uJ per inference")
    ax.set_title("counting methods" if bars else "counting methods: not computed", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        unique = dict(zip(labels, handles))  # one entry per kind
        ax.legend(unique.values(), unique.keys(), fontsize=7)


def _raster_figure(plt, result: SimResult):
    pops = list(result.raster.items())
    fig, axes = plt.subplots(max(len(pops), 1), 1, figsize=(7, 1.2 + 1.8 * max(len(pops), 1)), squeeze=False)
    if not pops:
        axes[0, 0].text(0.5, 0.5, "no LIF populations", ha="center", va="center")
        axes[0, 0].set_axis_off()
    for ax, (name, spikes) in zip(axes[:, 0], pops):
        s = np.asarray(spikes)
        ax.imshow(s.T, aspect="auto", interpolation="nearest", cmap="Greys", vmin=0, vmax=1,
                  extent=(-0.5, s.shape[0] - 0.5, s.shape[1] - 0.5, -0.5))
        ax.set_title(f"{name}: {int(s.sum()):,} spikes, {s.shape[1]:,} neurons x {s.shape[0]} steps", fontsize=9)
        ax.set_ylabel("neuron")
        ax.set_xticks(range(s.shape[0]))
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(f"{result.chip}: spikes of inference 0", fontsize=10)
    fig.tight_layout()
    return fig


def mesh_load(result: SimResult) -> tuple[np.ndarray, np.ndarray, float]:
    """Per router (rows x cols, from the units' and links' mesh positions): energy in uJ summed over its units,
    busy cycles of its busiest unit; and the energy of the host (``kind`` "host") and of units without a mesh
    position, uJ, which sit off the mesh."""
    on_mesh = [isinstance(u.get("mesh"), (list, tuple)) and len(u["mesh"]) >= 2 and u.get("kind") != "host"
               for u in result.cores]
    placed = [u for u, m in zip(result.cores, on_mesh) if m]
    spots = [u["mesh"] for u in placed] + [p for link in result.links for p in (link["from"], link["to"])]
    rows = 1 + max((int(r) for r, _ in spots), default=0)
    cols = 1 + max((int(c) for _, c in spots), default=0)
    energy, busy = np.zeros((rows, cols)), np.zeros((rows, cols))
    for u in placed:
        r, c = int(u["mesh"][0]), int(u["mesh"][1])
        energy[r, c] += u["energy_pJ"] * 1e-6
        busy[r, c] = max(busy[r, c], u["busy_cycles"])
    unplaced = sum(u["energy_pJ"] for u, m in zip(result.cores, on_mesh) if not m) * 1e-6
    return energy, busy, unplaced


def _load_figure(plt, result: SimResult):
    energy, busy, unplaced = mesh_load(result)
    rows, cols = energy.shape
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.2 * cols, 1.5 + 0.6 * rows))
    for ax, grid, title, cmap in ((axes[0], energy, "energy, uJ per inference", "magma"),
                                  (axes[1], busy, "busy cycles of the busiest core", "viridis")):
        im = ax.imshow(grid, cmap=cmap, vmin=0.0)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("col")
        ax.set_ylabel("row")
        fig.colorbar(im, ax=ax, shrink=0.8)
    off = f"; off the mesh (host): {_uj(unplaced)} uJ per inference" if unplaced else ""
    for ax in axes:
        ax.set_xticks(range(cols))
        ax.set_yticks(range(rows))
    fig.suptitle(f"{result.chip}: load per router{off}", fontsize=9)
    fig.tight_layout()
    return fig


def _timeline_figure(plt, result: SimResult):
    """Inference 0 under event timing: one row per server that worked (unit stages, links), a bar per interval."""
    servers: list[str] = []
    for name, _, _ in result.timeline:
        if name not in servers:
            servers.append(name)
    servers.sort(key=lambda s: (s.startswith("link"), s))
    row = {s: i for i, s in enumerate(servers)}
    fig, ax = plt.subplots(figsize=(12, 1.5 + 0.22 * max(len(servers), 4)))
    colors = {"soma": "tab:blue", "output": "tab:orange", "input": "tab:purple", "synapse": "tab:green",
              "dendrite": "tab:olive"}
    for name, start, end in result.timeline:
        kind = "link" if name.startswith("link") else name.rsplit(".", 1)[-1]
        ax.barh(row[name], max(end - start, 1e-9), left=start, height=0.8, color=colors.get(kind, "tab:gray"))
    ends = np.cumsum([s["cycles"] for s in result.steps]) if result.n_inferences else []
    for x in ends:
        ax.axvline(x, color="k", linewidth=0.5, linestyle=":")
    ax.set_yticks(range(len(servers)), servers, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("cycles (dotted: mean step ends, barrier included)")
    ax.set_title(f"{result.chip}: event timeline of inference 0 (stages of each unit, links)", fontsize=10)
    fig.tight_layout()
    return fig


def _latency_figure(plt, result: SimResult):
    """Latency per inference (and the overlapped interval) as histograms, us."""
    fig, ax = plt.subplots(figsize=(7, 4))
    lat = np.asarray(result.per_inference["latency_us"])
    ax.hist(lat, bins=min(50, max(5, len(lat) // 20)), alpha=0.7, label=f"latency (mean {lat.mean():.2f} us)")
    if "interval_us" in result.per_inference:
        gap = np.asarray(result.per_inference["interval_us"])
        ax.hist(gap, bins=min(50, max(5, len(gap) // 20)), alpha=0.7,
                label=f"interval, overlapped (mean {gap.mean():.2f} us)")
    ax.set_xlabel("us per inference")
    ax.set_ylabel("inferences")
    ax.legend(fontsize=8)
    ax.set_title(f"{result.chip}: latency over {result.n_inferences:,} inferences ({result.timing} timing)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def write_plots(result: SimResult, folder: Path | str, overwrite: bool = False) -> list[Path]:
    """Write the PNGs of the module docstring into ``folder`` (created if needed); returns their paths."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; give a folder for the plots")
    makers = [_energy_figure, _raster_figure, _load_figure]
    names = list(PLOT_FILES)
    if result.timing == "event" and result.n_inferences:
        makers += [_timeline_figure, _latency_figure]
        names += list(EVENT_PLOT_FILES)
    paths = [folder / name for name in names]
    for p in paths:
        check_writable(p, overwrite)
    plt = pyplot()
    pngs = [_png(plt, make(plt, result)) for make in makers]
    for path, data in zip(paths, pngs):
        atomic_write(path, lambda tmp, data=data: tmp.write_bytes(data))
    return paths
