"""The walk from a trained model to a simulated chip, written once (application layer).

    checkpoint --fixed_graph--> fixed-point NeuroGraph --map_on_chip--> Mapping --run_on_chip--> SimResult

Every command that walks it (``ssr-neuro convert``, ``map``, ``simulate``, ``compare``, the design-space exploration
and its model variants) calls these stages and nothing else, so the same options give the same numbers everywhere.

Which samples each stage uses is one :class:`SamplePlan` (one seed; the defaults are the only defaults):

- ``calibration`` (4,096) training samples calibrate the activation ranges of the quantisation (a graph file keeps
  the count it was made with: ``graph.meta["quantization"]["calibration"]["n_samples"]``);
- ``activity`` (256) training samples are run through the fixed-point graph to record the spike activity that the
  mapper's traffic model reads (the same samples whether a checkpoint or a graph file is given);
- ``evaluation`` (10,000) samples of ``split`` (test) are the inferences simulated.

Each set is ``Samples.choose(n, seed)`` of its split: the same seed and count give the same samples in every command.

Stages:
- :func:`convert_model`  a torch model -> (float graph, fixed-point graph) (quantised as ``ssr-neuro convert`` does);
  :func:`fixed_graph` does the same from a checkpoint file, :func:`load_source` takes a checkpoint or a graph file,
  :func:`requantize` re-quantises a fixed-point graph at other bit widths (the DSE's conversion axes);
- :func:`record_activity` + :func:`map_on_chip`  a graph -> its mapping on a chip (activity-driven placement);
- :func:`run_on_chip`  a graph and its mapping -> the simulation (``backend`` "fast" or "lava"), with the three
  counting methods (``ssr_neuro.counting.count_methods``) and the chip's own HR/NDCG/MRR inside the result.

torch is imported only by the stages that take a torch model (convert, the float model's reference quality), so the
DSE's workers, which start from graph files, never load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ssr_neuro.counting import count_methods
from ssr_neuro.errors import UserError
from ssr_neuro.graph.execute import Activity
from ssr_neuro.graph.ir import NeuroGraph
from ssr_neuro.metrics import metrics_of_scores
from ssr_neuro.progress import log

BACKENDS = ("fast", "lava")
SPLITS = ("test", "valid")


@dataclass(frozen=True)
class SamplePlan:
    """How many samples each stage uses, from which split, with which seed (module docstring)."""

    calibration: int = 4096
    activity: int = 256
    evaluation: int = 10_000
    split: str = "test"
    seed: int = 0

    def __post_init__(self) -> None:
        for option, n, why in (("--calibration-samples", self.calibration, "nothing to calibrate on"),
                               ("--activity-samples", self.activity, "nothing to record activity on"),
                               ("--samples", self.evaluation, "there is nothing to simulate")):
            if not isinstance(n, int) or n < 1:
                raise UserError(f"{option} must be a whole number >= 1 (got {n}): {why}")
        if self.split not in SPLITS:
            raise UserError(f"unknown split {self.split!r}; use one of {', '.join(SPLITS)}")

    def calibration_of(self, ds) -> tuple:
        """(histories, lengths) of the calibration samples: training samples of ``ds``."""
        chosen = ds.train.choose(self.calibration, self.seed)
        return chosen.history, chosen.length

    def activity_of(self, ds) -> tuple:
        """(histories, lengths) the mapper's activity is recorded on: training samples of ``ds``."""
        chosen = ds.train.choose(self.activity, self.seed)
        return chosen.history, chosen.length

    def evaluation_of(self, ds):
        """The ``Samples`` to simulate: ``evaluation`` of the ``split`` split (UserError when it is empty)."""
        samples = getattr(ds, self.split)
        if len(samples) == 0:
            raise UserError(f"the {self.split} split of {ds.name} is empty: there is nothing to simulate")
        return samples.choose(self.evaluation, self.seed)


@dataclass
class Source:
    """What the chip stages start from: the graph to run (fixed point unless a float graph file was given), its
    dataset (None for a graph that records none), and, from a checkpoint, the torch model and its float graph."""

    graph: NeuroGraph
    dataset: Any = None
    model: Any = None
    float_graph: Optional[NeuroGraph] = None


# ------------------------------------------------------------------------------------------------ data

