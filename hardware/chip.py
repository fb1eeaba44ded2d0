"""Chip descriptions as data: a TOML file per chip, read and validated into frozen dataclasses (no torch).

``load_chip("45nm")`` / ``load_chip("loihi")`` read the presets shipped in ``hardware/chips/<name>.toml``;
``load_chip("path/to/my.toml")`` reads a user's file (copy a preset and edit it). Layout (units are in key names)::

    schema = "ssr-neuro/chip"      version = 1      name = "..."      description = "..."
    [mesh]      rows, cols, cores_per_router, clock_MHz, io_router = [row, col]
    [core]      neurons, input_axons, output_axons, synapse_memory_bytes, weight_bits, state_bits,
                mac_units, shared_weights;  optional counting rules: neuron_updates, active_update,
                charge_local_messages;  optional embedding ("fanin" | "lookup" | "auto"), table_channels
    [host]      (optional) mac_pJ, mac_cycles, clock_MHz, memory_bytes
    [output]    (optional) top_k: results that leave the chip per inference (0 or absent: every item's score)
    [energy_pJ] energy of one action, pJ          [cycles] time of one action, cycles of mesh.clock_MHz
    [static]    leakage_mW_per_core; optional leakage_mW_per_router (default 0)
    [memory]    (optional) synapse_word_bits, neuron_state_word_bits, axon_table_word_bits, route_table_word_bits
                (64 each by default) and <memory>_read_pJ (pJ per word read; absent: priced by the array's size;
                without a [memory] table every word read is counted and priced 0, as the actions include it)
    [synapse_format]  (optional) dense, diagonal, circulant ("dense" or "sparse"), index_bits, header_bits, align
    [area]      (optional) sram_bitcell_um2_45nm, sram_array_efficiency, other_memory_bits, core_overhead_um2_45nm:
                the per-architecture terms of the area model (``AreaParams``, ``hardware.area``)
    [power_gating]  (optional) unused_cores = true, idle_cores = false, idle_leakage_fraction = 1.0
    bound       (optional, top level) "lower" or "upper": the file is a bound, not a calibrated chip; the simulate
                report says so
    [timing]    (optional; the event timing model reads it, the analytic one only barrier_by_tiles) buffer_depth,
                message_in_cycles, dendrite_cycles, barrier_by_tiles = [[tiles, cycles], ...]

Actions (the same names in ``energy_pJ`` and ``cycles``; the simulator charges them per event):
- ``synaptic_op``         one accumulate of a weight into a neuron's input current on an incoming spike
- ``mac``                 one multiply-accumulate of a graded input on a core's MAC unit (required when
                          ``core.mac_units > 0``; the cycles are per unit, so a core does ``mac_units`` per cycle)
- ``weight_read_byte``    reading one byte of synapse memory (charged per weight byte of a synaptic op or MAC;
                          0 where ``synaptic_op`` already includes the read, as Loihi's published figure does)
- ``neuron_update``       one time step of a neuron that is active (``core.active_update`` says when)
- ``neuron_update_idle``  one time step of a neuron that is not active (``core.neuron_updates`` says which steps)
- ``spike_out``           a neuron emitting a spike (or a graded value): looking up its routes
- ``message_out``         one message leaving a core for one destination core (through its own router)
- ``hop_ew`` / ``hop_ns`` one message crossing one router-to-router link east-west / north-south
- ``barrier_sync``        the end-of-step synchronisation of the whole chip, once per time step
Optional actions (absent = 0: another action's published figure includes them; ``hardware.program`` charges them):
- ``axon_lookup``         a core looking up the input axon (its synapse list) of an event that arrives at it
- ``packet_receive``      a core taking one packet off the mesh (its router's ejection port and input buffer)
- ``accumulator_rmw``     the read-modify-write of a target neuron's input accumulator on one synaptic op or MAC
- ``neuron_state_access`` reading and writing one neuron's state (u, v) around one update, active or idle
- ``neuron_reset``        clearing one neuron's state between inferences (every neuron on a core, once per inference)
- ``compare``             one comparison of two scores when selecting the best k (on-chip top-k, ``[output]``)
- ``result_out``          one result (an item's score, or an item id with its score) leaving the chip at the io port

Core keys with mapping rules (``mapping.pieces`` states them all):
- ``shared_weights``  true: a position-wise layer (dense or diagonal, positions "each") keeps one weight row per
                      target channel on a core, and uses one input axon per source channel, shared by all positions
                      the core holds (a message carries its position as a tag); false: a weight per synapse and an
                      input axon per (position, source neuron). Circulant and readout layers are not affected.
- ``mac_units`` = 0   graded (multiply-accumulate) work goes to the [host]: a Graded or Readout population whose
                      inputs are all graded runs there; a layer from a Graded source into a population on cores (LIF
                      always sits on cores) is evaluated there and sent as one graded message per target neuron per
                      inference (a bias write), costing the core 0 synapse memory and 1 input axon per target neuron.

The embedding (``core.embedding``, optional; ``mapping.tables`` has the rules): how the item input reaches the
embedding population (a dense layer from the ItemInput, one weight column per item):
- "fanin" (default)  the spiking fan-in: one input axon per item on the embedding's cores, as long as one channel's
                     fan-in fits a core's input axons and synapse memory; when it does not, the fan-in is split by
                     item-id range over table cores that hold partial accumulators (a spike on an item's axon makes
                     one synaptic op per channel) and send their partial sums on; the embedding's cores merge them
                     (one more input axon per table range and channel, one add per value received).
- "lookup"           the item id is an address: table cores (the item table split by id range over as many cores
                     as synapse memory needs) read the row of the item (its D weights, ``weight_read_byte`` each)
                     and send the D values on; the embedding's cores add them (one input axon per channel).
- "auto"             today's fan-in when it fits one core, else "lookup".
``core.table_channels`` (optional, default 0): with "lookup", the most channels of a row one table core holds and
sends; 0 = as many as its output axons allow. Fewer spread each position's D values over D / table_channels table
cores that send in parallel (one core sending all L x D values can bound a step's latency), at the price of more
table cores (their static power) and one address message per table core of the item's range.

On-chip top-k (``[output] top_k`` = k > 0): every core that holds item scores keeps its best k (one ``compare`` per
score it holds) and sends them to the io port (one message each), which merges them (one ``compare`` per result
received) and sends out the k best and the (k+1)-th best score (``result_out`` each, k + 1 per inference), so that
ties at the cut are ranked as the host ranks them (``hardware.topk``). With top_k = 0 every score leaves the chip
(one message and one ``result_out`` per item).

Core keys with counting rules (optional; the defaults are the first values, ``hardware.program`` applies them):
- ``neuron_updates``        which time steps a core updates its neurons in (one ``neuron_update`` or
                            ``neuron_update_idle`` each): "own_steps" (default) only the steps of the neuron's own
                            population (a LIF population's T steps, a Graded or Readout population's one step);
                            "every_step" every neuron held by a core in every step of the inference, idle outside
                            its population's own steps (Loihi services every compartment every step, an inactive
                            one for 52 pJ, Davies 2018; SANA-FE reads every mapped neuron every step)
- ``active_update``         when a LIF neuron's update in its own step is active: "input_or_spike" (default) its
                            input a_in(t) is non-zero or it fires; "state_change" its state can change: a_in(t),
                            its bias, or its current u or potential v before the step is non-zero (SANA-FE's rule).
                            Graded and Readout neurons update once, active, either way
- ``charge_local_messages`` false (default): a neuron's message to a target on its own core is delivered locally,
                            free; true: it costs one ``message_out`` (0 hops) like a message to another core, as
                            SANA-FE charges it

Memories and synapse formats (``mapping.memory``, the model the mapper and the cost model share): every memory of a
core (synapse, neuron_state, axon_table, route_table) has a word width in ``[memory]`` and a size from the core keys;
``[synapse_format]`` says how a layer's weights are written as lists (weights alone or with target indices, a
header per list, lists aligned to words). The mapper checks a core's synapse words; the simulator counts the words
each event reads (counters ``words_<memory>``) and prices a word by ``memory.<memory>_read_pJ`` or, without it, by
the array's size (``mapping.memory.sram_word_pJ``, Horowitz 45 nm).

Static power (``hardware.costs.static_energy_pJ``): leakage_mW_per_core for every powered core and
leakage_mW_per_router for every powered router, over the inference's latency. ``[power_gating]``: ``unused_cores``
(default true) gates off the cores the mapping leaves empty and the routers that neither hold a used core nor lie on
a route (false: every core and router of the chip leaks); ``idle_cores`` (default false) also gates a used core while
it is idle within an inference: it then leaks ``idle_leakage_fraction`` (state retention, 0-1) of its leakage.

Timing keys (optional ``[timing]`` table; ``hardware.timing``, the discrete-event model, reads them; the analytic
model (``hardware.simulate``) reads only ``barrier_by_tiles``; absent keys take the defaults in brackets):
- ``buffer_depth``       messages a router's input buffer (one per incoming link and per injecting core) holds;
                         a sender blocks while the next buffer is full [16, SANA-FE's loihi.yaml link_buffer_size]
- ``message_in_cycles``  the part of ``cycles.message_out`` spent at the receiving core's input stage (axon in) per
                         message; the sender's output stage takes the rest [0: all at the sender]
- ``dendrite_cycles``    cycles of the dendrite (accumulate) stage per synaptic op or MAC [0: folded into the
                         synapse stage's ``synaptic_op`` / ``mac`` cycles]
- ``barrier_by_tiles``   the step barrier in cycles as a function of the routers (tiles) holding used cores: pairs
                         [tiles, cycles], the entry with the largest tiles <= the used tiles applies (the first one
                         below it) [absent: ``cycles.barrier_sync`` whatever the tiles]
- ``link_cycles_per_message``  cycles a link is busy per message (its bandwidth); a hop still takes
                         ``cycles.hop_ew`` / ``hop_ns`` (latency), the part above this is in flight, not busy
                         [absent: the hop's cycles, one message per hop time]
- ``stages_overlap``     true: each stage of a core (soma, output, input, synapse, dendrite) is its own server, so
                         consecutive messages overlap in them; false: a core's send side (soma then output, one
                         message after the other) and its receive side (input, synapse, dendrite of one message
                         before the next) are one server each, as SANA-FE's pipeline model charges them [true]

Energy of a run = sum over actions of count x energy_pJ + static power x time; the [host] runs the graded
(multiply-accumulate) work when the cores have no MAC units: ``mac_pJ`` and ``mac_cycles`` (cycles of
``host.clock_MHz``) are per multiply-accumulate, weight fetch included. Time of one cycle = 1 / clock_MHz us.

Every key is checked (type, range, required and unknown keys, schema and version); a bad file raises
:class:`ChipError` naming the file, the dotted key and the rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ssr_neuro.errors import ChipError
from ssr_neuro.files import read_toml

from mapping.memory import FORMATS, MEMORIES, STRUCTURES, Memory, SynapseFormat, entries_per_word, entry_bits, \
    state_words_per_neuron

SCHEMA = "ssr-neuro/chip"
VERSION = 1
PRESETS_DIR = Path(__file__).resolve().parent / "chips"
ACTIONS = ("synaptic_op", "mac", "weight_read_byte", "neuron_update", "neuron_update_idle", "spike_out",
           "message_out", "hop_ew", "hop_ns", "barrier_sync")
# actions a chip file may price (absent = 0 pJ and 0 cycles: the figure of another action includes them, or the
# chip does not do them)
EXTRA_ACTIONS = ("axon_lookup", "packet_receive", "accumulator_rmw", "neuron_state_access", "neuron_reset",
                 "compare", "result_out")
ALL_ACTIONS = ACTIONS + EXTRA_ACTIONS
STATIC = ("leakage_mW_per_core",)
STATIC_OPTIONAL = ("leakage_mW_per_router",)
BOUNDS = ("lower", "upper")
TIMING = ("buffer_depth", "message_in_cycles", "dendrite_cycles", "barrier_by_tiles", "stages_overlap",
          "link_cycles_per_message")
EMBEDDINGS = ("fanin", "lookup", "auto")
NEURON_UPDATES = ("own_steps", "every_step")
ACTIVE_UPDATES = ("input_or_spike", "state_change")


# Size limits of a mesh. The simulator holds tables per slot (the mapper's placement), per router and per directed
# link (4 per router; the fast engine's packet routes are dense [pairs, links]), so an impossible size must fail
# before they are allocated. 256 x 256 routers = 261,120 links keeps those tables in a workstation's memory; 2**20
# cores is above the largest neuromorphic systems built (SpiNNaker1M: 1,036,800 ARM cores, Furber 2014; Hala Point:
# 1,152 Loihi 2 chips x 128 cores = 147,456, Intel 2024). Both are assumptions about this simulator, not hardware.
MAX_MESH_SIDE = 256
MAX_CORES = 2 ** 20


@dataclass(frozen=True)
class Mesh:
    """A 2-D mesh of routers, ``cores_per_router`` cores behind each; inputs enter and scores leave at io_router.
    ChipError beyond MAX_MESH_SIDE routers a side or MAX_CORES cores (also for a mesh built in code)."""

    rows: int
    cols: int
    cores_per_router: int
    clock_MHz: float
    io_router: tuple[int, int]

    def __post_init__(self) -> None:
        for key in ("rows", "cols"):
            if getattr(self, key) > MAX_MESH_SIDE:
                raise ChipError(f"mesh.{key} must be at most {MAX_MESH_SIDE} routers (got {getattr(self, key):,}); "
                                "the simulator keeps tables per router and per link: model a bigger system as "
                                "several chips")
        cores = self.rows * self.cols * self.cores_per_router
        if cores > MAX_CORES:
            raise ChipError(f"mesh.cores_per_router must keep mesh.rows x mesh.cols x mesh.cores_per_router at most "
                            f"{MAX_CORES:,} cores (got {self.rows} x {self.cols} x {self.cores_per_router:,} = "
                            f"{cores:,}); use fewer cores per router")


@dataclass(frozen=True)
class CoreLimits:
    """What one core holds and how its work is counted. ``mac_units`` = 0: a spike-only core; ``shared_weights``: a
    position-wise layer stores each weight once per core instead of once per synapse, and uses one input axon per
    source channel instead of one per (position, source neuron); ``neuron_updates``, ``active_update`` and
    ``charge_local_messages``: the counting rules (see the module docstring; optional, defaults as before)."""

    neurons: int
    input_axons: int
    output_axons: int
    synapse_memory_bytes: int
    weight_bits: int
    state_bits: int
    mac_units: int
    shared_weights: bool
    neuron_updates: str = "own_steps"
    active_update: str = "input_or_spike"
    charge_local_messages: bool = False
    embedding: str = "fanin"
    table_channels: int = 0


@dataclass(frozen=True)
class Host:
    """A conventional processor beside the mesh that runs graded stages when the cores cannot multiply."""

    mac_pJ: float
    mac_cycles: float
    clock_MHz: float
    memory_bytes: int


@dataclass(frozen=True)
class PowerGating:
    """Which units leak when (module docstring): gate the unused cores and routers off; gate used cores while idle,
    leaving ``idle_leakage_fraction`` of their leakage."""

    unused_cores: bool = True
    idle_cores: bool = False
    idle_leakage_fraction: float = 1.0


@dataclass(frozen=True)
class AreaParams:
    """The per-architecture terms of the area model (``[area]``, ``hardware.area``): SRAM bit cell at 45 nm and
    the share of a macro that is bit cells; memory bits per core the model does not enumerate (learning state,
    configuration, schedulers); placed logic per core it does not enumerate (control, asynchronous handshakes),
    um^2 at 45 nm. The defaults add nothing: a lower bound that counts the arrays and datapaths only."""

    sram_bitcell_um2_45nm: float = 0.346
    sram_array_efficiency: float = 0.7
    other_memory_bits: int = 0
    core_overhead_um2_45nm: float = 0.0


@dataclass(frozen=True)
class Timing:
    """The event timing model's keys (module docstring): router buffer depth in messages, the receiver's share of
    ``cycles.message_out``, the dendrite stage's cycles per synaptic event, and the barrier by used tiles
    (((tiles, cycles), ...) ascending; empty: ``cycles.barrier_sync``), and whether a core's stages overlap."""

    buffer_depth: int = 16
    message_in_cycles: float = 0.0
    dendrite_cycles: float = 0.0
    barrier_by_tiles: tuple[tuple[int, float], ...] = ()
    stages_overlap: bool = True
    link_cycles_per_message: float | None = None


