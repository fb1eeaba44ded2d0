"""What one unit of the chip (a core or the host) does at one Lava time step, in numpy, plus the program file both
sides share: the Lava ProcessModels (``hardware.lava.models``) call these functions on their Vars, and
:func:`run_serial` steps the same functions in one process (no Lava) to test a program file where Lava is absent.
numpy + ``ssr_neuro.graph.fixed`` only: runs on numpy 1.26 (the Lava environment) and numpy 2, never torch or Lava.

Program file (``plan.npz``, written by ``hardware.lava_backend.write_plan``, read with ``allow_pickle=False``): plain
arrays plus one JSON document in the entry ``meta`` (a 0-d unicode array):

    meta = {"format": "ssr-neuro/lava-plan", "version": 1, "n_inferences": B, "slots": G,
            "emitters": {emitter: [offset, size]},       # its values' slots on the bus of G values
            "phases": [[emitter, t], ...],              # the schedule (hardware.program), one Lava step each
            "input": name, "readout": name, "readout_exp": e, "lif_record": [LIF populations],
            "lif": {pop: {du, dv, vth, bias_exp, state_bits, input_bits, T}}, "bits": {graded pop: bits},
            "units": [{"name", "kind": "core" | "host", "senders": [unit], "pops": [...], "edges": [...]}],
            "active_update": "input_or_spike" | "state_change",  # chip.core.active_update (absent: the first)
            "background": [[population, ...] per phase]}        # Program.background (absent: none)
    arrays: history [B, L], length [B]; per unit k: "{k}.{pop}.idx" (flat neuron indices it holds), "{k}.{pop}.bias"
            (LIF bias_mant or graded bias of those neurons), "{k}.weights" (every edge's weights, concatenated),
            "{k}.e{j}.wi" (dense edges: the weight row of each target neuron).

The bus. Every emitter (the item input, each population, each ``host>X``) owns a slice of a vector of G integers.
At step g (inference g // S, local step k = g % S, S = phases + 1) every unit first sends what it computed at step
g - 1 (zeros at k = 0) to the units that receive from it along the mapping's routes, then receives the sum of its
senders' vectors (the slices are disjoint, so the sum is their union) plus its own (local delivery), then
- k = 0: resets its state (a new inference), else integrates phase k - 1's emission (what its synapses do),
- k < S - 1: updates and emits its neurons of phase k's emitter (LIF at step t, Graded/Readout once, ``host>X``).
So the schedule's phases run in order, zero-delay inside a step as ``hardware.program`` says, one Lava step each.
The item input carries the history's item ids (one per position) and its length (the readout row for every
"readout" edge); it reaches every unit. Arithmetic: exactly ``ssr_neuro.graph.fixed`` (per edge W_int . x_int,
rounded into the target's units per edge; LIF: a_in = sat16 of the summed edges per step, then the Lava LIF; Graded
and Readout: raw W . x summed over the window, rounded once per edge, + bias, saturated).

Counters each unit keeps (``COUNTERS``): synaptic_op (spike inputs arriving on its synapses: spike source on a core),
mac (graded inputs on a core), host_mac (any input evaluated on the host), neuron_update / neuron_update_idle (LIF:
active when a_in != 0 or it fires, with "state_change" also when its bias or its u or v before the step is non-zero;
Graded/Readout on cores: every neuron, active; plus one idle update per neuron of each population that
``background`` lists for the phase), spikes fired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr_neuro.files import atomic_write
from ssr_neuro.graph.fixed import ACT_SHIFT, DECAY_UNITY, VTH_SHIFT, decay, int_range, round_shift, saturate, \
    wrap_state

FORMAT = "ssr-neuro/lava-plan"
VERSION = 1
COUNTERS = ("synaptic_op", "mac", "host_mac", "neuron_update", "neuron_update_idle", "spikes")
_C = {c: i for i, c in enumerate(COUNTERS)}


def load_plan(path: Path | str) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a program file; ValueError if it is not one of ours."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"{path} is not an ssr-neuro Lava program file (format {FORMAT} v{VERSION})")
    return meta, arrays


def save_npz(path: Path | str, arrays: dict[str, np.ndarray]) -> None:
    """Write plain arrays to an npz file atomically (program, sink and result files)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    atomic_write(Path(path), write)


# ------------------------------------------------------------------------------------------------ one unit


