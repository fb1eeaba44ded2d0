"""The fast backend: runs a compiled :class:`~hardware.program.Program` on a batch of inferences, vectorised over the
batch, step by step and phase by phase, and counts every event per unit, per phase and per inference. numpy only.

Values: the executor's own loop (``ssr_neuro.graph.execute.trace``), i.e. exactly the fixed-point arithmetic of
``ssr_neuro.graph.fixed`` for a quantised graph (float64 for a float graph): the scores are bit for bit those of
``execute.run``. Counts: from the spike rasters, the LIF inputs and the lengths, by matrix products with the
program's tables (``hardware.program``): events [B, rows] @ each [rows, columns] (+ the readout row's part), then
columns -> counters, unit busy cycles and packets between units (-> links crossed) by small products.

A :class:`Ledger` holds, for B inferences: counts per inference and counter [B, counters]; the busiest unit's cycles
and the network cycles per inference and phase [B, phases]; summed over the inferences: busy cycles per phase and
unit, counts per (unit, counter, layer) and per (step, unit, counter), packets per directed link. Busy cycles per
(inference, phase, unit) are kept for one batch at a time (``begin`` / ``end``), so memory grows with B only through
[B, phases] arrays. With a ``sink`` (the event timing model, ``hardware.timing``), each batch's counts per (phase,
unit, counter) of the counters it reads (its ``counters``) and packets per phase and (from unit, to unit) pair of the
phase's emission (``hardware.program.phase_pairs``) are also kept until ``end`` and handed to its ``take_pairs``
there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ssr_neuro.graph.execute import EXACT32, trace
from ssr_neuro.graph.fixed import lif_run
from ssr_neuro.graph.ir import LIF, ItemInput

from hardware.costs import COUNTER_INDEX, COUNTERS, counter_cycles
from hardware.program import TABLE_PREFIX, Block, Program, phase_pairs



@dataclass
class _Sparse:
    """A matrix [rows, cols] kept as its non-zeros grouped by column, for products x [b, rows] @ M that cost in
    its non-zeros (the program's tables are sparse: a column charges one unit, a row reaches few columns), not in
    rows x cols, and that do not go through a threaded BLAS (whose start-up dominates such small products)."""

    rows: np.ndarray  # row of each non-zero, sorted by column
    vals: np.ndarray
    starts: np.ndarray  # first non-zero of each column that has some
    cols: np.ndarray  # those columns
    n_cols: int

    @staticmethod
    def of(m: np.ndarray) -> "_Sparse":
        r, c = np.nonzero(m.T)
        cols, starts = np.unique(r, return_index=True)
        return _Sparse(c, m[c, r], starts, cols, m.shape[1])

    @staticmethod
    def of_entries(rows, cols, vals, n_rows: int, n_cols: int) -> "_Sparse":
        """The matrix [n_rows, n_cols] whose (rows[i], cols[i]) entries sum vals[i], without making it dense."""
        rows, cols, vals = (np.asarray(v) for v in (rows, cols, vals))
        key = cols.astype(np.int64) * max(n_rows, 1) + rows.astype(np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        summed = np.bincount(inv.ravel(), weights=vals.astype(np.float64), minlength=uniq.size)
        r, c = uniq % max(n_rows, 1), uniq // max(n_rows, 1)
        used, starts = np.unique(c, return_index=True)
        return _Sparse(r, summed, starts, used, n_cols)

    def left(self, x: np.ndarray) -> np.ndarray:
        """x [b, rows] @ M -> [b, cols] (dtype of x times the values)."""
        out = np.zeros((x.shape[0], self.n_cols), np.result_type(x, self.vals))
        if self.rows.size:
            out[:, self.cols] = np.add.reduceat(x[:, self.rows] * self.vals, self.starts, axis=1)
        return out


@dataclass
class _Events:
    """A matrix M [rows, cols] of integers for exact products e [n, rows] @ M of 0/1 events (spikes, active updates):
    one matrix product (BLAS). Every partial sum is an integer no larger in magnitude than a column's sum of |M|, so
    float32 is exact while that stays below 2^24 (checked when made; float64 otherwise, exact below 2^53): the same
    numbers as any other order of summation, at the speed of a dense single-precision product (the matrices have
    a few to a few tens of columns, the events 4-100% ones)."""

    m: np.ndarray  # [rows, cols] float32 (or float64, above)
    n_cols: int

    @staticmethod
    def of(m: np.ndarray) -> "_Events":
        m = np.asarray(m, dtype=np.float64)
        if not np.array_equal(m, np.round(m)):
            raise ValueError("an events table must hold whole numbers (counts per event)")
        exact32 = np.abs(m).sum(axis=0).max(initial=0.0) < EXACT32
        return _Events(m.astype(np.float32 if exact32 else np.float64), m.shape[1])

    def left(self, e: np.ndarray) -> np.ndarray:
        """e [n, rows] (0/1 or bool) @ M -> [n, cols] float64."""
        return (e.astype(self.m.dtype, copy=False) @ self.m).astype(np.float64)


@dataclass
class _Compiled:
    """A block's columns turned into matrices: counts [B, cols] @ act -> counters, @ busy -> unit cycles."""

    act: _Sparse  # [cols, counters]
    busy: _Sparse  # [cols, units]
    entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # col, unit, counter, layer, mult
    pair_cols: np.ndarray  # [pairs]
    pair_latency: np.ndarray  # [pairs] cycles of one packet's route
    pair_links: _Sparse  # [pairs, links] 0/1
    totals: np.ndarray  # [cols] column sums of the block's ``each`` (float64)
    each: _Sparse  # the block's ``each`` [rows, cols] (float32)
    unit_act: _Sparse  # [cols, sink counters * units]: counts -> the sink's counters per unit (for a timing sink)


class Ledger:
    """Counts of B inferences (module docstring); ``charge`` adds one block's counts of some rows of the batch."""

    def __init__(self, program: Program, n_inferences: int, sink=None) -> None:
        self.program = program
        self.sink = sink  # its take_pairs(rows, counts [b, phases, units, counters], packets per phase [b, pairs])
        # is called at end() with the batch's counts, or None
        chip = program.chip
        self.layers = [name for name, _ in program.graph.nodes()]
        self.layer_index = {name: i for i, name in enumerate(self.layers)}
        n_units = len(program.units)
        self.unit_cycles = np.stack([counter_cycles(chip, u.kind) for u in program.units])  # [units, counters]
        self.link_cycles = np.array([chip.cycles["hop_ew"] if a[0] == b[0] else chip.cycles["hop_ns"]
                                     for a, b in program.links])
        self.counts = np.zeros((n_inferences, len(COUNTERS)))
        self.busiest = np.zeros((n_inferences, len(program.phases)))
        self.busy_sum = np.zeros((len(program.phases), n_units))
        self._rows = slice(0, 0)
        self._busy = np.zeros((0, len(program.phases), n_units))
        self.network = np.zeros((n_inferences, len(program.phases)))
        self.core_busy = np.zeros(n_inferences)  # busy cycles summed over the cores, per inference (static power)
        self.table = np.zeros((n_units, len(COUNTERS), len(self.layers)))
        self.by_step = np.zeros((len(program.steps), n_units, len(COUNTERS)))  # summed over the inferences
        self.link_packets = np.zeros(len(program.links))
        self.spikes = np.zeros(n_inferences)  # spikes fired by LIF populations per inference
        self.spikes_per_neuron = {name: np.zeros(node.shape) for name, node in program.graph.nodes()
                                  if isinstance(node, LIF)}  # summed over the inferences
        self._cache: dict[int, _Compiled] = {}
        self._events: dict[int, _Events] = {}
        # the counters the sink reads, and where each lands in its counts (-1: not read)
        self._sink_counters = np.asarray(sink.counters if sink is not None else [], np.int64)
        self._sink_slot = np.full(len(COUNTERS), -1, np.int64)
        self._sink_slot[self._sink_counters] = np.arange(self._sink_counters.size)
        self._unit_counts = np.zeros((len(program.phases), 0, self._sink_counters.size, n_units))
        self._pairs = phase_pairs(program)
        self._slot = [{(a, b): i for i, (a, b) in enumerate(pairs)} for pairs in self._pairs]
        self._slots: dict[tuple[int, int], np.ndarray] = {}  # (phase, id(block)) -> slot of each packet column
        self._packets: list[np.ndarray] = []

    def compiled(self, block: Block) -> _Compiled:
        """The block's matrices (sparse ``each``, column totals, charges per counter and unit), made once."""
        got = self._cache.get(id(block))
        if got is not None:
            return got
        n_cols, n_units = len(block.columns), len(self.program.units)
        charged = [(col, ch.unit, COUNTER_INDEX[ch.counter], self.layer_index.get(ch.layer, 0), ch.mult)
                   for col, charges in enumerate(block.columns) for ch in charges]
        col, unit, counter, layer = (np.array([e[i] for e in charged], dtype=np.int64) for i in range(4))
        mult = np.array([e[4] for e in charged], dtype=np.float64)
        act = np.zeros((n_cols, len(COUNTERS)))
        busy = np.zeros((n_cols, n_units))
        np.add.at(act, (col, counter), mult)  # in the charges' order, as a loop of += would
        np.add.at(busy, (col, unit), mult * self.unit_cycles[unit, counter])
        pair_links = np.zeros((len(block.pairs), len(self.program.links)))
        latency = np.zeros(len(block.pairs))
        for i, (_, a, b) in enumerate(block.pairs):
            route = self.program.routes[(a, b)]
            pair_links[i, route] = 1.0
            latency[i] = self.link_cycles[route].sum()
        slot = self._sink_slot[counter]
        read = slot >= 0
        width = self._sink_counters.size
        unit_act = _Sparse.of_entries(col[read], slot[read] * n_units + unit[read], mult[read], n_cols, width * n_units)
        got = _Compiled(_Sparse.of(act), _Sparse.of(busy), (col, unit, counter, layer, mult),
                        np.array([p[0] for p in block.pairs], dtype=np.int64), latency, _Sparse.of(pair_links),
                        block.each.sum(0, dtype=np.float64), _Sparse.of(block.each), unit_act)
        self._cache[id(block)] = got
        return got

    def events(self, block: Block) -> _Events:
        """The block's ``each`` for products with 0/1 events (:class:`_Events`), made once."""
        got = self._events.get(id(block))
        if got is None:
            got = self._events[id(block)] = _Events.of(block.each)
        return got

    def _pair_slots(self, phase: int, block: Block) -> np.ndarray:
        """Where each packet column of ``block`` adds in ``phase``'s packets (its pair's slot)."""
        got = self._slots.get((phase, id(block)))
        if got is None:
            slot = self._slot[phase]
            missing = [(a, b) for _, a, b in block.pairs if (a, b) not in slot]
            if missing:
                raise ValueError(f"phase {phase} charges packets {missing[:3]} outside its emission's pairs")
            got = self._slots[(phase, id(block))] = np.array([slot[(a, b)] for _, a, b in block.pairs], np.int64)
        return got

    def begin(self, rows: slice) -> None:
        """Start a batch: inferences ``rows`` of the ledger."""
        self._rows = rows
        self._busy = np.zeros((rows.stop - rows.start,) + self.busy_sum.shape)
        if self.sink is not None:
            b, (n_phases, n_units) = rows.stop - rows.start, self.busy_sum.shape
            self._unit_counts = np.zeros((n_phases, b, self._sink_counters.size, n_units))
            self._packets = [np.zeros((b, len(pairs))) for pairs in self._pairs]

    def end(self) -> None:
        """Close the batch: keep each phase's busiest unit per inference and the busy cycles summed."""
        self.busiest[self._rows] = self._busy.max(axis=2)
        self.core_busy[self._rows] = self._busy[:, :, :self.program.n_cores].sum(axis=(1, 2))
        self.busy_sum += self._busy.sum(axis=0)
        if self.sink is not None:
            self.sink.take_pairs(self._rows, self._unit_counts, self._packets)

    def charge(self, phase: int, counts: np.ndarray, block: Block) -> None:
        """Add counts [b, columns] of ``block`` for the current batch in ``phase``."""
        cb = self.compiled(block)
        rows = self._rows
        counts = np.asarray(counts, dtype=np.float64)
        one = counts[:1] if counts.strides[0] == 0 else counts  # the same row for every inference: price it once
        self.counts[rows] += cb.act.left(one)
        self._busy[:, phase] += cb.busy.left(one)
        if self.sink is not None:
            self._unit_counts[phase] += cb.unit_act.left(one).reshape((-1,) + self._unit_counts.shape[2:])
            if cb.pair_cols.size:
                np.add.at(self._packets[phase], (slice(None), self._pair_slots(phase, block)), counts[:, cb.pair_cols])
        col, unit, counter, layer, mult = cb.entries
        if col.size:
            added = counts.sum(0)[col] * mult
            np.add.at(self.table, (unit, counter, layer), added)
            np.add.at(self.by_step[self.program.phases[phase].step], (unit, counter), added)
        if cb.pair_cols.size:
            packets = counts[:, cb.pair_cols]
            load = cb.pair_links.left(packets)
            route = ((packets > 0) * cb.pair_latency).max(axis=1)
            links = (load * self.link_cycles).max(axis=1)
            self.network[rows, phase] = np.maximum(self.network[rows, phase], np.maximum(route, links))
            self.link_packets += load.sum(0)


def _emission_counts(block: Block, events: np.ndarray | None, length: np.ndarray, b: int, cb: _Compiled,
                     through: np.ndarray | None = None) -> np.ndarray:
    """counts [b, columns] of an emission: events [b, P, C] (None: every row emits once: the column sums of
    ``each``) through ``each`` (``through``: that product, made already), plus the readout row's part (row length-1
    of each inference); a read-only broadcast view where every inference's row is the same."""
    if through is not None:
        counts = through.copy()
    elif events is None:
        counts = np.broadcast_to(cb.totals, (b, block.each.shape[1]))
        if block.readout is None:
            return counts  # the same row for every inference (a read-only view)
        counts = counts.copy()
    else:
        flat = events.reshape(b, -1).astype(np.float32, copy=False)
        counts = cb.each.left(flat).astype(np.float64)
    if block.readout is not None:
        table = block.readout[length - 1]  # [b, C, columns]
        if events is None:
            counts += table.sum(1, dtype=np.float64)
        else:
            row = events[np.arange(b), length - 1].astype(np.float32, copy=False)  # [b, C]
            counts += np.einsum("bc,bcx->bx", row, table).astype(np.float64)
    return counts


def charge_batch(program: Program, ledger: Ledger, rows: slice, length: np.ndarray, spikes: dict[str, np.ndarray],
                 active: dict[int, np.ndarray], history: np.ndarray) -> None:
    """Charge one batch of inferences (``rows`` of the ledger) from what its neurons did, whichever backend ran it:
    ``spikes`` LIF population -> 0/1 [T, b, P * C]; ``active`` phase index -> active neuron updates [b, K] per core
    of that LIF phase's update block (``Program.updates``; active by ``chip.core.active_update``, see
    :func:`active_updates`); Graded and Readout neurons on cores update once, active; the populations of
    ``Program.background[k]`` take one idle update per neuron in phase k. ``length`` [b] picks the readout rows."""
    graph = program.graph
    b = length.shape[0]
    ledger.begin(rows)
    emitted = {name: over_steps(ledger.events(program.emissions[name]), s) for name, s in spikes.items()
               if name in program.emissions}  # [T, b, columns] of each LIF population's spikes, all steps at once
    fired = {name: s.sum(axis=2) for name, s in spikes.items()}  # [T, b] spikes per step (whole numbers: exact)
    for k, phase in enumerate(program.phases):
        block = program.emissions[phase.population]
        node = graph.node(phase.population) if phase.population in graph.g else None
        events = through = None
        if isinstance(node, ItemInput):
            events = program.input_events(history)
        elif phase.population in program.emissions and node is None and phase.population.startswith(TABLE_PREFIX):
            events = program.table_events(phase.population[len(TABLE_PREFIX):], history)
        elif isinstance(node, LIF):
            events = spikes[phase.population][phase.t].reshape(b, *node.shape)
            through = emitted[phase.population][phase.t]
            ledger.spikes[rows] += fired[phase.population][phase.t]
        ledger.charge(k, _emission_counts(block, events, length, b, ledger.compiled(block), through), block)
        update = program.updates.get(phase.population)
        if update is not None:
            total = ledger.compiled(update).totals
            if isinstance(node, LIF):
                ledger.charge(k, np.concatenate([active[k], total - active[k]], axis=1), update)
            else:  # every update active, in every inference
                ledger.charge(k, np.broadcast_to(np.concatenate([total, np.zeros_like(total)]), (b, 2 * total.size)),
                              update)
        for name in program.background[k]:
            idle = ledger.compiled(program.updates[name]).totals
            ledger.charge(k, np.broadcast_to(np.concatenate([np.zeros_like(idle), idle]), (b, 2 * idle.size)),
                          program.updates[name])
    ledger.end()
    for name, total in ledger.spikes_per_neuron.items():
        total += spikes[name].sum(axis=(0, 1)).reshape(total.shape)


def over_steps(table: _Events, events: np.ndarray) -> np.ndarray:
    """0/1 events [T, b, rows] of every step @ the table's matrix -> [T, b, cols] float64, in one product."""
    return table.left(events.reshape(-1, events.shape[-1])).reshape(events.shape[:2] + (table.n_cols,))


def active_updates(node: LIF, a_in: np.ndarray, spikes: np.ndarray, rule: str) -> np.ndarray:
    """Which neuron updates of a LIF population are active, [T, b, P * C] bool, from its input a_in [T, b, P, C]
    and spikes [T, b, P * C]: "input_or_spike" a_in(t) != 0 or it fires; "state_change" also when its bias, or its
    u or v before step t (after the reset of step t - 1) is non-zero: the state can change (for a float graph, the
    float LIF's v and bias)."""
    t_steps, b = spikes.shape[:2]
    flat = np.asarray(a_in).reshape(t_steps, b, -1)
    if rule == "input_or_spike":
        return (flat != 0) | (spikes != 0)
    fx = node.fixed
    bias = np.broadcast_to(np.asarray(node.bias if fx is None else fx.bias_mant), node.shape).reshape(-1)
    need = bias == 0  # a neuron with a bias is active at every step: its state matters only without one
    if not need.any():
        return np.ones(spikes.shape, bool)
    on = (flat != 0) | (spikes != 0)
    state = np.zeros(on.shape, bool)
    if fx is not None:
        _, u, v = lif_run(replace(fx, bias_mant=bias[need]), flat[:, :, need], keep_state=True)
        state[:, :, need] = (u != 0) | (v != 0)
    else:
        v = np.zeros(flat.shape[1:])
        for t in range(t_steps):  # the executor's float LIF (ssr_neuro.graph.execute.lif_spikes_float)
            v = v * (1.0 - 1.0 / node.tau) + (flat[t] + bias) / node.tau
            v[spikes[t] != 0] = node.reset
            state[t] = v != 0
    before = np.concatenate([np.zeros_like(state[:1]), state[:-1]])
    return on | before | (bias != 0)


def run_program(program: Program, history: np.ndarray, length: np.ndarray, batch_size: int = 256,
                progress=None, sink=None) -> tuple[np.ndarray, Ledger, dict[str, np.ndarray]]:
    """Run histories [B, L] with lengths [B]: (scores [B, N+1] float64 real units, the Ledger, raster of inference 0:
    LIF population -> spikes [T, P * C]). ``progress(n)`` is called with the inferences done after each batch;
    ``sink`` receives each batch's per-phase counts (:class:`Ledger`)."""
    graph = program.graph
    history = np.asarray(history, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    n = history.shape[0]
    ledger = Ledger(program, n, sink)
    out_name = graph.output_name()
    scores = np.empty((n, graph.node(out_name).shape[1]))
    raster: dict[str, np.ndarray] = {}
    rule = program.chip.core.active_update
    start = 0
    for batch in trace(graph, history, length, batch_size, scores_out=scores):  # the readout writes scores
        b = batch.history.shape[0]
        rows = slice(start, start + b)
        spikes = {name: batch.outputs[name].reshape(node.time_steps, b, -1) for name, node in graph.nodes()
                  if isinstance(node, LIF)}
        on = {name: active_updates(graph.node(name), batch.inputs[name], spikes[name], rule) for name in spikes}
        per_core = {name: over_steps(ledger.events(program.updates[name]), on[name]) for name in on
                    if name in program.updates}  # [T, b, K] active updates per core, all steps at once
        active = {k: per_core[phase.population][phase.t] for k, phase in enumerate(program.phases)
                  if phase.population in per_core}
        charge_batch(program, ledger, rows, batch.length, spikes, active, batch.history)
        if start == 0:
            raster = {name: s[:, 0].copy() for name, s in spikes.items()}
        start += b
        if progress is not None:
            progress(start)
    return scores, ledger, raster
