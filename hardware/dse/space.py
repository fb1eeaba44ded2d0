"""The design-space file: a TOML description of a base design and the axes to vary, expanded into design points.

Layout (every key checked; paths are relative to the space file)::

    sampling = "grid"            # or "random", or "nsga2" (multi-objective search, hardware.dse.search)
    n = 200                      # random: points to draw; nsga2: trials
    seed = 0                     # random / nsga2: seed of the draw or of the sampler
    population = 20              # nsga2 only: trials per generation (default 20)

    [base]
    graph = "model.graph"        # required: a fixed-point graph from 'ssr-neuro convert' (float weights kept inside)
    chip = "45nm"                # a chip preset or a chip .toml file (default "45nm")
    process_nm = 45              # node the chip file's energies are for (default 45: both presets are priced there)
    vdd_V = 0.9                  # supply voltage of the energy scaling (default 0.9: Horowitz's table)
    samples = 500                # inferences simulated per point, drawn from the split (default 500)
    split = "test"               # "test" or "valid" (default "test")
    calibration_samples = 1024   # training samples to re-quantise on when the graph records no count (default 1024)
    strategy = "anneal"          # mapping strategy (default "anneal"; deterministic for a given seed)
    seed = 0                     # seed of the sample choice and of the mapping (default 0)
    data_dir = "datasets"        # optional: folder holding the graph's dataset

    [chip.neurons_per_core]      # one table per axis: values = [...]   or   range = [lo, hi] (+ steps = k, log)
    values = [256, 512, 1024]
    [conversion.weight_bits]
    range = [4, 8]
    steps = 5

Axes (``CHIP_AXES``, ``CONVERSION_AXES``): chip axes replace one key of the base chip (``process_nm`` rescales its
energies, see ``hardware.dse.area``; its settings, and ``base.process_nm``, must be nodes of ``area.NODES_NM``);
conversion axes re-quantise the graph. Model axes (T, D, L, blocks) need a retrained model and are refused. ``values`` lists the settings; ``range`` = [lo, hi] with ``steps`` = k gives k
settings evenly spaced (geometrically with ``log = true``; integers rounded, duplicates dropped). Grid sampling takes
the Cartesian product of every axis (a ``range`` needs ``steps``); random sampling draws ``n`` points, each axis
independently (a ``values`` list or a ``range`` with ``steps``: uniformly from its settings; a ``range`` without
steps: uniform, or log-uniform with ``log``, integers rounded), and keeps the first of repeated points. NSGA-II
search (``sampling = "nsga2"``) has no fixed list of points: ``hardware.dse.search.search`` proposes them generation
by generation from the objectives (``Space.points`` refuses it).

A point is a dict ``{"chip.neurons_per_core": 512, "conversion.weight_bits": 6}``; its id is the first 16 hex digits
of the SHA-256 of its canonical JSON (sorted keys, no spaces), so the same setting always has the same id.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hardware.dse.area import NODES_NM
from ssr_neuro.errors import UserError
from ssr_neuro.files import read_toml

# axis name -> (type, minimum)
CHIP_AXES: dict[str, tuple[type, float]] = {
    "mesh_rows": (int, 1), "mesh_cols": (int, 1), "cores_per_router": (int, 1), "clock_MHz": (float, 1e-9),
    "neurons_per_core": (int, 1), "input_axons": (int, 1), "output_axons": (int, 1),
    "synapse_memory_bytes": (int, 1), "weight_bits": (int, 1), "mac_units": (int, 0), "process_nm": (int, 7),
}
CONVERSION_AXES: dict[str, tuple[type, float]] = {"weight_bits": (int, 2), "activation_bits": (int, 2)}
MODEL_AXES = ("T", "time_steps", "D", "dim", "L", "max_len", "blocks", "tau", "threshold")
SAMPLINGS = ("grid", "random", "nsga2")
BASE_KEYS = {"graph": str, "chip": str, "process_nm": int, "vdd_V": float, "samples": int, "split": str,
             "calibration_samples": int, "strategy": str, "seed": int, "data_dir": str}
STRATEGY_NAMES = ("anneal", "greedy")


@dataclass(frozen=True)
class BaseConfig:
    """The ``[base]`` table with defaults applied and paths resolved against the space file's folder."""

    graph: Path
    chip: str = "45nm"
    process_nm: int = 45
    vdd_V: float = 0.9
    samples: int = 500
    split: str = "test"
    calibration_samples: int = 1024
    strategy: str = "anneal"
    seed: int = 0
    data_dir: Path | None = None

    def key(self) -> dict:
        """Plain JSON of the base (what a results store is tied to)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Axis:
    """One varied parameter: ``name`` is "chip.<param>" or "conversion.<param>"; ``settings`` is None for a
    continuous range (random sampling only)."""

    name: str
    kind: type
    settings: tuple | None
    low: float | None = None
    high: float | None = None
    log: bool = False


@dataclass(frozen=True)
class Space:
    """A parsed space file."""

    base: BaseConfig
    axes: tuple[Axis, ...]
    sampling: str = "grid"
    n: int | None = None
    seed: int = 0
    source: str = ""
    population: int = 20

    def points(self) -> list[dict]:
        """The design points, in a fixed order (see the module docstring)."""
        if self.sampling == "nsga2":
            raise UserError(f'{self.source}: sampling = "nsga2" proposes points as it searches; run it with '
                            "'ssr-neuro dse' or hardware.dse.search.search")
        return sample_points(self)


def point_id(point: dict) -> str:
    """16 hex digits of the SHA-256 of the point's canonical JSON."""
    return hashlib.sha256(canonical_json(point).encode()).hexdigest()[:16]


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def grid_space(base: dict, axes: dict[str, list], folder: Path | str = ".") -> Space:
    """A grid space from Python, checked as a file is: ``base`` is the ``[base]`` table (paths relative to
    ``folder``), ``axes`` maps axis names to their settings, e.g. ``{"chip.neurons_per_core": [256, 512]}``."""
    doc: dict[str, Any] = {"sampling": "grid", "base": dict(base)}
    for name, values in axes.items():
        section, _, param = name.partition(".")
        if not isinstance(doc.setdefault(section, {}), dict):
            raise UserError(f"axis {name!r}: name it chip.<param> or conversion.<param>")
        doc[section][param] = {"values": list(values)}
    return parse_space(doc, Path(folder), "<grid_space>")


