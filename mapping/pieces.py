"""Core-sized pieces of a graph and the exact per-core resources they use.

A *piece* is a rectangle of one population's neurons: positions ``rows = [p0, p1)`` x channels ``chans = [c0, c1)``
(neuron (p, c) has flat index p * C + c, as in the IR). Populations whose inputs are all spikes run on cores; a
population with an incoming layer from a Graded source needs multiply-accumulates: on cores when
``core.mac_units > 0``, else on the chip's host (one piece, whole population), else the chip cannot run it.

Per core (``CoreState``), with the rules of the chip schema:
- neurons           = sum of the pieces' neurons                                             <= core.neurons
- input axons       = distinct source neurons feeding the core, per source population:       <= core.input_axons
                      dense "each": the piece's rows x all source channels; diagonal "each": the piece's rectangle;
                      circulant: all source rows x the piece's channels; ItemInput counts one axon per (position,
                      item). A ``readout`` edge carries only row length-1 at each inference, so its source rows share
                      one axon per source channel (all channels for dense, the piece's channels for diagonal).
- synapse memory    = ceil(sum of weight bits / 8) bytes                                     <= core.synapse_memory_bytes
                      dense: with core.shared_weights one weight row per distinct target channel on the core
                      (C_in weights), else C_in per neuron; diagonal: one weight per distinct channel (shared) or per
                      neuron; circulant (not position-wise): P_in weights per neuron.
- weight bits       = the layer's ``fixed.bits`` (a float graph is assumed quantised to core.weight_bits) <= core.weight_bits
- LIF state bits    = ``LIFFixed.state_bits`` of a quantised graph                          <= core.state_bits
Output routes (distinct (source neuron, destination core) pairs) depend on the whole partition: ``mapping.traffic``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ssr_neuro.errors import MappingError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, is_spiking

RESOURCES = ("neurons", "input_axons", "output_axons", "synapse_memory_bytes")


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
    """One incoming synapse layer of a population, reduced to what resources and traffic need."""

    source: str
    source_shape: tuple[int, int]
    structure: str
    positions: str
    fan_in: int
    weight_bits: int


@dataclass(frozen=True)
class Population:
    """A population to place: its shape, inputs, where it runs and its memory cost per neuron / per channel (bits)."""

    name: str
    shape: tuple[int, int]
    in_edges: tuple[InEdge, ...]
    on_host: bool
    bits_per_neuron: int   # weights every neuron stores by itself
    bits_per_channel: int  # weights stored once per distinct channel on a core (shared position-wise rows)


def _fmt(n: float) -> str:
    return f"{int(n):,}"


def populations(graph: NeuroGraph, chip) -> dict[str, Population]:
    """Every non-input population with its inputs, placement side (cores or host) and memory costs.

    Raises MappingError for what no splitting can fix: graded input without MAC units or host, too many weight bits,
    too many LIF state bits."""
    core = chip.core
    out: dict[str, Population] = {}
    for name, node in graph.nodes():
        if isinstance(node, ItemInput):
            continue
        edges = []
        for src, syn in sorted(graph.in_edges(name), key=lambda e: e[0]):
            bits = syn.fixed.bits if syn.fixed is not None else core.weight_bits
            edges.append(InEdge(src, tuple(graph.node(src).shape), syn.structure, syn.positions, syn.fan_in(), bits))
        graded_from = [e.source for e in edges if not is_spiking(graph.node(e.source))]
        on_host = bool(graded_from) and core.mac_units == 0
        if on_host and chip.host is None:
            raise MappingError(
                f"cannot map {name}: it receives graded input from {graded_from[0]} and needs multiply-accumulates, "
                f"but cores of chip '{chip.name}' have none (core.mac_units = 0) and the chip has no [host]; "
                "use a chip with MAC units or add a [host] section")
        if not on_host:
            for e in edges:
                if e.weight_bits > core.weight_bits:
                    raise MappingError(
                        f"cannot map {name}: layer {e.source} -> {name} has {e.weight_bits}-bit weights, a core of "
                        f"chip '{chip.name}' holds {core.weight_bits} (core.weight_bits); quantise to "
                        f"{core.weight_bits}-bit weights or use a chip with more weight bits")
            fixed = getattr(node, "fixed", None)
            if isinstance(node, LIF) and fixed is not None and fixed.state_bits > core.state_bits:
                raise MappingError(
                    f"cannot map {name}: its LIF state needs {fixed.state_bits} bits, a core of chip '{chip.name}' "
                    f"has {core.state_bits} (core.state_bits); use a chip with more state bits")
        shared = core.shared_weights or on_host
        per_neuron = per_channel = 0
        for e in edges:
            if e.structure == "circulant" or not shared:
                per_neuron += e.fan_in * e.weight_bits
            else:
                per_channel += e.fan_in * e.weight_bits
        assert isinstance(node, (Graded, LIF, Readout))
        out[name] = Population(name, tuple(node.shape), tuple(edges), on_host, per_neuron, per_channel)
    return out


def feed_rect(e: InEdge, rows: tuple[int, int], chans: tuple[int, int]) -> tuple[slice, slice, bool]:
    """Source neurons of edge ``e`` that feed the target rectangle: (row slice, channel slice, readout?).

    For a readout edge the answer is a channel slice of per-channel axons (the row slice covers every source row,
    any of which can be the readout row)."""
    all_rows, all_chans = slice(0, e.source_shape[0]), slice(0, e.source_shape[1])
    own_rows, own_chans = slice(*rows), slice(*chans)
    if e.structure == "circulant":
        return all_rows, own_chans, False
    chan = all_chans if e.structure == "dense" else own_chans
    if e.positions == "readout":
        return all_rows, chan, True
    return own_rows, chan, False


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
    """The pieces on one core and the exact resources they use (input axons as sets of source neurons)."""

    pops: dict[str, Population]
    pieces: list[Piece] = field(default_factory=list)
    neurons: int = 0
    input_axons: int = 0
    memory_bits: int = 0
    each: dict[str, Region] = field(default_factory=dict)     # source -> per-neuron axons (rows x channels)
    readout: dict[str, Region] = field(default_factory=dict)  # source -> per-channel axons (row 0 x channels)
    chans: dict[str, Region] = field(default_factory=dict)    # population -> channels held here (row 0)
    counts: dict[str, int] = field(default_factory=dict)      # population -> neurons held here

    @property
    def synapse_memory_bytes(self) -> int:
        return -(-self.memory_bits // 8)

    def _deltas(self, piece: Piece) -> tuple[int, int]:
        """(new input axons, new memory bits) that adding ``piece`` would cost."""
        pop = self.pops[piece.population]
        axons = 0
        for e in pop.in_edges:
            rs, cs, ro = feed_rect(e, piece.rows, piece.chans)
            held = (self.readout if ro else self.each).get(e.source)
            if ro:
                rs = slice(0, 1)
            axons += (rs.stop - rs.start) * (cs.stop - cs.start) - (held.count(rs, cs) if held else 0)
        have = self.chans.get(piece.population)
        cs = slice(*piece.chans)
        new_chans = (cs.stop - cs.start) - (have.count(slice(0, 1), cs) if have else 0)
        return axons, piece.n_neurons * pop.bits_per_neuron + new_chans * pop.bits_per_channel

    def usage_with(self, piece: Piece) -> dict[str, int]:
        """Neurons, input axons and synapse memory bytes of this core if ``piece`` were added."""
        axons, bits = self._deltas(piece)
        return {"neurons": self.neurons + piece.n_neurons, "input_axons": self.input_axons + axons,
                "synapse_memory_bytes": -(-(self.memory_bits + bits) // 8)}

    def fits(self, piece: Piece, core) -> bool:
        use = self.usage_with(piece)
        return (use["neurons"] <= core.neurons and use["input_axons"] <= core.input_axons
                and use["synapse_memory_bytes"] <= core.synapse_memory_bytes)

    def add(self, piece: Piece) -> None:
        axons, bits = self._deltas(piece)
        for e in self.pops[piece.population].in_edges:
            rs, cs, ro = feed_rect(e, piece.rows, piece.chans)
            if ro:
                self.readout.setdefault(e.source, Region()).add(slice(0, 1), cs)
            else:
                self.each.setdefault(e.source, Region()).add(rs, cs)
        self.chans.setdefault(piece.population, Region()).add(slice(0, 1), slice(*piece.chans))
        self.counts[piece.population] = self.counts.get(piece.population, 0) + piece.n_neurons
        self.pieces.append(piece)
        self.neurons += piece.n_neurons
        self.input_axons += axons
        self.memory_bits += bits

    def route_mask(self, source: str, rows: int) -> tuple[slice, slice, np.ndarray] | None:
        """Source neurons that need a route to this core, as (row slice, channel slice, bool mask over them), or
        None when none do; ``rows`` is the source's number of rows (a readout edge may read any of them)."""
        each, ro = self.each.get(source), self.readout.get(source)
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
    """The error for a piece that does not fit an empty core, naming the first limit it breaks."""
    state = CoreState({pop.name: pop})
    use = state.usage_with(piece)
    core = chip.core
    advice = {"neurons": "use a chip with more neurons per core",
              "input_axons": "one neuron's fan-in cannot be split across cores: use a chip with more input axons "
                             "per core or a model with fewer inputs per neuron",
              "synapse_memory_bytes": "use fewer weight bits, a chip with more synapse memory per core"
                                      + ("" if core.shared_weights else " or one with core.shared_weights")}
    for key in ("neurons", "input_axons", "synapse_memory_bytes"):
        if use[key] > getattr(core, key):
            what = {"neurons": "neurons", "input_axons": "input axons",
                    "synapse_memory_bytes": "bytes of synapse memory"}[key]
            return MappingError(
                f"cannot map {piece.name}: needs {_fmt(use[key])} {what}, a core of chip '{chip.name}' has "
                f"{_fmt(getattr(core, key))} (core.{key}); {advice[key]}")
    raise AssertionError("piece fits")


