"""One design point: derive its chip, re-quantise the graph if its bit widths change, map, simulate, measure.

``load_base(config) -> Base`` reads what every point shares once: the base fixed-point graph (its float weights are
kept inside), the base chip file as a TOML document, and the samples of the pipeline's ``SamplePlan`` (training
samples to re-quantise on, as many as the graph was calibrated on; the default activity samples the mapper records
activity on; ``config.samples`` of ``config.split``), all chosen with ``config.seed`` as ``ssr-neuro map`` and
``simulate --seed`` choose them. Points are mapped and simulated by the pipeline's stages (``map_on_chip``,
``run_on_chip``). ``evaluate_point(base, point) -> dict`` is a pure function of the two. ``prepare(base, points)``
quantises the graph once per bit-width pair of a sweep (and records its activity) so that points only map and
simulate: the same results, made faster.

Chip of a point (``derive_chip``): the base chip's document with the point's chip axes written in (``neurons_per_core``
-> core.neurons, ``mesh_rows`` -> mesh.rows, ...), validated by ``hardware.chip.parse_chip`` like a file. Derived
costs follow the presets' own derivations: a different synapse memory scales ``weight_read_byte`` by
sqrt(new / old bytes) (SRAM read energy grows as the square root of the array size); a different mesh scales
``barrier_sync`` energy by the number of routers and its cycles by the mesh diameter (rows + cols - 2); a different
``process_nm`` scales every action energy, the leakage and the host's MAC energy by ``area.energy_factor``. The
io_router is moved inside a smaller mesh.

Graph of a point: weight bits = conversion.weight_bits, else chip.weight_bits (a chip's precision is what the model
is quantised to), else the base graph's; activation bits = conversion.activation_bits, else the base graph's. The base
graph is used as it is when both equal its own; otherwise its float weights are quantised again
(``ssr_neuro.graph.quantize``, the base graph's other options) on the calibration histories.

Result: {"status": "ok", "energy_uJ", "latency_us" (means per inference), "HR@10", "NDCG@10" (of the chip's own
scores, ties count against the target), "cores_used", "area_mm2" (whole chip), "core_area_mm2", "used_area_mm2"
(cores used x core area), "weight_bits", "activation_bits", "process_nm", "n_inferences", "seconds"}, or
{"status": "failed", "reason": <the one-line error>, "seconds"} when the chip, the quantisation or the mapping
refuses the point (a UserError such as MappingError). Other exceptions are bugs and propagate.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from hardware.area import chip_area_mm2, energy_factor
from hardware.chip import Chip, parse_chip, read_chip_doc
from ssr_neuro.app.dse.space import BaseConfig, point_id
from ssr_neuro.app.pipeline import SamplePlan, map_on_chip, record_activity, requantize, run_on_chip
from ssr_neuro.data.types import Samples
from ssr_neuro.errors import UserError
from ssr_neuro.graph.execute import Activity
from ssr_neuro.graph.ir import NeuroGraph

CHIP_KEYS = {"mesh_rows": ("mesh", "rows"), "mesh_cols": ("mesh", "cols"),
             "cores_per_router": ("mesh", "cores_per_router"), "clock_MHz": ("mesh", "clock_MHz"),
             "neurons_per_core": ("core", "neurons"), "input_axons": ("core", "input_axons"),
             "output_axons": ("core", "output_axons"), "synapse_memory_bytes": ("core", "synapse_memory_bytes"),
             "weight_bits": ("core", "weight_bits"), "mac_units": ("core", "mac_units")}


@dataclass
class Base:
    """What every point of a sweep shares (see the module docstring)."""

    config: BaseConfig
    graph: NeuroGraph
    chip_doc: dict
    chip_source: str
    calibration: tuple[np.ndarray, np.ndarray]  # plan.calibration_of(dataset): re-quantisation at other bit widths
    activity: tuple[np.ndarray, np.ndarray]  # plan.activity_of(dataset): what the mapper's activity is recorded on
    samples: Samples  # plan.evaluation_of(dataset): the inferences every point simulates
    prepared: dict[tuple[int, int], tuple[NeuroGraph, Activity]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ the base



def load_base(config: BaseConfig) -> Base:
    """Read the base graph, chip and samples of a space file's ``[base]`` (the pipeline's ``SamplePlan``: the graph's
    own calibration count, the default activity samples, ``samples`` of ``split``, one seed)."""
    from ssr_neuro.app.pipeline import dataset_of
    from ssr_neuro.graph.io import load_graph

    graph = load_graph(config.graph)
    if not graph.quantized:
        raise UserError(f"{config.graph} is a float graph; explore around a fixed-point graph (convert without --float)")
    if not (graph.meta.get("dataset") or {}).get("item_ids"):
        raise UserError(f"{config.graph} records no dataset to simulate on; convert the checkpoint with "
                        "'ssr-neuro convert'")
    ds = dataset_of(graph.meta, config.data_dir, what=str(config.graph))
    n_calib = graph.meta.get("quantization", {}).get("calibration", {}).get("n_samples", config.calibration_samples)
    plan = SamplePlan(calibration=n_calib, evaluation=config.samples, split=config.split, seed=config.seed)
    doc, chip_source = read_chip_doc(config.chip)
    return Base(config, graph, doc, chip_source, plan.calibration_of(ds), plan.activity_of(ds), plan.evaluation_of(ds))


# ------------------------------------------------------------------------------------------------ one point

def derive_chip(base_doc: dict, source: str, point: dict, base_process_nm: int, vdd_V: float) -> Chip:
    """The point's chip (see the module docstring), validated; ChipError names the key a setting breaks."""
    doc = copy.deepcopy(base_doc)
    old_mesh, old_core = dict(doc["mesh"]), dict(doc["core"])
    for name, value in point.items():
        section, _, param = name.partition(".")
        if section == "chip" and param in CHIP_KEYS:
            table, key = CHIP_KEYS[param]
            doc[table][key] = value
    mesh, energy, cycles = doc["mesh"], doc["energy_pJ"], doc["cycles"]
    mesh["io_router"] = [min(mesh["io_router"][0], mesh["rows"] - 1), min(mesh["io_router"][1], mesh["cols"] - 1)]
    routers_ratio = (mesh["rows"] * mesh["cols"]) / (old_mesh["rows"] * old_mesh["cols"])
    old_diameter = old_mesh["rows"] + old_mesh["cols"] - 2
    energy["barrier_sync"] = energy["barrier_sync"] * routers_ratio
    if old_diameter > 0:
        cycles["barrier_sync"] = cycles["barrier_sync"] * (mesh["rows"] + mesh["cols"] - 2) / old_diameter
    memory_ratio = doc["core"]["synapse_memory_bytes"] / old_core["synapse_memory_bytes"]
    energy["weight_read_byte"] = energy["weight_read_byte"] * math.sqrt(memory_ratio)
    process_nm = point.get("chip.process_nm", base_process_nm)
    factor = energy_factor(base_process_nm, process_nm, vdd_V)
    doc["energy_pJ"] = {k: v * factor for k, v in energy.items()}
    doc["static"] = {k: v * factor for k, v in doc["static"].items()}
    if "host" in doc:
        doc["host"] = {**doc["host"], "mac_pJ": doc["host"]["mac_pJ"] * factor}
    doc["name"] = f"{doc.get('name', 'chip')}@{point_id(point)}"
    return parse_chip(doc, f"{source} with design point {point_id(point)}")