@dataclass
class _Pop:
    name: str
    kind: str  # LIF | Graded | Readout | Sum (the host's sum of host layers into X, emitted as host>X) | Table
    #           | Partial (raw partial sums of a split layer, mapping.splits)
    idx: np.ndarray  # flat neuron indices held here
    bias: np.ndarray  # float64 integers (LIF: bias_mant << bias_exp)
    sl: slice  # this population's part of the unit's LIF or graded state
    slots: np.ndarray  # its neurons' slots on the bus
    rows: np.ndarray  # p of each neuron
    chans: np.ndarray  # c of each neuron


@dataclass
class _Edge:
    source: str
    target: _Pop
    kind: str  # item | spike | graded | host | table (an item table's values into its target) | partial
    structure: str  # dense | diagonal | circulant | copy | table (an item table's range: the ids into a Table)
    readout: bool
    shift: int
    weight: np.ndarray  # dense [rows, C_in] (wi picks a row per neuron); diagonal [n]; circulant [n, P_in]
    wi: np.ndarray | None
    fan_in: int
    raw: slice | None  # its raw accumulator in the unit's state (targets summed over a window)
    counter: int  # which counter its synaptic work goes to
    src_shape: tuple[int, int]
    table: tuple[str, int, int] | None = None  # structure "table": (mode, first item id, first channel)
    window: tuple[int, int] | None = None  # a split layer's fan-in range (source channels, circulant: positions)
    const: bool = False  # kind "partial": graded partial sums into a LIF population (a constant drive)