# ------------------------------------------------------------------------------------------------ reading

def load_space(path: Path | str) -> Space:
    """Read and validate a space file; UserError naming the file and the key on any problem."""
    path = Path(path)
    return parse_space(read_toml(path, "space file"), path.parent, str(path))


def parse_space(doc: dict, folder: Path, source: str = "<space>") -> Space:
    """Validate a parsed space document; relative paths are taken from ``folder``."""
    def fail(key: str, rule: str) -> UserError:
        return UserError(f"space file {source}: {key} {rule}")

    allowed = ("sampling", "n", "seed", "population", "base", "chip", "conversion", "model")
    for key in doc:
        if key not in allowed:
            raise fail(key, f"is not a known key (allowed at the top: {', '.join(allowed)})")
    if "model" in doc or any(k in MODEL_AXES for k in doc.get("conversion", {})):
        raise fail("model", "axes (T, D, L, blocks, ...) need a retrained model, which the design-space exploration "
                            "does not do yet; vary chip.* and conversion.weight_bits / activation_bits only")
    sampling = doc.get("sampling", "grid")
    if sampling not in SAMPLINGS:
        raise fail("sampling", f'must be "grid", "random" or "nsga2" (got {sampling!r})')
    n = doc.get("n")
    if sampling == "grid" and n is not None:
        raise fail("n", 'is for sampling = "random" or "nsga2"; a grid has one point per combination of the axes')
    if sampling != "grid" and (not _is_int(n) or n < 1):
        raise fail("n", f'must be a positive integer with sampling = "{sampling}" (got {n!r})')
    population = doc.get("population", 20)
    if "population" in doc and sampling != "nsga2":
        raise fail("population", 'is for sampling = "nsga2" (trials per generation)')
    if not _is_int(population) or population < 2:
        raise fail("population", f"must be an integer >= 2 (got {population!r})")
    seed = doc.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise fail("seed", f"must be an integer >= 0 (got {seed!r})")
    base = _parse_base(doc.get("base"), folder, fail)
    axes = []
    for section, known in (("chip", CHIP_AXES), ("conversion", CONVERSION_AXES)):
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise fail(section, f"must be a table of axes ([{section}.<param>])")
        for name, spec in table.items():
            if name not in known:
                raise fail(f"{section}.{name}", f"is not a known {section} parameter (known: {', '.join(known)})")
            axes.append(_parse_axis(f"{section}.{name}", spec, *known[name], sampling, fail))
    for axis in axes:
        if axis.name == "chip.process_nm" and (axis.settings is None or not set(axis.settings) <= set(NODES_NM)):
            raise fail(axis.name, f"must list nodes of the scaling tables ({', '.join(map(str, NODES_NM))} nm) as "
                                  f"values (got {list(axis.settings) if axis.settings else [axis.low, axis.high]})")
    if base.process_nm not in NODES_NM:
        raise fail("base.process_nm", f"must be one of {', '.join(map(str, NODES_NM))} (got {base.process_nm})")
    if not axes:
        raise fail("chip / conversion", "has no axis: add at least one [chip.<param>] or [conversion.<param>] table")
    return Space(base=base, axes=tuple(axes), sampling=sampling, n=n, seed=seed, source=source,
                 population=population)