def _divisions(n: int) -> list[int]:
    """Distinct piece lengths ceil(n / k), k = 1..n, largest first (O(sqrt n) values)."""
    return sorted({-(-n // k) for k in range(1, n + 1)} if n <= 4096 else
                  {-(-n // k) for k in range(1, int(n ** 0.5) + 2)} | set(range(1, int(n ** 0.5) + 2)), reverse=True)


def _shape(pop: Population, chip, grain: int) -> tuple[int, int]:
    """Rows and channels per piece: pieces that each fit an empty core and hold at most ``grain`` neurons (so that
    pieces of different populations can share a core), channels balanced between the pieces of a row block.

    A population with only position-wise inputs (dense, diagonal) is cut into single rows (split by channels when a
    row is too big): row p of a producer then feeds row p of its consumer, and a partition can keep both on one core;
    pieces of the same channels on one core share their weight rows (core.shared_weights). A population with a
    circulant input (which mixes positions within a channel) is cut by channels, all rows together, keeping its
    fan-in local; only when one channel's rows do not fit are the rows cut too."""
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
    """All pieces, in the given population order (rows then channels inside a population); host populations stay
    whole. Piece neurons are capped at a quarter of a core so that producers and consumers can share cores."""
    grain = max(1, chip.core.neurons // 4)
    pieces: list[Piece] = []
    for name in order:
        pop = pops[name]
        P, C = pop.shape
        pr, pc = (P, C) if pop.on_host else _shape(pop, chip, grain)
        for p0 in range(0, P, pr):
            for c0 in range(0, C, pc):
                pieces.append(Piece(len(pieces), name, (p0, min(P, p0 + pr)), (c0, min(C, c0 + pc))))
    return pieces
