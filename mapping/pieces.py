"""Core-sized pieces of a graph, where each layer is evaluated, and the exact per-core resources pieces use.

A *piece* is a rectangle of one population's neurons: positions ``rows = [p0, p1)`` x channels ``chans = [c0, c1)``
(neuron (p, c) has flat index p * C + c, as in the IR).

Where work runs. On a chip whose cores have MAC units (``core.mac_units > 0``) every population sits on cores and
every layer is evaluated there. On a chip without them the multiply-accumulates of graded input go to the chip's
[host] (a MappingError when it has none):
- a Graded or Readout population whose inputs are all graded runs on the host (one piece, the whole population);
- every other population sits on cores: LIF always, Graded and Readout when at least one input is spikes. Each of
  its incoming layers from a Graded source is a *host layer*: evaluated on the host (weights in host memory, its
  synapses counted as host MACs per inference) and delivered as one graded message per target neuron per
  inference (a bias write, as Loihi-1 applications inject direct-encoded currents). On the core it costs 0 synapse
  memory and 1 input axon per target neuron (one for all host layers into that neuron: the host sends their sum).

Per core (``CoreState``), with the rules of the chip schema:
- neurons           = sum of the pieces' neurons                                             <= core.neurons
- input axons       = distinct axons per source population and kind (``InEdge.axons``):     <= core.input_axons
                      "neuron"  one per source neuron feeding the core: circulant edges (all source rows x the
                                piece's channels) and, without core.shared_weights, position-wise "each" edges (the
                                piece's rows x all source channels for dense, the piece's rectangle for diagonal;
                                from ItemInput one axon per (position, item));
                      "channel" with core.shared_weights, a position-wise "each" edge (dense or diagonal) uses one
                                axon per source channel, shared by all positions the core holds (a message carries
                                its position as a tag, as the weight rows are shared): the distinct source channels
                                feeding the piece's channels (all of them for dense, from ItemInput one per item; the
                                piece's channels for diagonal);
                      "readout" a readout edge carries only row length-1 at each inference: one axon per source
                                channel (all for dense, the piece's channels for diagonal);
                      "host"    one per target neuron of a population with host layers;
                      "table"   (an item table feeds the piece, ``mapping.tables``) with core.shared_weights one per
                                channel of the piece per item range ("fanin"; 1 range for "lookup"), shared by
                                the positions; "table-rows" without it, one per neuron and item range;
                      "merge"   (a layer split by fan-in, ``mapping.splits``: its partial sums come from partial
                                cores) with core.shared_weights one per channel of the piece per fan-in range,
                                "merge-rows" without it one per neuron and fan-in range.
                      Axons of different kinds are distinct, also from the same source.
- synapse words     = ceil(sum of list bits / word bits)                  <= core.synapse_memory_bytes x 8 // word bits
                      in words of memory.synapse_word_bits, each stored weight row a list written in its layer's
                      synapse format (``mapping.memory``: entries of weight bits, + index bits when "sparse", a
                      header per list, whole words when aligned): dense: with core.shared_weights one row per
                      distinct target channel on the core (C_in weights), else one per neuron; diagonal: a list of
                      one weight per distinct channel (shared) or per neuron; circulant (not position-wise): P_in
                      weights per neuron; host layers, item tables and split layers: none (their weights sit on table or
                      partial cores, ``mapping.tables`` and ``mapping.splits``).
- weight bits       = the layer's ``fixed.bits`` (a float graph is assumed quantised to core.weight_bits) <= core.weight_bits
- LIF state bits    = ``LIFFixed.state_bits`` of a quantised graph                          <= core.state_bits
Host: the weights of every layer it evaluates, stored once (weights x bits), <= host.memory_bytes (``mapping``).
Output routes (distinct (source neuron, destination core) pairs) depend on the whole partition: ``mapping.traffic``.
Fan-in splitting: where one neuron of a population does not fit an empty core, its dense and circulant in-layers are
split by fan-in, largest first, into partial sums on partial cores (``mapping.splits``, chosen in ``populations``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ssr_neuro.errors import MappingError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, is_spiking

from mapping.memory import format_keys, list_bits, synapse_words_limit
from mapping.splits import MERGE_KINDS, Split, plan_split
from mapping.tables import tables_of

RESOURCES = ("neurons", "input_axons", "output_axons", "synapse_words")
TABLE_KINDS = ("table", "table-rows")
PARTIAL_KINDS = TABLE_KINDS + MERGE_KINDS  # inputs that arrive as values from other cores, ``fan_in`` axons each


def limit(chip, key: str) -> int:
    """A core's limit of resource ``key`` (``RESOURCES``)."""
    return synapse_words_limit(chip) if key == "synapse_words" else getattr(chip.core, key)


