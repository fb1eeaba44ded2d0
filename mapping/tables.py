"""Item tables: how the item input reaches its target population (the embedding) when it does not come as today's
spiking fan-in on the target's own cores (``chip.core.embedding``, rules in ``hardware.chip``). numpy only.

The layer ItemInput -> X is dense, weight [D, N+1]: one column of D weights per item (plus padding item 0), one
spike per position on the axon of its item. Its values are a column gather, W[:, item[p]] for position p, so the
same integers reach X whichever way the chip moves them (bit for bit: X sums them raw and rounds once, as
``ssr_neuro.graph.fixed`` does).

A :class:`Table` puts the weight array on *table cores*, split by item-id range (and for "fanin" also by channel
range), one table piece per table core:
- "lookup"  the item id arrives as an address (1 input axon); the core holding the id reads the item's row
            (its D weights, or the channels of the range when P x D values exceed core.output_axons: dc x bits / 8
            bytes, ``weight_read_byte`` each, and the row's synapse words) and sends the values on, one message
            per value (position tagged). Per core: 0 neurons, 1 input axon, rows lists of dc weights in synapse
            words (``mapping.memory``, the "dense" format), rows = as many as the memory holds.
- "fanin"   the fan-in split by id range: one input axon per item of the range (per (position, item) without
            ``core.shared_weights``); a spike on it makes one synaptic op per channel of the piece into a partial
            accumulator per (position, channel), which updates (``neuron_update``) and sends its partial sum on.
            Per core: P x channels neurons (the accumulators), rows axons, rows lists of channels weights in words;
            channels = as many as core.neurons allows (P per channel), rows = as many as axons and memory allow.
X's cores then merge: one add (``synaptic_op``, no weight read) per value received. Their input axons for the
table ("table" kind in ``mapping.pieces``): lookup one per channel (the row's values address it, whichever table
core sends), fanin one per (item range, channel) (each partial sum is its own input); per (position, channel) in
both without core.shared_weights.

Traffic: the io port sends each position's spike to the table cores of its item's range (one message each); a
table core sends each value to the core of its target neuron (one message per value), which
``table_traffic`` adds to a partition's traffic matrix; its output routes are its values (P x channels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssr_neuro.errors import MappingError
from ssr_neuro.graph.ir import ItemInput, NeuroGraph

from mapping.memory import SynapseFormat, list_bits, synapse_words_limit

PREFIX = "table>"
MEMORY_KEYS = "core.synapse_memory_bytes, memory.synapse_word_bits and [synapse_format]"  # a core's synapse words


@dataclass(frozen=True)
class Table:
    """The item table of the layer ``source`` (the ItemInput) -> ``target``, and its pieces: ``ranges`` lists
    (item i0, i1, channel d0, d1) per table core."""

    source: str
    target: str
    mode: str  # "lookup" | "fanin"
    positions: int
    width: int  # D, the target's channels
    items: int  # N + 1 rows
    weight_bits: int
    shared: bool  # core.shared_weights
    ranges: tuple[tuple[int, int, int, int], ...]
    fmt: SynapseFormat = SynapseFormat()  # chip.synapse_format (rows are "dense" lists)
    word_bits: int = 64  # memory.synapse_word_bits

    @property
    def name(self) -> str:
        return PREFIX + self.target

    @property
    def item_ranges(self) -> int:
        """How many distinct item-id ranges the table has (fanin: partial sums per channel of X)."""
        return len({(i0, i1) for i0, i1, _, _ in self.ranges})

    def resources(self, r: tuple[int, int, int, int]) -> dict[str, int]:
        """Neurons, input axons and synapse words of the table core holding range ``r`` (one list per item row)."""
        i0, i1, d0, d1 = r
        rows, dc = i1 - i0, d1 - d0
        words = -(-rows * list_bits(dc, self.fmt, "dense", self.weight_bits, self.word_bits) // self.word_bits)
        if self.mode == "lookup":
            return {"neurons": 0, "input_axons": 1, "synapse_words": words}
        return {"neurons": self.positions * dc, "input_axons": rows * (1 if self.shared else self.positions),
                "synapse_words": words}

    def routes(self, r: tuple[int, int, int, int]) -> int:
        """Output routes of the table core holding ``r``: one per value it sends (position x channel)."""
        return self.positions * (r[3] - r[2])

    def piece_of(self, items: np.ndarray) -> np.ndarray:
        """For item ids [...] -> index of the item range holding each (into the sorted distinct item ranges)."""
        starts = np.array(sorted({i0 for i0, _, _, _ in self.ranges}))
        return np.searchsorted(starts, items, side="right") - 1


def fanin_fits(chip, items: int, bits: int) -> bool:
    """Whether one channel of today's fan-in (one axon per item, a list of items weights) fits an empty core."""
    core, word = chip.core, chip.memory["synapse"].word_bits
    return (items <= core.input_axons and core.neurons >= 1
            and list_bits(items, chip.synapse_format, "dense", bits, word) <= synapse_words_limit(chip) * word)