@dataclass(frozen=True)
class Chip:
    """A validated chip description; ``source`` is the file it was read from."""

    name: str
    description: str
    source: str
    mesh: Mesh
    core: CoreLimits
    host: Host | None
    energy_pJ: dict[str, float]
    cycles: dict[str, float]
    static: dict[str, float]
    power_gating: PowerGating = PowerGating()
    bound: str | None = None
    memory: dict[str, Memory] = field(default_factory=dict)  # ``mapping.memory.MEMORIES`` -> Memory
    synapse_format: SynapseFormat = SynapseFormat()
    memory_declared: bool = False  # the file has a [memory] table (reports then list the words read)
    area: AreaParams = AreaParams()
    timing: Timing = Timing()
    top_k: int = 0

    @property
    def n_cores(self) -> int:
        return self.mesh.rows * self.mesh.cols * self.mesh.cores_per_router


# ------------------------------------------------------------------------------------------------ loading

def presets() -> list[str]:
    """Names of the chip descriptions shipped with the package."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def read_chip_doc(chip: str | Path) -> tuple[dict, str]:
    """The TOML document of a preset (by name) or a chip file (by path), not yet validated, and its path."""
    path = _resolve(chip)
    return read_toml(path, "chip file", ChipError), str(path)


def load_chip(chip: str | Path) -> Chip:
    """Read a preset by name or a chip file by path, validated; ChipError on any problem."""
    return parse_chip(*read_chip_doc(chip))


def _resolve(chip: str | Path) -> Path:
    text = str(chip)
    if isinstance(chip, str) and text in presets():
        return PRESETS_DIR / f"{text}.toml"
    path = Path(chip)
    if path.is_file():
        return path
    if path.suffix == ".toml" or len(path.parts) > 1:
        raise ChipError(f"chip file {path} does not exist; give a path to a .toml chip file or a preset name "
                        f"({', '.join(presets())})")
    raise ChipError(f"unknown chip {text!r}: presets are {', '.join(presets())}; "
                    f"a path to a .toml chip file works too")


def parse_chip(doc: dict[str, Any], source: str) -> Chip:
    """Validate a parsed chip document (see the module docstring) and build the :class:`Chip`."""
    def fail(key: str, rule: str, value: Any) -> ChipError:
        return ChipError(f"chip file {source}: {key} must be {rule} (got {value!r})")

    _check_keys(doc, "", required=("schema", "version", "name", "description", "mesh", "core", "energy_pJ",
                                   "cycles", "static"),
                optional=("host", "output", "power_gating", "bound", "memory", "synapse_format", "area", "timing"),
                where=source)
    if doc["schema"] != SCHEMA:
        raise fail("schema", f'"{SCHEMA}" (this is not a chip description)', doc["schema"])
    version = _integer(doc["version"], "version", 1, fail)
    if version > VERSION:
        raise ChipError(f"chip file {source}: version {version} is newer than this ssr-neuro reads ({VERSION}); "
                        f"upgrade ssr-neuro or write a version {VERSION} file")
    if version != VERSION:
        raise fail("version", str(VERSION), version)
    name = _text(doc["name"], "name", fail, nonempty=True)
    description = _text(doc["description"], "description", fail, nonempty=False)

    mesh_doc = _table(doc, "mesh", ("rows", "cols", "cores_per_router", "clock_MHz", "io_router"), (), source, fail)
    rows = _integer(mesh_doc["rows"], "mesh.rows", 1, fail)
    cols = _integer(mesh_doc["cols"], "mesh.cols", 1, fail)
    io = mesh_doc["io_router"]
    if (not isinstance(io, list) or len(io) != 2 or not all(_is_int(v) for v in io)
            or not (0 <= io[0] < rows and 0 <= io[1] < cols)):
        raise fail("mesh.io_router", f"[row, col] of a router, 0 <= row < {rows} and 0 <= col < {cols}", io)
    per_router = _integer(mesh_doc["cores_per_router"], "mesh.cores_per_router", 1, fail)
    clock = _number(mesh_doc["clock_MHz"], "mesh.clock_MHz", True, fail)
    try:
        mesh = Mesh(rows=rows, cols=cols, cores_per_router=per_router, clock_MHz=clock, io_router=(io[0], io[1]))
    except ChipError as e:
        raise ChipError(f"chip file {source}: {e}") from None

    core_keys = ("neurons", "input_axons", "output_axons", "synapse_memory_bytes", "weight_bits", "state_bits",
                 "mac_units", "shared_weights")
    rule_keys = ("neuron_updates", "active_update", "charge_local_messages", "embedding", "table_channels")
    core_doc = _table(doc, "core", core_keys, rule_keys, source, fail)
    ints = {k: _integer(core_doc[k], f"core.{k}", 0 if k == "mac_units" else 1, fail) for k in core_keys[:-1]}
    for k in ("weight_bits", "state_bits"):
        if ints[k] > 64:
            raise fail(f"core.{k}", "an integer from 1 to 64", ints[k])
    if "table_channels" in core_doc:
        core_doc = {**core_doc, "table_channels": _integer(core_doc["table_channels"], "core.table_channels", 0, fail)}
    for k in ("shared_weights", "charge_local_messages"):
        if not isinstance(core_doc.get(k, False), bool):
            raise fail(f"core.{k}", "true or false", core_doc[k])
    for k, allowed in (("neuron_updates", NEURON_UPDATES), ("active_update", ACTIVE_UPDATES),
                       ("embedding", EMBEDDINGS)):
        if core_doc.get(k, allowed[0]) not in allowed:
            raise fail(f"core.{k}", " or ".join(f'"{a}"' for a in allowed), core_doc[k])
    core = CoreLimits(**ints, shared_weights=core_doc["shared_weights"],
                      **{k: core_doc[k] for k in rule_keys if k in core_doc})

    host = None
    if "host" in doc:
        host_doc = _table(doc, "host", ("mac_pJ", "mac_cycles", "clock_MHz", "memory_bytes"), (), source, fail)
        host = Host(mac_pJ=_number(host_doc["mac_pJ"], "host.mac_pJ", False, fail),
                    mac_cycles=_number(host_doc["mac_cycles"], "host.mac_cycles", True, fail),
                    clock_MHz=_number(host_doc["clock_MHz"], "host.clock_MHz", True, fail),
                    memory_bytes=_integer(host_doc["memory_bytes"], "host.memory_bytes", 1, fail))

    top_k = 0
    if "output" in doc:
        top_k = _integer(_table(doc, "output", ("top_k",), (), source, fail)["top_k"], "output.top_k", 0, fail)
    needed = ACTIONS if core.mac_units > 0 else tuple(a for a in ACTIONS if a != "mac")
    optional = EXTRA_ACTIONS + (() if core.mac_units > 0 else ("mac",))
    tables = {}
    for section, required, extra in (("energy_pJ", needed, optional), ("cycles", needed, optional),
                                     ("static", STATIC, STATIC_OPTIONAL)):
        table = _table(doc, section, required, extra, source, fail)
        tables[section] = {k: _number(v, f"{section}.{k}", False, fail) for k, v in table.items()}
    gating = PowerGating()
    if "power_gating" in doc:
        g = _table(doc, "power_gating", (), ("unused_cores", "idle_cores", "idle_leakage_fraction"), source, fail)
        for k in ("unused_cores", "idle_cores"):
            if not isinstance(g.get(k, True), bool):
                raise fail(f"power_gating.{k}", "true or false", g[k])
        fraction = _number(g.get("idle_leakage_fraction", 1.0), "power_gating.idle_leakage_fraction", False, fail)
        if fraction > 1.0:
            raise fail("power_gating.idle_leakage_fraction", "a number from 0 to 1", fraction)
        gating = PowerGating(unused_cores=g.get("unused_cores", True), idle_cores=g.get("idle_cores", False),
                             idle_leakage_fraction=fraction)
    bound = doc.get("bound")
    if bound is not None and bound not in BOUNDS:
        raise fail("bound", " or ".join(f'"{b}"' for b in BOUNDS), bound)
    timing = _timing(doc, tables["cycles"], source, fail) if "timing" in doc else Timing()
    fmt = _synapse_format(doc, core, source, fail)
    memory = _memories(doc, core, source, fail)
    word = memory["synapse"].word_bits
    for k in STRUCTURES:
        if entries_per_word(fmt, k, core.weight_bits, word) == 0:
            raise fail(f"synapse_format.{k}", f"a format whose entry ({entry_bits(fmt, k, core.weight_bits)} bits) "
                       f"fits a {word}-bit synapse word (memory.synapse_word_bits)", fmt.of(k))
    return Chip(name=name, description=description, source=source, mesh=mesh, core=core, host=host,
                energy_pJ=tables["energy_pJ"], cycles=tables["cycles"], static=tables["static"],
                power_gating=gating, bound=bound, memory=memory, synapse_format=fmt,
                memory_declared="memory" in doc, area=_area(doc, source, fail), timing=timing, top_k=top_k)


def _memories(doc: dict, core: CoreLimits, source: str, fail: "Fail") -> dict[str, Memory]:
    """The core's memories (``mapping.memory``): word widths and prices from ``[memory]``, sizes from the core."""
    keys = tuple(f"{m}_word_bits" for m in MEMORIES) + tuple(f"{m}_read_pJ" for m in MEMORIES)
    table = _table(doc, "memory", (), keys, source, fail) if "memory" in doc else {}
    out = {}
    for m in MEMORIES:
        bits = _integer(table.get(f"{m}_word_bits", 64), f"memory.{m}_word_bits", 1, fail)
        price = table.get(f"{m}_read_pJ", None if table else 0.0)  # no [memory]: counted, priced 0
        price = None if price is None else _number(price, f"memory.{m}_read_pJ", False, fail)
        entries = {"synapse": None, "neuron_state": core.neurons, "axon_table": core.input_axons,
                   "route_table": core.output_axons}[m]
        if entries is None:
            if core.synapse_memory_bytes * 8 % bits:
                raise fail("memory.synapse_word_bits", f"a width that divides core.synapse_memory_bytes x 8 = "
                           f"{core.synapse_memory_bytes * 8} bits", bits)
            words = core.synapse_memory_bytes * 8 // bits
        elif m == "neuron_state":
            words = entries * state_words_per_neuron(core.state_bits, bits)
        else:
            words = entries
        out[m] = Memory(bits, words, price)
    return out