def _parse_base(table: Any, folder: Path, fail) -> BaseConfig:
    if not isinstance(table, dict) or "graph" not in table:
        raise fail("base.graph", "is required: the graph file from 'ssr-neuro convert' to explore around")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in BASE_KEYS:
            raise fail(f"base.{key}", f"is not a known key (allowed: {', '.join(BASE_KEYS)})")
        kind = BASE_KEYS[key]
        ok = (isinstance(value, str) if kind is str else _is_int(value) if kind is int
              else isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value))
        if not ok or (kind is not str and value <= (-1 if key == "seed" else 0)):
            rule = "a string" if kind is str else ("an integer >= 0" if key == "seed" else f"a positive {kind.__name__}")
            raise fail(f"base.{key}", f"must be {rule} (got {value!r})")
        values[key] = value
    if values.get("split", "test") not in ("test", "valid"):
        raise fail("base.split", f'must be "test" or "valid" (got {values["split"]!r})')
    if values.get("strategy", "anneal") not in STRATEGY_NAMES:
        raise fail("base.strategy", f"must be one of {', '.join(STRATEGY_NAMES)} (got {values['strategy']!r})")
    values["graph"] = folder / values["graph"]
    if "data_dir" in values:
        values["data_dir"] = folder / values["data_dir"]
    if "vdd_V" in values:
        values["vdd_V"] = float(values["vdd_V"])
    return BaseConfig(**values)


def _parse_axis(name: str, spec: Any, kind: type, minimum: float, sampling: str, fail) -> Axis:
    if not isinstance(spec, dict):
        raise fail(name, "must be a table with values = [...] or range = [lo, hi]")
    for key in spec:
        if key not in ("values", "range", "steps", "log"):
            raise fail(f"{name}.{key}", "is not a known key (allowed: values, range, steps, log)")
    if ("values" in spec) == ("range" in spec):
        raise fail(name, "needs exactly one of values = [...] or range = [lo, hi]")

    def number(v: Any, key: str):
        ok = _is_int(v) if kind is int else (isinstance(v, (int, float)) and not isinstance(v, bool)
                                            and math.isfinite(v))
        if not ok or v < minimum:
            rule = "an integer" if kind is int else "a number"
            raise fail(key, f"must hold {rule} >= {minimum:g} (got {v!r})")
        return kind(v)

    if "values" in spec:
        if "steps" in spec or "log" in spec:
            raise fail(name, "steps and log go with range, not with values")
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise fail(f"{name}.values", "must be a non-empty list")
        settings = tuple(dict.fromkeys(number(v, f"{name}.values") for v in values))
        return Axis(name, kind, settings)
    rng = spec["range"]
    if not isinstance(rng, list) or len(rng) != 2:
        raise fail(f"{name}.range", f"must be [lo, hi] (got {rng!r})")
    low, high = (number(v, f"{name}.range") for v in rng)
    if low > high:
        raise fail(f"{name}.range", f"must have lo <= hi (got {rng!r})")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise fail(f"{name}.log", f"must be true or false (got {log!r})")
    if log and low <= 0:
        raise fail(f"{name}.range", f"must start above 0 with log = true (got {rng!r})")
    steps = spec.get("steps")
    if steps is None:
        if sampling == "grid":
            raise fail(f"{name}.steps", "is required for a range with grid sampling (how many settings)")
        return Axis(name, kind, None, float(low), float(high), log)
    if not _is_int(steps) or steps < 1:
        raise fail(f"{name}.steps", f"must be a positive integer (got {steps!r})")
    grid = np.geomspace(low, high, steps) if log else np.linspace(low, high, steps)
    settings = tuple(dict.fromkeys(int(round(v)) if kind is int else float(v) for v in grid))
    return Axis(name, kind, settings, float(low), float(high), log)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ------------------------------------------------------------------------------------------------ sampling

def sample_points(space: Space) -> list[dict]:
    """Grid: the product of every axis' settings (first axis slowest). Random: ``n`` draws, repeats dropped."""
    names = [a.name for a in space.axes]
    if space.sampling == "grid":
        return [dict(zip(names, combo)) for combo in itertools.product(*(a.settings for a in space.axes))]
    rng = np.random.default_rng(space.seed)
    columns = [_draw(a, rng, space.n) for a in space.axes]
    points = {}
    for row in zip(*columns):
        point = dict(zip(names, row))
        points.setdefault(point_id(point), point)
    return list(points.values())


def _draw(axis: Axis, rng: np.random.Generator, n: int) -> list:
    if axis.settings is not None:
        return [axis.settings[i] for i in rng.integers(0, len(axis.settings), n)]
    if axis.log:
        values = np.exp(rng.uniform(math.log(axis.low), math.log(axis.high), n))
    else:
        values = rng.uniform(axis.low, axis.high, n)
    return [int(round(v)) if axis.kind is int else float(v) for v in values]
