"""``python -m hardware.lava.worker PLAN RESULT``: run a program file (``hardware.lava.core``) in Lava and write the
result file (npz): the sink's scores, spikes and active counts, each unit's counters (read from its Vars) and the
run's timings (``time.import``, ``time.run``: build, compile, start and all steps; ``time.stop``). Runs in the
Lava environment (Python 3.10, numpy 1.26, networkx 2.8.7): imports nothing that needs torch. Exit code 1 with the
exception of the failing process on stderr when something fails inside Lava."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def run_file(plan: Path | str, result: Path | str) -> None:
    """Run the plan in Lava (one CoreProcess per unit, a source and a sink); write ``result``."""
    t0 = time.perf_counter()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    from hardware.lava.core import UnitCore, load_plan, save_npz
    from hardware.lava.models import PyCoreModel, PySinkModel, PySourceModel
    from hardware.lava.processes import CoreProcess, SinkProcess, SourceProcess

    t_import = time.perf_counter() - t0
    meta, arrays = load_plan(plan)
    sink_path = Path(result).with_name(Path(result).stem + ".sink.npz")
    cores = []
    for k in range(len(meta["units"])):
        logic = UnitCore(meta, arrays, k)
        cores.append(CoreProcess(meta=meta, arrays=arrays, unit=k, state_shapes=logic.state_shapes(),
                                 weights=arrays[f"{k}.weights"].astype(np.int64)))
    source = SourceProcess(meta=meta, arrays=arrays)
    sink = SinkProcess(meta=meta, path=str(sink_path))
    for k, spec in enumerate(meta["units"]):
        source.s_out.connect(cores[k].s_in)
        for j in spec["senders"]:
            cores[j].s_out.connect(cores[k].s_in)
        cores[k].s_out.connect(sink.s_in)
        cores[k].report.connect(sink.reports)
    source.s_out.connect(sink.s_in)
    models = {p: PyCoreModel for p in cores} | {source: PySourceModel, sink: PySinkModel}
    steps = meta["n_inferences"] * (len(meta["phases"]) + 1)
    t1 = time.perf_counter()
    try:
        sink.run(condition=RunSteps(num_steps=steps),
                 run_cfg=Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=models))
    except Exception:
        _report_actor_errors(sink)
        raise
    t_run = time.perf_counter() - t1
    counters = np.stack([np.asarray(p.counters.get()) for p in cores]).astype(np.int64)
    t2 = time.perf_counter()
    sink.stop()
    t_stop = time.perf_counter() - t2
    with np.load(sink_path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    sink_path.unlink()
    out.update({"counters": counters, "time.import": np.float64(t_import), "time.run": np.float64(t_run),
                "time.stop": np.float64(t_stop), "time.steps": np.float64(steps)})
    save_npz(result, out)


def _report_actor_errors(proc) -> None:
    """Print the exceptions Lava's actors caught (``run`` only says how many), then stop its messaging so no child
    is left waiting (``stop()`` can hang after an exception; the parent ends the process group anyway)."""
    infra = getattr(getattr(proc, "runtime", None), "_messaging_infrastructure", None)
    for actor in getattr(infra, "actors", []) or []:
        exc = getattr(actor, "exception", None)
        if exc is not None:
            print(f"error inside Lava process {getattr(actor, 'name', actor)}: {exc!r}", file=sys.stderr)
            trace = getattr(actor, "traceback", None) or getattr(actor, "_traceback", None)
            if trace:
                print(trace, file=sys.stderr)
    if infra is not None:
        try:
            infra.stop()
        except Exception as exc:  # noqa: BLE001 - best effort on the way out
            print(f"stopping Lava's messaging failed: {exc!r}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m hardware.lava.worker PLAN RESULT", file=sys.stderr)
        return 2
    try:
        run_file(argv[0], argv[1])
    except Exception as exc:  # noqa: BLE001 - one line for the parent, exit code 1
        print(f"lava worker: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