def _area(doc: dict, source: str, fail: "Fail") -> AreaParams:
    if "area" not in doc:
        return AreaParams()
    keys = ("sram_bitcell_um2_45nm", "sram_array_efficiency", "other_memory_bits", "core_overhead_um2_45nm")
    table = _table(doc, "area", (), keys, source, fail)
    values = {k: _number(table[k], f"area.{k}", k != "core_overhead_um2_45nm" and k != "other_memory_bits", fail)
              for k in keys if k in table}
    if values.get("sram_array_efficiency", 0.7) > 1.0:
        raise fail("area.sram_array_efficiency", "a number in (0, 1]", values["sram_array_efficiency"])
    if "other_memory_bits" in values:
        values["other_memory_bits"] = _integer(table["other_memory_bits"], "area.other_memory_bits", 0, fail)
    return AreaParams(**values)


def _synapse_format(doc: dict, core: CoreLimits, source: str, fail: "Fail") -> SynapseFormat:
    if "synapse_format" not in doc:
        return SynapseFormat()
    table = _table(doc, "synapse_format", (), STRUCTURES + ("index_bits", "header_bits", "align"), source, fail)
    for k in STRUCTURES:
        if table.get(k, "dense") not in FORMATS:
            raise fail(f"synapse_format.{k}", " or ".join(f'"{f}"' for f in FORMATS), table[k])
    if not isinstance(table.get("align", False), bool):
        raise fail("synapse_format.align", "true or false", table["align"])
    ints = {k: _integer(table.get(k, 0), f"synapse_format.{k}", 0, fail) for k in ("index_bits", "header_bits")}
    return SynapseFormat(**{k: table[k] for k in STRUCTURES if k in table}, **ints,
                         align=table.get("align", False))


