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
from hardware.program import Program, phase_pairs

C = {c: i for i, c in enumerate(COUNTERS)}
STAGES = ("soma", "output", "input", "synapse", "dendrite")
SOMA = ("neuron_update", "neuron_update_idle", "spike_out")
SYNAPSE = ("synaptic_op", "mac", "host_mac", "weight_read_byte")
SYNAPTIC_EVENTS = ("synaptic_op", "mac", "host_mac")
DELIVERIES = ("in_spikes", "in_graded")
READ = SOMA + SYNAPSE + DELIVERIES  # the counters the model reads (SYNAPTIC_EVENTS are among SYNAPSE's)


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

    counters = np.array([C[c] for c in READ], dtype=np.int64)  # what a Ledger hands take_pairs, in this order

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
        pairs = phase_pairs(program)
        self.pair_keys = [np.array([a * n_units + b for a, b in p], dtype=np.int64) for p in pairs]
        self.pair_dst = [np.array([b for _, b in p], dtype=np.int64) for p in pairs]
        self.flow_slot = [[{ab: i for i, ab in enumerate(p)}.get((f.src, f.dst), -1) if f.packet else -1
                           for f in flows] for p, flows in zip(pairs, self.flows)]
        self.flow_src = [np.array([f.src for f in flows], dtype=np.int64) for flows in self.flows]
        self.flow_dst = [np.array([f.dst for f in flows], dtype=np.int64) for flows in self.flows]
        self.flow_packet = [np.array([f.packet for f in flows], dtype=bool) for flows in self.flows]
        self.flows_from = [[(u, np.nonzero(src == u)[0]) for u in np.unique(src)] for src in self.flow_src]
        self.soma_servers = np.array([self.server(u, "soma") for u in range(n_units)], dtype=np.int64)
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
        """Time the batch ``rows`` from counts [b, phases, units, counters] and packets [b, phases, units, units]."""
        flat = packets.reshape(packets.shape[0], packets.shape[1], -1)
        self._time(rows, counts[..., self.counters].transpose(1, 0, 3, 2),
                   [flat[:, k, keys] for k, keys in enumerate(self.pair_keys)],
                   packets.sum(axis=2).transpose(1, 0, 2))

    def take_pairs(self, rows: slice, counts: np.ndarray, packets: list[np.ndarray]) -> None:
        """The Ledger's sink: time the batch ``rows`` from counts [phases, b, len(READ), units] (the counters
        ``self.counters``) and, per phase, the packets [b, pairs] of its emission's pairs
        (``hardware.program.phase_pairs``)."""
        mesh_in = np.zeros(counts.shape[:2] + counts.shape[3:])  # [phases, b, units] packets received (whole numbers: exact sums)
        for k, (sent, dst) in enumerate(zip(packets, self.pair_dst)):
            for u in np.unique(dst):
                mesh_in[k, :, u] = sent[:, dst == u].sum(axis=1)
        self._time(rows, counts, packets, mesh_in)

    def _time(self, rows: slice, counts: np.ndarray, packets: list[np.ndarray], mesh_in: np.ndarray) -> None:
        b = counts.shape[1]  # counts [phases, b, len(READ), units], mesh_in [phases, b, units]
        n_units, n_servers = self.n_units, len(self.servers)
        first = self.timeline is None and rows.start == 0
        timeline = Timeline() if first else None
        ucyc = self.unit_cycles
        at = {c: i for i, c in enumerate(READ)}  # counts' third axis: the counters READ

        def total(names, weighted: bool) -> np.ndarray:  # sum over the counters, in order, [phases, b, units]
            out = None
            for c in names:
                x = counts[:, :, at[c]] * ucyc[:, C[c]] if weighted else counts[:, :, at[c]]
                out = x.copy() if out is None else np.add(out, x, out=out)
            return out

        soma_cycles, syn_cycles = total(SOMA, True), total(SYNAPSE, True)
        syn_events, delivered = total(SYNAPTIC_EVENTS, False), total(DELIVERIES, False)
        with np.errstate(divide="ignore", invalid="ignore"):
            syn_per = np.where(delivered > 0, syn_cycles / delivered, 0.0)
            den_per = np.where(delivered > 0, self.dendrite * syn_events / delivered, 0.0)
        local_n = np.maximum(delivered - mesh_in, 0.0)
        # per phase and unit, [b] each
        soma_cycles, syn_per, den_per, local_n = (x.transpose(0, 2, 1)
                                                  for x in (soma_cycles, syn_per, den_per, local_n))

        sizes_of = [np.stack([packets[k][:, slot] if f.packet else local_n[k, f.dst]
                              for f, slot in zip(flows, self.flow_slot[k])])
                    if flows else np.zeros((0, b)) for k, flows in enumerate(self.flows)]
        rounds = [int(min(self.max_rounds, max(1, np.ceil(sz.max(initial=0.0) / self.chunk)))) for sz in sizes_of]
        capacity: dict[int, int] = {}
        for k, cross in enumerate(self.crossing):
            for srv, n in cross.items():
                capacity[srv] = capacity.get(srv, 0) + n * rounds[k]
        free = np.zeros((n_servers, b))
        busy = np.zeros((n_servers, b))  # cycles each server is held in the current step
        hist = _History(b, capacity, self.depth)
        t = np.zeros(b)  # start of the current step
        n_steps = self.step_cycles.shape[1]
        step_of = self.phase_step
        held = np.zeros((n_units, b))  # per unit: cycles of the steps it has work in
        for s in range(n_steps):
            start = t.copy()
            used = np.zeros((n_units, b), bool)
            ready = np.tile(start, (n_units, 1))  # per unit: its earlier phases' deliveries done
            soma_free = np.maximum(free[self.soma_servers], start)
            for k in np.nonzero(step_of == s)[0]:
                sizes = sizes_of[k]
                src, dst = self.flow_src[k], self.flow_dst[k]
                n_msgs = np.zeros((n_units, b))
                for u, rows_u in self.flows_from[k]:
                    n_msgs[u] = sizes[rows_u].sum(axis=0)  # whole numbers of messages: exact in any order
                soma = soma_cycles[k]  # [units, b]
                if not self.overlap:  # the output stage's cycles are part of the serial send side
                    soma = soma.copy()
                    for i in np.nonzero(self.flow_packet[k])[0]:
                        soma[src[i]] += sizes[i] * self.t_out[src[i]]
                active = (soma > 0) | (n_msgs > 0)
                begin = np.maximum(soma_free, ready)
                soma_end = np.where(active, begin + soma, soma_free)
                self._phase_chunks(k, rounds[k], sizes, n_msgs, soma, begin, soma_end, used, ready, syn_per, den_per,
                                   free, busy, hist, timeline)
                act = active.any(axis=1)
                if act.any():
                    srv = self.soma_servers[act]
                    on, end_, beg = active[act], soma_end[act], begin[act]
                    free[srv] = np.where(on, end_, free[srv])
                    busy[srv] += np.where(on, end_ - beg, 0.0)
                    if timeline is not None:
                        for u in np.nonzero(act)[0]:
                            if active[u, 0]:
                                timeline.intervals.append((self.servers[self.soma_servers[u]], float(begin[u, 0]),
                                                           float(soma_end[u, 0])))
                used |= active
                soma_free = np.where(active, soma_end, soma_free)
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

    def _phase_chunks(self, k, n_rounds, sizes, n_msgs, soma, begin, soma_end, used, ready, syn_per, den_per, free,
                      busy, hist, timeline) -> None:
        """Move phase ``k``'s flows, cut into ``n_rounds`` rounds, through their chains in the global order; raise
        ``soma_end`` (a sender's soma is held until its last message entered the first server) and ``ready`` (when
        each receiver's deliveries of the phase are done) and mark the ``used`` units, in place."""
        flows = self.flows[k]
        n_flows, b = sizes.shape
        if not n_flows:
            return
        src, dst = self.flow_src[k], self.flow_dst[k]
        cuts = np.floor(np.arange(n_rounds + 1, dtype=np.float64)[:, None, None] * sizes / n_rounds)
        m_all = (cuts[1:] - cuts[:-1]).reshape(n_rounds * n_flows, b)  # chunk sizes in the order (round, flow)
        order_src = np.tile(src, n_rounds)
        senders = np.unique(src)
        if senders.size == 1:  # per chunk: its sender's messages emitted up to and including it
            emitted = np.cumsum(m_all, axis=0)
        else:
            emitted = np.empty_like(m_all)
            for u in senders:
                rows = order_src == u
                emitted[rows] = np.cumsum(m_all[rows], axis=0)
        total = np.maximum(n_msgs, 1.0)[order_src]
        j1 = emitted - m_all + 1.0
        base, per = begin[order_src], soma[order_src]
        e_first = base + per * j1 / total
        e_last = base + per * emitted / total
        chains = [self._chain(f, k, syn_per, den_per) for f in flows]
        live = np.nonzero(m_all.any(axis=1))[0]
        sent_until = np.empty((len(live), b))
        done = np.empty((len(live), b))
        m = m_all[live]  # what each chunk needs of its sizes, for all chunks at once
        on, few = m > 0, m < 2.0
        every, single, after_first = on.all(axis=1), few.any(axis=1), m - 2.0
        for i, c in enumerate(live):
            sent_until[i], done[i] = self._chunk(chains[c % n_flows], on[i], bool(every[i]), few[i], bool(single[i]),
                                                 after_first[i], e_first[c], e_last[c], free, busy, hist, timeline)
        sent_until[~on] = -np.inf
        done[~on] = 0.0
        f_live = live % n_flows
        for to, ends, target in ((src[f_live], sent_until, soma_end), (dst[f_live], done, ready)):
            for u in np.unique(to):
                rows = to == u
                np.maximum(target[u], ends[rows].max(axis=0), out=target[u])
                used[u] |= on[rows].any(axis=0)

    def _chain(self, f: Flow, k: int, syn_per: np.ndarray, den_per: np.ndarray) -> list[tuple[int, object, bool]]:
        """The servers a chunk of flow ``f`` in phase ``k`` crosses: (server, per-message busy cycles, blocking,
        cycles in flight after it); stages that cost nothing are left out (they would only pass messages on)."""
        syn = syn_per[k, f.dst]
        den = den_per[k, f.dst]
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

    def _chunk(self, chain, on, every: bool, few, single: bool, after_first, e_first, e_last, free, busy,
               hist: "_History", timeline):
        """Move one chunk of m [b] messages (first emitted at e_first, last at e_last) through ``chain``; update the
        servers; return (start of its last message at the first server, end of its last at the last server). Of m:
        ``on`` m > 0, ``every`` all on (no inference of the batch skips the chunk: no masking needed), ``few``
        m < 2, ``single`` any few, ``after_first`` m - 2. (Fresh arrays are updated in place.)"""
        if not chain:
            return e_last, e_last
        depth = self.depth
        starts, first = [], []  # start and finish (blocking included) of the first message at each server
        prev = e_first
        for srv, tj, blocking, delay in chain:
            start = np.maximum(prev, free[srv])
            f = start + tj
            if blocking:
                room = hist.room(srv, depth, last=False)
                if room is not None:
                    np.maximum(f, room, out=f)
            starts.append(start)
            first.append(f)
            prev = f + delay if delay else f
        prev_last = e_last
        last_starts = []
        for j, (srv, tj, blocking, delay) in enumerate(chain):
            # the last message starts once it has arrived and the one before it has left (the first one: at its
            # start); its service ends t later, and it leaves when the next buffer has room
            arrived = prev_last + chain[j - 1][3] if j and chain[j - 1][3] else prev_last
            last_start = after_first * tj
            last_start += first[j]
            np.maximum(last_start, arrived, out=last_start)
            if single:
                np.copyto(last_start, starts[j], where=few)
            lj = last_start + tj
            if blocking:
                room = hist.room(srv, depth, last=True)
                if room is not None:
                    np.maximum(lj, room, out=lj)
            if timeline is not None and on[0]:
                timeline.intervals.append((self.servers[srv], float(starts[j][0]), float(lj[0])))
            if every:
                free[srv] = lj
                busy[srv] += lj - starts[j]
            else:
                np.copyto(free[srv], lj, where=on)
                np.add(busy[srv], lj - starts[j], out=busy[srv], where=on)
            last_starts.append(last_start)
            prev_last = lj
        for j, (srv, _, blocking, _) in enumerate(chain):
            if blocking:
                hist.record(srv, None if every else on, starts[j + 1], last_starts[j + 1])
        return last_starts[0], prev_last + chain[-1][3]