@dataclass(frozen=True)
class Piece:
    """A rectangle of one population's neurons: rows [p0, p1) x channels [c0, c1)."""

    id: int
    population: str
    rows: tuple[int, int]
    chans: tuple[int, int]

    @property
    def n_neurons(self) -> int:
        return (self.rows[1] - self.rows[0]) * (self.chans[1] - self.chans[0])

    @property
    def name(self) -> str:
        return f"{self.population}[{self.rows[0]}:{self.rows[1]}, {self.chans[0]}:{self.chans[1]}]"


@dataclass(frozen=True)
class InEdge:
    """One incoming synapse layer of a population, reduced to what resources, traffic and host work need.

    ``axons`` is how the layer's input axons are counted on a core ("neuron", "channel", "readout", see the module
    docstring) or "host" for a host layer; ``synapses`` = the layer's connections (its MACs per inference when
    the host evaluates it: a graded source sends once); ``weights`` = weights stored once (the weight array's size).
    For a table kind ``fan_in`` is the number of input axons per target channel (or neuron): the item ranges; for a
    merge kind (a layer split by fan-in, ``split``, ``mapping.splits``) the number of fan-in ranges."""

    source: str
    source_shape: tuple[int, int]
    structure: str
    positions: str
    fan_in: int
    weight_bits: int
    axons: str
    synapses: int
    weights: int
    split: Split | None = None


@dataclass(frozen=True)
class Population:
    """A population to place: its shape, inputs, where it runs and its memory cost per neuron / per channel (bits)."""

    name: str
    shape: tuple[int, int]
    in_edges: tuple[InEdge, ...]
    on_host: bool
    bits_per_neuron: int   # synapse-list bits every neuron stores by itself (its rows in their formats)
    bits_per_channel: int  # list bits stored once per distinct channel on a core (shared position-wise rows)
    word_bits: int = 64    # the synapse memory's word (memory.synapse_word_bits)
    words_limit: int = 0   # a core's synapse words
    formats: tuple[str, ...] = ()  # the format keys of the layers stored here (for errors)

    @property
    def host_input(self) -> bool:
        """Whether some of its input layers are host layers (one host message and axon per neuron)."""
        return any(e.axons == "host" for e in self.in_edges)

    def host_edges(self) -> list[InEdge]:
        """The input layers the host evaluates: all of them for a host population, else its host layers."""
        return list(self.in_edges) if self.on_host else [e for e in self.in_edges if e.axons == "host"]


def _fmt(n: float) -> str:
    return f"{int(n):,}"


def _axon_kind(structure: str, positions: str, graded_on_host: bool, shared: bool) -> str:
    """How a layer's input axons are counted on a core ("neuron", "channel", "readout"), or "host" for a host layer
    (see the module docstring)."""
    if graded_on_host:
        return "host"
    if structure == "circulant":
        return "neuron"
    if positions == "readout":
        return "readout"
    return "channel" if shared else "neuron"