class UnitCore:
    """The tables of unit ``k`` of a plan and its step function; the state lives in arrays the caller owns (the
    Lava Vars): see :meth:`state_shapes`."""

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray], k: int, weights: np.ndarray | None = None) -> None:
        """``weights``: the array the edges read their weights from (the core's Var; default the plan's)."""
        spec = meta["units"][k]
        self.meta, self.kind, self.name = meta, spec["kind"], spec["name"]
        self.slots_of = {e: np.arange(o, o + n) for e, (o, n) in meta["emitters"].items()}
        self.n_phases = len(meta["phases"])
        self.background = meta.get("background", [[] for _ in meta["phases"]])
        self.state_change = meta.get("active_update", "input_or_spike") == "state_change"
        self.input = meta["input"]
        self.pops: dict[str, _Pop] = {}
        n_lif = n_graded = 0
        for p in spec["pops"]:
            idx = arrays[f"{k}.{p['name']}.idx"].astype(np.int64)
            bias = arrays[f"{k}.{p['name']}.bias"].astype(np.float64)
            if p["kind"] == "LIF":
                bias = bias * float(1 << meta["lif"][p["name"]]["bias_exp"])
                sl, n_lif = slice(n_lif, n_lif + idx.size), n_lif + idx.size
            else:
                sl, n_graded = slice(n_graded, n_graded + idx.size), n_graded + idx.size
            emitter = p["name"]
            chans = p["shape"][1]
            self.pops[p["name"]] = _Pop(p["name"], p["kind"], idx, bias, sl, self.slots_of[emitter][idx],
                                        idx // chans, idx % chans)
        self.n_lif, self.n_graded = n_lif, n_graded
        self.t_max = max([meta["lif"][p]["T"] for p, q in self.pops.items() if q.kind == "LIF"], default=1)
        weights = arrays[f"{k}.weights"] if weights is None else weights
        self.edges_from: dict[str, list[_Edge]] = {}
        n_raw = 0
        for j, e in enumerate(spec["edges"]):
            target = self.pops[e["target"]]
            w = weights[e["w_off"]:e["w_off"] + int(np.prod(e["w_shape"]))].reshape(e["w_shape"])
            raw = None
            if target.kind != "LIF" and e["kind"] != "host":
                raw, n_raw = slice(n_raw, n_raw + target.idx.size), n_raw + target.idx.size
            counter = _C["host_mac"] if self.kind == "host" else _C["mac" if e["kind"] == "graded" else "synaptic_op"]
            if e["structure"] == "table":
                raw = None
            edge = _Edge(e["source"], target, e["kind"], e["structure"], e["positions"] == "readout", e["shift"], w,
                         arrays.get(f"{k}.e{j}.wi"), e["fan_in"], raw, counter, tuple(e["src_shape"]),
                         (e["mode"], e["i0"], e["d0"]) if e["structure"] == "table" else None,
                         tuple(e["window"]) if e.get("window") else None, bool(e.get("const", False)))
            self.edges_from.setdefault(e["source"], []).append(edge)
        self.n_raw = n_raw

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """The unit's state arrays (int64): LIF u, v, input per step and constant drive; raw window sums; host
        messages received by graded neurons; the pending emission; the length; the counters. Never empty (Lava
        Vars are not): a unit without LIF neurons keeps one unused LIF slot, and so on."""
        n_lif, n_raw, n_graded = max(self.n_lif, 1), max(self.n_raw, 1), max(self.n_graded, 1)
        return {"u": (n_lif,), "v": (n_lif,), "lif_acc": (self.t_max, n_lif),
                "lif_const": (n_lif,), "raw": (n_raw,), "graded_in": (n_graded,),
                "pending": (self.meta["slots"],), "length": (1,), "counters": (len(COUNTERS),)}

    # -- one step
    def step(self, g: int, state: dict[str, np.ndarray], received: np.ndarray) -> tuple[np.ndarray, int]:
        """Local step k = g % S: integrate phase k-1 (or reset at k = 0), then emit phase k. ``received`` is the
        bus as this unit sees it (senders + its own pending). Returns (the emission to send next step, active
        neuron updates of this phase on this unit)."""
        k = g % (self.n_phases + 1)
        if k == 0:
            for key in ("u", "v", "lif_acc", "lif_const", "raw", "graded_in", "length"):
                state[key][...] = 0
        else:
            emitter, t = self.meta["phases"][k - 1]
            self._integrate(emitter, t, state, received)
        out = np.zeros(self.meta["slots"], np.int64)
        active = 0
        if k < self.n_phases:
            emitter, t = self.meta["phases"][k]
            pop = self.pops.get(emitter)
            if pop is not None:
                active = self._emit(pop, t, state, out)
            if self.kind == "core":
                state["counters"][_C["neuron_update_idle"]] += sum(
                    self.pops[name].idx.size for name in self.background[k] if name in self.pops)
        return out, active

    def _integrate(self, emitter: str, t: int, state: dict[str, np.ndarray], received: np.ndarray) -> None:
        x = received[self.slots_of[emitter]]
        if emitter == self.input:
            state["length"][0] = x[-1]
        length = int(state["length"][0])
        for e in self.edges_from.get(emitter, []):
            pop = e.target
            if e.kind == "host":  # the host's sum of host layers: a bias write
                vals = x[pop.idx].astype(np.float64)
                self._add_drive(pop, state, vals)
                continue
            if e.structure == "table":  # an item table's range: read (lookup) or accumulate (fanin) the rows
                self._table_read(e, x, state)
                continue
            if e.kind == "table":  # the table's values: one per neuron, added raw (rounded once, as one edge)
                vals = x[pop.idx]
                state["counters"][_C["synaptic_op"]] += pop.idx.size
                if pop.kind == "LIF":
                    state["lif_acc"][0, pop.sl] += round_shift(vals, e.shift).astype(np.int64)
                else:
                    state["raw"][e.raw] += vals.astype(np.int64)
                continue
            if e.kind == "partial":  # raw partial sums of a split layer: merged by adding, rounded once here
                vals = x[pop.idx]
                state["counters"][_C["synaptic_op"]] += pop.idx.size * e.fan_in  # one add per value received
                if pop.kind != "LIF":
                    state["raw"][e.raw] += vals.astype(np.int64)
                elif e.const:
                    state["lif_const"][pop.sl] += round_shift(vals, e.shift).astype(np.int64)
                else:
                    state["lif_acc"][t, pop.sl] += round_shift(vals, e.shift).astype(np.int64)
                continue
            contrib, n_inputs = self._propagate(e, x, length)
            state["counters"][e.counter] += int(n_inputs)
            if pop.kind == "LIF":
                step = 0 if e.kind == "item" else t
                add = round_shift(contrib, e.shift).astype(np.int64)
                if e.kind == "graded":
                    state["lif_const"][pop.sl] += add
                else:
                    state["lif_acc"][step, pop.sl] += add
            else:
                state["raw"][e.raw] += contrib.astype(np.int64)

    def _table_read(self, e: _Edge, x: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """The ids of the positions whose item lies in this core's range pick their rows: the values W[d, id] of
        the range's channels go to the Table population's state (zero elsewhere), sent in the table's phase.
        With "fanin" each is a synaptic op into a partial accumulator, which updates once when it sends."""
        pop = e.target
        mode, i0, d0 = e.table
        ids = x[:-1].astype(np.int64)[pop.rows] - i0
        hit = (ids >= 0) & (ids < e.weight.shape[1])
        vals = np.where(hit, e.weight[pop.chans - d0, np.clip(ids, 0, e.weight.shape[1] - 1)], 0)
        state["graded_in"][pop.sl] = vals
        if mode == "fanin":
            state["counters"][_C["synaptic_op"]] += int(hit.sum())
            state["counters"][_C["neuron_update"]] += int(hit.sum())

    def _add_drive(self, pop: _Pop, state: dict[str, np.ndarray], vals: np.ndarray) -> None:
        if pop.kind == "LIF":
            state["lif_const"][pop.sl] += vals.astype(np.int64)
        else:
            state["graded_in"][pop.sl] += vals.astype(np.int64)

    def _propagate(self, e: _Edge, x: np.ndarray, length: int) -> tuple[np.ndarray, float]:
        """W . x for the target neurons held here (float64 integers) and how many synaptic inputs arrived."""
        pop = e.target
        n = pop.idx.size
        rows = np.full(n, length - 1) if e.readout else pop.rows
        if e.kind == "item":  # one spike per position on axon item[p]: a column of the dense weight
            ids = x[:-1].astype(np.int64)
            return e.weight[e.wi, ids[rows]], float(n)
        X = x.astype(np.float64).reshape(e.src_shape)
        if e.window is not None:  # a partial core: only its fan-in range
            a0, a1 = e.window
            X = X[a0:a1] if e.structure == "circulant" else X[:, a0:a1]
        graded = e.kind == "graded"
        if e.structure == "dense":
            out = np.einsum("nc,nc->n", e.weight[e.wi], X[rows])
            count = n * e.fan_in if graded else X.sum(1)[rows].sum()
        elif e.structure == "diagonal":
            vals = X[rows, pop.chans]
            out = e.weight * vals
            count = n if graded else vals.sum()
        else:
            cols = X[:, pop.chans].T  # [n, P_in]
            out = np.einsum("nl,nl->n", e.weight, cols)
            count = n * e.fan_in if graded else cols.sum()
        return out, float(count)

    def _emit(self, pop: _Pop, t: int, state: dict[str, np.ndarray], out: np.ndarray) -> int:
        counters = state["counters"]
        if pop.kind == "Table":
            out[pop.slots] = state["graded_in"][pop.sl]
            return 0
        if pop.kind == "Partial":  # raw partial sums, sent and cleared; each accumulator updates once
            for e in (e for edges in self.edges_from.values() for e in edges if e.target is pop):
                out[pop.slots] += state["raw"][e.raw]
                state["raw"][e.raw] = 0
            counters[_C["neuron_update"]] += pop.idx.size
            return 0
        if pop.kind == "LIF":
            fx = self.meta["lif"][pop.name]
            a_in = (state["lif_const"][pop.sl] + state["lif_acc"][t, pop.sl]).astype(np.float64)
            changing = (pop.bias != 0) | (state["u"][pop.sl] != 0) | (state["v"][pop.sl] != 0) \
                if self.state_change else False
            s = self._lif_step(fx, pop, state, a_in)
            out[pop.slots] = s
            active = int(((a_in != 0) | (s != 0) | changing).sum())
            counters[_C["spikes"]] += int(s.sum())
        else:
            total = state["graded_in"][pop.sl].astype(np.float64)
            for edges in self.edges_from.values():
                for e in edges:
                    if e.target is pop and e.raw is not None:
                        total = total + round_shift(state["raw"][e.raw], e.shift)
            y = total if pop.kind == "Sum" else saturate(total + pop.bias, self.meta["bits"][pop.name])
            out[pop.slots] = y.astype(np.int64)
            active = pop.idx.size if pop.kind != "Sum" else 0
        if self.kind == "core":
            counters[_C["neuron_update"]] += active
            counters[_C["neuron_update_idle"]] += pop.idx.size - active
        return active

    @staticmethod
    def _lif_step(fx: dict, pop: _Pop, state: dict[str, np.ndarray], a_in: np.ndarray) -> np.ndarray:
        """One step of ``ssr_neuro.graph.fixed.lif_run`` on the neurons held here; updates u, v; returns spikes."""
        lo, hi = int_range(fx["input_bits"])
        half = 1 << (fx["state_bits"] - 1)
        u_keep, v_keep = DECAY_UNITY - (fx["du"] + 1), DECAY_UNITY - fx["dv"]
        memory = u_keep != 0 or (hi << ACT_SHIFT) >= half
        drive = np.clip(a_in, lo, hi) * float(1 << ACT_SHIFT)
        u_old = state["u"][pop.sl].astype(np.float64)
        u = wrap_state(decay(u_old, u_keep) + drive, fx["state_bits"]) if memory else drive
        v = decay(state["v"][pop.sl].astype(np.float64), v_keep)
        v += u
        v += pop.bias
        np.clip(v, -(half - 1.0), half - 1.0, out=v)
        s = v > float(fx["vth"] << VTH_SHIFT)
        v[s] = 0.0
        state["u"][pop.sl] = u.astype(np.int64)
        state["v"][pop.sl] = v.astype(np.int64)
        return s.astype(np.int64)


# ------------------------------------------------------------------------------------------------ io port


def source_step(meta: dict, arrays: dict[str, np.ndarray], g: int) -> np.ndarray:
    """The item input's emission computed at step g: at local step 0 the ids of inference g // S and its length."""
    out = np.zeros(meta["slots"], np.int64)
    n_steps = len(meta["phases"]) + 1
    if g % n_steps == 0:
        i = g // n_steps
        off, size = meta["emitters"][meta["input"]]
        out[off:off + size - 1] = arrays["history"][i]
        out[off + size - 1] = arrays["length"][i]
    return out


class Recorder:
    """What the sink keeps: Readout integers [B, N+1], LIF spikes per population [B, T, P * C] (uint8), active
    neuron updates per inference, phase and unit [B, phases, units]."""

    def __init__(self, meta: dict) -> None:
        self.meta = meta
        b, n_units = meta["n_inferences"], len(meta["units"])
        self.scores = np.zeros((b, meta["emitters"][meta["readout"]][1]), np.int64)
        self.spikes = {p: np.zeros((b, meta["lif"][p]["T"], meta["emitters"][p][1]), np.uint8)
                       for p in meta["lif_record"]}
        self.active = np.zeros((b, len(meta["phases"]), n_units), np.int32)

    @property
    def total_steps(self) -> int:
        return self.meta["n_inferences"] * (len(self.meta["phases"]) + 1)

    def record(self, g: int, received: np.ndarray, reports: np.ndarray) -> None:
        """At step g the bus carries phase k - 1's emission and the units' active counts of that phase."""
        n_steps = len(self.meta["phases"]) + 1
        i, k = divmod(g, n_steps)
        if k == 0:
            return
        emitter, t = self.meta["phases"][k - 1]
        off, size = self.meta["emitters"][emitter]
        if emitter == self.meta["readout"]:
            self.scores[i] = received[off:off + size]
        elif emitter in self.spikes:
            self.spikes[emitter][i, t] = received[off:off + size]
        self.active[i, k - 1] = reports

    def arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores, "active": self.active, **{f"spikes.{p}": s for p, s in self.spikes.items()}}


def run_serial(meta: dict, arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Step every unit of a plan in this process exactly as the Lava run does (same bus, same order): (the sink's
    arrays, counters [units, COUNTERS]). The reference the Lava processes are tested against, and a check of a
    program file where Lava is absent."""
    units = [UnitCore(meta, arrays, k) for k in range(len(meta["units"]))]
    states = [{key: np.zeros(shape, np.int64) for key, shape in u.state_shapes().items()} for u in units]
    source = np.zeros(meta["slots"], np.int64)
    reports = np.zeros(len(units), np.int64)
    rec = Recorder(meta)
    for g in range(rec.total_steps):
        sent = [st["pending"].copy() for st in states]
        bus_in = [source + sum((sent[j] for j in spec["senders"]), np.zeros(meta["slots"], np.int64))
                  for spec in meta["units"]]
        rec.record(g, source + sum(sent), reports)
        source = source_step(meta, arrays, g)
        reports = np.zeros(len(units), np.int64)
        for k, (unit, st) in enumerate(zip(units, states)):
            st["pending"][:], reports[k] = unit.step(g, st, bus_in[k] + sent[k])
    return rec.arrays(), np.stack([st["counters"] for st in states])