def _timing(doc: dict[str, Any], cycles: dict[str, float], source: str, fail: "Fail") -> Timing:
    """The optional [timing] table, validated (module docstring)."""
    table = _table(doc, "timing", (), TIMING, source, fail)
    out = {}
    if "buffer_depth" in table:
        out["buffer_depth"] = _integer(table["buffer_depth"], "timing.buffer_depth", 1, fail)
    for key in ("message_in_cycles", "dendrite_cycles", "link_cycles_per_message"):
        if key in table:
            out[key] = _number(table[key], f"timing.{key}", False, fail)
    if out.get("message_in_cycles", 0.0) > cycles["message_out"]:
        raise fail("timing.message_in_cycles", f"at most cycles.message_out ({cycles['message_out']})",
                   out["message_in_cycles"])
    if "stages_overlap" in table:
        if not isinstance(table["stages_overlap"], bool):
            raise fail("timing.stages_overlap", "true or false", table["stages_overlap"])
        out["stages_overlap"] = table["stages_overlap"]
    if "barrier_by_tiles" in table:
        rows = table["barrier_by_tiles"]
        rule = "a non-empty list of [tiles, cycles] pairs, tiles positive integers in ascending order, cycles >= 0"
        ok = isinstance(rows, list) and rows and all(
            isinstance(r, list) and len(r) == 2 and _is_int(r[0]) and r[0] >= 1
            and isinstance(r[1], (int, float)) and not isinstance(r[1], bool) and math.isfinite(r[1]) and r[1] >= 0
            for r in rows)
        if not ok or any(a[0] >= b[0] for a, b in zip(rows, rows[1:])):
            raise fail("timing.barrier_by_tiles", rule, rows)
        out["barrier_by_tiles"] = tuple((int(t), float(c)) for t, c in rows)
    return Timing(**out)