def populations(graph: NeuroGraph, chip, split_fan_in: bool = True) -> dict[str, Population]:
    """Every non-input population with its inputs, placement side (cores or host) and memory costs; layers split by
    fan-in where a neuron does not fit a core (``split_fan_in=False``: every layer whole, to check a mapping that has
    no partial pieces against a chip's limits).

    Raises MappingError for what no splitting can fix: graded input without MAC units or host, too many weight bits,
    too many LIF state bits."""
    core = chip.core
    tables = tables_of(graph, chip)
    out: dict[str, Population] = {}
    for name, node in graph.nodes():
        if isinstance(node, ItemInput):
            continue
        assert isinstance(node, (Graded, LIF, Readout))
        in_edges = sorted(graph.in_edges(name), key=lambda e: e[0])
        graded = [not is_spiking(graph.node(src)) for src, _ in in_edges]
        needs_host = any(graded) and core.mac_units == 0
        if needs_host and chip.host is None:
            src = in_edges[graded.index(True)][0]
            raise MappingError(
                f"cannot map {name}: it receives graded input from {src} and needs multiply-accumulates, "
                f"but cores of chip '{chip.name}' have none (core.mac_units = 0) and the chip has no [host]; "
                "use a chip with MAC units or add a [host] section")
        on_host = needs_host and all(graded) and not isinstance(node, LIF)
        edges = []
        for (src, syn), is_graded in zip(in_edges, graded):
            bits = syn.fixed.bits if syn.fixed is not None else core.weight_bits
            kind = _axon_kind(syn.structure, syn.positions, needs_host and is_graded and not on_host,
                              core.shared_weights)
            fan_in = syn.fan_in()
            if isinstance(graph.node(src), ItemInput) and name in tables:
                kind = "table" if core.shared_weights else "table-rows"
                fan_in = 1 if tables[name].mode == "lookup" else tables[name].item_ranges
            edges.append(InEdge(src, tuple(graph.node(src).shape), syn.structure, syn.positions, fan_in, bits,
                                kind, syn.n_synapses(graph.node(src), node), int(syn.weight.size)))
        if not on_host:
            for e in edges:
                if e.weight_bits > core.weight_bits and e.axons != "host":
                    raise MappingError(
                        f"cannot map {name}: layer {e.source} -> {name} has {e.weight_bits}-bit weights, a core of "
                        f"chip '{chip.name}' holds {core.weight_bits} (core.weight_bits); quantise to "
                        f"{core.weight_bits}-bit weights or use a chip with more weight bits")
            fixed = getattr(node, "fixed", None)
            if isinstance(node, LIF) and fixed is not None and fixed.state_bits > core.state_bits:
                raise MappingError(
                    f"cannot map {name}: its LIF state needs {fixed.state_bits} bits, a core of chip '{chip.name}' "
                    f"has {core.state_bits} (core.state_bits); use a chip with more state bits")
        pop = _population(name, tuple(node.shape), edges, on_host, chip)
        out[name] = pop if on_host or not split_fan_in else _with_splits(pop, graph.input_name(), chip)
    return out


def _population(name: str, shape: tuple[int, int], edges: list[InEdge], on_host: bool, chip) -> Population:
    """The population with its synapse-list bits per neuron and per channel from its in-edges (``mapping.memory``;
    the host stores plain weights)."""
    shared = chip.core.shared_weights or on_host
    per_neuron = per_channel = 0
    fmt, word = chip.synapse_format, chip.memory["synapse"].word_bits
    stored = [e for e in edges if e.axons != "host" and e.axons not in PARTIAL_KINDS]
    for e in stored:
        bits = e.fan_in * e.weight_bits if on_host else list_bits(e.fan_in, fmt, e.structure, e.weight_bits, word)
        if e.structure == "circulant" or not shared:
            per_neuron += bits
        else:
            per_channel += bits
    formats = tuple(dict.fromkeys(format_keys(fmt, e.structure) for e in stored))
    return Population(name, shape, tuple(edges), on_host, per_neuron, per_channel, word, synapse_words_limit(chip),
                      formats)


def _with_splits(pop: Population, input_name: str, chip) -> Population:
    """``pop`` with in-layers split by fan-in (``mapping.splits``), largest fan-in first, until one of its neurons
    fits an empty core (or nothing is left to split: then ``split`` names the limit)."""
    one = Piece(-1, pop.name, (0, 1), (0, 1))
    while not CoreState({pop.name: pop}).fits(one, chip.core):
        edges = list(pop.in_edges)
        can = [i for i, e in enumerate(edges) if e.split is None and e.source != input_name
               and e.structure in ("dense", "circulant") and e.axons in ("neuron", "channel", "readout")]
        if not can:
            break
        i = max(can, key=lambda i: (edges[i].fan_in * edges[i].weight_bits, -i))
        e = edges[i]
        s = plan_split(e.source, pop.name, e.structure, e.positions, e.source_shape, pop.shape, e.weight_bits, chip)
        edges[i] = replace(e, axons="merge" if chip.core.shared_weights else "merge-rows",
                           fan_in=len(s.fan_ranges), split=s)
        pop = _population(pop.name, pop.shape, edges, False, chip)
    return pop


def splits_of(pops: dict[str, Population]) -> dict[str, Split]:
    """Every layer split by fan-in (``mapping.splits``): partial population name -> Split."""
    return {e.split.name: e.split for pop in pops.values() for e in pop.in_edges if e.split is not None}


