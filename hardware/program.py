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
A layer split by fan-in (``mapping.splits``) does its synaptic work (with its weight reads) on its partial cores,
which receive the source's messages; right after each phase of the source comes the phase of its partial sums:
every partial accumulator updates and sends its raw sum to the core of its target neuron, which adds it (one
``synaptic_op`` without a weight read per value; the target rounds the merged sum once, as the unsplit layer's).

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
from mapping.pieces import populations, splits_of
from mapping.splits import PREFIX as SPLIT_PREFIX, Split
from mapping.tables import PREFIX as TABLE_PREFIX, Table, tables_of

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
    routes: dict[tuple[int, int], list[int]]  # (from unit, to unit) -> links crossed (XY routing), packets' pairs
    background: list[list[str]] = field(default_factory=list)  # per phase: populations on cores updated idle there
    tables: dict[str, tuple[Table, list[int]]] = field(default_factory=dict)  # target -> table, unit per range
    topk_groups: np.ndarray | None = None  # with chip.top_k: the unit holding each item's score [N+1]
    splits: dict[str, tuple[Split, list[int]]] = field(default_factory=dict)  # partial name -> split, unit per range

    def input_events(self, history: np.ndarray) -> np.ndarray:
        """Events [b, P, 1 + J] of the item input's emission: column 0 every position (the layers without a
        table), column 1 + j the positions whose item lies in table range j (the tables' ranges in order)."""
        cols = [np.ones(history.shape + (1,), np.float32)]
        for table, _ in self.tables.values():
            for i0, i1, _, _ in table.ranges:
                cols.append(((history >= i0) & (history < i1)).astype(np.float32)[..., None])
        return np.concatenate(cols, axis=-1)

    def table_events(self, target: str, history: np.ndarray) -> np.ndarray:
        """Events [b, P, J * D] of table X's emission: row (p, j, d) sends when item[p] lies in range j."""
        table, _ = self.tables[target]
        hit = np.stack([((history >= i0) & (history < i1)) for i0, i1, _, _ in table.ranges], axis=-1)
        return np.repeat(hit.astype(np.float32), table.width, axis=-1)

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
        if p.population.startswith((TABLE_PREFIX, SPLIT_PREFIX)):
            continue  # item tables and partial sums: Program.tables and Program.splits
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
    tables = _table_units(tables_of(graph, chip), mapping)
    splits = _split_units(splits_of(pops), mapping)
    split_of = {(sp.source, sp.target): (sp, sp_units) for sp, sp_units in splits.values()}

    # where each layer's synaptic work is done, and what one event of each source row costs there
    work: dict[str, list] = {name: [] for name, _ in graph.nodes()}
    host_sources: dict[str, list[str]] = {}
    for s, t, syn in graph.edges():
        if s == input_name and t in tables:
            continue  # the item table's work: the input's and the table's emissions below
        on_host = pops[t].on_host or any(e.source == s and e.axons == "host" for e in pops[t].in_edges)
        units_of = np.full(graph.node(t).shape, host) if on_host else owner[t]
        if s == input_name and syn.structure != "dense":
            raise UserError(f"synapse {s} -> {t}: the simulator supports only dense layers from the item input")
        if (s, t) in split_of:  # the layer's synaptic work on its partial cores (mapping.splits)
            each, ro = _split_counts(*split_of[(s, t)], n_units)
        else:
            each, ro = _synapse_counts(syn, graph.node(s).shape, units_of, n_units, s == input_name)
        spike = is_spiking(graph.node(s))
        action = "host_mac" if on_host else ("synaptic_op" if spike else "mac")
        bits = syn.fixed.bits if syn.fixed is not None else chip.core.weight_bits
        memory = ("host_weights" if on_host else "embedding_table" if s == input_name
                  else "item_table" if isinstance(graph.node(t), Readout) else "synapse_weights")
        if on_host:
            charges, per_event = [("host_mac", 1.0)], []
        else:
            fmt, word = chip.synapse_format, chip.memory["synapse"].word_bits
            charges = [(action, 1.0), ("weight_read_byte", bits / 8.0), ("accumulator_rmw", 1.0),
                       ("words_synapse", words_per_entry_read(fmt, syn.structure, bits, word))]
            per_event = [("words_synapse", float(header_words(fmt, word)))]  # one list per event, layer and core
        work[s].append((t, each, ro, charges + [(f"bytes_{memory}", bits / 8.0)], per_event))
        if on_host and not pops[t].on_host:
            host_sources.setdefault(t, []).append(s)

    order = [name for name, _ in graph.nodes()]
    last_host_source: dict[str, list[str]] = {}
    for t, sources in host_sources.items():
        last = max(sources, key=order.index)
        last_host_source.setdefault(last, []).append(t)

    links = mesh_links(chip.mesh)
    link_index = {link: i for i, link in enumerate(links)}

    emissions: dict[str, Block] = {}
    output = graph.output_name()
    topk_groups = None
    for name, node in graph.nodes():
        shape = (node.shape[0], 1) if name == input_name else tuple(node.shape)
        src_owner = np.full(shape, io) if name == input_name else owner[name]
        targets = work[name]
        if name == input_name and tables:
            shape, src_owner, targets = _input_with_tables(shape[0], tables, targets, io, n_units, chip)
        if name == output:
            if chip.top_k > 0:
                topk_groups = owner[name][0].copy()
                emissions[name] = _topk_block(name, topk_groups, chip.top_k, io, units)
                continue
            to_io = np.zeros((node.shape[0] * node.shape[1], n_units), np.float32)
            to_io[:, io] = 1.0
            targets = [("io", to_io, None, [("result_out", 1.0)], [])]
        emissions[name] = _emission(name, shape, src_owner, targets, units, spiking=is_spiking(node),
                                    local=chip.core.charge_local_messages)
    for t in host_sources:  # the host's one graded message per neuron of t, to the neuron's core
        rows = owner[t].ravel()
        to_own = np.zeros((rows.size, n_units), np.float32)
        to_own[np.arange(rows.size), rows] = 1.0
        emissions[f"host>{t}"] = _emission(t, (rows.size, 1), np.full((rows.size, 1), host),
                                           [(t, to_own, None, None, [])], units, spiking=False)
    for t, (table, table_units) in tables.items():
        emissions[table.name] = _table_emission(table, table_units, owner[t], units, chip)
    for name, (sp, sp_units) in splits.items():
        emissions[name] = _partial_emission(name, sp.target, sp.target_shape, [r[2:] for r in sp.ranges], sp_units,
                                            owner[sp.target], units, chip, True)

    pairs = {(a, b) for block in emissions.values() for _, a, b in block.pairs}  # the routes packets take
    routes = {(a, b): [link_index[k] for k in xy_route(units[a].router, units[b].router)] for a, b in pairs}
    updates = {name: _updates(name, graph.node(name), owner[name], units, chip) for name in owner
               if (owner[name] < n_cores).any()}
    partial_after: dict[str, list[str]] = {}
    for name, (sp, _) in splits.items():
        partial_after.setdefault(sp.source, []).append(name)
    state_words = state_words_per_neuron(chip.core.state_bits, chip.memory["neuron_state"].word_bits)
    emissions[input_name] = _with_resets(emissions[input_name], _accumulators(owner, tables, splits, n_cores),
                                         n_cores, state_words)
    steps, phases = _schedule(graph, input_name, last_host_source, [t.name for t, _ in tables.values()],
                              partial_after)
    background = _background(phases, list(updates), chip.core.neuron_updates == "every_step")
    return Program(graph, chip, units, owner, steps, phases, emissions, updates, links, routes, background, tables,
                   topk_groups, splits)


def _split_units(splits: dict[str, Split], mapping) -> dict[str, tuple[Split, list[int]]]:
    """Each split layer with the unit (core index) of each of its partial pieces, from the mapping; UserError when
    they are not the split the chip's rules give (a mapping made with another chip file or graph)."""
    out = {}
    for name, sp in splits.items():
        placed = {(p.rows[0], p.rows[1], p.chans[0], p.chans[1]): p.core for p in mapping.pieces
                  if p.population == name}
        if set(placed) != set(sp.ranges) or any(placed[r] is None for r in sp.ranges):
            raise UserError(f"the mapping's partial sums of layer {sp.source} -> {sp.target} are not the ones chip "
                            f"'{mapping.chip}' gives; map this graph again on this chip")
        out[name] = (sp, [int(placed[r]) for r in sp.ranges])
    return out


def _split_counts(sp: Split, sp_units: list[int], n_units: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``_synapse_counts`` for a split layer: synapses from each source neuron to the partial accumulators on each
    unit, (each [Ps * Cs, U] or None, readout [Cs, U] or None for a "readout" edge)."""
    ps, cs = sp.source_shape
    per = np.zeros((ps, cs, n_units), np.float32)
    for (a0, a1, d0, d1), u in zip(sp.ranges, sp_units):
        if sp.structure == "circulant":  # source (l, c) reaches every target row of channel c
            per[a0:a1, d0:d1, u] += sp.target_shape[0]
        else:  # dense: source (p, c) reaches the piece's channels of row p (of row 0 for a readout edge)
            per[:, a0:a1, u] += d1 - d0
    if sp.positions == "readout":
        return None, per[0]
    return per.reshape(ps * cs, n_units), None


def _table_units(tables: dict[str, Table], mapping) -> dict[str, tuple[Table, list[int]]]:
    """Each item table with the unit (core index) of each of its ranges, from the mapping's table pieces;
    UserError when they are not the table the chip's rules give (a mapping made with another chip file)."""
    out = {}
    for target, table in tables.items():
        placed = {(p.rows[0], p.rows[1], p.chans[0], p.chans[1]): p.core for p in mapping.pieces
                  if p.population == table.name}
        if set(placed) != set(table.ranges) or any(placed[r] is None for r in table.ranges):
            raise UserError(f"the mapping's item table of {target} is not the one chip '{mapping.chip}' gives "
                            f"(core.embedding = {table.mode!r}); map this graph again on this chip")
        out[target] = (table, [int(placed[r]) for r in table.ranges])
    return out


def _input_with_tables(P: int, tables: dict[str, tuple[Table, list[int]]], targets: list, io: int, n_units: int,
                       chip) -> tuple[tuple[int, int], np.ndarray, list]:
    """The item input's emission with tables: rows (p, column), column 0 for the layers without a table (their
    ``targets``), column 1 + j for table range j (``Program.input_events``): the spike of position p reaches the
    table core of its item's range, which reads the row (lookup: one row of D weights) or accumulates it (fanin: a
    synaptic op and accumulator update per channel of the range); either reads the row's entries as synapse words
    (``mapping.memory``: a dense list, its header once per event)."""
    fmt, word = chip.synapse_format, chip.memory["synapse"].word_bits
    J = sum(len(t.ranges) for t, _ in tables.values())
    cols = 1 + J
    out = []
    for target, each, ro, charges, per_event in targets:  # column 0 of every row
        wide = np.zeros((P, cols, n_units), np.float32)
        wide[:, 0] = each.reshape(P, n_units)
        out.append((target, wide.reshape(P * cols, n_units), ro, charges, per_event))
    j = 1
    for target, (table, table_units) in tables.items():
        for (i0, i1, d0, d1), unit in zip(table.ranges, table_units):
            dc = d1 - d0
            each = np.zeros((P, cols, n_units), np.float32)
            each[:, j, unit] = 1.0
            nbytes = dc * table.weight_bits / 8.0
            row_words = dc * words_per_entry_read(fmt, "dense", table.weight_bits, word)
            charges = [("weight_read_byte", nbytes), ("words_synapse", row_words)] + (
                [] if table.mode == "lookup" else [("synaptic_op", float(dc)), ("accumulator_rmw", float(dc))])
            out.append((table.target, each.reshape(P * cols, n_units), None,
                        charges + [("bytes_embedding_table", nbytes)],
                        [("words_synapse", float(header_words(fmt, word)))]))
            j += 1
    return (P, cols), np.full((P, cols), io), out


def _table_emission(table: Table, table_units: list[int], owner: np.ndarray, units: list[Unit], chip) -> Block:
    """Table X's emission (``Program.table_events``): see :func:`_partial_emission`; with "fanin" the partial
    accumulator also takes one active ``neuron_update`` when it sends."""
    return _partial_emission(table.name, table.target, (table.positions, table.width), [r[2:] for r in table.ranges],
                             table_units, owner, units, chip, table.mode == "fanin")


def _partial_emission(name: str, target: str, shape: tuple[int, int], chans: list[tuple[int, int]],
                      senders: list[int], owner: np.ndarray, units: list[Unit], chip, accumulators: bool
                      ) -> Block:
    """The values that table or partial cores send to the cores of ``target`` (shape P x D): rows (p, j, d), sent
    by unit ``senders[j]`` to the core of the target's neuron (p, d) when d lies in ``chans[j]``; the receiver adds
    it (a synaptic op and an accumulator read-modify-write, without a weight read). With ``accumulators`` the
    sender's accumulator also takes one active ``neuron_update`` when it sends (and reads and writes its state)."""
    (P, D), J = shape, len(chans)
    n_units = len(units)
    each = np.zeros((P, J, D, n_units), np.float32)
    src = np.zeros((P, J, D), np.int64)
    partial = np.zeros((P, J, D, n_units), np.float32)
    for j, ((d0, d1), unit) in enumerate(zip(chans, senders)):
        src[:, j, :] = unit
        p_idx, d_idx = np.meshgrid(np.arange(P), np.arange(d0, d1), indexing="ij")
        each[p_idx, j, d_idx, owner[p_idx, d_idx]] = 1.0
        partial[:, j, d0:d1, unit] = 1.0
    rows = P * J * D
    targets = [(target, each.reshape(rows, n_units), None, [("synaptic_op", 1.0), ("accumulator_rmw", 1.0)], [])]
    if accumulators:
        state_words = 2.0 * state_words_per_neuron(chip.core.state_bits, chip.memory["neuron_state"].word_bits)
        targets.append((target, partial.reshape(rows, n_units), None,
                        [("neuron_update", 1.0), ("bytes_neuron_state", 3.0), ("neuron_state_access", 1.0),
                         ("words_neuron_state", state_words)], []))
    return _emission(name, (P, J * D), src.reshape(P, J * D), targets, units, spiking=False, layer=target,
                     local=chip.core.charge_local_messages)


def _topk_block(name: str, groups: np.ndarray, k: int, io: int, units: list[Unit]) -> Block:
    """The Readout's emission with on-chip top-k (``hardware.chip``): per inference, one ``compare`` per ranked
    score on the unit holding it; each unit sends its best k + 1 (fewer if it holds fewer) to io, which compares
    each once (the merge) and sends out k + 1 results. One row (events: once per inference) holding the sums."""
    columns: list[list[Charge]] = []
    sums: list[float] = []
    pairs: list[tuple[int, int, int]] = []
    ranked = groups[1:]  # item 0 is padding, never ranked
    for u in np.unique(ranked):
        held = int((ranked == u).sum())
        columns.append([Charge(int(u), "compare", name)])
        sums.append(float(held))
        route = xy_route(units[u].router, units[io].router)
        ew = sum(a[0] == b[0] for a, b in route)
        if u != io:
            pairs.append((len(columns), int(u), io))
        columns.append([Charge(int(u), "spike_out", name), Charge(int(u), "words_route_table", name),
                        Charge(int(u), "message_out", name),
                        Charge(int(u), "hop_ew", name, float(ew)),
                        Charge(int(u), "hop_ns", name, float(len(route) - ew)),
                        Charge(io, "in_packets", name), Charge(io, "in_graded", name),
                        Charge(io, "compare", name)])
        sums.append(float(min(k + 1, held)))
    columns.append([Charge(io, "result_out", name)])
    sums.append(float(min(k + 1, ranked.size)))
    return Block(np.array([sums], np.float32), None, columns, pairs)


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

    for target, each, ro, charge_list, per_event in targets:
        if each is not None:
            dest_each |= each > 0
        if ro is not None:
            dest_ro |= ro > 0
        if charge_list is None:
            continue
        hit = np.zeros(n_units, bool)  # the units this target charges
        for m in (each, ro):
            if m is not None:
                hit |= m.any(axis=0)
        for k in map(int, np.flatnonzero(hit)):
            e = None if each is None else each[:, k]
            r = None if ro is None else np.broadcast_to(ro[:, k], shape)
            add(e, r, [Charge(k, counter, target, mult) for counter, mult in charge_list])
            if per_event and any(mult for _, mult in per_event):
                add(None if e is None else (e > 0).astype(np.float32),
                    None if r is None else (r > 0).astype(np.float32),
                    [Charge(k, counter, target, mult) for counter, mult in per_event])

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


def _accumulators(owner: dict[str, np.ndarray], tables: dict[str, tuple[Table, list[int]]],
                  splits: dict[str, tuple[Split, list[int]]], n_cores: int) -> dict[str, np.ndarray]:
    """Unit of every neuron that a reset clears: the populations' (``owner``) and the partial accumulators of
    "fanin" item tables and split layers (P x channels of a range on its core; "lookup" tables hold none)."""
    out = dict(owner)
    for table, table_units in tables.values():
        if table.mode == "fanin":
            out[table.name] = np.concatenate([np.full(table.positions * (d1 - d0), u)
                                              for (_, _, d0, d1), u in zip(table.ranges, table_units)])
    for name, (sp, sp_units) in splits.items():
        out[name] = np.concatenate([np.full(sp.target_shape[0] * (d1 - d0), u)
                                    for (_, _, d0, d1), u in zip(sp.ranges, sp_units)])
    return out


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
    """Neuron updates of a population on cores: ``each`` [neurons, K] one-hot of the K cores it uses (LIF, whose
    active updates are counted per neuron), or [1, K] its neurons per core (Graded, Readout: every neuron updates
    once, active; a catalog's readout then costs no [N, K] table); the columns are (active at core k) for the K
    cores, then (idle at core k): counts = [active @ each, (1 - active) @ each]. State bytes read per update: u and v
    (LIF) or the accumulator (Graded, Readout)."""
    own = owner.reshape(-1)
    state_bits = getattr(getattr(node, "fixed", None), "state_bits", chip.core.state_bits)
    state_bytes = (2 if isinstance(node, LIF) else 1) * state_bits / 8.0
    cores = [int(k) for k in np.unique(own) if units[k].kind == "core"]
    col = np.full(len(units), -1)
    col[cores] = np.arange(len(cores))
    on_core = col[own] >= 0
    if isinstance(node, LIF):
        one = np.zeros((own.size, len(cores)), np.float32)
        one[np.flatnonzero(on_core), col[own[on_core]]] = 1.0
    else:
        one = np.bincount(col[own[on_core]], minlength=len(cores)).astype(np.float32)[None]
    words = 2.0 * state_words_per_neuron(chip.core.state_bits, chip.memory["neuron_state"].word_bits)  # read, write
    columns = [[Charge(k, action, name), Charge(k, "bytes_neuron_state", name, state_bytes),
                Charge(k, "neuron_state_access", name), Charge(k, "words_neuron_state", name, words)]
               for action in ("neuron_update", "neuron_update_idle") for k in cores]
    return Block(one, None, columns)


def _schedule(graph: NeuroGraph, input_name: str, last_host_source: dict[str, list[str]], tables: list[str],
              partial_after: dict[str, list[str]]) -> tuple[list[str], list[Phase]]:
    """Steps and phases (module docstring): stages in topological order, a window's LIF populations at each t;
    the partial sums of a split layer right after each phase of its source (``partial_after``)."""
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
                phases += [Phase(k, name, 0) for name in tables]
            for p in pops:
                phases.append(Phase(k, p, t))
                phases += [Phase(k, name, t) for name in partial_after.get(p, [])]
                if t == 0:
                    phases += [Phase(k, f"host>{fed}", 0) for fed in last_host_source.get(p, [])]
    return steps, phases


def phase_pairs(program: Program) -> list[list[tuple[int, int]]]:
    """Per phase the distinct (from unit, to unit) pairs its emission sends packets between, in the order of the
    block's packet columns: the layout of the packets the Ledger hands to the event timing model."""
    return [list(dict.fromkeys((a, b) for _, a, b in program.emissions[phase.population].pairs))
            for phase in program.phases]