def barrier_cycles(chip: Chip, tiles: int) -> float:
    """The step barrier in cycles for ``tiles`` used tiles: ``timing.barrier_by_tiles`` (the entry with the largest
    tiles <= ``tiles``, the first entry below all) or ``cycles.barrier_sync``."""
    table = chip.timing.barrier_by_tiles
    if not table:
        return chip.cycles["barrier_sync"]
    below = [c for t, c in table if t <= tiles]
    return below[-1] if below else table[0][1]


# ------------------------------------------------------------------------------------------------ checks


Fail = Callable[[str, str, Any], ChipError]


def _check_keys(doc: dict, prefix: str, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    for key in required:
        if key not in doc:
            raise ChipError(f"chip file {where}: {prefix}{key} is required (missing)")
    for key in doc:
        if key not in required and key not in optional:
            allowed = ", ".join(required + optional)
            raise ChipError(f"chip file {where}: {prefix}{key} is not a known key (allowed here: {allowed})")


def _table(doc: dict, section: str, required: tuple[str, ...], optional: tuple[str, ...], where: str,
           fail: Fail) -> dict:
    table = doc[section]
    if not isinstance(table, dict):
        raise fail(section, f"a table ([{section}])", table)
    _check_keys(table, f"{section}.", required, optional, where)
    return table


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integer(value: Any, key: str, minimum: int, fail: Fail) -> int:
    if not _is_int(value) or value < minimum:
        raise fail(key, "a positive integer" if minimum == 1 else f"an integer >= {minimum}", value)
    return value


def _number(value: Any, key: str, positive: bool, fail: Fail) -> float:
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
          and (value > 0 if positive else value >= 0))
    if not ok:
        raise fail(key, "a positive number" if positive else "a number >= 0", value)
    return float(value)


def _text(value: Any, key: str, fail: Fail, nonempty: bool) -> str:
    if not isinstance(value, str) or (nonempty and not value.strip()):
        raise fail(key, "a non-empty string" if nonempty else "a string", value)
    return value