def feed_rect(e: InEdge, rows: tuple[int, int], chans: tuple[int, int]) -> tuple[slice, slice]:
    """Source neurons of edge ``e`` that feed the target rectangle, as (row slice, channel slice).

    For a readout edge the row slice covers every source row, any of which can be the readout row."""
    all_rows, all_chans = slice(0, e.source_shape[0]), slice(0, e.source_shape[1])
    if e.structure == "circulant":
        return all_rows, slice(*chans)
    chan = all_chans if e.structure == "dense" else slice(*chans)
    return (all_rows if e.positions == "readout" else slice(*rows)), chan


def axon_rect(e: InEdge, rows: tuple[int, int], chans: tuple[int, int]) -> tuple[slice, slice]:
    """The axons edge ``e`` needs for the target rectangle, as a rectangle of its kind's axon array: source rows x
    channels for "neuron", row 0 x source channels for the per-channel kinds ("channel", "readout"); for the table
    kinds the target's own channels (row 0, or its rows for "table-rows"), each holding ``e.fan_in`` axons."""
    if e.axons in PARTIAL_KINDS:
        return (slice(0, 1) if e.axons in ("table", "merge") else slice(*rows)), slice(*chans)
    rs, cs = feed_rect(e, rows, chans)
    return (rs if e.axons == "neuron" else slice(0, 1)), cs


@dataclass
class Region:
    """A set of cells of a 2-D array (neurons of a source population), kept as a bool mask over its bounding box
    rows [r0, r0 + mask.shape[0]) x channels [c0, c0 + mask.shape[1])."""

    r0: int = 0
    c0: int = 0
    mask: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))

    def box(self) -> tuple[slice, slice]:
        return slice(self.r0, self.r0 + self.mask.shape[0]), slice(self.c0, self.c0 + self.mask.shape[1])

    def count(self, rs: slice, cs: slice) -> int:
        """Cells of the rectangle rs x cs already in the set."""
        r, c = self.r0, self.c0
        return int(self.mask[max(rs.start - r, 0):max(rs.stop - r, 0), max(cs.start - c, 0):max(cs.stop - c, 0)].sum())

    def add(self, rs: slice, cs: slice) -> None:
        (br, bc) = self.box()
        if self.mask.size:
            rs2, cs2 = slice(min(br.start, rs.start), max(br.stop, rs.stop)), slice(min(bc.start, cs.start),
                                                                                    max(bc.stop, cs.stop))
        else:
            rs2, cs2 = rs, cs
        if (rs2, cs2) != (br, bc):
            grown = np.zeros((rs2.stop - rs2.start, cs2.stop - cs2.start), bool)
            grown[br.start - rs2.start:br.stop - rs2.start, bc.start - cs2.start:bc.stop - cs2.start] = self.mask
            self.r0, self.c0, self.mask = rs2.start, cs2.start, grown
        self.mask[rs.start - self.r0:rs.stop - self.r0, cs.start - self.c0:cs.stop - self.c0] = True


