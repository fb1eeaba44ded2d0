"""The ``fixed_pt`` PyLoihiProcessModels of ``hardware.lava.processes``: each step a unit first sends what it
computed at the previous step (so cycles between cores cannot deadlock), then receives, then runs
``hardware.lava.core.UnitCore.step`` on its own Vars (the integer arithmetic of ``ssr_neuro.graph.fixed``).
No side effects at import (Lava's compiler executes the files of this folder)."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from hardware.lava.core import Recorder, UnitCore, save_npz, source_step
from hardware.lava.processes import CoreProcess, SinkProcess, SourceProcess

STATE = ("u", "v", "lif_acc", "lif_const", "raw", "graded_in", "pending", "length", "counters")


def _int_var() -> LavaPyType:
    return LavaPyType(np.ndarray, np.int64, precision=64)


@implements(proc=CoreProcess, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyCoreModel(PyLoihiProcessModel):
    """One unit: its synapses, neurons and counters (``hardware.lava.core.UnitCore``) on its Vars."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64)
    report: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64)
    weights: np.ndarray = _int_var()
    u: np.ndarray = _int_var()
    v: np.ndarray = _int_var()
    lif_acc: np.ndarray = _int_var()
    lif_const: np.ndarray = _int_var()
    raw: np.ndarray = _int_var()
    graded_in: np.ndarray = _int_var()
    pending: np.ndarray = _int_var()
    length: np.ndarray = _int_var()
    counters: np.ndarray = _int_var()

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._core: UnitCore | None = None
        self._active = 0

    def run_spk(self) -> None:
        if self._core is None:  # the weights Var is set once the model is built
            p = self.proc_params
            self._core = UnitCore(p["meta"], p["arrays"], p["unit"], weights=self.weights)
        unit = self.proc_params["unit"]
        report = np.zeros(self.report.shape, np.int64)
        report[unit] = self._active
        self.s_out.send(self.pending)
        self.report.send(report)
        received = self.s_in.recv().astype(np.int64) + self.pending
        state = {key: getattr(self, key) for key in STATE}
        self.pending[:], self._active = self._core.step(self.time_step - 1, state, received)


@implements(proc=SourceProcess, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySourceModel(PyLoihiProcessModel):
    """Sends at step g what ``source_step`` computed at step g - 1."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._pending = np.zeros(proc_params["meta"]["slots"], np.int64)

    def run_spk(self) -> None:
        self.s_out.send(self._pending)
        self._pending = source_step(self.proc_params["meta"], self.proc_params["arrays"], self.time_step - 1)


@implements(proc=SinkProcess, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySinkModel(PyLoihiProcessModel):
    """Records every step (``hardware.lava.core.Recorder``) and writes the file at the last one."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    reports: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._rec = Recorder(proc_params["meta"])

    def run_spk(self) -> None:
        g = self.time_step - 1
        self._rec.record(g, self.s_in.recv().astype(np.int64), self.reports.recv().astype(np.int64))
        if g == self._rec.total_steps - 1:
            save_npz(self.proc_params["path"], self._rec.arrays())