def dataset_of(meta: dict, data_dir: Optional[Path] = None, dataset: Optional[str] = None, what: str = "the model"):
    """The exact dataset a checkpoint's or graph's metadata describes (item ids checked), its statistics logged;
    ``dataset`` (``--dataset``) replaces where its files are (a name or a path)."""
    from ssr_neuro.data import dataset_stats, format_stats, load_described

    desc = dict(meta["dataset"])
    if dataset is not None:
        desc["options"] = {**desc["options"], "source": dataset}
    ds = load_described(desc, data_dir, quiet=False, what=what)
    log(format_stats(dataset_stats(ds)))
    return ds


# ------------------------------------------------------------------------------------------------ stage 1: convert

def convert_model(model, ds, plan: SamplePlan, weight_bits: int = 8, activation_bits: int = 8,
                  float_only: bool = False, like: Optional[dict] = None) -> tuple[NeuroGraph, NeuroGraph]:
    """A trained SSR -> (float graph, graph to run): the fixed-point graph quantised with ``weight_bits`` /
    ``activation_bits`` (or with the recorded recipe ``like`` of another graph's ``meta["quantization"]``),
    calibrated on ``plan.calibration`` training samples; the float graph itself with ``float_only``."""
    from ssr_neuro.conversion import to_graph
    from ssr_neuro.graph.quantize import quantize, quantize_like

    float_graph = to_graph(model.cpu().eval(), ds.describe())  # conversion reads the weights on the CPU
    if float_only:
        return float_graph, float_graph
    calibration = plan.calibration_of(ds)
    if like is not None:
        graph = quantize_like(float_graph, like, calibration)
    else:
        graph = quantize(float_graph, calibration, weight_bits=weight_bits, activation_bits=activation_bits)
    q = graph.meta.get("quantization", {})
    log(f"quantised to {q.get('weight_bits')}-bit weights, {q.get('activation_bits')}-bit activations "
        f"(calibrated on {len(calibration[0]):,} training samples)")
    return float_graph, graph


def requantize(graph: NeuroGraph, calibration: tuple, weight_bits: int, activation_bits: int) -> NeuroGraph:
    """A fixed-point graph at other bit widths: its own float weights quantised again with its recorded recipe
    (percentile, clipping, overrides) on ``calibration`` (the histories it was calibrated on reproduce it); the graph
    itself when the widths are its own."""
    from ssr_neuro.graph.quantize import quantize_like

    q = graph.meta.get("quantization", {})
    if (weight_bits, activation_bits) == (q.get("weight_bits"), q.get("activation_bits")):
        return graph
    return quantize_like(graph.float_copy(), q, calibration, weight_bits, activation_bits)


def fixed_graph(checkpoint: Path, plan: SamplePlan, data_dir: Optional[Path] = None, dataset: Optional[str] = None,
                weight_bits: int = 8, activation_bits: int = 8, float_only: bool = False) -> Source:
    """A checkpoint file -> its converted graph with the model, the float graph and the dataset (``convert_model``)."""
    from ssr_neuro.training import load_checkpoint

    model, meta = load_checkpoint(checkpoint)
    ds = dataset_of(meta, data_dir, dataset, what=str(checkpoint))
    float_graph, graph = convert_model(model, ds, plan, weight_bits, activation_bits, float_only)
    log(f"converted {checkpoint}: {graph_line(graph)}")
    return Source(graph, ds, model, float_graph)


def load_source(path: Path, plan: SamplePlan, data_dir: Optional[Path] = None,
                dataset: Optional[str] = None) -> Source:
    """A graph file as it is (with its dataset when it records one), or a checkpoint converted with the defaults of
    ``ssr-neuro convert`` and ``plan``."""
    from ssr_neuro.graph.io import is_graph_file, load_graph

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file; give a model.pt from 'ssr-neuro train' or a graph from "
                        "'ssr-neuro convert'")
    if not (path.is_file() and is_graph_file(path)):
        return fixed_graph(path, plan, data_dir, dataset)
    graph = load_graph(path)
    if not graph.meta.get("dataset", {}).get("item_ids"):
        if dataset is not None:
            raise UserError(f"{path} records no dataset, so its items cannot be matched to '{dataset}'; convert the "
                            "checkpoint again with 'ssr-neuro convert'")
        return Source(graph)
    return Source(graph, dataset_of(graph.meta, data_dir, dataset, what=str(path)))


def graph_line(graph: NeuroGraph) -> str:
    """One line on a graph's size: populations, synapse layers, neurons, synapses."""
    st = graph.stats()
    return (f"{st['populations']} populations, {st['synapse_layers']} synapse layers, "
            f"{sum(st['neurons'].values()):,} neurons, {st['synapses']:,} synapses")


# ------------------------------------------------------------------------------------------------ stage 2: map