@dataclass
class CoreState:
    """The pieces on one core and the exact resources they use (input axons as sets of source neurons or channels).

    Also the host's state: ``add_host_feeds`` records there the sources of host layers into pieces on cores, so
    that traffic sees the messages they send to the host."""

    pops: dict[str, Population]
    pieces: list[Piece] = field(default_factory=list)
    neurons: int = 0
    input_axons: int = 0
    memory_bits: int = 0
    host_inputs: int = 0  # neurons here that receive a host message (one axon each)
    axons: dict[tuple[str, str], Region] = field(default_factory=dict)  # (source, kind) -> axons (see axon_rect)
    routed: dict[str, Region] = field(default_factory=dict)  # source -> its neurons sent here by non-readout edges
    chans: dict[str, Region] = field(default_factory=dict)    # population -> channels held here (row 0)
    counts: dict[str, int] = field(default_factory=dict)      # population -> neurons held here

    @property
    def synapse_words(self) -> int:
        return self._words(self.memory_bits)

    def _words(self, bits: int) -> int:
        word = next(iter(self.pops.values())).word_bits if self.pops else 64
        return -(-bits // word)

    def sources(self) -> set[str]:
        """Source populations that send messages here."""
        return set(self.routed) | {s for s, kind in self.axons if kind == "readout"}

    def _deltas(self, piece: Piece) -> tuple[int, int]:
        """(new input axons, new memory bits) that adding ``piece`` would cost."""
        pop = self.pops[piece.population]
        axons = piece.n_neurons if pop.host_input else 0
        for e in pop.in_edges:
            if e.axons == "host":
                continue
            rs, cs = axon_rect(e, piece.rows, piece.chans)
            held = self.axons.get((e.source, e.axons))
            new = (rs.stop - rs.start) * (cs.stop - cs.start) - (held.count(rs, cs) if held else 0)
            axons += new * (e.fan_in if e.axons in PARTIAL_KINDS else 1)
        have = self.chans.get(piece.population)
        cs = slice(*piece.chans)
        new_chans = (cs.stop - cs.start) - (have.count(slice(0, 1), cs) if have else 0)
        return axons, piece.n_neurons * pop.bits_per_neuron + new_chans * pop.bits_per_channel

    def usage_with(self, piece: Piece) -> dict[str, int]:
        """Neurons, input axons and synapse words of this core if ``piece`` were added."""
        axons, bits = self._deltas(piece)
        return {"neurons": self.neurons + piece.n_neurons, "input_axons": self.input_axons + axons,
                "synapse_words": self._words(self.memory_bits + bits)}

    def fits(self, piece: Piece, core) -> bool:
        use = self.usage_with(piece)
        return (use["neurons"] <= core.neurons and use["input_axons"] <= core.input_axons
                and use["synapse_words"] <= self.pops[piece.population].words_limit)

    def _receive(self, e: InEdge, piece: Piece) -> None:
        """Record the axons and routes edge ``e`` needs to feed ``piece`` here."""
        self.axons.setdefault((e.source, e.axons), Region()).add(*axon_rect(e, piece.rows, piece.chans))
        if e.axons not in ("readout",) + PARTIAL_KINDS:  # values from table or partial cores, not the source
            self.routed.setdefault(e.source, Region()).add(*feed_rect(e, piece.rows, piece.chans))

    def add(self, piece: Piece) -> None:
        axons, bits = self._deltas(piece)
        pop = self.pops[piece.population]
        for e in pop.in_edges:
            if e.axons != "host":
                self._receive(e, piece)
        self.chans.setdefault(piece.population, Region()).add(slice(0, 1), slice(*piece.chans))
        self.counts[piece.population] = self.counts.get(piece.population, 0) + piece.n_neurons
        self.pieces.append(piece)
        self.neurons += piece.n_neurons
        self.input_axons += axons
        self.memory_bits += bits
        self.host_inputs += piece.n_neurons if pop.host_input else 0

    def add_host_feeds(self, piece: Piece) -> None:
        """On the host's state: record the sources of ``piece``'s host layers (the host reads them)."""
        for e in self.pops[piece.population].in_edges:
            if e.axons == "host":
                self.routed.setdefault(e.source, Region()).add(*feed_rect(e, piece.rows, piece.chans))

    def route_mask(self, source: str, rows: int) -> tuple[slice, slice, np.ndarray] | None:
        """Source neurons that need a route to this core, as (row slice, channel slice, bool mask over them), or
        None when none do; ``rows`` is the source's number of rows (a readout edge may read any of them)."""
        each, ro = self.routed.get(source), self.axons.get((source, "readout"))
        if ro is None:
            return None if each is None else (*each.box(), each.mask)
        (_, cs) = ro.box()
        if each is not None:
            (_, ecs) = each.box()
            cs = slice(min(cs.start, ecs.start), max(cs.stop, ecs.stop))
        mask = np.zeros((rows, cs.stop - cs.start), bool)
        mask |= np.pad(ro.mask, ((0, 0), (ro.c0 - cs.start, cs.stop - ro.c0 - ro.mask.shape[1])))
        if each is not None:
            ers, ecs = each.box()
            mask[ers, ecs.start - cs.start:ecs.stop - cs.start] |= each.mask
        return slice(0, rows), cs, mask


def _too_big(pop: Population, piece: Piece, chip) -> MappingError:
    """The error for a piece that does not fit an empty core, naming the first limit it breaks (for synapse words,
    the memory keys and the synapse-format keys that set the need)."""
    state = CoreState({pop.name: pop})
    use = state.usage_with(piece)
    core = chip.core
    word = chip.memory["synapse"].word_bits
    keys = {"neurons": "core.neurons", "input_axons": "core.input_axons",
            "synapse_words": f"core.synapse_memory_bytes x 8 // memory.synapse_word_bits ({word}); the lists are "
                             f"written as {'; '.join(pop.formats)}"}
    advice = {"neurons": "use a chip with more neurons per core",
              "input_axons": "its layers' fan-in is already split across cores where it can be (dense and "
                             "circulant layers, mapping.splits; the item input's by core.embedding): use a chip "
                             "with more input axons per core or a model with fewer inputs per neuron",
              "synapse_words": "use a denser synapse format (fewer index or header bits, align = false), fewer "
                               "weight bits, a chip with more synapse memory per core"
                               + ("" if core.shared_weights else " or one with core.shared_weights")}
    for key in ("neurons", "input_axons", "synapse_words"):
        if use[key] > limit(chip, key):
            what = {"neurons": "neurons", "input_axons": "input axons",
                    "synapse_words": f"{word}-bit words of synapse memory"}[key]
            return MappingError(
                f"cannot map {piece.name}: needs {_fmt(use[key])} {what}, a core of chip '{chip.name}' has "
                f"{_fmt(limit(chip, key))} ({keys[key]}); {advice[key]}")
    raise AssertionError("piece fits")


def _divisions(n: int) -> list[int]:
    """Distinct piece lengths ceil(n / k), k = 1..n, largest first (O(sqrt n) values)."""
    return sorted({-(-n // k) for k in range(1, n + 1)} if n <= 4096 else
                  {-(-n // k) for k in range(1, int(n ** 0.5) + 2)} | set(range(1, int(n ** 0.5) + 2)), reverse=True)


def _channel_major(pop: Population, chip) -> bool:
    """Whether the pieces of ``pop`` are ordered channel-major (all positions of a channel group in a row), so that a
    layer-order partition keeps them together: with core.shared_weights position-wise pieces of the same channels
    pay their weights and axons once per core; pieces of a circulant population's channels share its fan-in."""
    return chip.core.shared_weights or any(e.structure == "circulant" for e in pop.in_edges)


def _shape(pop: Population, chip, grain: int) -> tuple[int, int]:
    """Rows and channels per piece: pieces that each fit an empty core and hold at most ``grain`` neurons (so that
    pieces of different populations can share a core), channels balanced between the pieces of a row block.

    A population with only position-wise inputs (dense, diagonal) is cut into single rows (split by channels when a
    row is too big): row p of a producer then feeds row p of its consumer, and a partition can keep both on one core;
    with core.shared_weights pieces of the same channels on one core share their weight rows and input axons, and
    ``split`` orders them channel-major so that a layer-order partition keeps a channel group's positions together.
    (Pieces holding all positions of fewer channels were measured worse on the ML-1M-shaped graph on the 45nm
    preset: 18 instead of 15 cores and 1.7-2.2x the traffic, as a dense consumer cut by channels needs every
    producer neuron of its rows on each of its cores.) A population with a circulant input (which mixes positions
    within a channel) is cut by channels, all rows together, keeping its fan-in local; only when one channel's rows
    do not fit are the rows cut too."""
    P, C = pop.shape
    position_wise = all(e.structure != "circulant" for e in pop.in_edges)
    empty = CoreState({pop.name: pop})
    for pr in [1] if position_wise else _divisions(P):
        lo, hi = 0, C
        while lo < hi:  # largest channel count that fits (every resource grows with it)
            mid = (lo + hi + 1) // 2
            probe = Piece(-1, pop.name, (0, pr), (0, mid))
            if probe.n_neurons <= grain and empty.fits(probe, chip.core):
                lo = mid
            else:
                hi = mid - 1
        if lo:
            return pr, -(-C // -(-C // lo))
    raise _too_big(pop, Piece(-1, pop.name, (0, 1), (0, 1)), chip)


def split(pops: dict[str, Population], order: list[str], chip) -> list[Piece]:
    """All pieces, in the given population order (inside a population channel-major or row-major, see
    ``_channel_major``); host populations stay whole. Piece neurons are capped at a quarter of a core so that producers
    and consumers can share cores."""
    grain = max(1, chip.core.neurons // 4)
    pieces: list[Piece] = []
    for name in order:
        pop = pops[name]
        P, C = pop.shape
        pr, pc = (P, C) if pop.on_host else _shape(pop, chip, grain)
        blocks = [((p0, min(P, p0 + pr)), (c0, min(C, c0 + pc))) for p0 in range(0, P, pr) for c0 in range(0, C, pc)]
        if _channel_major(pop, chip):
            blocks.sort(key=lambda b: (b[1], b[0]))
        pieces += [Piece(len(pieces) + i, name, rows, chans) for i, (rows, chans) in enumerate(blocks)]
    return pieces
