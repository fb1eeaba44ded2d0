"""The word-level memory model of a core, shared by the mapper (how many words a layout occupies) and the cost model
(how many words an event reads, and what one word read costs by the array's size). Pure functions, no numpy.

Memories of a core (``MEMORIES``), each a word width in the chip's ``[memory]`` table and a size from its core keys:

    synapse       memory.synapse_word_bits;  size core.synapse_memory_bytes (its words: bytes x 8 // word bits). It
                  holds every layer evaluated on the core: spike synapses, MAC weights, embedding and readout rows
    neuron_state  memory.neuron_state_word_bits;  core.neurons entries of ceil(2 x core.state_bits / word bits)
                  words (u and v of a neuron)
    axon_table    memory.axon_table_word_bits;  core.input_axons entries of one word (where an axon's list starts)
    route_table   memory.route_table_word_bits;  core.output_axons entries of one word (a destination per entry)

Synapse formats (``[synapse_format]``, ``SynapseFormat``). A layer's weights on a core are stored as *lists*: one per
stored weight row (the rows of ``mapping.pieces``: per target neuron, or per target channel for shared position-wise
rows; a diagonal layer is one list of one weight per row). ``synapse_format.<structure>`` (dense, diagonal,
circulant) says how a list's entries are written:

    "dense"   an entry is the weight alone (weight bits): a row of consecutive weights
    "sparse"  an entry is the weight plus its target index (weight bits + synapse_format.index_bits)

An entry never straddles two words: floor(word bits / entry bits) entries per word. Each list has a header of
``synapse_format.header_bits``. With ``synapse_format.align = true`` a list (header, then entries) starts on a word
boundary and occupies whole words: ceil(header bits / word bits) + ceil(entries / entries per word); without it the
lists are packed end to end: (header bits + entries x entry bits) / word bits words, a core's total rounded up.

Word reads (the energy): an event that reaches a layer's list on a core reads the words of its entries, 1 / entries
per word per synaptic op or MAC, plus the list's header words once per (event, layer, core); a neuron update reads
and writes its state words (2 x words per neuron), a reset writes them once; an arriving event reads one axon-table
word, a spike sent reads one route-table word. One word read costs ``memory.<memory>_read_pJ`` where the chip file
gives it, else :func:`sram_word_pJ` of the array's size and word width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MEMORIES = ("synapse", "neuron_state", "axon_table", "route_table")
FORMATS = ("dense", "sparse")
STRUCTURES = ("dense", "diagonal", "circulant")

# Horowitz (ISSCC 2014, 45 nm, 0.9 V): a 64-bit read of an 8 KB SRAM 10 pJ, of a 32 KB one 20 pJ: energy grows as
# sqrt(size) (x4 size, x2 energy), and with the word width
SRAM_REF_BYTES = 8192
SRAM_REF_PJ_PER_64_BITS = 10.0


@dataclass(frozen=True)
class SynapseFormat:
    """How synapse lists are written (module docstring); the defaults are plain packed weights, no overhead."""

    dense: str = "dense"
    diagonal: str = "dense"
    circulant: str = "dense"
    index_bits: int = 0
    header_bits: int = 0
    align: bool = False

    def of(self, structure: str) -> str:
        return getattr(self, structure)


@dataclass(frozen=True)
class Memory:
    """One memory of a core: word width, number of words, price of one word read (pJ; None: by size)."""

    word_bits: int
    words: int
    read_pJ: float | None = None

    @property
    def size_bytes(self) -> float:
        return self.words * self.word_bits / 8.0


def sram_word_pJ(size_bytes: float, word_bits: int) -> float:
    """pJ of one ``word_bits`` read of an SRAM of ``size_bytes`` at 45 nm (Horowitz, by the array's size: 10 pJ per
    64 bits at 8 KB, x sqrt(size / 8 KB); word width proportional)."""
    return SRAM_REF_PJ_PER_64_BITS * math.sqrt(max(size_bytes, 1.0) / SRAM_REF_BYTES) * word_bits / 64.0


def word_read_pJ(memory: Memory) -> float:
    """pJ of one word read of ``memory``: the chip file's price, or by its size (:func:`sram_word_pJ`)."""
    return memory.read_pJ if memory.read_pJ is not None else sram_word_pJ(memory.size_bytes, memory.word_bits)


def entry_bits(fmt: SynapseFormat, structure: str, weight_bits: int) -> int:
    """Bits of one entry of a list of a ``structure`` layer."""
    return weight_bits + (fmt.index_bits if fmt.of(structure) == "sparse" else 0)


def entries_per_word(fmt: SynapseFormat, structure: str, weight_bits: int, word_bits: int) -> int:
    """Entries in one synapse word (0 when an entry is wider than a word)."""
    return word_bits // entry_bits(fmt, structure, weight_bits)


def header_words(fmt: SynapseFormat, word_bits: int) -> float:
    """Words of one list header: whole words when lists are aligned, else its share of bits."""
    return math.ceil(fmt.header_bits / word_bits) if fmt.align else fmt.header_bits / word_bits


def list_bits(entries: int, fmt: SynapseFormat, structure: str, weight_bits: int, word_bits: int) -> int:
    """Bits one list of ``entries`` weights occupies in synapse memory (aligned: whole words)."""
    if entries == 0:
        return 0
    if fmt.align:
        per = entries_per_word(fmt, structure, weight_bits, word_bits)
        return (math.ceil(fmt.header_bits / word_bits) + math.ceil(entries / per)) * word_bits
    return fmt.header_bits + entries * entry_bits(fmt, structure, weight_bits)


def words_per_entry_read(fmt: SynapseFormat, structure: str, weight_bits: int, word_bits: int) -> float:
    """Synapse words read per synaptic op or MAC: one word serves entries-per-word of them."""
    return 1.0 / entries_per_word(fmt, structure, weight_bits, word_bits)


def synapse_words_limit(chip) -> int:
    """Words of a core's synapse memory: core.synapse_memory_bytes x 8 // memory.synapse_word_bits."""
    return chip.core.synapse_memory_bytes * 8 // chip.memory["synapse"].word_bits


def state_words_per_neuron(state_bits: int, word_bits: int) -> int:
    """Neuron-state words of one neuron (u and v, ``state_bits`` each)."""
    return math.ceil(2 * state_bits / word_bits)


def format_keys(fmt: SynapseFormat, structure: str) -> str:
    """The chip keys that set a ``structure`` layer's list size, for error messages."""
    keys = [f'synapse_format.{structure} = "{fmt.of(structure)}"']
    if fmt.of(structure) == "sparse":
        keys.append(f"synapse_format.index_bits = {fmt.index_bits}")
    keys += [f"synapse_format.header_bits = {fmt.header_bits}", f"synapse_format.align = {str(fmt.align).lower()}"]
    return ", ".join(keys)