class _History:
    """Per blocking server (an output stage or a link) and batch: for each chunk slot it passed (every inference
    passes the same slots; a slot may be empty) the running maximum of when the first and the last message of its
    chunks started at the next server (left the buffer). A buffer of depth D holds D chunk slots: at message level
    D messages; a larger chunk stands for messages interleaved with those of the other flows of its round, so D
    chunks of a round are about D such messages. A message may enter the buffer once the chunk D slots back has
    left it: the running maximum makes an empty slot count as its last non-empty predecessor (a buffer holding empty
    slots is taken as fuller than it is, so blocking is overestimated, never missed, when many slots are empty).
    Only the last D + 1 slots are kept (a ring; a server's ``capacity`` if smaller): nothing reads further back."""

    def __init__(self, b: int, capacity: dict[int, int], depth: int) -> None:
        self.ring = {s: min(c, depth + 1) for s, c in capacity.items()}
        self.first = {s: np.empty((r, b)) for s, r in self.ring.items()}  # a slot is written before it is read
        self.last = {s: np.empty((r, b)) for s, r in self.ring.items()}
        self.size = dict.fromkeys(capacity, 0)

    def record(self, srv: int, on: np.ndarray | None, start_first: np.ndarray, start_last: np.ndarray) -> None:
        """Add the slot of a chunk (``on`` [b] where it holds messages; None: in every inference)."""
        k, r = self.size[srv], self.ring[srv]
        first, last = self.first[srv], self.last[srv]
        if on is not None:
            start_first = np.where(on, start_first, -np.inf)
            start_last = np.where(on, start_last, -np.inf)
        if k:
            np.maximum(first[(k - 1) % r], start_first, out=first[k % r])
            np.maximum(last[(k - 1) % r], start_last, out=last[k % r])
        else:
            first[0] = start_first
            last[0] = start_last
        self.size[srv] = k + 1

    def room(self, srv: int, depth: int, last: bool) -> np.ndarray | None:
        """When the chunk ``depth`` slots back had its first (or ``last``) message start at the next server: the
        earliest the next chunk's first (last) message can enter the buffer (None: the buffer had room)."""
        k = self.size.get(srv, 0) - depth
        if k < 0:
            return None
        return (self.last if last else self.first)[srv][k % self.ring[srv]]
