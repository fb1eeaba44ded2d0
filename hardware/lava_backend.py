"""The Lava backend, main side (never imports Lava or torch): runs a compiled :class:`~hardware.program.Program` with
every unit of the mapped chip (each core, and the host when it does work) as a Lava process, and returns the same
(scores, Ledger, raster) as the fast engine (``hardware.engine.run_program``), so ``hardware.simulate.assemble``
prices both the same way.

1. :func:`write_plan` lowers the program into a program file (``hardware.lava.core`` describes it: npz of plain
   arrays + JSON, no pickle): each unit's neurons, biases, the weights of the layers it evaluates restricted to its
   neurons (its synapse memory), its senders along the mapping's routes, the schedule, the inferences' inputs.
2. The worker (``hardware.lava.worker``) runs it in Lava: in this interpreter when it has Lava, else in the Python
   3.10 environment ``.venv-lava`` (``scripts/setup.sh``) as a subprocess in its own session, with a timeout; on a
   timeout, a crash or an interrupt the whole process group is ended (SIGTERM, then SIGKILL) and the shared-memory
   segments it left in /dev/shm are removed. The sink process writes the scores, spikes and active-update counts
   to a result file; the units' own counters come back through their Vars.
3. :func:`read_result` charges a :class:`~hardware.engine.Ledger` from the Lava run's own spikes and active counts
   with the program's tables (``engine.charge_batch``, the code the fast engine uses) and checks the counters the
   Lava cores kept themselves (synaptic ops, MACs, host MACs, neuron updates, spikes) against that Ledger.

Cost (ML-100K, see ``benchmarks/lava_vs_fast.py``): a Lava run starts in seconds (import, compile, one OS process per
unit) and then takes one Lava step per phase of the schedule per inference, about 1 ms per step and unit on these
machines; use it to check the fast engine, not to evaluate a test set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.execute import _check_inputs as check_inputs
from ssr_neuro.graph.fixed import edge_shift
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, is_spiking

from hardware.costs import COUNTERS as LEDGER_COUNTERS
from hardware.engine import Ledger, charge_batch
from hardware.lava.core import COUNTERS, FORMAT, VERSION, save_npz
from hardware.program import Program, compile_program
from mapping.pieces import populations

REPO = Path(__file__).resolve().parents[1]
LAVA_VENV = REPO / ".venv-lava"
SHM = Path("/dev/shm")
SETUP_HINT = "run ./scripts/setup.sh (it creates .venv-lava with python3.10 and lava-nc==0.10.0)"


class LavaError(RuntimeError):
    """The Lava run failed inside Lava (the message carries the worker's last lines)."""


@dataclass
class LavaRun:
    """A Lava run: what the fast engine returns, plus the units' own counters and the run's timings (s)."""

    scores: np.ndarray
    ledger: Ledger
    raster: dict[str, np.ndarray]
    counters: np.ndarray  # [plan units, hardware.lava.core.COUNTERS]
    timings_s: dict[str, float]


# ------------------------------------------------------------------------------------------------ environment

def lava_python() -> Path | None:
    """The Lava environment's interpreter, if ``.venv-lava`` exists."""
    py = LAVA_VENV / "bin" / "python"
    return py if py.is_file() else None


def lava_in_process() -> bool:
    """Whether this interpreter can import Lava itself."""
    return importlib.util.find_spec("lava") is not None


def lava_status() -> tuple[bool, str]:
    """(usable, one line): whether the Lava backend can run here and, if not, how to make it so."""
    if lava_in_process():
        return True, f"Lava backend: usable in this interpreter ({sys.executable})"
    py = lava_python()
    if py is None:
        return False, f"Lava backend: not set up ({LAVA_VENV} is absent); {SETUP_HINT}"
    probe = subprocess.run([str(py), "-c", "import lava.magma.core.process.process, numpy; "
                                           "from importlib.metadata import version; print(version('lava-nc'), "
                                           "numpy.__version__)"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"Lava backend: {py} cannot import Lava ({last}); remove {LAVA_VENV} and {SETUP_HINT}"
    lava_v, numpy_v = probe.stdout.split()
    return True, f"Lava backend: usable (lava-nc {lava_v}, numpy {numpy_v} in {LAVA_VENV})"


# ------------------------------------------------------------------------------------------------ lowering

def write_plan(program: Program, history: np.ndarray, length: np.ndarray, path: Path) -> dict:
    """Write the program file for these inferences (``hardware.lava.core``); returns its meta."""
    graph = program.graph
    if not graph.quantized:
        raise UserError("the Lava backend runs fixed-point graphs only; convert without --float "
                        "(ssr-neuro convert) or use --backend fast")
    pops = populations(graph, program.chip)
    input_name, output = graph.input_name(), graph.output_name()
    inp = graph.node(input_name)
    emitters: dict[str, list[int]] = {}
    offset = 0

    def add_emitter(name: str, size: int) -> None:
        nonlocal offset
        emitters[name] = [offset, size]
        offset += size

    add_emitter(input_name, inp.max_len + 1)  # the item ids, then the length
    for name, node in graph.nodes():
        if name != input_name:
            add_emitter(name, node.shape[0] * node.shape[1])
    host_fed = sorted({p.population[len("host>"):] for p in program.phases if p.population.startswith("host>")})
    for x in host_fed:
        add_emitter(f"host>{x}", emitters[x][1])
    for x, (table, _) in program.tables.items():  # a table's values, one slot per neuron of its target
        add_emitter(table.name, emitters[x][1])
    for name, (sp, _) in program.splits.items():  # partial sums, one slot per target neuron (summed on the bus)
        add_emitter(name, emitters[sp.target][1])

    units = [{"name": u.name, "kind": u.kind, "senders": set(), "pops": [], "edges": []}
             for u in program.units[:program.n_cores + 1]]  # the cores, then the host
    arrays: dict[str, np.ndarray] = {"history": np.asarray(history, np.int64), "length": np.asarray(length, np.int64)}
    weights: list[list[np.ndarray]] = [[] for _ in units]
    w_off = [0] * len(units)
    host = program.host

    def hold(k: int, pop: str, kind: str, shape, idx: np.ndarray, bias: np.ndarray) -> None:
        units[k]["pops"].append({"name": pop, "kind": kind, "shape": list(shape)})
        arrays[f"{k}.{pop}.idx"] = idx.astype(np.int64)
        arrays[f"{k}.{pop}.bias"] = np.asarray(bias, np.int64).ravel()[idx]

    for name, node in graph.nodes():
        if name == input_name:
            continue
        own = program.owner[name].ravel()
        bias = node.fixed.bias_mant if isinstance(node, LIF) else node.fixed.bias
        for k in np.unique(own):
            hold(int(k), name, type(node).__name__, node.shape, np.flatnonzero(own == k), bias)
    for x in host_fed:
        n = emitters[x][1]
        hold(host, f"host>{x}", "Sum", graph.node(x).shape, np.arange(n), np.zeros(n))

    def edge(k: int, source: str, target: str, syn, kind: str, shift: int, idx: np.ndarray, tshape, sshape,
             window: tuple[int, int] | None = None, fan_in: int = 1, const: bool = False) -> None:
        """``window``: a split layer's fan-in range on a partial core; ``fan_in`` of a copy edge: values per neuron;
        ``const``: partial sums of a graded source into a LIF population (a constant drive)."""
        rows, chans = idx // tshape[1], idx % tshape[1]
        lo, hi = window if window is not None else (0, None)
        spec = {"source": source, "target": target, "kind": kind, "shift": int(shift), "src_shape": list(sshape),
                "structure": syn.structure if syn is not None else "copy",
                "positions": syn.positions if syn is not None else "each",
                "fan_in": (syn.fan_in() if window is None else hi - lo) if syn is not None else fan_in,
                "window": list(window) if window is not None else None, "const": const}
        j = len(units[k]["edges"])
        w = np.zeros(0, np.int64)
        if syn is not None:
            full = np.asarray(syn.fixed.weight, np.int64)
            if syn.structure == "dense":
                used, wi = np.unique(chans, return_inverse=True)
                w = full[used][:, lo:hi]
                arrays[f"{k}.e{j}.wi"] = wi.astype(np.int64).ravel()
            elif syn.structure == "diagonal":
                w = full[chans]
            else:
                w = full[chans, rows][:, lo:hi]
        spec["w_off"], spec["w_shape"] = w_off[k], list(w.shape)
        weights[k].append(w.ravel())
        w_off[k] += w.size
        units[k]["edges"].append(spec)

    for x, (table, table_units) in program.tables.items():
        tshape = graph.node(x).shape
        full = np.asarray(graph.synapse(table.source, x).fixed.weight, np.int64)
        for (i0, i1, d0, d1), k in zip(table.ranges, table_units):
            idx = (np.arange(tshape[0])[:, None] * tshape[1] + np.arange(d0, d1)[None]).ravel()
            hold(k, table.name, "Table", tshape, idx, np.zeros(tshape[0] * tshape[1]))
            j = len(units[k]["edges"])
            units[k]["edges"].append({"source": table.source, "target": table.name, "kind": "item",
                                      "structure": "table", "mode": table.mode, "i0": i0, "d0": d0, "shift": 0,
                                      "positions": "each", "src_shape": [tshape[0], table.items], "fan_in": 1,
                                      "w_off": w_off[k], "w_shape": [d1 - d0, i1 - i0]})
            weights[k].append(full[d0:d1, i0:i1].ravel())
            w_off[k] += (d1 - d0) * (i1 - i0)
        shift = edge_shift(graph.synapse(table.source, x), graph.node(table.source), graph.node(x))
        own = program.owner[x].ravel()
        for k in np.unique(own):
            edge(int(k), table.name, x, None, "table", shift, np.flatnonzero(own == k), tshape, tshape)

    for name, (sp, sp_units) in program.splits.items():  # a split layer: partial sums, then the merge into x
        syn, src, tgt = graph.synapse(sp.source, sp.target), graph.node(sp.source), graph.node(sp.target)
        kind = "spike" if is_spiking(src) else "graded"
        P, C = tgt.shape
        for (a0, a1, d0, d1), k in zip(sp.ranges, sp_units):
            idx = (np.arange(P)[:, None] * C + np.arange(d0, d1)[None]).ravel()
            hold(k, name, "Partial", tgt.shape, idx, np.zeros(P * C))
            edge(k, sp.source, name, syn, kind, 0, idx, tgt.shape, src.shape, window=(a0, a1))
        own = program.owner[sp.target].ravel()
        for k in np.unique(own):
            edge(int(k), name, sp.target, None, "partial", edge_shift(syn, src, tgt), np.flatnonzero(own == k),
                 tgt.shape, tgt.shape, fan_in=len(sp.fan_ranges), const=kind == "graded" and isinstance(tgt, LIF))
    split_layers = {(sp.source, sp.target) for sp, _ in program.splits.values()}

    for s, t, syn in graph.edges():
        src, tgt = graph.node(s), graph.node(t)
        if (s == input_name and t in program.tables) or (s, t) in split_layers:
            continue  # lowered above: the table's units and values into t, or the partial sums and their merge
        kind = "item" if isinstance(src, ItemInput) else ("spike" if is_spiking(src) else "graded")
        shift = edge_shift(syn, src, tgt)
        host_layer = not pops[t].on_host and any(e.source == s and e.axons == "host" for e in pops[t].in_edges)
        n_t = tgt.shape[0] * tgt.shape[1]
        if host_layer:
            edge(host, s, f"host>{t}", syn, kind, shift, np.arange(n_t), tgt.shape, src.shape)
            continue
        own = program.owner[t].ravel()
        for k in np.unique(own):
            edge(int(k), s, t, syn, kind, shift, np.flatnonzero(own == k), tgt.shape, src.shape)
    for x in host_fed:
        own = program.owner[x].ravel()
        for k in np.unique(own):
            edge(int(k), f"host>{x}", x, None, "host", 0, np.flatnonzero(own == k), graph.node(x).shape, (0, 0))

    if not units[host]["pops"] and not units[host]["edges"]:
        units.pop()  # the host does nothing: no process for it
    for block in program.emissions.values():
        for _, a, b in block.pairs:
            if a < len(units) and b < len(units) and a != b:  # a == b: a charged local message, no bus link
                units[b]["senders"].add(a)
    for k, u in enumerate(units):
        u["senders"] = sorted(u["senders"])
        arrays[f"{k}.weights"] = np.concatenate(weights[k]) if weights[k] else np.zeros(0, np.int64)

    lif = {name: {"du": node.fixed.du, "dv": node.fixed.dv, "vth": node.fixed.vth, "bias_exp": node.fixed.bias_exp,
                  "state_bits": node.fixed.state_bits, "input_bits": node.fixed.input_bits, "T": node.time_steps}
           for name, node in graph.nodes() if isinstance(node, LIF)}
    meta = {"format": FORMAT, "version": VERSION, "n_inferences": int(len(length)), "slots": offset,
            "emitters": emitters, "phases": [[p.population, p.t] for p in program.phases],
            "input": input_name, "readout": output, "readout_exp": graph.node(output).fixed.exp,
            "lif_record": sorted(lif), "lif": lif,
            "bits": {name: node.fixed.bits for name, node in graph.nodes() if isinstance(node, Graded)
                     or name == output},
            "units": units, "active_update": program.chip.core.active_update, "background": program.background}
    arrays["meta"] = np.array(json.dumps(meta))
    save_npz(path, arrays)
    return meta


# ------------------------------------------------------------------------------------------------ running

def run_lava(program: Program, history: np.ndarray, length: np.ndarray, timeout_s: float = 600.0,
             workdir: Path | None = None, sink=None) -> LavaRun:
    """Run histories [B, L] with lengths [B] on the mapped chip in Lava (module docstring); ``sink``: the Ledger's
    (the event timing model, fed the same per-phase counts as with the fast engine)."""
    history = np.asarray(history, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    check_inputs(program.graph.node(program.graph.input_name()), history, length)
    with tempfile.TemporaryDirectory(prefix="ssr-neuro-lava-", dir=workdir) as tmp:
        plan, result = Path(tmp) / "plan.npz", Path(tmp) / "result.npz"
        start = time.perf_counter()
        meta = write_plan(program, history, length, plan)
        lowered = time.perf_counter()
        if lava_in_process():
            from hardware.lava.worker import run_file  # only here: importing Lava sets the fork start method
            run_file(plan, result)
        else:
            run_worker(plan, result, timeout_s, Path(tmp) / "worker.log")
        with np.load(result, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    got = read_result(program, meta, out, history, length, sink=sink)
    got.timings_s.update(lower=lowered - start, total=time.perf_counter() - start)
    return got


def run_program_lava(program: Program, history: np.ndarray, length: np.ndarray, timeout_s: float = 600.0,
                     sink=None) -> tuple[np.ndarray, Ledger, dict[str, np.ndarray]]:
    """``hardware.engine.run_program``'s contract, run in Lava: (scores, Ledger, raster of inference 0)."""
    got = run_lava(program, history, length, timeout_s, sink=sink)
    return got.scores, got.ledger, got.raster


def simulate_lava(graph, mapping, chip, history: np.ndarray, length: np.ndarray, timeout_s: float = 600.0,
                  timing: str = "analytic", timing_chunk: int = 4):
    """``hardware.simulate.simulate`` with the Lava backend: a SimResult priced exactly as the fast engine's; with
    ``timing="event"`` the event timing model runs on the counts charged from the Lava run (the same counts, so the
    same timing as the fast engine's)."""
    from hardware.simulate import assemble, check_timing
    from hardware.timing import EventTiming

    check_timing(timing, timing_chunk)
    program = compile_program(graph, mapping, chip)
    events = EventTiming(program, len(length), timing_chunk) if timing == "event" else None
    scores, ledger, raster = run_program_lava(program, history, length, timeout_s, sink=events)
    return assemble(program, ledger, scores, raster, events)


def read_result(program: Program, meta: dict, out: dict[str, np.ndarray], history: np.ndarray, length: np.ndarray,
                batch_size: int = 256, sink=None) -> LavaRun:
    """Scores, a Ledger charged from the Lava run's own spikes and active counts, and the raster of inference 0;
    LavaError if the counters the Lava units kept disagree with that Ledger."""
    n = int(length.shape[0])
    scores = out["scores"].astype(np.float64) * 2.0 ** meta["readout_exp"]
    spikes = {p: out[f"spikes.{p}"].transpose(1, 0, 2).astype(np.float64) for p in meta["lif_record"]}  # [T, B, n]
    active_cols = {}
    for k, phase in enumerate(program.phases):
        update = program.updates.get(phase.population)
        if update is not None and phase.population in spikes:
            own = program.owner[phase.population].ravel()
            cores = [int(u) for u in np.unique(own) if program.units[u].kind == "core"]
            active_cols[k] = cores
    ledger = Ledger(program, n, sink)
    for start in range(0, n, batch_size):
        rows = slice(start, min(n, start + batch_size))
        active = {k: out["active"][rows, k][:, cores].astype(np.float64) for k, cores in active_cols.items()}
        charge_batch(program, ledger, rows, length[rows], {p: s[:, rows] for p, s in spikes.items()}, active,
                     history[rows])
    raster = {p: s[:, 0].copy() for p, s in spikes.items()} if n else {}
    counters = out["counters"]
    _check_counters(program, meta, ledger, counters)
    timings = {k[len("time."):]: float(out[k]) for k in out if k.startswith("time.")}
    return LavaRun(scores, ledger, raster, counters, timings)


def _check_counters(program: Program, meta: dict, ledger: Ledger, counters: np.ndarray) -> None:
    """The Lava units' own counts against the Ledger charged from their spikes with the program's tables."""
    table = ledger.table.sum(axis=2)  # [units, counters]
    for k, unit in enumerate(meta["units"]):
        for name in COUNTERS:
            if name == "spikes":
                continue
            want = table[k, LEDGER_COUNTERS.index(name)]
            if counters[k, COUNTERS.index(name)] != want:
                raise LavaError(f"{unit['name']} counted {counters[k, COUNTERS.index(name)]:.0f} {name} in Lava, "
                                f"the program's tables {want:.0f}: the lowering and the tables disagree")
    if counters[:, COUNTERS.index("spikes")].sum() != ledger.spikes.sum():
        raise LavaError("the Lava units counted another number of spikes than their raster holds")


# ------------------------------------------------------------------------------------------------ the subprocess

def run_worker(plan: Path, result: Path, timeout_s: float, log: Path) -> None:
    """Run ``python -m hardware.lava.worker PLAN RESULT`` in .venv-lava in its own session; end the whole session
    and remove its /dev/shm segments on every exit path (UserError on a timeout, LavaError on a crash)."""
    py = lava_python()
    if py is None:
        raise UserError(f"the Lava backend needs {LAVA_VENV} (Python 3.10 with lava-nc); {SETUP_HINT}")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    shm_before = _shm_entries()
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(py), "-m", "hardware.lava.worker", str(plan), str(result)], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            end_session(proc, shm_before)
    if rc is None:
        raise UserError(f"the Lava run took longer than {timeout_s:g} s and was stopped; give it more time or run "
                        "fewer inferences")
    if rc != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        raise LavaError(f"the Lava worker failed (exit code {rc}):\n" + "\n".join(tail))


def _shm_entries() -> set[str]:
    return set(os.listdir(SHM)) if SHM.is_dir() else set()


def _session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                out.append(int(entry))
    return out


def _mapped_shm(pids: list[int] | None = None) -> set[str]:
    """Names of /dev/shm files mapped by these processes (every process if None)."""
    pids = pids if pids is not None else [int(e) for e in os.listdir("/proc") if e.isdigit()]
    names = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        for line in maps.splitlines():
            i = line.find("/dev/shm/")
            if i >= 0:
                names.add(line[i + len("/dev/shm/"):].split(" (deleted)")[0].strip())
    return names


def end_session(proc: subprocess.Popen, shm_before: set[str]) -> None:
    """End every process of the worker's session (SIGTERM, then SIGKILL after 3 s), reap the worker, and unlink
    the /dev/shm segments the session created or mapped that no live process maps any more."""
    sid = proc.pid
    ours = _mapped_shm(_session_members(sid))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(sid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 3.0
        while _session_members(sid) and time.monotonic() < deadline:
            proc.poll()  # reap the leader as soon as it exits
            time.sleep(0.05)
        if not _session_members(sid):
            break
    proc.wait()
    leaked = (ours | (_shm_entries() - shm_before)) & _shm_entries()
    if leaked:
        in_use = _mapped_shm()
        for name in leaked - in_use:
            try:
                (SHM / name).unlink()
            except OSError:
                pass
