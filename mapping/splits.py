"""Fan-in splitting: a synapse layer whose fan-in does not fit one core is evaluated as partial sums on *partial
cores* and merged by its target's cores. numpy only.

When. A population on cores whose single neuron does not fit an empty core (input axons or synapse memory, counted
by the rules of ``mapping.pieces``) has its splittable in-layers split, largest fan-in first, until one neuron fits:
dense layers (by source-channel range) and circulant layers (by source-position range) from a population (the item
input's fan-in is the item table's business, ``mapping.tables``; host layers and diagonal layers are never split).

How. A :class:`Split` of layer S -> X cuts the fan-in F into k ranges [a0, a1) of about equal size and X's channels
into blocks [d0, d1); each (range, block) is a *partial piece* on its own core, holding one raw accumulator per
neuron of X in the block (all of X's rows): every input of the range that arrives makes its synaptic op (spike) or
MAC (graded value) there, with its weight read, exactly as it would on X's core. Each time S emits (each step for a
spiking S, once for a graded S) every accumulator updates (``neuron_update``) and sends its raw partial sum to the
core of its X neuron (one message, one output route per accumulator), then clears. X's core adds the values it
receives (one ``synaptic_op`` without a weight read per value) into the layer's accumulator, in place of the
layer's synaptic work. Per partial piece (P = X's rows, dc = its channels, r = its range, b = weight bits):

    structure / positions        neurons   input axons          synapse lists of r      output routes
    dense "each", shared         P x dc    r (one per channel)  dc                      P x dc
    dense "each", not shared     P x dc    P x r                P x dc                  P x dc
    dense "readout"              dc        r                    dc                      dc
    circulant                    P x dc    r x dc               P x dc                  P x dc

(synapse words: the lists written in the layer's synapse format, ``mapping.memory``; as for the unsplit layer)

and X's cores count, instead of the layer's axons and weights, ``k`` merge axons per channel of a piece
(core.shared_weights: the partial sums of one channel share the axon, the position is the message's tag, as for
position-wise layers) or per neuron, and no synapse memory (``mapping.pieces``, kinds "merge" / "merge-rows").

Fixed point, bit for bit. A layer's accumulator is acc = W_int . x_int, an exact integer (``ssr_neuro.graph.fixed``);
the target rounds it once (``edge_input``: round half up of acc / 2**shift) and saturates the sum of its layers.
Partial sums are raw integers (no shift, no saturation) and integer addition is exact and associative, so
sum_j acc_j = acc exactly and the target rounds and saturates once, as for the unsplit layer. Rounding each partial
sum would not be exact (round(a) + round(b) != round(a + b)), which is why the merge is an add of raw values at
the target's accumulator precision. A partial sum fits the accumulator bound that the quantiser checks for the
whole layer (|acc_j| <= sum |w| |x| over the range <= the layer's bound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssr_neuro.errors import MappingError

from mapping.memory import SynapseFormat, format_keys, list_bits, synapse_words_limit

PREFIX = "split>"
MERGE_KINDS = ("merge", "merge-rows")


@dataclass(frozen=True)
class Split:
    """Layer ``source`` -> ``target`` evaluated as partial sums: ``ranges`` lists (a0, a1, d0, d1) per partial
    piece: fan-in range [a0, a1) (source channels for dense, source positions for circulant) x target channels."""

    source: str
    target: str
    structure: str  # "dense" | "circulant"
    positions: str  # "each" | "readout"
    source_shape: tuple[int, int]
    target_shape: tuple[int, int]
    weight_bits: int
    shared: bool  # core.shared_weights
    ranges: tuple[tuple[int, int, int, int], ...]
    fmt: SynapseFormat = SynapseFormat()  # chip.synapse_format
    word_bits: int = 64  # memory.synapse_word_bits

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.source}>{self.target}"

    @property
    def fan_ranges(self) -> list[tuple[int, int]]:
        """The distinct fan-in ranges, in order."""
        return sorted({(a0, a1) for a0, a1, _, _ in self.ranges})

    def resources(self, r: tuple[int, int, int, int]) -> dict[str, int]:
        """Neurons, input axons, synapse words and output routes of the partial piece ``r``."""
        return partial_use(self.structure, self.positions, self.shared, self.target_shape[0], r[1] - r[0],
                           r[3] - r[2], self.weight_bits, self.fmt, self.word_bits)

    def feeds(self, r: tuple[int, int, int, int]) -> tuple[slice, slice]:
        """The source neurons (rows, channels) whose values reach partial piece ``r``."""
        a0, a1, d0, d1 = r
        if self.structure == "circulant":
            return slice(a0, a1), slice(d0, d1)
        return slice(0, self.source_shape[0]), slice(a0, a1)


def partial_use(structure: str, positions: str, shared: bool, P: int, r: int, dc: int, bits: int,
                fmt: SynapseFormat, word_bits: int) -> dict[str, int]:
    """Resources of a partial piece (the module docstring's table): synapse words of its lists of r weights."""
    if structure == "circulant":
        axons, lists = r * dc, P * dc
    elif positions == "readout" or shared:
        axons, lists = r, dc
    else:
        axons, lists = P * r, P * dc
    words = -(-lists * list_bits(r, fmt, structure, bits, word_bits) // word_bits)
    return {"neurons": P * dc, "input_axons": axons, "synapse_words": words, "output_axons": P * dc}


def plan_split(source: str, target: str, structure: str, positions: str, source_shape: tuple[int, int],
               target_shape: tuple[int, int], bits: int, chip) -> Split:
    """The split of one layer: the largest fan-in range whose partial piece of one target channel fits a core,
    balanced over k ranges, then as many target channels per piece as fit. MappingError naming the chip key when
    even one input of one channel does not fit."""
    core = chip.core
    P, C = target_shape
    F = source_shape[0] if structure == "circulant" else source_shape[1]

    fmt, word = chip.synapse_format, chip.memory["synapse"].word_bits
    have = {"neurons": core.neurons, "output_axons": core.output_axons, "input_axons": core.input_axons,
            "synapse_words": synapse_words_limit(chip)}
    key_of = {"synapse_words": "core.synapse_memory_bytes, memory.synapse_word_bits; the lists are written as "
                               + format_keys(fmt, structure)}

    def fits(r: int, dc: int) -> str | None:
        use = partial_use(structure, positions, core.shared_weights, P, r, dc, bits, fmt, word)
        return next((k for k in ("neurons", "output_axons", "input_axons", "synapse_words") if use[k] > have[k]),
                    None)

    bad = fits(1, 1)
    if bad is not None:
        use = partial_use(structure, positions, core.shared_weights, P, 1, 1, bits, fmt, word)
        raise MappingError(
            f"cannot map {target}: its layer from {source} is split across cores by fan-in, but a partial sum of "
            f"one channel ({P:,} positions) needs {use[bad]:,} {bad.replace('_', ' ')}, a core of chip "
            f"'{chip.name}' has {have[bad]:,} ({key_of.get(bad, f'core.{bad}')}); use a chip with larger cores")
    r = _largest(F, lambda r: fits(r, 1) is None)
    k = -(-F // r)
    r = -(-F // k)
    dc = _largest(C, lambda dc: fits(r, dc) is None)
    dc = -(-C // -(-C // dc))
    ranges = tuple((a0, min(F, a0 + r), d0, min(C, d0 + dc)) for a0 in range(0, F, r) for d0 in range(0, C, dc))
    return Split(source, target, structure, positions, tuple(source_shape), tuple(target_shape), bits,
                 core.shared_weights, ranges, fmt, word)


def _largest(n: int, ok) -> int:
    """The largest x in [1, n] with ok(x), for a monotone ok with ok(1) true."""
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid - 1)
    return lo


def split_traffic(splits: dict[str, Split], owner_of: dict[str, np.ndarray], rates: dict[str, np.ndarray],
                  sends: dict[str, float], first: int, n_all: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Messages per inference with the partial cores added (module docstring), and routes.

    ``owner_of[pop]`` [P, C] is the location of each neuron of the splits' sources and targets (a core index,
    ``n_all`` for the host); ``rates[S]`` the messages per inference of each source neuron; ``sends[S]`` how often
    S emits per inference (its time steps, or 1 for a graded S). The partial cores take locations ``first``, ...
    in the order of the splits' ranges. Returns (traffic [n_all + 2, n_all + 2] of these messages only, routes per
    partial core, extra routes per location [n_all + 2]: one per source neuron and partial core it reaches)."""
    count = sum(len(s.ranges) for s in splits.values())
    traffic = np.zeros((n_all + 2, n_all + 2))
    routes = np.zeros(count, dtype=np.int64)
    source_routes = np.zeros(n_all + 2, dtype=np.int64)
    k = first
    for s in splits.values():
        src_own, dst_own = owner_of[s.source], owner_of[s.target]
        for r in s.ranges:
            rs, cs = s.feeds(r)
            at = src_own[rs, cs].ravel()
            np.add.at(traffic[:, k], at, rates[s.source][rs, cs].ravel())
            np.add.at(source_routes, at, 1)
            np.add.at(traffic[k], dst_own[:, r[2]:r[3]].ravel(), sends[s.source])
            routes[k - first] = s.resources(r)["output_axons"]
            k += 1
    return traffic, routes, source_routes
