"""``simulate(graph, mapping, chip, history, length) -> SimResult``: compile the program, run the fast engine, price
its counts with the cost model (``hardware.costs``) and assemble the result (``hardware.result``). numpy only.

Per-inference totals: ``spikes`` = spikes fired by LIF populations (the item input's one spike per position is not
included); ``synaptic_ops`` = accumulates on spikes (cores); ``macs`` = core MACs + host MACs; ``neuron_updates`` =
active + idle updates on cores; ``packets`` = messages sent over the mesh (``message_out``); ``hops`` = link
crossings (east-west + north-south). Energies in pJ, latency in mesh cycles and us.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ssr_neuro.errors import UserError

from hardware.costs import COUNTERS, KIND_OF, KINDS, PRICED, counter_energy_pJ, energy_by_kind, static_energy_pJ, \
    step_cycles
from hardware.engine import Ledger, run_program
from hardware.program import MEMORIES, Program, compile_program
from hardware.result import SimResult
from hardware.topk import chip_topk

C = {c: i for i, c in enumerate(COUNTERS)}


def simulate(graph, mapping, chip, history: np.ndarray, length: np.ndarray, batch_size: int = 256,
             progress: Callable[[int], None] | None = None) -> SimResult:
    """Simulate the mapped graph on ``chip`` for histories [B, L] (item ids, 0 = padding) with lengths [B]."""
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1 (got {batch_size})")
    program = compile_program(graph, mapping, chip)
    scores, ledger, raster = run_program(program, history, length, batch_size, progress)
    return assemble(program, ledger, scores, raster)


def assemble(program: Program, ledger: Ledger, scores: np.ndarray, raster: dict[str, np.ndarray]) -> SimResult:
    """Price the ledger and build the :class:`SimResult` (means over the batch where the contract says so)."""
    chip = program.chip
    n = ledger.counts.shape[0]
    n_steps = len(program.steps)
    counts = ledger.counts.copy()
    counts[:, C["barrier_sync"]] = n_steps
    phase_step = np.array([p.step for p in program.phases], dtype=np.int64)
    steps = step_cycles(ledger.busiest, ledger.network, phase_step, n_steps, chip.cycles["barrier_sync"])
    latency = steps["cycles"].sum(axis=1)
    latency_us = latency / chip.mesh.clock_MHz
    n_cores = program.n_cores
    static = static_energy_pJ(chip, n_cores, latency_us)
    kinds = energy_by_kind(counts, chip, static)
    energy = sum(kinds[k] for k in KINDS)
    per_inference = {
        "energy_pJ": energy, "latency_cycles": latency, "latency_us": latency_us, "spikes": ledger.spikes.copy(),
        "synaptic_ops": counts[:, C["synaptic_op"]], "macs": counts[:, C["mac"]] + counts[:, C["host_mac"]],
        "neuron_updates": counts[:, C["neuron_update"]] + counts[:, C["neuron_update_idle"]],
        "packets": counts[:, C["message_out"]], "hops": counts[:, C["hop_ew"]] + counts[:, C["hop_ns"]],
        **{f"energy_pJ_{k}": kinds[k] for k in KINDS},
    }
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
    mean_busy = ledger.busy_sum * scale  # [phases, units]
    step_records = []
    for s, name in enumerate(program.steps):
        busy_units = mean_busy[phase_step == s].sum(axis=0)
        events = ledger.by_step[s].sum(axis=0) * scale
        step_records.append({
            "name": name, **{k: float(v[:, s].mean()) if n else 0.0 for k, v in steps.items()},
            "slowest_core": program.units[int(np.argmax(busy_units))].name,
            "phases": [p.population for p in program.phases if p.step == s],
            "busy_cycles": {u.name: float(c) for u, c in zip(program.units, busy_units) if c},
            "events": _events(events)})
    mean_table = ledger.table.sum(axis=2) * scale  # [units, counters]
    cores = []
    for k, unit in enumerate(program.units):
        row = mean_table[k]
        cores.append({
            "name": unit.name, "mesh": list(unit.router), "kind": unit.kind, "energy_pJ": float(by_core_pJ[k]),
            "busy_cycles": float(mean_busy[:, k].sum()),
            "events": _events(row),
            "events_by_step": [_events(ledger.by_step[s, k] * scale) for s in range(n_steps)],
            "memory_read_bytes": {m: float(row[C[f"bytes_{m}"]]) for m in MEMORIES if row[C[f"bytes_{m}"]]},
            "incoming": {k: float(row[C[f"in_{k}"]]) for k in ("spikes", "graded", "packets")}})
    links = [{"from": list(a), "to": list(b), "packets": float(p * scale)}
             for (a, b), p in zip(program.links, ledger.link_packets)]
    rates = {name: total * scale for name, total in ledger.spikes_per_neuron.items()}
    top = chip_topk(scores, chip.top_k) if program.topk_groups is not None else {}
    return SimResult(chip=chip.name, n_inferences=int(n), scores=scores, per_inference=per_inference,
                     breakdown=breakdown, steps=step_records, cores=cores, raster=raster, links=links, rates=rates,
                     topk=top)


def _events(row: np.ndarray) -> dict[str, float]:
    """The non-zero chip actions and host MACs of a counter row [len(COUNTERS)] (tallies left out)."""
    return {a: float(row[C[a]]) for a in PRICED if a in KIND_OF and row[C[a]]}
