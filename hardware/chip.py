"""Chip descriptions as data: a TOML file per chip, read and validated into frozen dataclasses (no torch).

``load_chip("45nm")`` / ``load_chip("loihi")`` read the presets shipped in ``hardware/chips/<name>.toml``;
``load_chip("path/to/my.toml")`` reads a user's file (copy a preset and edit it). Layout (units are in key names)::

    schema = "ssr-neuro/chip"      version = 1      name = "..."      description = "..."
    [mesh]      rows, cols, cores_per_router, clock_MHz, io_router = [row, col]
    [core]      neurons, input_axons, output_axons, synapse_memory_bytes, weight_bits, state_bits,
                mac_units, shared_weights;  optional counting rules: neuron_updates, active_update,
                charge_local_messages;  optional embedding ("fanin" | "lookup" | "auto")
    [host]      (optional) mac_pJ, mac_cycles, clock_MHz, memory_bytes
    [output]    (optional) top_k: results that leave the chip per inference (0 or absent: every item's score)
    [energy_pJ] energy of one action, pJ          [cycles] time of one action, cycles of mesh.clock_MHz
    [static]    leakage_mW_per_core

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
Optional actions (absent: not priced, 0 pJ and 0 cycles):
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

Energy of a run = sum over actions of count x energy_pJ + static power x time; the [host] runs the graded
(multiply-accumulate) work when the cores have no MAC units: ``mac_pJ`` and ``mac_cycles`` (cycles of
``host.clock_MHz``) are per multiply-accumulate, weight fetch included. Time of one cycle = 1 / clock_MHz us.

Every key is checked (type, range, required and unknown keys, schema and version); a bad file raises
:class:`ChipError` naming the file, the dotted key and the rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ssr_neuro.errors import ChipError
from ssr_neuro.files import read_toml

SCHEMA = "ssr-neuro/chip"
VERSION = 1
PRESETS_DIR = Path(__file__).resolve().parent / "chips"
ACTIONS = ("synaptic_op", "mac", "weight_read_byte", "neuron_update", "neuron_update_idle", "spike_out",
           "message_out", "hop_ew", "hop_ns", "barrier_sync")
OPTIONAL_ACTIONS = ("compare", "result_out")
STATIC = ("leakage_mW_per_core",)
EMBEDDINGS = ("fanin", "lookup", "auto")
NEURON_UPDATES = ("own_steps", "every_step")
ACTIVE_UPDATES = ("input_or_spike", "state_change")


@dataclass(frozen=True)
class Mesh:
    """A 2-D mesh of routers, ``cores_per_router`` cores behind each; inputs enter and scores leave at io_router."""

    rows: int
    cols: int
    cores_per_router: int
    clock_MHz: float
    io_router: tuple[int, int]


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


@dataclass(frozen=True)
class Host:
    """A conventional processor beside the mesh that runs graded stages when the cores cannot multiply."""

    mac_pJ: float
    mac_cycles: float
    clock_MHz: float
    memory_bytes: int


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
                                   "cycles", "static"), optional=("host", "output"), where=source)
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
    mesh = Mesh(rows=rows, cols=cols, cores_per_router=_integer(mesh_doc["cores_per_router"],
                                                                "mesh.cores_per_router", 1, fail),
                clock_MHz=_number(mesh_doc["clock_MHz"], "mesh.clock_MHz", True, fail), io_router=(io[0], io[1]))

    core_keys = ("neurons", "input_axons", "output_axons", "synapse_memory_bytes", "weight_bits", "state_bits",
                 "mac_units", "shared_weights")
    rule_keys = ("neuron_updates", "active_update", "charge_local_messages", "embedding")
    core_doc = _table(doc, "core", core_keys, rule_keys, source, fail)
    ints = {k: _integer(core_doc[k], f"core.{k}", 0 if k == "mac_units" else 1, fail) for k in core_keys[:-1]}
    for k in ("weight_bits", "state_bits"):
        if ints[k] > 64:
            raise fail(f"core.{k}", "an integer from 1 to 64", ints[k])
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
    optional = OPTIONAL_ACTIONS + (() if core.mac_units > 0 else ("mac",))
    tables = {}
    for section, required, extra in (("energy_pJ", needed, optional), ("cycles", needed, optional),
                                     ("static", STATIC, ())):
        table = _table(doc, section, required, extra, source, fail)
        tables[section] = {k: _number(v, f"{section}.{k}", False, fail) for k, v in table.items()}
    return Chip(name=name, description=description, source=source, mesh=mesh, core=core, host=host,
                energy_pJ=tables["energy_pJ"], cycles=tables["cycles"], static=tables["static"], top_k=top_k)


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
