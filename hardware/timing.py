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
from hardware.costs import COUNTER_INDEX as C, counter_cycles
from hardware.program import Program, phase_pairs

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
        self.heads = [[self._head(f) for f in flows] for flows in self.flows]  # :meth:`_chains`
        # (phase, unit) of every flow's receiver: the only units whose receiving side the model prices
        self.receivers = sorted({(k, f.dst) for k, flows in enumerate(self.flows) for f in flows})
        self.receiver_at = {kd: i for i, kd in enumerate(self.receivers)}
        self.receiver_phase = np.array([k for k, _ in self.receivers], dtype=np.int64)
        self.receiver_unit = np.array([u for _, u in self.receivers], dtype=np.int64)
        self.receiver_pairs = [np.nonzero(self.pair_dst[k] == u)[0] for k, u in self.receivers]

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
                   packets.sum(axis=2)[:, self.receiver_phase, self.receiver_unit].T)

    def take_pairs(self, rows: slice, counts: np.ndarray, packets: list[np.ndarray]) -> None:
        """The Ledger's sink: time the batch ``rows`` from counts [phases, b, len(READ), units] (the counters
        ``self.counters``) and, per phase, the packets [b, pairs] of its emission's pairs
        (``hardware.program.phase_pairs``)."""
        mesh_in = np.zeros((len(self.receivers), counts.shape[1]))  # [receivers, b] packets received
        for i, (k, cols) in enumerate(zip(self.receiver_phase.tolist(), self.receiver_pairs)):
            if cols.size:
                mesh_in[i] = packets[k][:, cols].sum(axis=1)  # whole numbers: exact sums
        self._time(rows, counts, packets, mesh_in)

    def _time(self, rows: slice, counts: np.ndarray, packets: list[np.ndarray], mesh_in: np.ndarray) -> None:
        b = counts.shape[1]  # counts [phases, b, len(READ), units], mesh_in [receivers, b]
        n_units, n_servers = self.n_units, len(self.servers)
        first = self.timeline is None and rows.start == 0
        timeline = Timeline() if first else None
        ucyc = self.unit_cycles
        at = {c: i for i, c in enumerate(READ)}  # counts' third axis: the counters READ
        soma_cycles = None  # [phases, b, units], then [phases, units, b]
        for c in SOMA:
            x = counts[:, :, at[c]] * ucyc[:, C[c]]
            soma_cycles = x if soma_cycles is None else np.add(soma_cycles, x, out=soma_cycles)
        soma_cycles = np.ascontiguousarray(soma_cycles.transpose(0, 2, 1))
        # the receiving side, per receiver [receivers, b]
        got = counts[self.receiver_phase, :, :, self.receiver_unit].transpose(2, 0, 1)  # [len(READ), receivers, b]
        weight = ucyc[self.receiver_unit]

        def total(names, weighted: bool) -> np.ndarray:  # sum over the counters, in order
            out = None
            for c in names:
                x = got[at[c]] * weight[:, C[c], None] if weighted else got[at[c]]
                out = x.copy() if out is None else np.add(out, x, out=out)
            return out

        syn_cycles, syn_events = total(SYNAPSE, True), total(SYNAPTIC_EVENTS, False)
        delivered = total(DELIVERIES, False)
        with np.errstate(divide="ignore", invalid="ignore"):
            syn_per = np.where(delivered > 0, syn_cycles / delivered, 0.0)
            den_per = np.where(delivered > 0, self.dendrite * syn_events / delivered, 0.0)
        local_n = np.maximum(delivered - mesh_in, 0.0)
        at_receiver = self.receiver_at
        sizes_of = [np.stack([packets[k][:, slot] if f.packet else local_n[at_receiver[(k, f.dst)]]
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
                src = self.flow_src[k]
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
            # the first server held longest (argmax over the servers that were held at all, and server 0, which
            # argmax gives where none was: the same answer, far fewer rows)
            held_any = np.flatnonzero(busy.any(axis=1))
            rows_ = np.concatenate(([0], held_any[held_any > 0]))
            bound = rows_[np.argmax(busy[rows_], axis=0)]
            self.bound_counts[s] += np.bincount(bound[end > start], minlength=n_servers)
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
        each receiver's deliveries of the phase are done) and mark the ``used`` units, in place.

        A chunk of m messages moves through its chain (:meth:`_chains`) one server at a time: its first message
        starts once it has arrived and the server is free and ends t later (at a blocking server: no earlier than
        the next buffer has room); its last message starts once it has arrived and m - 2 messages more have been
        served after the first (m < 2: with the first) and ends t later (or when the next buffer has room). Only
        these recurrences, the busy cycles and the buffers' slots run per chunk and server, on arrays [b] reused
        chunk after chunk; the emission times and what a chunk's sender and receiver wait for are done for the whole
        phase at once."""
        n_flows, b = sizes.shape
        if not n_flows:
            return
        cuts = np.floor(np.arange(n_rounds + 1, dtype=np.float64)[:, None, None] * sizes / n_rounds)
        m_all = (cuts[1:] - cuts[:-1]).reshape(n_rounds * n_flows, b)  # chunk sizes in the order (round, flow)
        live = np.nonzero(m_all.any(axis=1))[0]
        if not live.size:
            return
        n_live = len(live)
        f_live = live % n_flows
        m = m_all[live]
        sender = self.flow_src[k][f_live]
        emitted = np.empty_like(m)  # per chunk: its sender's messages emitted up to and including it
        upto: dict[int, np.ndarray] = {}
        for i, u in enumerate(sender.tolist()):
            if u in upto:
                np.add(upto[u], m[i], out=emitted[i])
            else:
                emitted[i] = m[i]
            upto[u] = emitted[i]
        if len(upto) == 1:  # one sender: its rows broadcast (the same numbers as gathered rows)
            base, per, total = begin[sender[0]], soma[sender[0]], np.maximum(n_msgs[sender[0]], 1.0)
        else:
            base, per, total = begin[sender], soma[sender], np.maximum(n_msgs, 1.0)[sender]
        j1 = emitted - m + 1.0
        e_first = base + per * j1 / total
        e_last = base + per * emitted / total
        on, few = m > 0, m < 2.0
        every, single = on.all(axis=1).tolist(), few.any(axis=1).tolist()
        chains = self._chains(k, syn_per, den_per)
        after_first = m - 2.0
        j_max = max(len(c) for c in chains)
        both, ends = np.empty((j_max, 2, b)), np.empty((j_max, b))  # per server of a chunk: [start of its first
        starts, last_starts = both[:, 0], both[:, 1]  # and last message], end of its last (reused chunk by chunk)
        first_end, later, held = np.empty(b), np.empty(b), np.empty(b)
        sent, done = np.empty((n_live, b)), np.empty((n_live, b))  # per chunk: what its sender, receiver wait for
        maximum, add, subtract, multiply, copyto, where = (np.maximum, np.add, np.subtract, np.multiply, np.copyto,
                                                           np.where)
        depth, ring, size, slots = self.depth, hist.ring, hist.size, hist.slots
        now = {c[0]: free[c[0]] for chain in chains for c in chain}  # when each server is free (back at the end)
        blocking_at = [[(j, c[0]) for j, c in enumerate(chain) if c[2]] for chain in chains]
        scaled: dict[float, np.ndarray] = {}  # per message cycles t of a sender's stage or link: after_first * t
        for i, f in enumerate(f_live.tolist()):
            chain = chains[f]
            if not chain:
                sent[i] = done[i] = e_last[i]
                continue
            arrived_first, arrived_last = e_first[i], e_last[i]
            mask = None if every[i] else on[i]
            few_i = few[i] if single[i] else None
            for j, (srv, t, blocking, delay) in enumerate(chain):
                # a chunk that holds messages in every inference writes its end straight into the server's "free at"
                start, last_start, end = starts[j], last_starts[j], now[srv] if mask is None else ends[j]
                maximum(arrived_first, now[srv], out=start)
                fe = add(start, t, first_end) if not delay else add(start, t)  # (positional out: a little faster)
                back = size[srv] - depth if blocking else -1  # the slot whose leaving makes room in the buffer
                if back >= 0:
                    room = slots[srv][back % ring[srv]]
                    maximum(fe, room[0], out=fe)
                if isinstance(t, np.ndarray):  # a receiver's stage: cycles per message per inference
                    add(multiply(after_first[i], t, later), fe, last_start)
                else:  # a sender's stage or a link: one number, its products with every chunk made once
                    times = scaled.get(t)
                    if times is None:
                        times = scaled[t] = after_first * t
                    add(times[i], fe, last_start)
                maximum(last_start, arrived_last, out=last_start)
                if few_i is not None:
                    copyto(last_start, start, where=few_i)
                add(last_start, t, end)
                if back >= 0:
                    maximum(end, room[1], out=end)
                subtract(end, start, held)
                if mask is None:
                    add(busy[srv], held, busy[srv])
                else:
                    now[srv] = where(mask, end, now[srv])
                    add(busy[srv], held, out=busy[srv], where=mask)
                if delay:
                    arrived_first, arrived_last = fe + delay, end + delay
                else:
                    arrived_first, arrived_last = fe, end
                if timeline is not None and on[i, 0]:
                    timeline.intervals.append((self.servers[srv], float(start[0]), float(end[0])))
            sent[i] = last_starts[0]
            done[i] = arrived_last
            # this chunk's slot at each buffer it passed: when its first and last message left it (started next);
            # where the chunk is empty, the slot repeats its predecessor
            skip = None if mask is None or not blocking_at[f] else where(mask, 0.0, -np.inf)
            for j, srv in blocking_at[f]:
                n, r, ring_ = size[srv], ring[srv], slots[srv]
                left = both[j + 1] if skip is None else both[j + 1] + skip
                if n:
                    maximum(ring_[(n - 1) % r], left, out=ring_[n % r])
                else:
                    ring_[0] = left
                size[srv] = n + 1
        for srv, row in now.items():
            free[srv] = row
        # what each chunk's sender and receiver wait for, flow by flow: the maximum over the chunks that hold messages
        of_flow = np.argsort(f_live, kind="stable")  # the chunks, flow by flow
        per_flow = np.bincount(f_live, minlength=n_flows)
        flow_first = (np.cumsum(per_flow) - per_flow).tolist()
        sent, done, on_by_flow = sent[of_flow], done[of_flow], on[of_flow]
        for f, (a, n_f) in enumerate(zip(flow_first, per_flow.tolist())):
            if not n_f:
                continue
            on_f = on_by_flow[a:a + n_f]
            u, v = int(self.flow_src[k][f]), int(self.flow_dst[k][f])
            maximum(soma_end[u], where(on_f, sent[a:a + n_f], -np.inf).max(axis=0), out=soma_end[u])
            maximum(ready[v], where(on_f, done[a:a + n_f], -np.inf).max(axis=0), out=ready[v])
            any_on = on_f.any(axis=0)
            used[u] |= any_on
            used[v] |= any_on

    def _chains(self, k: int, syn_per: np.ndarray, den_per: np.ndarray) -> list[list[tuple[int, object, bool, float]]]:
        """Per flow of phase ``k`` the servers a chunk crosses: (server, per-message busy cycles, blocking, cycles in
        flight after it); stages that cost nothing are left out (they would only pass messages on). The sending
        stages and links are the program's (:attr:`heads`); the receiving stages are priced per receiver."""
        tails: dict[tuple[int, bool], list] = {}
        chains = []
        for f, head in zip(self.flows[k], self.heads[k]):
            key = (f.dst, f.packet)
            if key not in tails:
                at = self.receiver_at[(k, f.dst)]
                syn, den = syn_per[at], den_per[at]
                if not self.overlap:  # one receive server; the output stage is in the soma pass
                    tail = [(self.server(f.dst, "synapse"), syn + den + (self.message_in if f.packet else 0.0))]
                else:
                    tail = [(self.server(f.dst, "synapse"), syn), (self.server(f.dst, "dendrite"), den)]
                tails[key] = [(srv, t, False, 0.0) for srv, t in tail if t.any()]
            chain = head + tails[key]
            if chain and chain[-1][2]:  # a blocking server needs a next one to drain its buffer
                chain[-1] = chain[-1][:2] + (False,) + chain[-1][3:]
            chains.append(chain)
        return chains

    def _head(self, f: Flow) -> list[tuple[int, float, bool, float]]:
        """The servers of flow ``f`` before its receiver's (:meth:`_chains`): with ``stages_overlap`` the sender's
        output stage, the links, the receiver's input stage; else the links. Those that cost nothing left out."""
        links = [(self.link_server(link), self.t_link[link], True, self.d_link[link]) for link in f.links]
        if not self.overlap:
            head = links
        elif f.packet:
            head = ([(self.server(f.src, "output"), self.t_out[f.src], True, 0.0)] + links
                    + [(self.server(f.dst, "input"), self.message_in, False, 0.0)])
        else:
            head = []
        return [c for c in head if c[1]]


class _History:
    """Per blocking server (an output stage or a link) and batch: for each chunk slot it passed (every inference
    passes the same slots; a slot may be empty) the running maximum of when the first and the last message of its
    chunks started at the next server (left the buffer). A buffer of depth D holds D chunk slots: at message level
    D messages; a larger chunk stands for messages interleaved with those of the other flows of its round, so D
    chunks of a round are about D such messages. A message may enter the buffer once the chunk D slots back has
    left it: the running maximum makes an empty slot count as its last non-empty predecessor (a buffer holding empty
    slots is taken as fuller than it is, so blocking is overestimated, never missed, when many slots are empty).
    Only the last D + 1 slots are kept (a ring; a server's ``capacity`` if smaller): nothing reads further back.
    ``EventTiming._phase_chunks`` writes a slot after each chunk and reads slot ``size - D`` (if any) as the room."""

    def __init__(self, b: int, capacity: dict[int, int], depth: int) -> None:
        self.ring = {s: min(c, depth + 1) for s, c in capacity.items()}
        # per server and slot: [when its first message left, when its last left] (written before it is read)
        self.slots = {s: np.empty((r, 2, b)) for s, r in self.ring.items()}
        self.size = dict.fromkeys(capacity, 0)  # slots recorded so far