def tables_of(graph: NeuroGraph, chip) -> dict[str, Table]:
    """The item tables a chip uses for ``graph``: target population -> Table (empty where today's fan-in is kept).
    MappingError, naming the key, when a table cannot be cut to fit a core."""
    core = chip.core
    out: dict[str, Table] = {}
    for source, node in graph.nodes():
        if not isinstance(node, ItemInput):
            continue
        for target in sorted(graph.g.successors(source)):
            syn = graph.synapse(source, target)
            if syn.structure != "dense" or syn.positions != "each":
                continue
            bits = syn.fixed.bits if syn.fixed is not None else core.weight_bits
            items, (P, D) = node.shape[1], graph.node(target).shape
            mode = core.embedding
            if mode != "lookup" and fanin_fits(chip, items, bits):
                continue
            mode = "fanin" if mode == "fanin" else "lookup"
            ranges = _ranges(mode, P, D, items, bits, chip, target)
            out[target] = Table(source, target, mode, P, D, items, bits, core.shared_weights, tuple(ranges),
                                chip.synapse_format, chip.memory["synapse"].word_bits)
    return out


def _ranges(mode: str, P: int, D: int, items: int, bits: int, chip_, target: str) -> list[tuple[int, int, int, int]]:
    core, chip, word = chip_.core, chip_.name, chip_.memory["synapse"].word_bits
    memory_bits = synapse_words_limit(chip_) * word  # the synapse memory's whole words

    def row_bits(dc: int) -> int:  # one item's row: a "dense" list of dc weights (``mapping.memory``)
        return list_bits(dc, chip_.synapse_format, "dense", bits, word)

    what = f"the item table of {target} ({mode})"
    routes = core.output_axons // P  # a table core sends P x channels values, one output route each
    if routes < 1:
        raise MappingError(
            f"cannot map {what}: a table core sends at least {P:,} values (one per position), a core of chip "
            f"'{chip}' has {core.output_axons:,} output axons (core.output_axons); use a chip with more output axons")
    if mode == "lookup":
        dc = min(D, routes, core.table_channels or D)
        rows = memory_bits // row_bits(dc)
        if rows < 1:
            raise MappingError(
                f"cannot map {what}: one item's row ({dc} weights of {bits} bits) needs {-(-row_bits(dc) // word):,} "
                f"synapse words, a core of chip '{chip}' has {memory_bits // word:,} ({MEMORY_KEYS}); use a chip "
                "with more synapse memory per core, a denser synapse format or fewer weight bits")
    else:
        dc = min(D, core.neurons // P, routes)
        if dc < 1:
            raise MappingError(
                f"cannot map {what}: a channel's partial sums need {P:,} neurons (one per position), a core of chip "
                f"'{chip}' has {core.neurons:,} (core.neurons); use core.embedding = \"lookup\" or a chip with more "
                "neurons per core")
        per_axon = 1 if core.shared_weights else P
        by_axons, by_memory = core.input_axons // per_axon, memory_bits // row_bits(dc)
        rows = min(by_axons, by_memory)
        if rows < 1:
            need, have, key = ((per_axon, core.input_axons, "input axons (core.input_axons)") if by_axons < 1 else
                               (-(-row_bits(dc) // word), memory_bits // word, f"synapse words ({MEMORY_KEYS})"))
            raise MappingError(
                f"cannot map {what}: one item needs {need:,} {key.split(' (')[0]}, a core of chip '{chip}' has "
                f"{have:,} ({key.split(' (', 1)[1]}; use core.embedding = \"lookup\" or a chip with larger cores")
    rows = -(-items // -(-items // rows))  # balance the ranges
    dc = -(-D // -(-D // dc))
    return [(i0, min(items, i0 + rows), d0, min(D, d0 + dc)) for i0 in range(0, items, rows)
            for d0 in range(0, D, dc)]


def table_traffic(tables: dict[str, Table], owner_of: dict[str, np.ndarray], rates: dict[str, np.ndarray],
                  first: int, n_all: int) -> tuple[np.ndarray, np.ndarray]:
    """Messages per inference between locations with the table cores added (module docstring), and their routes.

    ``owner_of[target]`` [P, D] gives the location of each target neuron (a core index, ``n_all`` for the host);
    the table cores take locations ``first``, ``first + 1``, ... in the order of the tables' ranges. Returns
    (traffic [n_all + 2, n_all + 2] of the table messages only, the host at n_all and io at n_all + 1; routes per
    table core)."""
    count = sum(len(t.ranges) for t in tables.values())
    traffic = np.zeros((n_all + 2, n_all + 2))
    routes = np.zeros(count, dtype=np.int64)
    k = first
    for target, t in tables.items():
        rate = rates[t.source]  # [P, N+1]: spikes per inference of each (position, item)
        own = owner_of[target]
        for r in t.ranges:
            i0, i1, d0, d1 = r
            hits = rate[:, i0:i1].sum(axis=1)  # [P] spikes per inference that reach this range
            traffic[n_all + 1, k] += hits.sum()
            dest = own[:, d0:d1]  # [P, dc]
            np.add.at(traffic[k], dest, np.broadcast_to(hits[:, None], dest.shape))
            routes[k - first] = t.routes(r)
            k += 1
    return traffic, routes
