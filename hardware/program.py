"""The chip program: a NeuroGraph + a Mapping + a Chip compiled into per-unit tables that a simulator backend runs
(the fast vectorised ``hardware.engine`` now; a Lava backend with one process per core later). numpy only.

Units. The used cores in mapping order (unit k = ``mapping.cores[k]``), then ``host`` and ``io`` (the input/output
port), both at ``mesh.io_router``. Where each neuron sits comes from the mapping's pieces; which layers the host
evaluates comes from ``mapping.pieces.populations`` (the mapper's own rules): a host population runs there whole,
and a *host layer* (graded source -> population on cores, chip without MAC units) is evaluated there and delivered
as one graded message per target neuron per inference.

Schedule (the simulated steps). Stages in topological order: every Graded or Readout population is a stage of one
step; every spiking window (LIF populations joined by LIF -> LIF edges; zero delay inside) is a stage of T steps. The
ItemInput emits in the first step. A step is a sequence of *phases*, one per emitting population in topological
order (inside a window: its LIF populations, each at the same step t), plus a phase ``host>X`` after the last host
layer source of a population X with host input (one graded message per neuron of X). In a phase the emitter's
neurons update (LIF: every neuron of the population, active or idle by ``chip.core.active_update``: "input_or_spike"
active when its input a_in(t) is non-zero or it fires, "state_change" also when its bias or its u or v before the
step is non-zero; Graded/Readout on cores: every neuron once, active), emit, and every receiver does the synaptic
work the messages cause on arrival (event-driven):
- a spike (ItemInput, LIF) makes one synaptic op per synapse it crosses on its receiving core,
- a graded value makes one MAC per synapse on a core with MAC units, or one host MAC on the host; a graded value
  into a LIF window is multiplied once (in the source's phase) and held as a constant drive over the T steps,
- the host's graded messages into a population are bias writes (no synaptic work at the receiver).
With ``chip.core.neuron_updates`` = "every_step", every neuron on a core also takes one idle update in each step
that has no phase of its population, charged in the step's first phase (``Program.background``).
A neuron sends one message per destination unit (multicast per unit, as ``mapping.traffic``): to each unit that
holds a target neuron of one of its layers (the host for host layers), except its own unit (local delivery, no
packet) unless ``chip.core.charge_local_messages``: then a core's message to itself costs a ``message_out`` and is
received as a packet, 0 hops. Row length-1 of a source also sends on its "readout" edges; Readout neurons send
their score to ``io``.

Tables (per emission: rows = the emitter's neurons, or positions for the ItemInput, whose dense layers cost the same
whatever the item): a matrix ``each`` [rows, columns] of what one event of each row causes, and ``readout`` [P, C,
columns] what the readout row adds (row p's entry applies when p = length-1). Each column is a list of
:class:`Charge` (unit, counter, layer, multiplicity); counters are the chip's actions plus ``host_mac`` and
unpriced tallies (bytes read per memory, incoming events). Pair columns are the packets from one unit to another,
with their XY route (first along the row, east-west, then along the column, north-south) over directed links.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from ssr_neuro.errors import UserError
from ssr_neuro.graph.io import graph_digest
from ssr_neuro.graph.ir import LIF, ItemInput, NeuroGraph, Readout, Synapse, is_spiking

from mapping.mapping import check_fits
from mapping.memory import MEMORIES as CORE_MEMORIES, header_words, state_words_per_neuron, words_per_entry_read
from mapping.pieces import populations

# counters: the chip's actions, the host's MACs, words read per core memory (priced by ``mapping.memory``), then
# unpriced tallies (memory bytes read, incoming events)
MEMORIES = ("synapse_weights", "embedding_table", "item_table", "neuron_state", "host_weights")
WORDS = tuple(f"words_{m}" for m in CORE_MEMORIES)
TALLIES = tuple(f"bytes_{m}" for m in MEMORIES) + ("in_spikes", "in_graded", "in_packets")


@dataclass(frozen=True)
class Unit:
    """A place that does work: a core (``mesh`` = its router), the host or the io port (at the io router)."""

    name: str
    kind: str  # "core" | "host" | "io"
    router: tuple[int, int]


@dataclass(frozen=True)
class Charge:
    """One column's effect: ``mult`` x (the column's count) of ``counter`` on ``unit``, attributed to ``layer``."""

    unit: int
    counter: str
    layer: str
    mult: float = 1.0


@dataclass
class Block:
    """What one phase's events cost. counts [B, columns] = events [B, rows] @ each (+ the readout row's part);
    ``columns[i]`` lists the charges of column i; ``pairs`` are the packet columns: (column, from unit, to unit)."""

    each: np.ndarray  # [rows, columns] float32
    readout: np.ndarray | None  # [P, C, columns] float32 (rows = P * C), or None
    columns: list[list[Charge]]
    pairs: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Phase:
    """One emitter in one step: ``population`` at time step ``t``, or ``"host>X"``: the host's graded messages to
    the neurons of population X (the sum of X's host layers, sent once their last source has emitted)."""

    step: int
    population: str
    t: int


@dataclass
class Program:
    """Everything a backend needs: units, neuron owners, the schedule, and per phase kind the cost tables."""

    graph: NeuroGraph
    chip: object
    units: list[Unit]
    owner: dict[str, np.ndarray]  # population -> unit of each neuron [P, C]
    steps: list[str]  # step names
    phases: list[Phase]
    emissions: dict[str, Block]  # emitter -> its emission table (rows: neurons; ItemInput: positions)
    updates: dict[str, Block]  # population on cores -> neuron update table (columns: active per unit, idle per unit)
    links: list[tuple[tuple[int, int], tuple[int, int]]]  # directed mesh links (from router, to router)
    routes: dict[tuple[int, int], list[int]]  # (from unit, to unit) -> links crossed (XY routing)
    background: list[list[str]] = field(default_factory=list)  # per phase: populations on cores updated idle there

    @property
    def n_cores(self) -> int:
        return sum(u.kind == "core" for u in self.units)

    @property
    def host(self) -> int:
        return self.n_cores


# ------------------------------------------------------------------------------------------------ mesh routes

def mesh_links(mesh) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Every directed link between neighbouring routers (east-west ones first, then north-south)."""
    ew = [((r, c), (r, c + d)) for r in range(mesh.rows) for c in range(mesh.cols) for d in (1, -1)
          if 0 <= c + d < mesh.cols]
    ns = [((r, c), (r + d, c)) for r in range(mesh.rows) for c in range(mesh.cols) for d in (1, -1)
          if 0 <= r + d < mesh.rows]
    return ew + ns


def xy_route(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Links crossed from router a to router b (row, col): first along the row (east-west), then the column."""
    path, (r, c) = [], a
    while c != b[1]:
        step = 1 if b[1] > c else -1
        path.append(((r, c), (r, c + step)))
        c += step
    while r != b[0]:
        step = 1 if b[0] > r else -1
        path.append(((r, c), (r + step, c)))
        r += step
    return path


# ------------------------------------------------------------------------------------------------ compiling

def _owners(graph: NeuroGraph, mapping, host: int) -> dict[str, np.ndarray]:
    """Unit of every neuron of every non-input population, from the mapping's pieces (``check_fits`` has checked
    that they tile the graph's populations exactly)."""
    owner = {name: np.full(node.shape, -1, dtype=np.int64) for name, node in graph.nodes()
             if not isinstance(node, ItemInput)}
    for p in mapping.pieces:
        owner[p.population][slice(*p.rows), slice(*p.chans)] = host if p.core is None else int(p.core)
    return owner


def _synapse_counts(syn: Synapse, source_shape: tuple[int, int], units_of: np.ndarray, n_units: int,
                    item_rows: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Synapses from each source neuron to target neurons on each unit: (each [Ps * Cs, U] or None,
    readout [Cs, U] or None for a "readout" edge, from source row length-1). ``units_of`` [Pt, Ct] is the unit that
    evaluates each target neuron. ``item_rows``: the ItemInput, one row per position (Cs = 1, dense only)."""
    ps, cs = source_shape
    if item_rows:
        cs = 1
    def count(rows: np.ndarray) -> np.ndarray:  # units_of rows [R, K] -> how many of each unit per row [R, U]
        out = np.zeros((rows.shape[0], n_units), np.float32)
        np.add.at(out, (np.repeat(np.arange(rows.shape[0]), rows.shape[1]), rows.ravel()), 1.0)
        return out

    if syn.structure == "dense":
        per_row = count(units_of)  # [Pt, U]: targets of one source neuron of row p
        if syn.positions == "readout":
            return None, np.repeat(per_row[:1], cs, axis=0)
        return np.repeat(per_row, cs, axis=0), None
    if syn.structure == "diagonal":
        one = np.zeros(units_of.shape + (n_units,), np.float32)
        np.put_along_axis(one, units_of[..., None], 1.0, axis=-1)
        if syn.positions == "readout":
            return None, one[0]
        return one.reshape(-1, n_units), None
    per_chan = count(units_of.T)  # circulant: source (l, c) reaches every target row of channel c
    return np.tile(per_chan, (ps, 1)), None


def compile_program(graph: NeuroGraph, mapping, chip) -> Program:
    """Compile the tables of a mapped graph (see the module docstring). UserError if the mapping does not fit."""
    graph.validate()
    made_for = mapping.info.get("graph_digest")
    if made_for is not None and made_for != graph_digest(graph):
        raise UserError("the mapping was made for another graph (its graph_digest differs); map this graph again "
                        "(ssr-neuro map)")
    if mapping.chip != chip.name:
        raise UserError(f"the mapping was made for chip '{mapping.chip}', not '{chip.name}'; map the graph on "
                        f"'{chip.name}' first (ssr-neuro map --chip ...)")
    mapping = check_fits(mapping, graph, chip)  # per-core resources recomputed, not read from the file
    pops = populations(graph, chip)
    n_cores = len(mapping.cores)
    io_router = tuple(chip.mesh.io_router)
    units = [Unit(f"core{c.id}", "core", (int(c.mesh[0]), int(c.mesh[1]))) for c in mapping.cores]
    units += [Unit("host", "host", io_router), Unit("io", "io", io_router)]
    host, io = n_cores, n_cores + 1
    n_units = len(units)
    owner = _owners(graph, mapping, host)
    input_name = graph.input_name()

    # where each layer's synaptic work is done, and what one event of each source row costs there
    work: dict[str, list] = {name: [] for name, _ in graph.nodes()}
    host_sources: dict[str, list[str]] = {}
    for s, t, syn in graph.edges():
        on_host = pops[t].on_host or any(e.source == s and e.axons == "host" for e in pops[t].in_edges)
        units_of = np.full(graph.node(t).shape, host) if on_host else owner[t]
        if s == input_name and syn.structure != "dense":
            raise UserError(f"synapse {s} -> {t}: the simulator supports only dense layers from the item input")
        each, ro = _synapse_counts(syn, graph.node(s).shape, units_of, n_units, s == input_name)
        spike = is_spiking(graph.node(s))
        action = "host_mac" if on_host else ("synaptic_op" if spike else "mac")
        bits = syn.fixed.bits if syn.fixed is not None else chip.core.weight_bits
        memory = ("host_weights" if on_host else "embedding_table" if s == input_name
                  else "item_table" if isinstance(graph.node(t), Readout) else "synapse_weights")
        fmt, word = chip.synapse_format, chip.memory["synapse"].word_bits
        words = None if on_host else (words_per_entry_read(fmt, syn.structure, bits, word), header_words(fmt, word))
        work[s].append((t, each, ro, action, bits / 8.0, memory, words))
        if on_host and not pops[t].on_host:
            host_sources.setdefault(t, []).append(s)

    order = [name for name, _ in graph.nodes()]
    last_host_source: dict[str, list[str]] = {}
    for t, sources in host_sources.items():
        last = max(sources, key=order.index)
        last_host_source.setdefault(last, []).append(t)

    links = mesh_links(chip.mesh)
    link_index = {link: i for i, link in enumerate(links)}
    routes = {}
    for a in range(n_units):
        for b in range(n_units):
            routes[(a, b)] = [link_index[k] for k in xy_route(units[a].router, units[b].router)]

    emissions: dict[str, Block] = {}
    output = graph.output_name()
    for name, node in graph.nodes():
        shape = (node.shape[0], 1) if name == input_name else tuple(node.shape)
        src_owner = np.full(shape, io) if name == input_name else owner[name]
        targets = work[name]
        if name == output:
            to_io = np.zeros((node.shape[0] * node.shape[1], n_units), np.float32)
            to_io[:, io] = 1.0
            targets = [("io", to_io, None, None, 0.0, None, False)]
        emissions[name] = _emission(name, shape, src_owner, targets, units, spiking=is_spiking(node),
                                    local=chip.core.charge_local_messages)
    for t in host_sources:  # the host's one graded message per neuron of t, to the neuron's core
        rows = owner[t].ravel()
        to_own = np.zeros((rows.size, n_units), np.float32)
        to_own[np.arange(rows.size), rows] = 1.0
        emissions[f"host>{t}"] = _emission(t, (rows.size, 1), np.full((rows.size, 1), host),
                                           [(t, to_own, None, None, 0.0, None, False)], units, spiking=False)

    updates = {name: _updates(name, graph.node(name), owner[name], units, chip) for name in owner
               if (owner[name] < n_cores).any()}
    state_words = state_words_per_neuron(chip.core.state_bits, chip.memory["neuron_state"].word_bits)
    emissions[input_name] = _with_resets(emissions[input_name], owner, n_cores, state_words)
    steps, phases = _schedule(graph, input_name, last_host_source)
    background = _background(phases, list(updates), chip.core.neuron_updates == "every_step")
    return Program(graph, chip, units, owner, steps, phases, emissions, updates, links, routes, background)


def _background(phases: list[Phase], on_cores: list[str], every_step: bool) -> list[list[str]]:
    """Per phase, the populations on cores that take an idle update there: with ``every_step``, in the first phase
    of each step those of ``on_cores`` that have no phase in that step; otherwise none."""
    out: list[list[str]] = [[] for _ in phases]
    if not every_step:
        return out
    own: dict[int, set[str]] = {}
    first: dict[int, int] = {}
    for k, phase in enumerate(phases):
        own.setdefault(phase.step, set()).add(phase.population)
        first.setdefault(phase.step, k)
    for step, k in first.items():
        out[k] = [p for p in on_cores if p not in own[step]]
    return out


def _emission(name: str, shape: tuple[int, int], src_owner: np.ndarray, targets: list, units: list[Unit],
              spiking: bool, layer: str | None = None, local: bool = False) -> Block:
    """The emission table of one emitter (module docstring): work columns per (layer, unit), a spike_out column per
    sending core, packet columns per (from unit, to unit), incoming-event columns per receiving unit. ``local``: a
    core's messages to targets on itself are packets too (0 hops). Word reads (``mapping.memory``): a synaptic op or
    MAC reads its entry's share of a synapse word, an event reaching a layer's list on a core its header words, an
    event arriving at a core one axon-table word, a sending core one route-table word per event."""
    layer = layer or name
    n_units = len(units)
    rows = shape[0] * shape[1]
    own = src_owner.reshape(-1)
    cols: list[np.ndarray] = []
    ro_cols: list[np.ndarray] = []
    columns: list[list[Charge]] = []
    pairs: list[tuple[int, int, int]] = []
    dest_each = np.zeros((rows, n_units), bool)
    dest_ro = np.zeros((shape[1], n_units), bool)

    def add(each: np.ndarray | None, ro: np.ndarray | None, charges: list[Charge]) -> None:
        cols.append(np.zeros(rows, np.float32) if each is None else each)
        ro_cols.append(np.zeros((shape[0], shape[1]), np.float32) if ro is None else ro)
        columns.append(charges)

    for target, each, ro, action, nbytes, memory, words in targets:
        if each is not None:
            dest_each |= each > 0
        if ro is not None:
            dest_ro |= ro > 0
        if action is None:
            continue
        for k in range(n_units):
            e = None if each is None else each[:, k]
            r = None if ro is None else np.broadcast_to(ro[:, k], shape)
            if (e is None or not e.any()) and (r is None or not r.any()):
                continue
            charges = [Charge(k, action, target)]
            if action != "host_mac":
                charges += [Charge(k, "weight_read_byte", target, nbytes), Charge(k, "accumulator_rmw", target),
                            Charge(k, "words_synapse", target, words[0])]
            charges.append(Charge(k, f"bytes_{memory}", target, nbytes))
            add(e, r, charges)
            if action != "host_mac" and words[1]:  # one list (its header) per event, layer and core
                add(None if e is None else (e > 0).astype(np.float32),
                    None if r is None else (r > 0).astype(np.float32), [Charge(k, "words_synapse", target, words[1])])

    # the readout row sends to dest_each | dest_ro: its extra destinations are dest_ro & ~dest_each[row]
    each_rows = dest_each.reshape(shape[0], shape[1], n_units)
    extra = dest_ro[None] & ~each_rows  # [P, C, U]
    sends_each = dest_each.any(1)
    sends_extra = extra.any(2) & ~sends_each.reshape(shape)
    kind = "in_spikes" if spiking else "in_graded"
    for k in range(n_units):
        if units[k].kind == "core" and (own == k).any():
            mine = (own == k).reshape(shape)
            add((sends_each & mine.ravel()).astype(np.float32), (sends_extra & mine).astype(np.float32),
                [Charge(k, "spike_out", layer), Charge(k, "words_route_table", layer)])
    for k in range(n_units):
        if dest_each[:, k].any() or extra[..., k].any():
            arrive = [Charge(k, kind, layer)] + ([Charge(k, "axon_lookup", layer), Charge(k, "words_axon_table", layer)]
                                                 if units[k].kind == "core" else [])
            add(dest_each[:, k].astype(np.float32), extra[..., k].astype(np.float32), arrive)
    for u in np.unique(own):
        mine = (own == u)
        for k in range(n_units):
            if k == u and not (local and units[k].kind == "core"):
                continue
            e = dest_each[:, k] & mine
            r = extra[..., k] & mine.reshape(shape)
            if e.any() or r.any():
                route = xy_route(units[u].router, units[k].router)
                ew = sum(a[0] == b[0] for a, b in route)
                pairs.append((len(columns), int(u), k))
                add(e.astype(np.float32), r.astype(np.float32),
                    [Charge(int(u), "message_out", layer), Charge(int(u), "hop_ew", layer, float(ew)),
                     Charge(int(u), "hop_ns", layer, float(len(route) - ew)), Charge(k, "in_packets", layer)]
                    + ([Charge(k, "packet_receive", layer)] if units[k].kind == "core" else []))
    each_m = np.stack(cols, axis=1) if cols else np.zeros((rows, 0), np.float32)
    ro_m = np.stack(ro_cols, axis=-1) if ro_cols else None
    if ro_m is not None and not ro_m.any():
        ro_m = None
    return Block(np.ascontiguousarray(each_m, dtype=np.float32), ro_m, columns, pairs)


def _with_resets(block: Block, owner: dict[str, np.ndarray], n_cores: int, state_words: int) -> Block:
    """The input's emission block plus one ``neuron_reset`` per neuron on a core per inference (writing its
    ``state_words`` neuron-state words): a column per (population, core), counted once (row 0: the input's every row
    emits once per inference)."""
    columns, cols = [], []
    for name, own in owner.items():
        held = np.bincount(own.ravel(), minlength=n_cores)[:n_cores]
        for k in np.flatnonzero(held):
            one = np.zeros(block.each.shape[0], np.float32)
            one[0] = 1.0
            cols.append(one)
            columns.append([Charge(int(k), "neuron_reset", name, float(held[k])),
                            Charge(int(k), "words_neuron_state", name, float(held[k] * state_words))])
    if not cols:
        return block
    each = np.concatenate([block.each, np.stack(cols, axis=1)], axis=1)
    readout = None if block.readout is None else np.concatenate(
        [block.readout, np.zeros(block.readout.shape[:2] + (len(cols),), np.float32)], axis=-1)
    return Block(np.ascontiguousarray(each), readout, block.columns + columns, block.pairs)


def _updates(name: str, node, owner: np.ndarray, units: list[Unit], chip) -> Block:
    """Neuron updates of a population on cores: ``each`` [neurons, K] one-hot of the K cores it uses; the columns are
    (active at core k) for the K cores, then (idle at core k): counts = [active @ each, (1 - active) @ each].
    State bytes read per update: u and v (LIF) or the accumulator (Graded, Readout)."""
    own = owner.reshape(-1)
    state_bits = getattr(getattr(node, "fixed", None), "state_bits", chip.core.state_bits)
    state_bytes = (2 if isinstance(node, LIF) else 1) * state_bits / 8.0
    cores = [int(k) for k in np.unique(own) if units[k].kind == "core"]
    one = np.stack([(own == k).astype(np.float32) for k in cores], axis=1)
    words = 2.0 * state_words_per_neuron(chip.core.state_bits, chip.memory["neuron_state"].word_bits)  # read, write
    columns = [[Charge(k, action, name), Charge(k, "bytes_neuron_state", name, state_bytes),
                Charge(k, "neuron_state_access", name), Charge(k, "words_neuron_state", name, words)]
               for action in ("neuron_update", "neuron_update_idle") for k in cores]
    return Block(one, None, columns)


def _schedule(graph: NeuroGraph, input_name: str, last_host_source: dict[str, list[str]]
              ) -> tuple[list[str], list[Phase]]:
    """Steps and phases (module docstring): stages in topological order, a window's LIF populations at each t."""
    lif = [n for n, node in graph.nodes() if isinstance(node, LIF)]
    sub = graph.g.subgraph(lif)
    window_of = {n: i for i, comp in enumerate(nx.weakly_connected_components(sub)) for n in comp}
    stage_graph = nx.DiGraph()
    def stage(n: str) -> str:
        return f"window{window_of[n]}" if n in window_of else n
    members: dict[str, list[str]] = {}
    order = [n for n, _ in graph.nodes()]
    for n in order:
        if n == input_name:
            continue
        stage_graph.add_node(stage(n))
        members.setdefault(stage(n), []).append(n)
    for s, t, _ in graph.edges():
        if s != input_name and stage(s) != stage(t):
            stage_graph.add_edge(stage(s), stage(t))
    stages = list(nx.lexicographical_topological_sort(
        stage_graph, key=lambda st: min(order.index(m) for m in members[st])))
    steps: list[str] = []
    phases: list[Phase] = []
    for st in stages:
        pops = members[st]
        node = graph.node(pops[0])
        T = node.time_steps if isinstance(node, LIF) else 1
        label = "+".join(pops) if len(pops) > 1 else pops[0]
        for t in range(T):
            k = len(steps)
            steps.append(f"{label}[t={t}]" if isinstance(node, LIF) else label)
            if k == 0:
                phases.append(Phase(k, input_name, 0))
            for p in pops:
                phases.append(Phase(k, p, t))
                if t == 0:
                    phases += [Phase(k, f"host>{fed}", 0) for fed in last_host_source.get(p, [])]
    return steps, phases


def phase_pairs(program: Program) -> list[list[tuple[int, int]]]:
    """Per phase the distinct (from unit, to unit) pairs its emission sends packets between, in the order of the
    block's packet columns: the layout of the packets the Ledger hands to the event timing model."""
    return [list(dict.fromkeys((a, b) for _, a, b in program.emissions[phase.population].pairs))
            for phase in program.phases]
