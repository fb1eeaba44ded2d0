"""The SSR paper's comparison, reproduced: SSR and standard sequential recommenders trained under one protocol, one
table of quality, size, operations and energy per inference (``ssr-neuro compare``).

Protocol (every model alike): one dataset loaded with the same options ('ssr-neuro train''s: L, split, 5-core,
validation share, seed), one ``TrainConfig`` (Adam, cosine schedule, full softmax, early stopping on validation
MRR@10, the best validation epoch kept), the model's weights seeded with ``TrainConfig.seed``, test HR/NDCG/MRR@10 by
full ranking. POP is scored by ``evaluate_pop``. SSR comes from ``--ssr-checkpoint`` (its recorded dataset must be
this one) or is trained here like the baselines.

Checkpoints are kept in the output folder (``<out>/<model>.pt``) and reused when their recorded model config,
training config (results-neutral keys aside: ``compile``, ``eval_batch_size``) and dataset equal the requested ones,
so a second run retrains nothing; a checkpoint recording other settings is refused unless ``force``.

Energy per inference, uJ (1 uJ = 1e6 pJ), by ``ssr_neuro.counting``:
- baselines (float32 ANNs, ``model.layer_ops()``): ``ann_45nm`` (Horowitz 45 nm: MACs, weight and activation reads
  from SRAMs sized by the layer), ``ann_gpu`` (GPU-class accelerator: board power per FMA, DRAM traffic), and the
  SNN papers' charge for an ANN, E_MAC x MACs (4.6 pJ each, arithmetic only: ``ann_45nm``'s compute part);
- SSR: converted to the 8-bit fixed-point graph and simulated on the chip (``chip``, default the 45 nm preset) by
  the stages of ``ssr_neuro.app.pipeline`` with one ``SamplePlan`` (its default calibration and activity samples,
  ``samples`` test inferences, ``sim_seed``), as ``ssr-neuro simulate model.pt --chip C --samples S --seed s`` does,
  its SNN-paper rule (``snn_rule``: E_MAC x MACs + E_AC x ACs with the firing rates the
  simulation recorded), and the same graph as a float32 ANN at 45 nm and on the GPU (for reference).

- baselines also in int8 on SSR's own chip (``energy_chip_int8_ann_uJ``: same memories, MAC units and static
  power, the ops packed onto cores by the core's limits, ``mapping.int8_pack``; ``hardware.ann_chip``): GRU4Rec,
  NARM, SASRec, FMLP-Rec and Caser as exact int8 layer lists (``ssr_neuro.baselines.int8``), the others (STAMP,
  SR-GNN, LRURec, BSARec) from ``layer_ops`` (no activation updates, a low figure); with the ``45nm-ideal`` bound
  this splits SSR's saving into precision, chip, spike sparsity, memory traffic, network and static parts
  (``format_decomposition``).

SSR's energy reduction against each baseline, %, two methods:
    paper rule:      1 - E_snn_rule(SSR) / (E_MAC x MACs(baseline))     (arithmetic only on both sides)
    chip simulation: 1 - E_chip(SSR) / E_45nm(baseline)                 (memory included on both sides, same node)
                     1 - E_chip(SSR) / E_gpu(baseline)                  (the paper's setting: baselines on GPUs)
                     1 - E_chip(SSR) / E_chip_int8(baseline)            (the same chip and precision class)
and their mean over the baselines next to the paper's 59.43% (``PAPER_REDUCTION_PCT``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd

from ssr_neuro.app.pipeline import SamplePlan, convert_model, map_on_chip, record_activity, run_on_chip
from ssr_neuro.counting import ann_45nm, ann_gpu, graph_layer_ops
from ssr_neuro.errors import UserError
from ssr_neuro.files import atomic_write, check_writable, pyplot
from ssr_neuro.progress import log
from ssr_neuro.training.train import TrainConfig

PAPER_REDUCTION_PCT = 59.43  # SSR paper (Di Yu et al., IJCAI 2025): average energy reduction against its baselines
DEFAULT_MODELS = ("pop", "gru4rec", "sasrec", "fmlp-rec", "ssr")
NEUTRAL_TRAINING_KEYS = ("compile", "eval_batch_size", "device")  # change speed, not results
QUALITY = ("HR@10", "NDCG@10", "MRR@10")
REDUCTIONS = {"reduction_paper_rule_pct": ("energy_paper_rule_uJ", "paper rule: SNN rule vs E_MAC x MACs"),
              "reduction_chip_vs_45nm_pct": ("energy_45nm_uJ", "chip simulation vs the ANN at 45 nm"),
              "reduction_chip_vs_gpu_pct": ("energy_gpu_uJ", "chip simulation vs the ANN on the GPU"),
              "reduction_chip_vs_int8_ann_pct": ("energy_chip_int8_ann_uJ",
                                                 "chip simulation vs the same ANN in int8 on the same chip")}
COLUMNS = ("model", *QUALITY, "params", "MACs", "ACs", "energy_45nm_uJ", "energy_gpu_uJ", "energy_paper_rule_uJ",
           "energy_chip_uJ", "energy_chip_int8_ann_uJ", *REDUCTIONS)
DECOMPOSITION = ("precision", "chip", "spike_sparsity", "memory_traffic", "network", "static")


@dataclass(frozen=True)
class CompareConfig:
    """What to compare and how (module docstring). ``options``: per model name, extra config keys for its
    ``BaselineConfig`` / ``SSRConfig`` (e.g. ``{"ssr": {"n_blocks": 1}}``)."""

    dataset: str = "ml-1m"
    data_dir: Optional[Path] = None
    models: tuple[str, ...] = DEFAULT_MODELS
    out: Path = Path("runs/compare")
    ssr_checkpoint: Optional[Path] = None
    training: TrainConfig = field(default_factory=TrainConfig)
    split: str = "ufo"
    max_len: int = 20
    dim: int = 64
    options: dict = field(default_factory=dict)
    chip: str = "45nm"
    samples: int = 2000  # test inferences simulated on the chip for SSR
    sim_seed: int = 0  # seed of those samples, of the calibration samples and of the mapping
    force: bool = False  # retrain models whose cached checkpoint records other settings


@dataclass
class Comparison:
    """The table (one row per model, ``COLUMNS``), the mean reductions over the baselines, and per-model details
    (training record, counting labels and totals, the chip simulation's summary)."""

    table: pd.DataFrame
    average_reduction_pct: dict[str, float]
    details: dict[str, dict]
    rules: dict[str, str]

    def to_json(self) -> dict:
        """JSON-ready (NaN, "not applicable", as null)."""
        def plain(d: dict) -> dict:
            return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}

        return {"rows": [plain(r) for r in self.table.to_dict(orient="records")],
                "average_reduction_pct": plain(self.average_reduction_pct),
                "paper_reduction_pct": PAPER_REDUCTION_PCT, "rules": self.rules, "details": self.details}


