"""The discrete-event timing model (``simulate(..., timing="event")``): the per-phase, per-unit event counts of a
batch (``hardware.engine.Ledger``'s sink, filled by either backend) replayed as messages through each core's pipeline
stages and the mesh's routers, vectorised over the inferences of the batch. numpy only.

What moves. In each phase (``hardware.program``: one emitter in one step), every sending unit emits its messages
(the packets of the counts, plus the deliveries to targets on its own core) spread evenly over its soma pass: message
j of N leaves the soma at start + soma cycles x j / N. A message to another unit (or to itself when the chip
charges local messages) passes the sender's *output* stage, the links of its XY route, the receiver's *input*
stage, then its *synapse* and *dendrite* stages; a local delivery goes straight to the receiver's synapse stage.
Stages and links are servers: one message at a time, in a fixed global order (step, phase, round, flow; in a round
local deliveries first, then packets by route length, so that nearer messages, which reach a shared link first,
go first), each message costing per stage (cycles of ``mesh.clock_MHz``; ``hardware.costs.counter_cycles`` per
unit kind):

    soma      neuron_update, neuron_update_idle and spike_out counts of the unit in the phase (the whole pass)
    output    cycles.message_out - timing.message_in_cycles, per message
    link      timing.link_cycles_per_message (default the hop's cycles) busy per message; a message reaches the next
              router cycles.hop_ew or hop_ns after it started on the link
    input     timing.message_in_cycles, per message
    synapse   the receiver's synaptic_op, mac, host_mac and weight_read_byte cycles of the phase / its deliveries
    dendrite  timing.dendrite_cycles x the receiver's synaptic events of the phase / its deliveries

With ``timing.stages_overlap`` = false a core's send side is one server (the output stage's cycles join the soma
pass: message j leaves after the soma's share and j output stages) and its receive side another (input + synapse +
dendrite cycles per message, one message at a time), as SANA-FE's pipeline model serialises them.

A router input buffer (after every link, and the injection buffer after every output stage) holds
``timing.buffer_depth`` messages (chunk slots, below); a message that finds it full stays in its server (blocking
after service), so a full buffer stalls the link or output stage behind it, and the soma of a sender cannot finish
before its last message has entered the output stage. Arbitration is static (the global order): a server serves
the next message of the order, never overtaking; this keeps the order independent of the data, so every inference
of a batch runs the same sequence of max/plus operations on arrays [inferences].

Messages move in chunks: in each phase every flow (from unit, to unit) is cut into the same number of rounds, enough
that no chunk of the batch's largest flow holds more than ``chunk`` messages (at most ``max_rounds``), of integer
sizes (a round may be empty). Inside a chunk the messages move cut-through: a stage starts the first message when
the previous stage has finished it and the server is free, and the last no earlier than one message time after the
previous stage finished its last. With ``chunk`` = 1 (and enough rounds) the model is message by message; larger
chunks trade detail for speed: a chunk is a burst to one receiver, so it can fill a buffer that single interleaved
messages would not (the benchmark prints the difference). The rounds depend on the batch's largest flow, so with
``chunk`` > 1 an inference's timing can move slightly with the batch it is in (message by message it cannot).

Dependencies and steps. A unit's soma pass in a phase starts when its soma is free and every message delivered to
it by earlier phases of the same step has left its dendrite stage (zero-delay layers: a consumer integrates what its
producer sent in the same step). A step ends when its last server finishes; then the barrier
(``chip.barrier_cycles`` of the tiles holding used cores: ``timing.barrier_by_tiles`` or ``cycles.barrier_sync``);
the next step starts after it. Per step, the *bound* is the server held longest (from each chunk's first start to
its last message's leaving, blocking included; a soma for its pass): a stage of a unit, or a link.

Overlap of consecutive inferences. A unit that has work in a step is held for that whole step (barrier included);
the next inference can start its steps on units the previous one no longer holds, so the sustained interval between
inferences is the most time any one unit is held per inference: interval = max over units of the sum of the step
cycles of the steps that use it (a reservation-table bound; the latency of one inference is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hardware.chip import barrier_cycles
from hardware.costs import COUNTERS, counter_cycles
from hardware.program import Program

C = {c: i for i, c in enumerate(COUNTERS)}
STAGES = ("soma", "output", "input", "synapse", "dendrite")
SOMA = ("neuron_update", "neuron_update_idle", "spike_out")
SYNAPSE = ("synaptic_op", "mac", "host_mac", "weight_read_byte")
SYNAPTIC_EVENTS = ("synaptic_op", "mac", "host_mac")
DELIVERIES = ("in_spikes", "in_graded")


@dataclass(frozen=True)
class Flow:
    """Messages of one phase from unit ``src`` to unit ``dst``: over ``links`` (route, may be empty for a 0-hop
    packet) when ``packet``, else a local delivery on ``src`` = ``dst``."""

    src: int
    dst: int
    packet: bool
    links: tuple[int, ...]


@dataclass
class Timeline:
    """What inference 0 of the first batch did: (server, start cycle, end cycle) for every soma pass and every chunk
    at every stage it crossed; servers are "unit.stage" or "link (r, c)->(r, c)"."""

    intervals: list[tuple[str, float, float]] = field(default_factory=list)


class EventTiming:
    """The model compiled for one program (module docstring); use it as the Ledger's ``sink``. After the run:
    ``step_cycles`` [B, steps] (barrier included), ``barrier`` (cycles per step), ``bound_counts`` [steps,
    servers] (how often each server was the one held longest in each step), ``interval`` [B] (cycles between
    inferences with overlap),
    ``timeline`` of inference 0, ``servers`` (names)."""

    def __init__(self, program: Program, n_inferences: int, chunk: int = 4, max_rounds: int = 64) -> None:
        if chunk < 1 or max_rounds < 1:
            raise ValueError(f"chunk and max_rounds must be >= 1 (got {chunk}, {max_rounds})")
        self.program = program
        self.chunk = chunk
        self.max_rounds = max_rounds
        chip = program.chip
        units = program.units
        n_units = len(units)
        self.n_units = n_units
        self.unit_cycles = np.stack([counter_cycles(chip, u.kind) for u in units])  # [units, counters]
        self.message_in = chip.timing.message_in_cycles
        self.dendrite = chip.timing.dendrite_cycles
        self.depth = chip.timing.buffer_depth
        self.overlap = chip.timing.stages_overlap
        self.t_out = self.unit_cycles[:, C["message_out"]] - self.message_in
        hop = np.array([chip.cycles["hop_ew"] if a[0] == b[0] else chip.cycles["hop_ns"] for a, b in program.links])
        per = chip.timing.link_cycles_per_message
        self.t_link = hop if per is None else np.minimum(hop, per)  # busy per message
        self.d_link = hop - self.t_link  # then in flight to the next router
        tiles = {u.router for u in units if u.kind == "core"}
        self.barrier = barrier_cycles(chip, max(len(tiles), 1))
        self.servers = [f"{u.name}.{s}" for u in units for s in STAGES] + \
            [f"link {tuple(a)}->{tuple(b)}" for a, b in program.links]
        self.flows = self._flows()
        self.crossing: list[dict[int, int]] = []  # per phase: blocking server -> flows crossing it
        for flows in self.flows:
            cross: dict[int, int] = {}
            for f in flows:
                if f.packet:
                    for srv in [self.server(f.src, "output")] + [self.link_server(link) for link in f.links]:
                        cross[srv] = cross.get(srv, 0) + 1
            self.crossing.append(cross)
        self.phase_step = np.array([p.step for p in program.phases], dtype=np.int64)
        n_steps = len(program.steps)
        self.step_cycles = np.zeros((n_inferences, n_steps))
        self.interval = np.zeros(n_inferences)
        self.bound_counts = np.zeros((n_steps, len(self.servers)), dtype=np.int64)
        self.timeline: Timeline | None = None

    def server(self, unit: int, stage: str) -> int:
        return unit * len(STAGES) + STAGES.index(stage)

    def link_server(self, link: int) -> int:
        return self.n_units * len(STAGES) + link

    def _flows(self) -> list[list[Flow]]:
        """Per phase the flows that can carry messages: the emission's packet columns, and a local delivery on every
        unit that holds emitting neurons and receives in the phase."""
        program = self.program
        out = []
        for phase in program.phases:
            block = program.emissions[phase.population]
            flows = [Flow(a, b, True, tuple(program.routes[(a, b)])) for _, a, b in block.pairs]
            name = phase.population
            if name.startswith("host>"):
                owners = {program.host}
            elif name in program.owner:
                owners = {int(u) for u in np.unique(program.owner[name])}
            else:
                owners = {len(program.units) - 1}  # the item input emits from the io port
            receivers = {ch.unit for charges in block.columns for ch in charges if ch.counter in DELIVERIES}
            unique = {(f.src, f.dst) for f in flows}
            flows += [Flow(u, u, False, ()) for u in sorted(owners & receivers) if (u, u) not in unique]
            out.append(sorted(flows, key=lambda f: (f.packet, len(f.links))))
        return out

    # ------------------------------------------------------------------------------------------ one batch

    def __call__(self, rows: slice, counts: np.ndarray, packets: np.ndarray) -> None:
        """The Ledger's sink: time the batch ``rows`` from counts [b, phases, units, counters] and packets [b,
        phases, units, units]."""
        b = counts.shape[0]
        n_units, n_servers = self.n_units, len(self.servers)
        first = self.timeline is None and rows.start == 0
        timeline = Timeline() if first else None
        ucyc = self.unit_cycles
        soma_idx = [C[c] for c in SOMA]
        syn_idx = [C[c] for c in SYNAPSE]
        soma_cycles = (counts[..., soma_idx] * ucyc[None, None, :, soma_idx]).sum(-1)  # [b, phases, units]
        syn_cycles = (counts[..., syn_idx] * ucyc[None, None, :, syn_idx]).sum(-1)
        syn_events = counts[..., [C[c] for c in SYNAPTIC_EVENTS]].sum(-1)
        delivered = counts[..., [C[c] for c in DELIVERIES]].sum(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            syn_per = np.where(delivered > 0, syn_cycles / delivered, 0.0)
            den_per = np.where(delivered > 0, self.dendrite * syn_events / delivered, 0.0)
        mesh_in = packets.sum(axis=2)  # [b, phases, units]
        local_n = np.maximum(delivered - mesh_in, 0.0)

        sizes_of = [np.stack([packets[:, k, f.src, f.dst] if f.packet else local_n[:, k, f.dst] for f in flows])
                    if flows else np.zeros((0, b)) for k, flows in enumerate(self.flows)]
        rounds = [int(min(self.max_rounds, max(1, np.ceil(sz.max(initial=0.0) / self.chunk)))) for sz in sizes_of]
        capacity: dict[int, int] = {}
        for k, cross in enumerate(self.crossing):
            for srv, n in cross.items():
                capacity[srv] = capacity.get(srv, 0) + n * rounds[k]
        free = np.zeros((n_servers, b))
        busy = np.zeros((n_servers, b))  # cycles each server is held in the current step
        hist = _History(b, capacity)
        t = np.zeros(b)  # start of the current step
        n_steps = self.step_cycles.shape[1]
        step_of = self.phase_step
        held = np.zeros((n_units, b))  # per unit: cycles of the steps it has work in
        for s in range(n_steps):
            start = t.copy()
            used = np.zeros((n_units, b), bool)
            ready = np.tile(start, (n_units, 1))  # per unit: its earlier phases' deliveries done
            soma_free = np.maximum(free[[self.server(u, "soma") for u in range(n_units)]], start)
            for k in np.nonzero(step_of == s)[0]:
                flows = self.flows[k]
                sizes = sizes_of[k]
                n_msgs = np.zeros((n_units, b))
                for f, n in zip(flows, sizes):
                    n_msgs[f.src] += n
                soma = soma_cycles[:, k].T  # [units, b]
                if not self.overlap:  # the output stage's cycles are part of the serial send side
                    soma = soma.copy()
                    for f, n in zip(flows, sizes):
                        if f.packet:
                            soma[f.src] += n * self.t_out[f.src]
                active = (soma > 0) | (n_msgs > 0)
                begin = np.maximum(soma_free, ready)
                soma_end = np.where(active, begin + soma, soma_free)
                emitted = np.zeros((n_units, b))
                done_into = np.zeros((n_units, b))
                chains = [self._chain(f, k, syn_per, den_per) for f in flows]
                for r in range(rounds[k]):
                    lo = np.floor(r * sizes / rounds[k])
                    hi = np.floor((r + 1) * sizes / rounds[k])
                    for f, chain, m in zip(flows, chains, hi - lo):
                        if not m.any():
                            continue
                        j1 = emitted[f.src] + 1.0
                        emitted[f.src] += m
                        total = np.maximum(n_msgs[f.src], 1.0)
                        e_first = begin[f.src] + soma[f.src] * j1 / total
                        e_last = begin[f.src] + soma[f.src] * emitted[f.src] / total
                        last_start0, end = self._chunk(chain, m, e_first, e_last, free, busy, hist, timeline)
                        on = m > 0
                        soma_end[f.src] = np.where(on, np.maximum(soma_end[f.src], last_start0), soma_end[f.src])
                        done_into[f.dst] = np.where(on, np.maximum(done_into[f.dst], end), done_into[f.dst])
                        used[f.dst] |= on
                        used[f.src] |= on
                for u in range(n_units):
                    if active[u].any():
                        free[self.server(u, "soma")] = np.where(active[u], soma_end[u],
                                                                free[self.server(u, "soma")])
                        busy[self.server(u, "soma")] += np.where(active[u], soma_end[u] - begin[u], 0.0)
                        if timeline is not None and active[u, 0]:
                            timeline.intervals.append((self.servers[self.server(u, "soma")], float(begin[u, 0]),
                                                       float(soma_end[u, 0])))
                used |= active
                soma_free = np.where(active, soma_end, soma_free)
                ready = np.maximum(ready, done_into)
            last = free.max(axis=0)
            end = np.maximum(last, start)
            bound = np.argmax(busy, axis=0)
            np.add.at(self.bound_counts[s], bound[end > start], 1)
            busy[:] = 0.0
            cycles = end - start + self.barrier
            self.step_cycles[rows, s] = cycles
            held += used * cycles[None, :]
            t = end + self.barrier
        self.interval[rows] = held.max(axis=0)
        if timeline is not None:
            self.timeline = timeline

    def _chain(self, f: Flow, k: int, syn_per: np.ndarray, den_per: np.ndarray) -> list[tuple[int, object, bool]]:
        """The servers a chunk of flow ``f`` in phase ``k`` crosses: (server, per-message busy cycles, blocking,
        cycles in flight after it); stages that cost nothing are left out (they would only pass messages on)."""
        syn = syn_per[:, k, f.dst]
        den = den_per[:, k, f.dst]
        if not self.overlap:  # one receive server; the output stage is in the soma pass
            recv = syn + den + (self.message_in if f.packet else 0.0)
            chain = self._links(f) + [(self.server(f.dst, "synapse"), recv, False, 0.0)]
        else:
            chain = [(self.server(f.dst, "synapse"), syn, False, 0.0),
                     (self.server(f.dst, "dendrite"), den, False, 0.0)]
            if f.packet:
                chain = ([(self.server(f.src, "output"), self.t_out[f.src], True, 0.0)] + self._links(f)
                         + [(self.server(f.dst, "input"), self.message_in, False, 0.0)] + chain)
        chain = [c for c in chain if np.any(c[1])]
        if chain and chain[-1][2]:  # a blocking server needs a next one to drain its buffer
            chain[-1] = chain[-1][:2] + (False,) + chain[-1][3:]
        return chain

    def _links(self, f: Flow) -> list[tuple[int, float, bool, float]]:
        return [(self.link_server(link), self.t_link[link], True, self.d_link[link]) for link in f.links]

    def _chunk(self, chain, m, e_first, e_last, free, busy, hist: "_History", timeline):
        """Move one chunk of m [b] messages (first emitted at e_first, last at e_last) through ``chain``; update the
        servers; return (start of its last message at the first server, end of its last at the last server)."""
        on = m > 0
        if not chain:
            return e_last, e_last
        starts, first = [], []  # start and finish (blocking included) of the first message at each server
        prev = e_first
        for srv, tj, blocking, delay in chain:
            start = np.maximum(prev, free[srv])
            f = start + tj
            if blocking:
                f = np.maximum(f, hist.room(srv, self.depth, last=False))
            starts.append(start)
            first.append(f)
            prev = f + delay
        prev_last = e_last
        last_starts, lasts = [], []
        for j, (srv, tj, blocking, delay) in enumerate(chain):
            # the last message starts once it has arrived and the one before it has left (the first one: at its
            # start); its service ends t later, and it leaves when the next buffer has room
            arrived = prev_last if j == 0 else prev_last + chain[j - 1][3]
            last_start = np.where(m >= 2.0, np.maximum(first[j] + (m - 2.0) * tj, arrived), starts[j])
            lj = last_start + tj
            if blocking:
                lj = np.maximum(lj, hist.room(srv, self.depth, last=True))
            if timeline is not None and on[0]:
                timeline.intervals.append((self.servers[srv], float(starts[j][0]), float(lj[0])))
            free[srv] = np.where(on, lj, free[srv])
            busy[srv] += np.where(on, lj - starts[j], 0.0)
            last_starts.append(last_start)
            lasts.append(lj)
            prev_last = lj
        for j, (srv, _, blocking, _) in enumerate(chain):
            if blocking:
                hist.record(srv, on, starts[j + 1], last_starts[j + 1])
        return last_starts[0], lasts[-1] + chain[-1][3]


class _History:
    """Per blocking server (an output stage or a link) and batch: for each chunk slot it passed (every inference
    passes the same slots; a slot may be empty) the running maximum of when the first and the last message of its
    chunks started at the next server (left the buffer). A buffer of depth D holds D chunk slots: at message level
    D messages; a larger chunk stands for messages interleaved with those of the other flows of its round, so D
    chunks of a round are about D such messages. A message may enter the buffer once the chunk D slots back has
    left it: the running maximum makes an empty slot count as its last non-empty predecessor (a buffer holding empty
    slots is taken as fuller than it is, so blocking is overestimated, never missed, when many slots are empty)."""

    def __init__(self, b: int, capacity: dict[int, int]) -> None:
        self.first = {s: np.full((c, b), -np.inf) for s, c in capacity.items()}
        self.last = {s: np.full((c, b), -np.inf) for s, c in capacity.items()}
        self.size = dict.fromkeys(capacity, 0)

    def record(self, srv: int, on: np.ndarray, start_first: np.ndarray, start_last: np.ndarray) -> None:
        k = self.size[srv]
        first, last = self.first[srv], self.last[srv]
        if k:
            first[k] = np.maximum(first[k - 1], np.where(on, start_first, -np.inf))
            last[k] = np.maximum(last[k - 1], np.where(on, start_last, -np.inf))
        else:
            first[k] = np.where(on, start_first, -np.inf)
            last[k] = np.where(on, start_last, -np.inf)
        self.size[srv] = k + 1

    def room(self, srv: int, depth: int, last: bool) -> np.ndarray | float:
        """When the chunk ``depth`` slots back had its first (or ``last``) message start at the next server: the
        earliest the next chunk's first (last) message can enter the buffer (-inf: the buffer had room)."""
        k = self.size.get(srv, 0) - depth
        if k < 0:
            return -np.inf
        return (self.last if last else self.first)[srv][k]
