"""The design-space file: a TOML description of a base design and the axes to vary, expanded into design points.

Layout (every key checked; paths are relative to the space file)::

    sampling = "grid"            # or "random", or "nsga2" (multi-objective search, ssr_neuro.app.dse.search)
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
    calibration_samples = 4096   # training samples to re-quantise on when the graph records no count (default 4096)
    strategy = "anneal"          # mapping strategy (default "anneal"; deterministic for a given seed)
    seed = 0                     # seed of the sample choice and of the mapping (default 0)
    data_dir = "datasets"        # optional: folder holding the graph's dataset

    [chip.neurons_per_core]      # one table per axis: values = [...]   or   range = [lo, hi] (+ steps = k, log)
    values = [256, 512, 1024]
    [conversion.weight_bits]
    range = [4, 8]
    steps = 5
    [model.T]                    # model axes: T (time_steps), D (dim), L (max_len), blocks (n_blocks), tau, threshold
    values = [2, 4]

    [training]                   # required with model axes: how each model variant is trained (TrainingSpec)
    epochs = 4                   # required: the budget every variant gets (cosine schedule over it)
    batch_size = 128             # lr = 1e-3, weight_decay = 1e-4, patience = 5, seed = 2024, compile = true:
                                 # the defaults of 'ssr-neuro train'
    models = "dse-models"        # folder of the trained variants (default: "<results file name>-models" beside it)

Axes (``CHIP_AXES``, ``CONVERSION_AXES``, ``MODEL_AXES``): chip axes replace one key of the base chip (``process_nm``
rescales its energies, see ``hardware.area``; its settings, and ``base.process_nm``, must be nodes of
``area.NODES_NM``); conversion axes re-quantise the graph; model axes replace fields of the base graph's model
config (``model_config``; the short names T, D, L and blocks are stored as time_steps, dim, max_len and n_blocks):
each distinct model setting is trained once from scratch with ``[training]`` on the base graph's dataset (with L,
its samples are rebuilt at that length), converted and quantised with the base graph's options, and cached
(``ssr_neuro.app.model_variants``; the hardware side only receives the graph file). ``values`` lists the settings;
``range`` = [lo, hi] with ``steps`` = k gives k
settings evenly spaced (geometrically with ``log = true``; integers rounded, duplicates dropped). Grid sampling takes
the Cartesian product of every axis (a ``range`` needs ``steps``); random sampling draws ``n`` points, each axis
independently (a ``values`` list or a ``range`` with ``steps``: uniformly from its settings; a ``range`` without
steps: uniform, or log-uniform with ``log``, integers rounded), and keeps the first of repeated points. NSGA-II
search (``sampling = "nsga2"``) has no fixed list of points: ``ssr_neuro.app.dse.search.search`` proposes them generation
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

from hardware.area import NODES_NM
from ssr_neuro.app.pipeline import SamplePlan
from ssr_neuro.errors import UserError
from ssr_neuro.files import read_toml

# axis name -> (type, minimum)
CHIP_AXES: dict[str, tuple[type, float]] = {
    "mesh_rows": (int, 1), "mesh_cols": (int, 1), "cores_per_router": (int, 1), "clock_MHz": (float, 1e-9),
    "neurons_per_core": (int, 1), "input_axons": (int, 1), "output_axons": (int, 1),
    "synapse_memory_bytes": (int, 1), "weight_bits": (int, 1), "mac_units": (int, 0), "process_nm": (int, 7),
}
CONVERSION_AXES: dict[str, tuple[type, float]] = {"weight_bits": (int, 2), "activation_bits": (int, 2)}
MODEL_AXES: dict[str, tuple[type, float]] = {"time_steps": (int, 1), "dim": (int, 1), "max_len": (int, 1),
                                             "n_blocks": (int, 1), "tau": (float, 1.0), "threshold": (float, 1e-9)}
MODEL_ALIASES = {"T": "time_steps", "D": "dim", "L": "max_len", "blocks": "n_blocks"}
SECTIONS = {"chip": CHIP_AXES, "conversion": CONVERSION_AXES, "model": MODEL_AXES}
TRAINING_KEYS = {"epochs": int, "batch_size": int, "lr": float, "weight_decay": float, "patience": int, "seed": int,
                 "compile": bool, "models": str}
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
    calibration_samples: int = SamplePlan.calibration
    strategy: str = "anneal"
    seed: int = 0
    data_dir: Path | None = None

    def key(self) -> dict:
        """Plain JSON of the base (what a results store is tied to)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class TrainingSpec:
    """The ``[training]`` table: how every model variant of a space is trained (the defaults of 'ssr-neuro train',
    the epoch budget given). ``models`` is the folder of trained variants, None for "<results file name>-models"
    beside the results file."""

    epochs: int
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5
    seed: int = 2024
    compile: bool = True
    models: Path | None = None

    def key(self) -> dict:
        """What a trained variant depends on (not the folder it is kept in, nor ``compile``: the compiled LIF
        kernels give the same spikes)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("models", "compile")}


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
    training: TrainingSpec | None = None

    def has_model_axes(self) -> bool:
        return any(a.name.startswith("model.") for a in self.axes)

    def points(self) -> list[dict]:
        """The design points, in a fixed order (see the module docstring)."""
        if self.sampling == "nsga2":
            raise UserError(f'{self.source}: sampling = "nsga2" proposes points as it searches; run it with '
                            "'ssr-neuro dse' or ssr_neuro.app.dse.search.search")
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
            raise UserError(f"axis {name!r}: name it chip.<param>, conversion.<param> or model.<param>")
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

    allowed = ("sampling", "n", "seed", "population", "base", "chip", "conversion", "model", "training")
    for key in doc:
        if key not in allowed:
            raise fail(key, f"is not a known key (allowed at the top: {', '.join(allowed)})")
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
    for section, known in SECTIONS.items():
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise fail(section, f"must be a table of axes ([{section}.<param>])")
        for name, spec in table.items():
            if section == "conversion" and (name in MODEL_AXES or name in MODEL_ALIASES):
                raise fail(f"conversion.{name}", f"is a model parameter: write it as [model.{name}] (the model is "
                                                 f"retrained for each setting, see [training])")
            param = MODEL_ALIASES.get(name, name) if section == "model" else name
            if param not in known:
                names = [*known, *MODEL_ALIASES] if section == "model" else list(known)
                raise fail(f"{section}.{name}", f"is not a known {section} parameter (known: {', '.join(names)})")
            if any(a.name == f"{section}.{param}" for a in axes):
                raise fail(f"{section}.{name}", f"repeats {section}.{param} under another name; give it once")
            axes.append(_parse_axis(f"{section}.{param}", spec, *known[param], sampling, fail))
    for axis in axes:
        if axis.name == "chip.process_nm" and (axis.settings is None or not set(axis.settings) <= set(NODES_NM)):
            raise fail(axis.name, f"must list nodes of the scaling tables ({', '.join(map(str, NODES_NM))} nm) as "
                                  f"values (got {list(axis.settings) if axis.settings else [axis.low, axis.high]})")
    if base.process_nm not in NODES_NM:
        raise fail("base.process_nm", f"must be one of {', '.join(map(str, NODES_NM))} (got {base.process_nm})")
    if not axes:
        raise fail("chip / conversion / model", "has no axis: add at least one [chip.<param>], "
                                                "[conversion.<param>] or [model.<param>] table")
    has_model = any(a.name.startswith("model.") for a in axes)
    if has_model and "training" not in doc:
        raise fail("training", "is required with model axes: add a [training] table with epochs = N (the budget "
                               "each model variant is trained with)")
    if not has_model and "training" in doc:
        raise fail("training", "is for model axes ([model.<param>]); remove it or add a model axis")
    training = _parse_training(doc["training"], folder, fail) if has_model else None
    return Space(base=base, axes=tuple(axes), sampling=sampling, n=n, seed=seed, source=source,
                 population=population, training=training)


def _parse_training(table: Any, folder: Path, fail) -> TrainingSpec:
    if not isinstance(table, dict) or "epochs" not in table:
        raise fail("training.epochs", "is required: the epoch budget every model variant is trained with")
    values = _typed_table("training", table, TRAINING_KEYS, ("patience", "seed", "weight_decay"), fail)
    if "models" in values:
        values["models"] = folder / values["models"]
    return TrainingSpec(**values)


def _typed_table(section: str, table: dict, keys: dict[str, type], non_negative: tuple[str, ...], fail) -> dict:
    """The table's values checked against ``keys`` (name -> str / int / float): numbers finite and > 0, or >= 0 for
    the ``non_negative`` keys; floats returned as float."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in keys:
            raise fail(f"{section}.{key}", f"is not a known key (allowed: {', '.join(keys)})")
        kind = keys[key]
        if kind in (str, bool):
            ok = isinstance(value, kind)
        else:
            ok = (_is_int(value) if kind is int else isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value)) and value > (-1 if key in non_negative else 0)
        if not ok:
            rule = ({str: "a string", bool: "true or false"}.get(kind) or
                    f"{'an integer' if kind is int else 'a number'} {'>= 0' if key in non_negative else '> 0'}")
            raise fail(f"{section}.{key}", f"must be {rule} (got {value!r})")
        values[key] = float(value) if kind is float else value
    return values


def _parse_base(table: Any, folder: Path, fail) -> BaseConfig:
    if not isinstance(table, dict) or "graph" not in table:
        raise fail("base.graph", "is required: the graph file from 'ssr-neuro convert' to explore around")
    values = _typed_table("base", table, BASE_KEYS, ("seed",), fail)
    if values.get("split", "test") not in ("test", "valid"):
        raise fail("base.split", f'must be "test" or "valid" (got {values["split"]!r})')
    if values.get("strategy", "anneal") not in STRATEGY_NAMES:
        raise fail("base.strategy", f"must be one of {', '.join(STRATEGY_NAMES)} (got {values['strategy']!r})")
    values["graph"] = folder / values["graph"]
    if "data_dir" in values:
        values["data_dir"] = folder / values["data_dir"]
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