# ------------------------------------------------------------------------------------------------ validation

def known_models() -> tuple[str, ...]:
    """Every name ``--models`` accepts: pop, the baselines of ``ssr_neuro.baselines``, ssr."""
    from ssr_neuro.baselines import BASELINES

    return ("pop", *BASELINES, "ssr")


def parse_models(text: str) -> tuple[str, ...]:
    """"pop,gru4rec,ssr" -> the names, in order, checked (UserError naming an unknown one and the known ones)."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    known = known_models()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"unknown model {unknown[0]!r} in --models; use a comma-separated list of {', '.join(known)}")
    if not names:
        raise UserError(f"--models is empty; give e.g. --models {','.join(DEFAULT_MODELS)}")
    return names


def check_config(cfg: CompareConfig) -> None:
    """Refuse bad settings before any data is read."""
    parse_models(",".join(cfg.models))
    if cfg.samples < 1:
        raise UserError(f"--samples must be >= 1 (got {cfg.samples}): SSR needs inferences to simulate")
    if cfg.ssr_checkpoint is not None and "ssr" not in cfg.models:
        raise UserError("--ssr-checkpoint is given but 'ssr' is not in --models; add it or drop the checkpoint")
    if cfg.ssr_checkpoint is not None and not Path(cfg.ssr_checkpoint).is_file():
        raise UserError(f"--ssr-checkpoint {cfg.ssr_checkpoint}: no such file; give a model.pt from 'ssr-neuro train'")
    if "ssr" in cfg.models:
        from hardware.chip import load_chip

        load_chip(cfg.chip)  # ChipError names a bad preset or file now, not after training
    if cfg.out.exists() and not cfg.out.is_dir():
        raise UserError(f"--out {cfg.out} is a file; give a folder for the checkpoints and the table")


# ------------------------------------------------------------------------------------------------ models

def _model_config(name: str, cfg: CompareConfig, n_items: int):
    """The config of a model to train: ``BaselineConfig`` or ``SSRConfig`` (UserError on bad options)."""
    from ssr_neuro.baselines import model_config

    return model_config(name, n_items, cfg.max_len, cfg.dim, **cfg.options.get(name, {}))


def _build(model_cfg, seed: int):
    import torch

    from ssr_neuro.baselines import build_model

    torch.manual_seed(seed)
    return build_model(model_cfg)


def _training_key(tcfg: TrainConfig | dict) -> dict:
    d = dict(tcfg.__dict__ if isinstance(tcfg, TrainConfig) else tcfg)
    return {k: v for k, v in d.items() if k not in NEUTRAL_TRAINING_KEYS}


def _plain(value) -> object:
    return json.loads(json.dumps(value))


def data_key(desc: dict) -> dict:
    """What makes two dataset descriptions the same data under the same protocol: the name, the preprocessing and
    split options (``SPLIT_OPTION_KEYS``; not where the files were found) and the resulting items and sizes."""
    from ssr_neuro.data.registry import SPLIT_OPTION_KEYS

    desc = desc if isinstance(desc, dict) else {}
    options = desc.get("options") or {}
    return _plain({"name": desc.get("name"), "options": {k: options.get(k) for k in SPLIT_OPTION_KEYS},
                   **{k: desc.get(k) for k in ("n_items", "n_users", "n_interactions", "item_ids")}})


def _cache_mismatch(payload: dict, model_cfg, tcfg: TrainConfig, dataset: dict) -> Optional[str]:
    """Why a cached checkpoint does not hold the requested model (None when it does)."""
    if _plain(payload.get("model_config")) != _plain(model_cfg.to_dict()):
        return "its model config differs"
    if _plain(_training_key(payload.get("training", {}).get("config", {}))) != _plain(_training_key(tcfg)):
        return "its training config differs"
    if payload.get("training", {}).get("interrupted"):
        return "its training was interrupted"
    if data_key(payload.get("dataset")) != data_key(dataset):
        return "its dataset differs"
    if "test" not in payload.get("metrics", {}):
        return "it records no test metrics"
    return None


def _cached(path: Path, model_cfg, cfg: CompareConfig, dataset: dict):
    """(model, payload) of a usable cached checkpoint, None when there is none; UserError for a mismatched one
    unless ``cfg.force`` (then None: it is retrained and replaced)."""
    from ssr_neuro.training.checkpoint import load_model_checkpoint

    if not path.exists():
        return None
    model, payload = load_model_checkpoint(path)
    why = _cache_mismatch(payload, model_cfg, cfg.training, dataset)
    if why is None:
        return model, payload
    if not cfg.force:
        raise UserError(f"{path} does not match this comparison ({why}); pass --force to retrain it or choose "
                        f"another --out")
    return None


def train_or_reuse(name: str, cfg: CompareConfig, ds, hit: Optional[tuple] = None) -> tuple[object, dict, bool]:
    """The trained model ``name`` (a baseline or SSR) -> (model, test metrics, reused?). ``hit``: what ``_cached``
    found in ``<out>/<name>.pt`` (read once, before anything trains), reused as it is; None: train under the protocol
    and save that file."""
    from ssr_neuro.training import evaluate_model, save_checkpoint, train, training_record

    path = cfg.out / f"{name}.pt"
    if hit is not None:
        model, payload = hit
        log(f"{name}: reusing {path} (best epoch {payload['training'].get('best_epoch')})")
        return model, {**payload["metrics"]["test"], **_record(payload["training"])}, True
    model = _build(_model_config(name, cfg, ds.n_items), cfg.training.seed)
    tcfg = cfg.training
    log(f"{name}: training {sum(p.numel() for p in model.parameters()):,} parameters")
    result = train(model, ds, tcfg)
    if result.interrupted or result.best_epoch == 0:
        raise KeyboardInterrupt
    test = evaluate_model(model, ds.test, label=f"{name} test", show_progress=True)
    training = training_record(tcfg, result)
    save_checkpoint(path, model, ds.describe(), training, {"valid": result.best_valid, "test": test}, overwrite=True)
    return model, {**test, **_record(training)}, False


def _record(training: dict) -> dict:
    return {"best_epoch": training.get("best_epoch"), "epochs_run": training.get("epochs_run")}


def given_ssr(path: Path, ds) -> tuple[object, dict]:
    """A given SSR checkpoint, checked to be trained on ``ds`` -> (model, its payload without the weights)."""
    from ssr_neuro.model import SSR
    from ssr_neuro.training.checkpoint import load_model_checkpoint

    model, payload = load_model_checkpoint(path)
    if not isinstance(model, SSR):
        raise UserError(f"--ssr-checkpoint {path} holds a {type(model).__name__}, not SSR; give an SSR model.pt")
    theirs = data_key(payload.get("dataset"))
    if theirs != data_key(ds.describe()):
        what = {"name": theirs["name"], **{k: v for k, v in theirs["options"].items() if v is not None}}
        raise UserError(f"--ssr-checkpoint {path} was trained on other data ({what}); compare it on that dataset "
                        f"with the same options, or leave --ssr-checkpoint out to train SSR here")
    return model, payload


# ------------------------------------------------------------------------------------------------ energy

def ann_energies(model, ds, chip: str, plan: SamplePlan) -> dict:
    """A baseline's counts and energies (pJ): the float32 ANN at 45 nm, on the GPU and by the paper rule, and the
    same ANN in int8 on ``chip`` and on the ``45nm-ideal`` bound (``hardware.ann_chip``): an exact int8 layer list for
    the models ``ssr_neuro.baselines.int8`` compiles (``SUPPORTED``: GRU4Rec, NARM, SASRec, FMLP-Rec, Caser;
    calibrated on ``plan``'s calibration samples), the ``layer_ops`` estimate (no activation updates: a low figure)
    for the others."""
    from hardware.ann_chip import int8_ann_on_chip, run_int8_on_chip
    from hardware.chip import load_chip
    from ssr_neuro.baselines.int8 import SUPPORTED as EXACT_INT8, compile_int8

    layer_ops = model.layer_ops()
    e45, gpu = ann_45nm(layer_ops), ann_gpu(layer_ops)
    chips = {"chip": load_chip(chip), "ideal": load_chip("45nm-ideal")}
    if model.cfg.name in EXACT_INT8:
        history, length = plan.calibration_of(ds)
        net = compile_int8(model.eval(), history, length)
        int8 = {k: run_int8_on_chip(net, c, history[:1], length[:1]) for k, c in chips.items()}
        how = "exact int8 layer list"
    else:
        int8 = {k: int8_ann_on_chip(layer_ops, c) for k, c in chips.items()}
        how = "layer_ops estimate (no activation updates)"
    return {"macs": e45["macs"], "acs": 0.0, "45nm_pJ": e45["total_pJ"], "gpu_pJ": gpu["total_pJ"],
            "paper_rule_pJ": e45["compute_pJ"], "chip_pJ": None, "int8_chip_pJ": int8["chip"]["total_pJ"],
            "int8": {k: {"total_pJ": v["total_pJ"], "by_kind": dict(v["by_kind"])} for k, v in int8.items()},
            "int8_how": how,
            "labels": {"45nm": e45["label"], "gpu": gpu["label"], "int8_chip": int8["chip"]["label"]}}


def ssr_energies(model, ds, chip: str, plan: SamplePlan) -> dict:
    """SSR's counts and energies (pJ) on ``plan.evaluation`` test inferences: converted, mapped (anneal) and simulated
    on ``chip`` by the pipeline's stages with ``plan``, hence the figure of ``ssr-neuro simulate model.pt --chip CHIP
    --samples N --seed SEED``; the SNN-paper rule with the rates the simulation recorded; the same graph as a float32
    ANN."""
    from hardware.chip import load_chip

    chip_desc = load_chip(chip)
    _, graph = convert_model(model, ds, plan)
    mapping = map_on_chip(graph, chip_desc, record_activity(graph, plan.activity_of(ds)), "anneal", plan.seed)
    chosen = plan.evaluation_of(ds)
    log(f"ssr: simulating {len(chosen):,} test inferences on chip {chip_desc.name}")
    result = run_on_chip(graph, mapping, chip_desc, chosen)
    methods = result.counting["methods"]
    gpu = ann_gpu(graph_layer_ops(graph))
    summary = result.summary()
    return {"macs": methods["snn_rule"]["macs"], "acs": methods["snn_rule"]["acs"],
            "45nm_pJ": methods["ann"]["total_pJ"], "gpu_pJ": gpu["total_pJ"],
            "paper_rule_pJ": methods["snn_rule"]["total_pJ"], "chip_pJ": methods["chip"]["total_pJ"],
            "labels": {"paper_rule": methods["snn_rule"]["label"], "chip": methods["chip"]["label"],
                       "45nm": methods["ann"]["label"], "gpu": gpu["label"]},
            "int8_chip_pJ": None, "by_kind": dict(result.breakdown["by_kind"]),
            "chip": {"name": chip_desc.name, "n_inferences": int(result.n_inferences),
                     "latency_us_per_inference": summary["latency_us_per_inference"],
                     "quality_on_chip": {k: result.quality[k] for k in ("HR@10", "NDCG@10", "MRR@10",
                                                                         "n_samples")}}}


# ------------------------------------------------------------------------------------------------ the table

def _row(name: str, metrics: dict, params: int, energy: Optional[dict]) -> dict:
    uj = (lambda key: energy[key] * 1e-6 if energy and energy.get(key) is not None else math.nan)
    return {"model": name, **{k: float(metrics[k]) for k in QUALITY}, "params": int(params),
            "MACs": float(energy["macs"]) if energy else 0.0, "ACs": float(energy["acs"]) if energy else 0.0,
            "energy_45nm_uJ": uj("45nm_pJ"), "energy_gpu_uJ": uj("gpu_pJ"),
            "energy_paper_rule_uJ": uj("paper_rule_pJ"), "energy_chip_uJ": uj("chip_pJ"),
            "energy_chip_int8_ann_uJ": uj("int8_chip_pJ"), **{k: math.nan for k in REDUCTIONS}}


def with_reductions(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fill SSR's reduction against every baseline row (rows with ANN energies) and their means over the
    baselines (NaN where SSR or the baselines are absent)."""
    table = table.copy()
    ssr = table[table["model"] == "ssr"]
    baselines = table["energy_45nm_uJ"].notna() & (table["model"] != "ssr")
    averages: dict[str, float] = {}
    for column, (against, _) in REDUCTIONS.items():
        own = "energy_paper_rule_uJ" if column == "reduction_paper_rule_pct" else "energy_chip_uJ"
        if len(ssr):
            table.loc[baselines, column] = 100.0 * (1.0 - float(ssr[own].iloc[0]) / table.loc[baselines, against])
        values = table.loc[baselines, column]
        averages[column] = float(values.mean()) if len(values) else math.nan
    return table, averages


def compare_models(cfg: CompareConfig) -> Comparison:
    """Train (or reuse) and evaluate every model of ``cfg.models`` under one protocol, count and price its
    inference, and build the table (module docstring)."""
    from ssr_neuro.data import dataset_stats, format_stats, load_dataset
    from ssr_neuro.training import evaluate_model, evaluate_pop

    check_config(cfg)
    t = cfg.training
    ds = load_dataset(cfg.dataset, data_dir=cfg.data_dir, quiet=False, max_len=cfg.max_len, split=cfg.split,
                      seed=t.seed)
    log(format_stats(dataset_stats(ds)))
    given = given_ssr(Path(cfg.ssr_checkpoint), ds) if cfg.ssr_checkpoint is not None else None
    trained = [n for n in cfg.models if n != "pop" and not (n == "ssr" and given is not None)]
    hits = {n: _cached(cfg.out / f"{n}.pt", _model_config(n, cfg, ds.n_items), cfg, ds.describe())
            for n in trained}  # every cache read once, and a mismatched one refused before anything trains
    rows, details, energies = [], {}, {}
    plan = SamplePlan(evaluation=cfg.samples, seed=cfg.sim_seed)  # one plan for SSR's simulation and the int8 ANNs
    for name in cfg.models:
        start = time.perf_counter()
        if name == "pop":
            rows.append(_row(name, evaluate_pop(ds.item_counts, ds.test), 0, None))
            details[name] = {"seconds": time.perf_counter() - start}
            continue
        if name == "ssr" and given is not None:
            model, payload = given
            test = evaluate_model(model, ds.test, label="ssr test", show_progress=True)
            metrics, reused = {**test, **_record(payload.get("training", {}))}, True
        else:
            model, metrics, reused = train_or_reuse(name, cfg, ds, hits[name])
        model.cpu()  # counted, converted and priced on the CPU, wherever it trained
        energy = (ssr_energies(model, ds, cfg.chip, plan) if name == "ssr" else ann_energies(model, ds, cfg.chip, plan))
        energies[name] = energy
        rows.append(_row(name, metrics, sum(p.numel() for p in model.parameters()), energy))
        details[name] = {"checkpoint": str(cfg.ssr_checkpoint if name == "ssr" and cfg.ssr_checkpoint
                                           else cfg.out / f"{name}.pt"),
                         "reused": reused, "best_epoch": metrics.get("best_epoch"),
                         "epochs_run": metrics.get("epochs_run"), "n_test_samples": metrics["n_samples"],
                         "labels": energy["labels"], **({"chip": energy["chip"]} if "chip" in energy else {}),
                         **({"int8_chip": energy["int8_how"]} if "int8_how" in energy else {}),
                         "seconds": time.perf_counter() - start}
    table, averages = with_reductions(pd.DataFrame(rows, columns=list(COLUMNS)))
    _decompose(energies, details)
    return Comparison(table, averages, details, rules=_rules(details))


def _decompose(energies: dict[str, dict], details: dict[str, dict]) -> None:
    """Where SSR's saving against each baseline's float32 ANN at 45 nm comes from (``hardware.ann_chip.
    saving_decomposition``: precision, chip, spike sparsity, memory traffic, network, static; pJ, the parts add up),
    into each baseline's details."""
    from hardware.ann_chip import saving_decomposition

    if "ssr" not in energies:
        return
    for name, e in energies.items():
        if name != "ssr" and "int8" in e:
            details[name]["saving_decomposition_pJ"] = saving_decomposition(
                e["45nm_pJ"], e["int8"]["ideal"], e["int8"]["chip"], energies["ssr"]["by_kind"])


def _rules(details: dict[str, dict]) -> dict[str, str]:
    """The counting rule behind every energy column, from the labels the counting functions wrote."""
    labels: dict[str, str] = {}
    for d in details.values():
        labels.update({k: v for k, v in d.get("labels", {}).items() if k not in labels})
    rules = {"energy_45nm_uJ": labels.get("45nm", ""), "energy_gpu_uJ": labels.get("gpu", ""),
             "energy_paper_rule_uJ": "ANNs: E_MAC x MACs (4.6 pJ, arithmetic only); SSR: "
                                     + labels.get("paper_rule", "the SNN-paper rule"),
             "energy_chip_uJ": labels.get("chip", ""),
             "energy_chip_int8_ann_uJ": "the ANN in int8 on the same chip (same memories, MAC units, static power): "
                                        + labels.get("int8_chip", "")}
    rules.update({k: f"SSR vs this model, {text}" for k, (_, text) in REDUCTIONS.items()})
    return rules


# ------------------------------------------------------------------------------------------------ output

SHORT_NAMES = {"energy_45nm_uJ": "45nm uJ", "energy_gpu_uJ": "GPU uJ", "energy_paper_rule_uJ": "paper uJ",
               "energy_chip_uJ": "chip uJ", "reduction_paper_rule_pct": "-% paper",
               "reduction_chip_vs_45nm_pct": "-% chip/45nm", "reduction_chip_vs_gpu_pct": "-% chip/GPU",
               "energy_chip_int8_ann_uJ": "int8 chip uJ", "reduction_chip_vs_int8_ann_pct": "-% int8 chip"}


def format_comparison(c: Comparison) -> str:
    """The terminal table: one row per model, energies in uJ with 4 significant digits, then the rules and the
    mean reductions against the paper's figure."""
    shown = c.table.copy()
    for col in shown.columns:
        if col in QUALITY:
            shown[col] = shown[col].map(lambda v: f"{v:.4f}")
        elif col.endswith("_uJ"):
            shown[col] = shown[col].map(lambda v: "-" if math.isnan(v) else f"{v:.4g}")
        elif col.endswith("_pct"):
            shown[col] = shown[col].map(lambda v: "-" if math.isnan(v) else f"{v:.1f}%")
        elif col in ("params", "MACs", "ACs"):
            shown[col] = shown[col].map(lambda v: f"{v:,.0f}")
    lines = [shown.rename(columns=SHORT_NAMES).to_string(index=False), "",
             "energy per inference, uJ; counting rules (CSV column names):"]
    lines += [f"  {SHORT_NAMES.get(k, k)} ({k}): {v}" for k, v in c.rules.items() if v]
    lines.append(f"mean reduction of SSR over the baselines (the paper reports {PAPER_REDUCTION_PCT}%):")
    lines += [f"  {REDUCTIONS[k][1]}: " + ("-" if math.isnan(v) else f"{v:.2f}%")
              for k, v in c.average_reduction_pct.items()]
    return "\n".join(lines + format_decomposition(c.details))


def format_decomposition(details: dict[str, dict]) -> list[str]:
    """Lines of the decomposition of SSR's saving against each baseline (uJ per inference; the parts add up)."""
    rows = {name: d["saving_decomposition_pJ"] for name, d in details.items() if d.get("saving_decomposition_pJ")}
    if not rows:
        return []
    lines = ["where SSR's saving against each float32 ANN at 45 nm comes from (uJ per inference; the parts add up; "
             "last column: SSR vs the same ANN in int8 on SSR's chip):",
             f"  {'model':9s} {'total':>8s} " + " ".join(f"{p:>14s}" for p in DECOMPOSITION) + f"  {'vs int8':>8s}"]
    for name, d in rows.items():
        lines.append(f"  {name:9s} {d['total_saving_pJ'] * 1e-6:8.3f} "
                     + " ".join(f"{d[p + '_pJ'] * 1e-6:14.3f}" for p in DECOMPOSITION)
                     + f"  {d['saving_vs_int8_ann_on_chip']:+8.1%}")
    return lines


def write_csv(c: Comparison, path: Path, overwrite: bool = False) -> None:
    """The table as CSV (one row per model, units in the column names), written atomically."""
    check_writable(path, overwrite)
    atomic_write(path, lambda tmp: c.table.to_csv(tmp, index=False))


METHOD_MARKERS = {"energy_paper_rule_uJ": ("o", "SNN-paper rule (ANN: E_MAC x MACs)"),
                  "energy_45nm_uJ": ("s", "float32 ANN at 45 nm"), "energy_gpu_uJ": ("^", "float32 ANN on GPU"),
                  "energy_chip_uJ": ("*", "simulated chip")}


def plot_comparison(c: Comparison, path: Path, overwrite: bool = False, metric: str = "HR@10") -> None:
    """Quality vs energy per inference (log scale): one point per model and counting method, written atomically."""
    check_writable(path, overwrite)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 5))
    colours = plt.get_cmap("tab10")
    for i, row in enumerate(c.table.to_dict(orient="records")):
        for column, (marker, _) in METHOD_MARKERS.items():
            if not math.isnan(row[column]):
                ax.scatter(row[column], row[metric], marker=marker, color=colours(i % 10), s=90 if marker == "*" else 45)
        energies = [row[k] for k in METHOD_MARKERS if not math.isnan(row[k])]
        if not energies:  # POP: no inference cost counted, its quality as a reference line
            ax.axhline(row[metric], color=colours(i % 10), linestyle="--", linewidth=1,
                       label=f"{row['model']} (quality only)")
        else:
            ax.annotate(row["model"], (min(energies), row[metric]), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=9, color=colours(i % 10))
    for column, (marker, label) in METHOD_MARKERS.items():
        ax.scatter([], [], marker=marker, color="grey", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("energy per inference (uJ, log scale)")
    ax.set_ylabel(f"test {metric}")
    avg = c.average_reduction_pct.get("reduction_paper_rule_pct", math.nan)
    ax.set_title(f"quality vs energy; SSR's mean reduction by the paper rule "
                 f"{'-' if math.isnan(avg) else f'{avg:.1f}%'} (paper: {PAPER_REDUCTION_PCT}%)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never over a point
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)
