"""Lava Processes of the Lava backend (declarations only; their ProcessModels are in ``hardware.lava.models``).

- :class:`CoreProcess`   one unit of the mapped chip (a core, or the host): Vars for its weights (synapse memory),
                         its neuron state (LIF u, v, per-step input and constant drive; raw window sums of graded
                         neurons; host messages), its pending emission and length, and its event counters
                         (``hardware.lava.core.COUNTERS``); ports: ``s_in`` (the bus from its senders), ``s_out``
                         (its emission), ``report`` (its active neuron updates this phase, to the sink).
- :class:`SourceProcess` the io port's input side: the inferences' item ids and lengths on the bus.
- :class:`SinkProcess`   the io port's output side and the probe: records scores, spikes and active counts and
                         writes them to a file itself at the last step (reading arrays back through Lava is slow).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var


class CoreProcess(AbstractProcess):
    """Unit ``unit`` of a program file; ``state_shapes`` from ``UnitCore.state_shapes``, ``weights`` its synapse
    memory (int64)."""

    def __init__(self, *, meta: dict, arrays: dict, unit: int, state_shapes: dict, weights: np.ndarray,
                 **kwargs) -> None:
        super().__init__(meta=meta, arrays=arrays, unit=unit, name=meta["units"][unit]["name"], **kwargs)
        slots, n_units = meta["slots"], len(meta["units"])
        self.s_in = InPort(shape=(slots,))
        self.s_out = OutPort(shape=(slots,))
        self.report = OutPort(shape=(n_units,))
        memory = weights if weights.size else np.zeros(1, np.int64)  # Lava Vars are never empty
        self.weights = Var(shape=memory.shape, init=memory)
        self.u = Var(shape=state_shapes["u"], init=0)
        self.v = Var(shape=state_shapes["v"], init=0)
        self.lif_acc = Var(shape=state_shapes["lif_acc"], init=0)
        self.lif_const = Var(shape=state_shapes["lif_const"], init=0)
        self.raw = Var(shape=state_shapes["raw"], init=0)
        self.graded_in = Var(shape=state_shapes["graded_in"], init=0)
        self.pending = Var(shape=(slots,), init=0)
        self.length = Var(shape=(1,), init=0)
        self.counters = Var(shape=state_shapes["counters"], init=0)


class SourceProcess(AbstractProcess):
    """The inferences' inputs (from the program file) onto the bus."""

    def __init__(self, *, meta: dict, arrays: dict, **kwargs) -> None:
        super().__init__(meta=meta, arrays=arrays, name="source", **kwargs)
        self.s_out = OutPort(shape=(meta["slots"],))


class SinkProcess(AbstractProcess):
    """Listens to every unit; writes ``path`` (npz) at the last step."""

    def __init__(self, *, meta: dict, path: str, **kwargs) -> None:
        super().__init__(meta=meta, path=path, name="sink", **kwargs)
        self.s_in = InPort(shape=(meta["slots"],))
        self.reports = InPort(shape=(len(meta["units"]),))
