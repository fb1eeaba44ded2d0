"""``simulate(graph, mapping, chip, history, length) -> SimResult``: compile the program, run the fast engine, price
its counts with the cost model (``hardware.costs``) and assemble the result (``hardware.result``). numpy only.
``simulate_program(program, history, length)`` does the same on a program compiled once
(``hardware.program.compile_program``), for callers that run one mapping several times.

Per-inference totals: ``spikes`` = spikes fired by LIF populations (the item input's one spike per position is not
included); ``synaptic_ops`` = accumulates on spikes (cores); ``macs`` = core MACs + host MACs; ``neuron_updates`` =
active + idle updates on cores; ``packets`` = messages sent over the mesh (``message_out``); ``hops`` = link
crossings (east-west + north-south). Energies in pJ, latency in mesh cycles and us.

Timing: ``timing="analytic"`` (default) prices latency with ``hardware.costs.step_cycles`` (phases in sequence, no
overlap); ``timing="event"`` replays the same counts through ``hardware.timing.EventTiming`` (core pipelines,
routers with finite buffers, blocking; messages move in chunks of at most ``timing_chunk``) and adds, per inference,
``interval_cycles`` and ``interval_us`` (time between inferences when consecutive ones overlap). The counts, hence
every dynamic energy, are the same in both modes; static energy (leakage x time) follows the mode's latency.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ssr_neuro.errors import UserError

from hardware.costs import COUNTER_INDEX as C, KIND_OF, KINDS, PRICED, counter_energy_pJ, energy_by_kind, \
    static_energy_pJ, step_cycles
from hardware.chip import EXTRA_ACTIONS, barrier_cycles
from hardware.engine import Ledger, run_program
from hardware.program import MEMORIES, WORDS, Program, compile_program
from hardware.result import SimResult
from hardware.timing import EventTiming
from hardware.topk import chip_topk

TIMINGS = ("analytic", "event")


def simulate(graph, mapping, chip, history: np.ndarray, length: np.ndarray, batch_size: int = 256,
             progress: Callable[[int], None] | None = None, timing: str = "analytic",
             timing_chunk: int = 4) -> SimResult:
    """Simulate the mapped graph on ``chip`` for histories [B, L] (item ids, 0 = padding) with lengths [B];
    ``timing`` "analytic" or "event" (module docstring)."""
    return simulate_program(compile_program(graph, mapping, chip), history, length, batch_size, progress, timing,
                            timing_chunk)


def simulate_program(program: Program, history: np.ndarray, length: np.ndarray, batch_size: int = 256,
                     progress: Callable[[int], None] | None = None, timing: str = "analytic",
                     timing_chunk: int = 4) -> SimResult:
    """:func:`simulate` on an already compiled program (the graph, mapping and chip it was compiled from)."""
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1 (got {batch_size})")
    check_timing(timing, timing_chunk)
    events = EventTiming(program, len(length), timing_chunk) if timing == "event" else None
    scores, ledger, raster = run_program(program, history, length, batch_size, progress, sink=events)
    return assemble(program, ledger, scores, raster, events)


def check_timing(timing: str, chunks: int) -> None:
    """UserError naming the fix for an unknown timing mode or a chunk count below 1."""
    if timing not in TIMINGS:
        raise UserError(f"unknown timing {timing!r}: choose {' or '.join(TIMINGS)}")
    if chunks < 1:
        raise UserError(f"timing_chunk must be >= 1 message (got {chunks})")


def assemble(program: Program, ledger: Ledger, scores: np.ndarray, raster: dict[str, np.ndarray],
             events: EventTiming | None = None) -> SimResult:
    """Price the ledger and build the :class:`SimResult` (means over the batch where the contract says so); with
    ``events`` (the EventTiming that was the ledger's sink) latency is the event model's."""
    chip = program.chip
    n = ledger.counts.shape[0]
    n_steps = len(program.steps)
    counts = ledger.counts.copy()
    counts[:, C["barrier_sync"]] = n_steps
    phase_step = np.array([p.step for p in program.phases], dtype=np.int64)
    tiles = len({u.router for u in program.units if u.kind == "core"})
    steps = step_cycles(ledger.busiest, ledger.network, phase_step, n_steps, barrier_cycles(chip, tiles))
    if events is not None:
        steps["analytic_cycles"] = steps["cycles"]
        steps["cycles"] = events.step_cycles
        steps["barrier_cycles"] = np.full_like(events.step_cycles, events.barrier)
    latency = steps["cycles"].sum(axis=1)
    latency_us = latency / chip.mesh.clock_MHz
    n_cores = program.n_cores
    static = static_energy_pJ(chip, n_cores, len(powered_routers(program)), latency_us,
                              ledger.core_busy / chip.mesh.clock_MHz)
    kinds = energy_by_kind(counts, chip, static)
    energy = sum(kinds[k] for k in KINDS)
    per_inference = {
        "energy_pJ": energy, "latency_cycles": latency, "latency_us": latency_us, "spikes": ledger.spikes.copy(),
        "synaptic_ops": counts[:, C["synaptic_op"]], "macs": counts[:, C["mac"]] + counts[:, C["host_mac"]],
        "neuron_updates": counts[:, C["neuron_update"]] + counts[:, C["neuron_update_idle"]],
        "packets": counts[:, C["message_out"]], "hops": counts[:, C["hop_ew"]] + counts[:, C["hop_ns"]],
        **{f"energy_pJ_{k}": kinds[k] for k in KINDS},
    }
    if events is not None:
        per_inference["interval_cycles"] = events.interval.copy()
        per_inference["interval_us"] = events.interval / chip.mesh.clock_MHz
    price = counter_energy_pJ(chip)
    scale = 1.0 / max(n, 1)
    barrier_pJ = n_steps * chip.energy_pJ["barrier_sync"]
    static_mean = float(static.mean()) if n else 0.0
    table_pJ = ledger.table * price[None, :, None] * scale  # [units, counters, layers] mean per inference
    share = np.zeros(len(program.units))  # chip-wide energy split over the used cores (the host if none)
    share[:n_cores] = 1.0 / n_cores if n_cores else 0.0
    if not n_cores:
        share[program.host] = 1.0
    by_core_pJ = table_pJ.sum(axis=(1, 2)) + share * (barrier_pJ + static_mean)
    by_action = {a: float(counts[:, C[a]].mean() * price[C[a]]) if n else 0.0 for a in PRICED}
    by_action["static"] = static_mean
    by_layer = {layer: float(v) for layer, v in zip(ledger.layers, table_pJ.sum(axis=(0, 1)))}
    by_layer["barrier"], by_layer["static"] = barrier_pJ, static_mean
    breakdown = {
        "by_kind": {k: float(kinds[k].mean()) if n else 0.0 for k in KINDS},
        "by_layer": by_layer,
        "by_core": {u.name: float(v) for u, v in zip(program.units, by_core_pJ)},
        "by_action": by_action,
    }
    timing = events
    mean_busy = ledger.busy_sum * scale  # [phases, units]
    step_records = []
    for s, name in enumerate(program.steps):
        busy_units = mean_busy[phase_step == s].sum(axis=0)
        step_events = ledger.by_step[s].sum(axis=0) * scale
        step_records.append({
            "name": name, **{k: float(v[:, s].mean()) if n else 0.0 for k, v in steps.items()},
            "slowest_core": program.units[int(np.argmax(busy_units))].name,
            "phases": [p.population for p in program.phases if p.step == s],
            "busy_cycles": {u.name: float(c) for u, c in zip(program.units, busy_units) if c},
            "events": _events(step_events, chip),
            **({"bound": _bound(timing, s)} if timing is not None else {})})
    mean_table = ledger.table.sum(axis=2) * scale  # [units, counters]
    cores = []
    for k, unit in enumerate(program.units):
        row = mean_table[k]
        cores.append({
            "name": unit.name, "mesh": list(unit.router), "kind": unit.kind, "energy_pJ": float(by_core_pJ[k]),
            "busy_cycles": float(mean_busy[:, k].sum()),
            "events": _events(row, chip),
            "events_by_step": [_events(ledger.by_step[s, k] * scale, chip) for s in range(n_steps)],
            "memory_read_bytes": {m: float(row[C[f"bytes_{m}"]]) for m in MEMORIES if row[C[f"bytes_{m}"]]},
            "incoming": {k: float(row[C[f"in_{k}"]]) for k in ("spikes", "graded", "packets")}})
    links = [{"from": list(a), "to": list(b), "packets": float(p * scale)}
             for (a, b), p in zip(program.links, ledger.link_packets)]
    rates = {name: total * scale for name, total in ledger.spikes_per_neuron.items()}
    top = chip_topk(scores, chip.top_k) if program.topk_groups is not None else {}
    return SimResult(chip=chip.name, n_inferences=int(n), scores=scores, per_inference=per_inference,
                     breakdown=breakdown, steps=step_records, cores=cores, raster=raster, links=links, rates=rates,
                     topk=top, timing="analytic" if events is None else "event",
                     timeline=[] if events is None or events.timeline is None else events.timeline.intervals,
                     chip_bound=chip.bound)


def _bound(events: EventTiming, step: int) -> str:
    """The server most often held longest in ``step`` over the inferences (its share in brackets)."""
    row = events.bound_counts[step]
    if not row.sum():
        return "-"
    k = int(np.argmax(row))
    return f"{events.servers[k]} ({row[k] / row.sum():.0%})"


def powered_routers(program: Program) -> set[tuple[int, int]]:
    """Routers a mapping needs powered: those of its used cores and of the io port, and every router on the route
    of a packet the program can send (both ends of each link crossed)."""
    routers = {u.router for u in program.units if u.kind in ("core", "io")}
    blocks = list(program.emissions.values())
    for block in blocks:
        for _, a, b in block.pairs:
            for link in program.routes[(a, b)]:
                routers.update(program.links[link])
    return routers


def _events(row: np.ndarray, chip) -> dict[str, float]:
    """The non-zero chip actions, host MACs and words read of a counter row [len(COUNTERS)] (tallies left out; an
    optional action only where the chip file lists it, words only where it has a [memory] table)."""
    return {a: float(row[C[a]]) for a in PRICED
            if a in KIND_OF and row[C[a]] and (a not in EXTRA_ACTIONS or a in chip.energy_pJ)
            and (a not in WORDS or chip.memory_declared)}