def bits_of(base: Base, point: dict) -> tuple[int, int]:
    """(weight bits, activation bits) of the point's graph (see the module docstring)."""
    q = base.graph.meta.get("quantization", {})
    weight = point.get("conversion.weight_bits", point.get("chip.weight_bits", q.get("weight_bits", 8)))
    return weight, point.get("conversion.activation_bits", q.get("activation_bits", 8))


def graph_of(base: Base, weight_bits: int, activation_bits: int) -> NeuroGraph:
    """The base graph, or its float weights quantised again to other bit widths."""
    return requantize(base.graph, base.calibration, weight_bits, activation_bits)


def graph_and_activity(base: Base, weight_bits: int, activation_bits: int) -> tuple[NeuroGraph, Activity]:
    """The point's graph and the activity the mapper reads (recorded on ``base.activity``'s histories)."""
    if (weight_bits, activation_bits) in base.prepared:
        return base.prepared[weight_bits, activation_bits]
    graph = graph_of(base, weight_bits, activation_bits)
    return graph, record_activity(graph, base.activity)


def prepare(base: Base, points: list[dict]) -> Base:
    """A copy of ``base`` holding the graph and activity of every bit-width pair in ``points``, made once here
    rather than once per point (points whose quantisation fails are left to report it themselves)."""
    prepared = dict(base.prepared)
    for bits in dict.fromkeys(bits_of(base, p) for p in points):
        try:
            prepared[bits] = graph_and_activity(base, *bits)
        except UserError:
            continue
    return replace(base, prepared=prepared)


def evaluate_point(base: Base, point: dict) -> dict:
    """Measure one design point on the base (see the module docstring for the result's keys)."""
    start = time.perf_counter()
    cfg = base.config
    try:
        chip = derive_chip(base.chip_doc, base.chip_source, point, cfg.process_nm, cfg.vdd_V)
        weight_bits, activation_bits = bits_of(base, point)
        graph, activity = graph_and_activity(base, weight_bits, activation_bits)
        mapping = map_on_chip(graph, chip, activity, cfg.strategy, cfg.seed)
    except UserError as e:
        return {"status": "failed", "reason": str(e), "seconds": time.perf_counter() - start}
    result = run_on_chip(graph, mapping, chip, base.samples)
    summary = result.summary()
    process_nm = point.get("chip.process_nm", cfg.process_nm)
    area = chip_area_mm2(chip, process_nm)
    cores_used = int(mapping.summary()["cores_used"])
    return {
        "status": "ok", "energy_uJ": summary["energy_uj_per_inference"],
        "latency_us": summary["latency_us_per_inference"],
        "HR@10": result.quality["HR@10"], "NDCG@10": result.quality["NDCG@10"],
        "cores_used": cores_used, "area_mm2": area["total"], "core_area_mm2": area["core"],
        "used_area_mm2": cores_used * area["core"], "weight_bits": int(weight_bits),
        "activation_bits": int(activation_bits), "process_nm": int(process_nm),
        "n_inferences": int(result.n_inferences), "seconds": time.perf_counter() - start,
    }