def record_activity(graph: NeuroGraph, histories: Optional[tuple]) -> Optional[Activity]:
    """The spike activity of ``graph`` on (histories, lengths) (``SamplePlan.activity_of``); None without them."""
    from ssr_neuro.graph.execute import run as run_graph

    if histories is None:
        return None
    return run_graph(graph, *histories, record=True)[1]


def map_on_chip(graph: NeuroGraph, chip, activity: Optional[Activity], strategy: str = "anneal", seed: int = 0):
    """Map ``graph`` on ``chip`` (``mapping.map_graph``); without activity every neuron is assumed to send one
    message per step."""
    from mapping import map_graph

    if activity is None:
        log("no dataset recorded with this graph: assuming every neuron sends one message per step")
    return map_graph(graph, chip, strategy=strategy, activity=activity, seed=seed)


def map_source(src: Source, chip, plan: SamplePlan, strategy: str = "anneal"):
    """``map_on_chip`` of a source with the activity of its own dataset (the plan's seed seeds the strategy too)."""
    histories = plan.activity_of(src.dataset) if src.dataset is not None else None
    return map_on_chip(src.graph, chip, record_activity(src.graph, histories), strategy, plan.seed)


# ------------------------------------------------------------------------------------------------ stage 3: run

def check_run(backend: str = "fast", batch_size: int = 256, timeout_s: float = 600.0, timing: str = "analytic",
              timing_chunk: int = 4) -> None:
    """The one check of a simulation's options (``run_on_chip`` runs it; the CLI runs it before any work): a one-line
    UserError naming the option and its fix."""
    from hardware.simulate import TIMINGS

    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if batch_size < 1:
        raise UserError(f"--batch-size must be >= 1 (got {batch_size})")
    if timeout_s <= 0:
        raise UserError(f"--timeout must be > 0 seconds (got {timeout_s})")
    if timing not in TIMINGS:
        raise UserError(f"unknown timing {timing!r}; use one of {', '.join(TIMINGS)}")
    if timing_chunk < 1:
        raise UserError(f"--timing-chunk must be >= 1 message (got {timing_chunk})")


def run_on_chip(graph: NeuroGraph, mapping, chip, samples, backend: str = "fast", batch_size: int = 256,
                timeout_s: float = 600.0, progress: bool = False, timing: str = "analytic", timing_chunk: int = 4):
    """Simulate ``samples`` (``Samples``) on the mapped chip -> ``SimResult`` with ``counting`` (the three counting
    methods) and ``quality`` (HR/NDCG/MRR@{5,10,20} of the chip's own scores) filled in. ``timing``: "analytic" or
    "event" (``hardware.timing``; the same energy, both backends)."""
    check_run(backend, batch_size, timeout_s, timing, timing_chunk)
    if not graph.quantized:
        raise UserError("the graph is a float graph; the chip runs fixed point: convert without --float")
    if backend == "lava":
        from hardware.lava_backend import simulate_lava

        log(f"running {len(samples):,} inferences in Lava (about 6 s to start, then about 0.4 s per inference)")
        result = simulate_lava(graph, mapping, chip, samples.history, samples.length, timeout_s=timeout_s,
                               timing=timing, timing_chunk=timing_chunk)
    else:
        result = _run_fast(graph, mapping, chip, samples, batch_size, progress, timing, timing_chunk)
    result.counting = count_methods(graph, result.rates, result)
    result.quality = metrics_of_scores(result.scores, samples.target)
    return result


def _run_fast(graph, mapping, chip, samples, batch_size: int, progress: bool, timing: str, timing_chunk: int):
    from hardware.simulate import simulate

    options = {"timing": timing, "timing_chunk": timing_chunk}
    if not progress:
        return simulate(graph, mapping, chip, samples.history, samples.length, batch_size, **options)
    from ssr_neuro.progress import progress_bar

    with progress_bar("simulate", total=len(samples), unit="inferences") as advance:
        done = [0]

        def tick(n_done: int) -> None:
            advance(n_done - done[0])
            done[0] = n_done

        return simulate(graph, mapping, chip, samples.history, samples.length, batch_size, tick, **options)


def reference_quality(src: Source, samples) -> tuple[str, dict]:
    """(label, HR/NDCG/MRR) of the float model on the simulated samples: the torch model where the source has it,
    else the float copy of the graph."""
    if src.model is not None:
        from ssr_neuro.training import evaluate_model

        return "float model (torch)", evaluate_model(src.model, samples)
    from ssr_neuro.conversion import evaluate_graph

    return "float graph", evaluate_graph(src.graph.float_copy(), samples)
