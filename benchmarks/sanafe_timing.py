"""Latency per time step: our event timing model (``hardware.timing``) and analytic model (``hardware.costs``)
against SANA-FE's detailed timing model, on the same work, placement and per-event costs; and the speed of the
three. Extends ``benchmarks/sanafe_compare.py`` (same chip file, network building and placement).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sanafe_timing.py [--graph runs/ml-1m/model.graph] [--n 5]
        [--speed-only] [--speed-n 1000] [--batch-size 256 1024] [--rounds 5]

Same work. SANA-FE runs each case with its message trace on; every step's messages give, per core, exactly what
SANA-FE's cores did: messages per (sending core, receiving core), synaptic ops per receiver (the message's
``spikes``: synapses it reached), and the sender's soma pass (the sum of its messages' ``generation_delay``, its
placeholder included: 6.0 ns per mapped neuron, + 3.7 per updated one, + 30 per spike, + 5.1 per message out). From
these we write our counts per (step, core): neuron_update_idle = mapped neurons - updated, neuron_update = updated
(recovered from the soma time), spike_out = neurons that fired, in_spikes and synaptic_op at the receiver, and packets
per core pair (a message to the sender's own core is a 0-hop packet, as SANA-FE sends it). Each SANA-FE step is one
step of one phase of ours (SANA-FE's spikes reach their targets one step later, so inside a step nothing waits for
anything: every core's soma pass and every receiver's work overlap), timed by both our models with
benchmarks/chips/sanafe-loihi.toml ([timing]: buffer 16, message_in 16 ns of the 21.1, barrier by tiles from
loihi.yaml's latency_sync table).

Cases. (1) ``ssr``: the spiking part of the converted SSR (``sanafe_compare.py``'s network, our placement, the
graded stages' drive as biases), ``--n`` test inferences, every SANA-FE step of every window. (2) ``random``: three
random LIF layers (sparse random synapses, random biases), placed at random on 6-12 cores across the mesh, 10 steps
each, ``--random`` networks. (3) ``congested``: 12 source cores in tiles (0..2, 0) whose neurons all fire every step,
each to 64 targets spread over 16 cores in tiles (4..7, 0): every message crosses the east-going links of row 0.

Speed (:func:`speed`; ``--speed-only`` skips the cases above): on the ``ssr`` case, SANA-FE's ``sim`` (detailed
timing, 1 thread) per inference against our whole simulation of the same inferences on the whole graph, compile
(once per mapping) timed apart from the runs (engine + event or analytic timing), in alternating rounds, wall and CPU
time; and the event timing alone on the SANA-FE work.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sanafe_compare import (CHIP_FILE, REPO, SANAFE_LOIHI, _pick, _QuietStdout, build_sanafe,  # noqa: E402
                                       check_costs, check_rules, drives, read_loihi_yaml, run_sanafe, spiking_part,
                                       _segments)

LAT = SANAFE_LOIHI["latency"]
ACCESS, UPDATE, SPIKE = (LAT["loihi_lif.access_neuron"], LAT["loihi_lif.update_neuron"], LAT["loihi_lif.spike_out"])
AXON_OUT = LAT["loihi_out.message_out"]


# ------------------------------------------------------------------------------------------------ SANA-FE's work

def trace_steps(sim, steps: int, timing: str) -> list[tuple[float, list[dict]]]:
    """Run ``steps`` steps: per step (SANA-FE's step time in ns, its messages)."""
    r = sim.sim(steps, timing_model=timing, processing_threads=1, perf_trace=True, message_trace=True)
    return [(t * 1e9, msgs) for t, msgs in zip(r["perf_trace"]["sim_time"], r["message_trace"])]


def step_work(messages: list[dict], neurons: dict[int, int]) -> dict:
    """Per core of one step: soma ns, messages out per destination core, fired neurons, synaptic ops and messages
    received (module docstring)."""
    gen: dict[int, float] = {}
    fired: dict[int, set] = {}
    flows: dict[tuple[int, int], int] = {}
    synops: dict[int, float] = {}
    for m in messages:
        src = m["src_core_id"]
        gen[src] = gen.get(src, 0.0) + m["generation_delay"] * 1e9
        if m["placeholder"]:
            continue
        dst = m["dest_core_id"]
        fired.setdefault(src, set()).add((m["src_neuron_group_id"], m["src_neuron_offset"]))
        flows[(src, dst)] = flows.get((src, dst), 0) + 1
        synops[dst] = synops.get(dst, 0.0) + m["spikes"]
    sent = {c: sum(n for (a, _), n in flows.items() if a == c) for c in neurons}
    updated = {c: (gen.get(c, 0.0) - ACCESS * neurons[c] - SPIKE * len(fired.get(c, ())) - AXON_OUT * sent[c])
               / UPDATE for c in neurons}
    return {"flows": flows, "synops": synops, "fired": {c: len(v) for c, v in fired.items()}, "updated": updated,
            "soma_ns": gen}


# ------------------------------------------------------------------------------------------------ our side

def program_for(chip, cores: list[int], pairs: list[tuple[int, int]], n_steps: int):
    """A Program of ``n_steps`` steps of one phase each over SANA-FE cores ``cores`` (unit k = cores[k], router (y,
    x) of its tile), whose emitter sends along ``pairs`` (SANA-FE core ids)."""
    from hardware.program import Block, Charge, Phase, Program, Unit, mesh_links, xy_route

    mesh = chip.mesh
    units = []
    for c in cores:
        tile = c // mesh.cores_per_router
        units.append(Unit(f"core{c}", "core", (tile % mesh.rows, tile // mesh.rows)))
    units += [Unit("host", "host", tuple(mesh.io_router)), Unit("io", "io", tuple(mesh.io_router))]
    index = {c: k for k, c in enumerate(cores)}
    links = mesh_links(mesh)
    at = {link: i for i, link in enumerate(links)}
    routes = {(a, b): [at[k] for k in xy_route(units[a].router, units[b].router)]
              for a in range(len(units)) for b in range(len(units))}
    columns = [[Charge(index[b], "in_spikes", "all")] for _, b in pairs]
    block = Block(np.zeros((1, len(columns)), np.float32), None, columns,
                  [(i, index[a], index[b]) for i, (a, b) in enumerate(pairs)])
    phases = [Phase(s, "all", 0) for s in range(n_steps)]
    owner = {"all": np.array([list(range(len(cores)))])}
    return Program(None, chip, units, owner, [f"step{s}" for s in range(n_steps)], phases, {"all": block}, {},
                   links, routes)


def our_counts(works: list[dict], cores: list[int], neurons: dict[int, int]):
    """counts [steps, 1, units, counters] and packets [steps, 1, units, units] of SANA-FE's per-step work (each
    step a row: the steps are timed independently, like SANA-FE's)."""
    from hardware.costs import COUNTERS

    C = {c: i for i, c in enumerate(COUNTERS)}
    index = {c: k for k, c in enumerate(cores)}
    n_units = len(cores) + 2
    counts = np.zeros((len(works), 1, n_units, len(COUNTERS)))
    packets = np.zeros((len(works), 1, n_units, n_units))
    for s, w in enumerate(works):
        for c in cores:
            k = index[c]
            counts[s, 0, k, C["neuron_update"]] = w["updated"][c]
            counts[s, 0, k, C["neuron_update_idle"]] = neurons[c] - w["updated"][c]
            counts[s, 0, k, C["spike_out"]] = w["fired"].get(c, 0)
            counts[s, 0, k, C["synaptic_op"]] = w["synops"].get(c, 0.0)
        for (a, b), n in w["flows"].items():
            packets[s, 0, index[a], index[b]] += n
            counts[s, 0, index[b], C["in_spikes"]] += n
            counts[s, 0, index[a], C["message_out"]] += n
    return counts, packets


def analytic_steps(program, counts: np.ndarray, packets: np.ndarray) -> np.ndarray:
    """``hardware.costs``' pipeline model on the same counts: busiest unit + max(longest route, busiest link's
    packets x hop cycles) + barrier (``cycles.barrier_sync``), per step [steps]."""
    from hardware.costs import counter_cycles

    chip = program.chip
    unit_cycles = np.stack([counter_cycles(chip, u.kind) for u in program.units])
    busy = (counts[:, 0] * unit_cycles[None]).sum(-1)  # [steps, units]
    link_cycles = np.array([chip.cycles["hop_ew"] if a[0] == b[0] else chip.cycles["hop_ns"]
                            for a, b in program.links])
    net = np.zeros(len(counts))
    for s in range(len(counts)):
        load = np.zeros(len(program.links))
        route = 0.0
        for (a, b), links in program.routes.items():
            n = packets[s, 0, a, b]
            if n:
                load[links] += n
                route = max(route, link_cycles[links].sum())
        net[s] = max(route, (load * link_cycles).max())
    return busy.max(axis=1) + net + chip.cycles["barrier_sync"]


def compare(label: str, chip, steps: list[tuple[float, list[dict]]], neurons: dict[int, int], chunk: int,
            show: int = 0, max_rounds: int = 64) -> dict:
    """Time SANA-FE's steps with both our models; print the per-step errors; return the arrays."""
    from hardware.timing import EventTiming

    works = [step_work(msgs, neurons) for _, msgs in steps]
    cores = sorted(neurons)
    pairs = sorted({p for w in works for p in w["flows"]})
    program = program_for(chip, cores, pairs, 1)
    counts, packets = our_counts(works, cores, neurons)
    event = EventTiming(program, len(works), chunk, max_rounds=max_rounds)
    t0 = time.perf_counter()
    event(slice(0, len(works)), counts, packets)
    event_s = time.perf_counter() - t0
    ours = event.step_cycles[:, 0]
    analytic = analytic_steps(program, counts, packets)
    theirs = np.array([t for t, _ in steps])
    err_e, err_a = ours / theirs - 1.0, analytic / theirs - 1.0
    msgs = np.array([sum(w["flows"].values()) for w in works])
    print(f"\n{label}: {len(steps)} steps on {len(cores)} cores, {msgs.mean():,.0f} messages per step "
          f"(max {msgs.max():,}); per-step latency, ns (mean over steps):")
    print(f"  SANA-FE detailed {theirs.mean():10.1f}   ours event {ours.mean():10.1f} "
          f"({ours.mean() / theirs.mean():.3f}x)"
          f"   ours analytic {analytic.mean():10.1f} ({analytic.mean() / theirs.mean():.3f}x)")
    print(f"  per-step error, event vs SANA-FE: mean {err_e.mean():+.1%}, |max| {np.abs(err_e).max():.1%}, "
          f"within 25%: {(np.abs(err_e) <= 0.25).mean():.0%} of steps;  analytic: mean {err_a.mean():+.1%}, "
          f"|max| {np.abs(err_a).max():.1%}, within 25%: {(np.abs(err_a) <= 0.25).mean():.0%}")
    for s in range(min(show, len(steps))):
        print(f"    step {s:3d}: SANA-FE {theirs[s]:9.1f}  event {ours[s]:9.1f} ({err_e[s]:+.1%})  analytic "
              f"{analytic[s]:9.1f} ({err_a[s]:+.1%})  messages {msgs[s]:5d}")
    return {"sanafe": theirs, "event": ours, "analytic": analytic, "event_s": event_s, "messages": msgs,
            "bound": event.bound_counts, "servers": event.servers}


# ------------------------------------------------------------------------------------------------ cases

def mapped_neurons(groups: dict[str, np.ndarray]) -> dict[int, int]:
    """SANA-FE core -> neurons mapped on it, from population -> core per neuron."""
    out: dict[int, int] = {}
    for cores in groups.values():
        for c, n in zip(*np.unique(cores, return_counts=True)):
            out[int(c)] = out.get(int(c), 0) + int(n)
    return out


@dataclasses.dataclass
class SsrCase:
    """The SSR graph, our mapping, ``n`` test inferences, and SANA-FE's network of its spiking part with the
    per-inference biases (``drive``: population -> [n, neurons])."""

    graph: object
    mapping: object
    history: np.ndarray
    length: np.ndarray
    sim: object
    mapped: dict
    core_of: dict[str, np.ndarray]
    windows: list
    drive: dict[str, np.ndarray]


def ssr_network(graph_path: Path, n: int, chip) -> SsrCase:
    """Build SANA-FE's network of the SSR graph's spiking part (our placement) and the drives of ``n`` inferences."""
    from mapping import map_graph
    from ssr_neuro.graph.execute import trace
    from ssr_neuro.graph.io import load_graph

    graph = load_graph(graph_path)
    history, length = _pick(graph, n, 0)
    windows, edges = spiking_part(graph)
    mapping = map_graph(graph, chip)
    with _QuietStdout():
        sim, mapped, core_of = build_sanafe(graph, mapping, chip, windows, edges)
    drive = {}
    for batch in trace(graph, history, length):
        for name, d in drives(graph, batch).items():
            drive.setdefault(name, []).append(d)
    drive = {k: np.concatenate(v) for k, v in drive.items()}
    return SsrCase(graph, mapping, history, length, sim, mapped, core_of, windows, drive)


def ssr_case(case: SsrCase, timing: str = "detailed") -> list[tuple[float, list[dict]]]:
    """SANA-FE's steps (message traces) of the SSR case's inferences, every window."""
    sim, mapped, windows, drive = case.sim, case.mapped, case.windows, case.drive
    steps = []
    for i in range(len(case.length)):
        for w in windows:
            sim.reset()
            for _, count, switch in _segments(w):
                for name, on in switch.items():
                    for neuron, b in zip(mapped[name], drive[name][i] if on else np.zeros(len(mapped[name]))):
                        neuron.set_attributes(model_attributes={"bias": float(b)})
                with _QuietStdout():
                    steps += trace_steps(sim, count, timing)
            for name in w.depth:
                for neuron in mapped[name]:
                    neuron.set_attributes(model_attributes={"bias": 0.0})
    return steps


def lif_group(net, name: str, size: int, rng, bias_range: tuple[float, float]):
    return net.create_neuron_group(name, size, model_attributes={
        "threshold": 1.0, "leak_decay": 0.9, "bias": 0.0, "reset_mode": "hard", "reset": 0.0}), \
        rng.uniform(*bias_range, size)


def random_case(seed: int, steps: int = 10):
    """Three random LIF layers on random cores (module docstring); SANA-FE's steps and its core -> neurons."""
    import sanafe

    rng = np.random.default_rng(seed)
    arch = sanafe.load_loihi()
    cores = arch.cores()
    net = sanafe.Network()
    sizes = rng.integers(200, 900, 3)
    n_cores = int(rng.integers(6, 13))
    chosen = rng.choice(len(cores), n_cores, replace=False)
    groups, placed = [], {}
    for i, size in enumerate(sizes):
        g, bias = lif_group(net, f"l{i}", int(size), rng, (0.0, 0.35) if i == 0 else (0.0, 0.1))
        where = rng.choice(chosen, int(size))
        for neuron, b, c in zip(g.neurons, bias, where):
            neuron.set_attributes(model_attributes={"bias": float(b)})
            neuron.map_to_core(cores[int(c)])
        placed[f"l{i}"] = where
        groups.append(g)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        density = float(rng.uniform(0.02, 0.1))
        mask = rng.random((sizes[a], sizes[b])) < density
        src, dst = np.nonzero(mask)
        groups[a].connect_neurons_sparse(groups[b], {"w": rng.uniform(0.0, 0.4, src.size).tolist()},
                                         list(zip(src.tolist(), dst.tolist())))
    sim = sanafe.SpikingChip(arch)
    sim.load(net)
    with _QuietStdout():
        out = trace_steps(sim, steps, "detailed")
    return out, mapped_neurons(placed)


def congested_case(steps: int = 6, timing: str = "detailed"):
    """12 source cores of 64 always-firing neurons in tiles x = 0..2 (row y = 0) -> 16 destination cores in tiles
    x = 4..7 (y = 0), each source neuron to 64 targets spread over the 16; every message crosses the east links of
    row 0 between x = 2 and x = 4."""
    import sanafe

    arch = sanafe.load_loihi()
    cores = arch.cores()
    height, per_tile = 4, 4
    net = sanafe.Network()
    src = net.create_neuron_group("src", 12 * 64, model_attributes={
        "threshold": 1.0, "leak_decay": 1.0, "bias": 2.0, "reset_mode": "hard", "reset": 0.0})
    dst = net.create_neuron_group("dst", 16 * 64, model_attributes={
        "threshold": 1e9, "leak_decay": 1.0, "bias": 0.0, "reset_mode": "hard", "reset": 0.0})
    src_core = np.array([(x * height) * per_tile + k for x in range(3) for k in range(per_tile)]).repeat(64)
    dst_core = np.array([(x * height) * per_tile + k for x in range(4, 8) for k in range(per_tile)]).repeat(64)
    for neuron, c in zip(src.neurons, src_core):
        neuron.map_to_core(cores[int(c)])
    for neuron, c in zip(dst.neurons, dst_core):
        neuron.map_to_core(cores[int(c)])
    rng = np.random.default_rng(0)
    pairs = [(i, int(j)) for i in range(12 * 64) for j in rng.choice(16 * 64, 64, replace=False)]
    src.connect_neurons_sparse(dst, {"w": [0.0] * len(pairs)}, pairs)
    sim = sanafe.SpikingChip(arch)
    sim.load(net)
    with _QuietStdout():
        out = trace_steps(sim, steps, timing)
    return out, mapped_neurons({"src": src_core, "dst": dst_core})


# ------------------------------------------------------------------------------------------------ speed

def speed(case: SsrCase, chip, n_ours: int, batch_sizes: list[int], chunk: int, rounds: int,
          event_s: float | None = None, exact_s: float | None = None) -> None:
    """Time per inference, 1 thread, in ``rounds`` alternating rounds (SANA-FE, then ours): SANA-FE's detailed
    ``sim`` on the spiking part (no traces; network built and loaded before the clock, bias writes and resets outside
    it) against ours on the whole graph (embedding, filters and readout included) for ``n_ours`` inferences (the
    case's, repeated) in batches of each of ``batch_sizes``: compile once per mapping (``compile_program``, timed
    apart) and run (``simulate_program``: engine + pricing, event and analytic timing). Wall and CPU time of this
    process (the CPU time moves less with the other jobs of a shared machine); ratios are the median of the rounds'
    ratios, "with compile" spreads one compile over the ``n_ours`` inferences."""
    from hardware.program import compile_program
    from hardware.simulate import simulate_program

    n = len(case.length)
    idx = np.resize(np.arange(n), n_ours)
    history, length = case.history[idx], case.length[idx]
    load = os.getloadavg()[0]
    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    runs = [(mode, bs) for bs in batch_sizes for mode in ("event", "analytic")]
    got: dict[tuple, list[float]] = {}
    for _ in range(rounds):
        with _QuietStdout():
            r = run_sanafe(case.sim, case.mapped, case.windows, case.drive, "detailed", trace=False)
        got.setdefault(("sanafe", "wall"), []).append(r.sim_s / n)
        got.setdefault(("sanafe", "cpu"), []).append(r.sim_cpu_s / n)
        start = {c: f() for c, f in clocks.items()}
        program = compile_program(case.graph, case.mapping, chip)
        for c, f in clocks.items():
            got.setdefault(("compile", c), []).append(f() - start[c])
        for mode, bs in runs:
            start = {c: f() for c, f in clocks.items()}
            simulate_program(program, history, length, bs, timing=mode, timing_chunk=chunk)
            for c, f in clocks.items():
                got.setdefault((mode, bs, c), []).append((f() - start[c]) / n_ours)
    a = {k: np.array(v) for k, v in got.items()}
    print(f"\nspeed, 1 thread, {rounds} alternating rounds (medians); 1-minute load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores (this benchmark is 1 of it)")
    for c in clocks:
        theirs, comp = a[("sanafe", c)], a[("compile", c)]
        print(f"  {c:4s}: SANA-FE detailed sim (spiking part, no traces) {np.median(theirs) * 1e3:.2f} ms per "
              f"inference (over {n}; rounds {', '.join(f'{t * 1e3:.2f}' for t in theirs)}); ours compile "
              f"{np.median(comp) * 1e3:.1f} ms once per mapping ({np.median(comp) / n_ours * 1e3:.3f} ms per "
              f"inference over {n_ours})")
        for mode, bs in runs:
            ours = a[(mode, bs, c)]
            print(f"        ours {mode:8s} {n_ours} inferences in batches of {bs:4d}: {np.median(ours) * 1e3:.3f} ms "
                  f"per inference; SANA-FE / ours {np.median(theirs / ours):5.1f}x without compile, "
                  f"{np.median(theirs / (ours + comp / n_ours)):5.1f}x with it")
    if event_s is not None:
        print(f"  event timing alone on SANA-FE's work: {event_s / n * 1e3:.3f} ms per inference "
              f"({exact_s / n * 1e3:.3f} message by message)")


# ------------------------------------------------------------------------------------------------ main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", type=Path, default=REPO / "runs/ml-1m/model.graph")
    ap.add_argument("--n", type=int, default=5, help="test inferences of the SSR case")
    ap.add_argument("--random", type=int, default=5, help="random networks")
    ap.add_argument("--chunk", type=int, default=4, help="our event model's messages per chunk at most")
    ap.add_argument("--speed-n", type=int, default=1000, help="inferences of ours for the speed comparison")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[256, 1024],
                    help="our inferences simulated together (each size timed)")
    ap.add_argument("--rounds", type=int, default=5, help="speed rounds (SANA-FE, then ours, in turn)")
    ap.add_argument("--speed-only", action="store_true", help="only the speed comparison (no validation cases)")
    ap.add_argument("--booksim", action="store_true", help="also one congested step with SANA-FE's cycle-accurate "
                    "network (BookSim2; about 30 s)")
    args = ap.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("warning: OMP_NUM_THREADS is not 1")
    from importlib.metadata import version
    from importlib.resources import files

    from hardware.chip import load_chip

    chip = load_chip(CHIP_FILE)
    check_costs(chip, read_loihi_yaml(Path(str(files("sanafe.examples") / "loihi.yaml"))))
    check_rules(chip)
    print(f"sanafe {version('sanafe')}; chip {CHIP_FILE.relative_to(REPO)} (buffer {chip.timing.buffer_depth}, "
          f"message_in {chip.timing.message_in_cycles} ns, barrier by tiles {chip.timing.barrier_by_tiles}); "
          f"our event model in chunks of at most {args.chunk} messages, and message by message")

    ssr = ssr_network(args.graph, args.n, chip)
    if args.speed_only:
        speed(ssr, chip, args.speed_n, args.batch_size, args.chunk, args.rounds)
        return
    steps, neurons = ssr_case(ssr), mapped_neurons(ssr.core_of)
    results = {"ssr": compare(f"SSR spiking part ({args.graph}, {args.n} inferences)", chip, steps, neurons,
                              args.chunk, show=10)}
    exact = compare("  the same, message by message", chip, steps, neurons, 1, max_rounds=10**6)
    for seed in range(args.random):
        case, nrn = random_case(seed)
        results[f"random{seed}"] = compare(f"random network {seed}", chip, case, nrn, args.chunk)
    case, nrn = congested_case()
    results["congested"] = compare("congested link (12 cores -> 16 cores through row 0's east links)", chip, case,
                                   nrn, args.chunk, show=6)
    results["congested_exact"] = compare("  the same, message by message", chip, case, nrn, 1, max_rounds=10**6)
    k = np.argmax(results["congested"]["bound"].sum(axis=0))
    print(f"  what bound the congested steps in ours: {results['congested']['servers'][k]} (held longest); the "
          f"link's serialisation alone: {results['congested']['messages'][0]:,} messages x "
          f"{chip.cycles['hop_ew']} ns = {results['congested']['messages'][0] * chip.cycles['hop_ew']:,.0f} ns")
    wide = dataclasses.replace(chip, timing=dataclasses.replace(chip.timing, link_cycles_per_message=1.0))
    results["congested_wide"] = compare("  the same with BookSim2's link bandwidth (1 one-flit message per ns; hop "
                                        "latency unchanged)", wide, case, nrn, args.chunk)
    deep = dataclasses.replace(chip, timing=dataclasses.replace(chip.timing, link_cycles_per_message=1.0,
                                                                buffer_depth=10**6))
    results["congested_deep"] = compare("  and with buffers that never fill (no back-pressure from slow receivers into "
                                        "the mesh)", deep, case, nrn, args.chunk)
    if args.booksim:
        cyc, _ = congested_case(1, "cycle")
        print(f"  SANA-FE cycle-accurate (BookSim2) on the first congested step: {cyc[0][0]:,.1f} ns; ours with "
              f"BookSim2's link bandwidth {results['congested_wide']['event'][0]:,.1f} ns "
              f"({results['congested_wide']['event'][0] / cyc[0][0] - 1:+.1%}), and with buffers that never fill "
              f"{results['congested_deep']['event'][0]:,.1f} ns "
              f"({results['congested_deep']['event'][0] / cyc[0][0] - 1:+.1%}); SANA-FE detailed "
              f"{results['congested']['sanafe'][0]:,.1f} ns ({results['congested']['sanafe'][0] / cyc[0][0] - 1:+.1%})")

    speed(ssr, chip, args.speed_n, args.batch_size, args.chunk, args.rounds, results["ssr"]["event_s"],
          exact["event_s"])

if __name__ == "__main__":
    main()
