"""An ANN's int8 layer list packed onto a chip's cores: which ops share a core, and which values cross cores.

A baseline compiled into an int8 layer list (``ssr_neuro.graph.int8_net``) is priced on the chip by
``hardware.ann_chip``; this module places it, as ``mapping.pieces`` places SSR's pieces. An *item* is one op that
does work or holds an array: its synapse words (weights, biases and lookup tables as int8 entries in dense lists of
the chip's synapse format, ``weight_words``), its neurons (the activations it computes, one graded neuron each), the
values it makes and the distinct values it reads (``int8_net.value_flows``). A data move (``int8_net.MOVES``: step,
split, stack, concat, last, mask, align, zeros) is values other ops made: it is no item and takes no core.

Rule: greedy in layer order, so consecutive ops stay together. One core is open at a time; each item in turn joins
it whole when the core still holds it with

    neurons       = sum of its items' neurons                                          <= core.neurons
    synapse words = sum of its items' words                           <= core.synapse_memory_bytes x 8 // word bits
    input axons   = distinct inputs its items read that were made on other cores      <= core.input_axons

else, if it fits an empty core, it opens a new core; else (an op bigger than a core, by synapse words as before or
now by neurons) it is cut by its values (row-major): the first ones fill what the open core has left, the rest
spread evenly over the fewest new cores that hold them (n = max(ceil(words left / a core's words), ceil(neurons
left / core.neurons))), each part taking its share of the op's words and neurons. A part reads the input rows of
the output rows it holds where the op works row by row (``int8_net.ROW_LOCAL``: a position-wise linear, a
nonlinearity, a softmax row...) and all of the op's inputs else. The last core used is the open core.

An input (an input axon; a route at its maker) is a value, or with core.shared_weights a channel of the op that
made it (positions share the axon, a message carries its position as a tag: SSR's rule, ``mapping.pieces``). Output
routes (a core's distinct (input, other core reading it) pairs <= core.output_axons) depend on later consumers, so
they are checked once all items are placed: where a core has too many, the op sending most of them is spread whole
over more cores of its own (at least one more, r / core.output_axons times as many for r routes), and the list is
placed again. A limit that no split by outputs fixes (a part reading more inputs than a core has input axons, an op
still over with one value a core) is a MappingError naming it; splitting an ANN op by fan-in (partial sums, as
``mapping.splits`` does for SSR) is not modelled.

Deliveries, as SSR's program counts a neuron's messages (``hardware.program``): a value of an item that ``sends``
and that some op reads is sent once (``sent``: one route lookup), arrives once on every core holding a reader of it
(``arrivals``: one input-axon lookup, its own core included) and crosses the mesh as one packet to each such core but
its own (``packets``: multicast per core; with core.charge_local_messages a value read on its own core costs a
packet too). Values only read on their own core cost no packet: ops on one core exchange values locally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ssr_neuro.errors import MappingError
from ssr_neuro.graph.int8_net import ValueFlow

from mapping.memory import synapse_words_limit, words_per_entry_read

INT8_BITS = 8


@dataclass(frozen=True)
class PackItem:
    """One op to place (module docstring): ``words`` synapse words, ``neurons``, the values it makes and reads
    (``flow``), and whether the delivery of its values is priced (``sends``)."""

    name: str
    words: float
    neurons: int
    flow: ValueFlow
    sends: bool


@dataclass(frozen=True)
class Int8Packing:
    """Where the items went: ``item_cores`` (each item's cores, in item order) and ``busiest`` (the largest share of
    an item's work on one of them), per core its ``neurons``, synapse ``words``, ``input_axons`` and
    ``output_routes``, and the deliveries (module docstring)."""

    item_cores: tuple[tuple[int, ...], ...]
    busiest: tuple[float, ...]
    neurons: tuple[int, ...]
    words: tuple[float, ...]
    input_axons: tuple[int, ...]
    output_routes: tuple[int, ...]
    sent: int
    arrivals: int
    packets: int

    @property
    def cores(self) -> int:
        return len(self.neurons)


def weight_words(entries: int, chip) -> float:
    """Synapse words of ``entries`` int8 weights (or table entries) stored as dense lists in the chip's synapse
    format (``mapping.memory``; a fraction where a word holds several)."""
    return entries * words_per_entry_read(chip.synapse_format, "dense", INT8_BITS, chip.memory["synapse"].word_bits)


@dataclass
class _Core:
    words: float = 0.0
    neurons: int = 0
    axons: set = field(default_factory=set)  # inputs (module docstring) made elsewhere that its items read


def pack_int8(items: Sequence[PackItem], chip) -> Int8Packing:
    """Place ``items`` in order on the fewest cores the greedy rule (module docstring) allows; where a core's output
    routes exceed core.output_axons, the op sending most of them there is spread over more cores of its own (at
    least one more, as many as the excess asks) and the list placed again."""
    spread: dict[int, int] = {}
    while True:
        placement = _place(items, chip, spread)
        packing, over, routes = _deliveries(placement, chip)
        if over is None:
            return packing
        if over in spread and spread[over] >= max(items[over].flow.makes.size, 1):
            raise MappingError(f"cannot pack the int8 ANN: op {items[over].name} sends more inputs to other cores "
                               f"than a core of chip '{chip.name}' has output axons ({chip.core.output_axons:,}, "
                               "core.output_axons) even one value a core; use a chip with more output axons per core")
        had = len(packing.item_cores[over])
        spread[over] = max(had + 1, math.ceil(had * routes / chip.core.output_axons))


@dataclass
class _Placement:
    parts: list   # per item: (core, the values it reads there, its share of the op) per part
    cores: list   # _Core per core
    home: np.ndarray   # value id -> the core that makes it
    key: np.ndarray    # value id -> its input (module docstring)
    maker: np.ndarray  # value id -> the item that makes it
    sends: np.ndarray  # value id -> whether its delivery is priced


def _place(items: Sequence[PackItem], chip, spread: dict[int, int]) -> _Placement:
    """The greedy rule (module docstring); item i in ``spread`` goes whole onto that many new cores of its own."""
    core, words_limit = chip.core, synapse_words_limit(chip)
    n_values = max((int(i.flow.makes.max()) for i in items if i.flow.makes.size), default=0) + 1
    p = _Placement([], [], np.full(n_values, -1, np.int64), np.arange(n_values), np.full(n_values, -1, np.int64),
                   np.zeros(n_values, bool))
    cores = p.cores
    for i, item in enumerate(items):
        flow, N = item.flow, item.flow.makes.size
        if core.shared_weights and N:
            p.key[flow.makes] = flow.makes[0] + np.arange(N) % flow.channels
        open_ = cores[-1] if cores else None
        parts = []                            # (core, first value, end value) of the item
        if i not in spread and open_ is not None and _fits(open_, item.words, item.neurons, flow.reads,
                                                           len(cores) - 1, p, core, words_limit):
            parts.append((len(cores) - 1, 0, N))
        elif i not in spread and item.words <= words_limit and item.neurons <= core.neurons:
            cores.append(_Core())
            parts.append((len(cores) - 1, 0, N))
        else:
            lo = _spill(open_, item, len(cores) - 1, p, core, words_limit) if open_ is not None and i not in spread else 0
            if lo:
                parts.append((len(cores) - 1, 0, lo))
            share = (N - lo) / N if N else 1.0
            n = max(spread.get(i, 1), math.ceil(item.words * share / words_limit),
                    math.ceil(item.neurons * share / core.neurons))
            for k in range(n):
                cores.append(_Core())
                parts.append((len(cores) - 1, lo + -(-k * (N - lo) // n), lo + -(-(k + 1) * (N - lo) // n)))
        placed = []
        for c, a, b in parts:
            reads = _reads_of(flow, a, b) if N else flow.reads
            f = (b - a) / N if N else 1.0 / len(parts)
            _add(cores[c], item.words * f, round(item.neurons * f), reads, c, p, core, item.name, chip.name)
            p.home[flow.makes[a:b]] = c
            placed.append((c, reads, f))
        p.maker[flow.makes] = i
        p.sends[flow.makes] = item.sends
        p.parts.append(placed)
    return p


def _remote(reads: np.ndarray, c: int, p: _Placement) -> set:
    """The inputs (module docstring) of ``reads`` made on other cores than ``c``."""
    return set(p.key[reads[p.home[reads] != c]].tolist())


def _fits(state: _Core, words: float, neurons: int, reads: np.ndarray, c: int, p: _Placement, core,
          words_limit: int) -> bool:
    return (state.words + words <= words_limit and state.neurons + neurons <= core.neurons
            and len(state.axons | _remote(reads, c, p)) <= core.input_axons)


def _spill(state: _Core, item: PackItem, c: int, p: _Placement, core, words_limit: int) -> int:
    """How many of an op's first values (0 for none) the open core ``c`` still holds (module docstring)."""
    N = item.flow.makes.size
    room = min((words_limit - state.words) / item.words if item.words else math.inf,
               (core.neurons - state.neurons) / item.neurons if item.neurons else math.inf)
    lo = min(N, int(room * N)) if N and room < math.inf else 0
    while lo and not _fits(state, item.words * lo / N, round(item.neurons * lo / N), _reads_of(item.flow, 0, lo), c,
                           p, core, words_limit):
        lo //= 2
    return lo


def _add(state: _Core, words: float, neurons: int, reads: np.ndarray, c: int, p: _Placement, core, name: str,
         chip_name: str) -> None:
    """Put a part of op ``name`` on core ``c``; MappingError where it reads more inputs than a core has axons."""
    state.words += words
    state.neurons += neurons
    state.axons |= _remote(reads, c, p)
    if len(state.axons) > core.input_axons:
        raise MappingError(f"cannot place op {name} of the int8 ANN: a core of it reads {len(state.axons):,} inputs, a "
                           f"core of chip '{chip_name}' has {core.input_axons:,} input axons (core.input_axons); use "
                           "a chip with more input axons per core")


def _reads_of(flow: ValueFlow, lo: int, hi: int) -> np.ndarray:
    """The values a part holding output values [lo, hi) of an op reads: the input rows of its output rows and the
    shared inputs; every input where the op has no rows."""
    if not flow.rows or hi <= lo:
        return flow.reads if hi > lo else np.zeros(0, np.int64)
    N, R = flow.makes.size, len(flow.rows)
    return np.union1d(np.concatenate(flow.rows[lo * R // N:(hi - 1) * R // N + 1]), flow.shared).astype(np.int64)


def _deliveries(p: _Placement, chip) -> tuple[Int8Packing, int | None, int]:
    """Count the (value, reader core) pairs of a placement into axons, routes and deliveries (module docstring); and
    the item sending most inputs from the core with the most output routes where they exceed core.output_axons
    (None: no core's do), with that core's routes."""
    n = max(len(p.cores), 1)
    pairs = [reads * n + c for item in p.parts for c, reads, _ in item]
    pair = np.unique(np.concatenate(pairs)) if pairs else np.zeros(0, np.int64)
    value, reader = pair // n, pair % n
    remote = reader != p.home[value]
    sent_from = p.home[value[remote]]
    wired, first = np.unique((p.key[value[remote]] * n + sent_from) * n + reader[remote], return_index=True)
    routes = np.bincount(wired // n % n, minlength=len(p.cores))
    axons = np.bincount(np.unique(wired // (n * n) * n + wired % n) % n, minlength=len(p.cores))
    over = None
    if routes.size and routes.max() > chip.core.output_axons:
        k = int(routes.argmax())
        makers = p.maker[value[remote][first[wired // n % n == k]]]
        over = int(np.bincount(makers).argmax())
    priced = p.sends[value]
    crossing = priced if chip.core.charge_local_messages else priced & remote
    return Int8Packing(tuple(tuple(c for c, _, _ in item) for item in p.parts),
                       tuple(max(f for _, _, f in item) for item in p.parts), tuple(c.neurons for c in p.cores),
                       tuple(c.words for c in p.cores), tuple(int(a) for a in axons), tuple(int(r) for r in routes),
                       sent=int(np.unique(value[priced]).size), arrivals=int(priced.sum()),
                       packets=int(crossing.sum())), over, int(routes.max(initial=0))
