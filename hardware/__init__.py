"""Chip descriptions (data files), the cost model and the simulator backends.

- ``chip``      ``load_chip(name or path) -> Chip``: TOML chip descriptions, validated; presets in ``chips/``
                (``45nm``: a hypothetical chip priced with Horowitz's 45 nm table; ``loihi``: Davies et al. 2018)
- ``program``   ``compile_program(graph, mapping, chip) -> Program``: what each unit (core, host, io port) holds and
                what one event costs where, the schedule of simulated steps and phases, XY routes (backend-neutral)
- ``engine``    the fast backend: ``run_program(program, history, length)`` takes the executor's fixed-point values
                and counts every event per unit, phase and inference by matrix products (a ``Ledger``)
- ``costs``     pure functions: counts -> pJ by counter and kind, busy and network cycles -> step and inference
                latency; the analytic pipeline model is written in its docstring
- ``timing``    the discrete-event timing model (``simulate(..., timing="event")``): the engine's per-phase counts
                replayed as messages through core stages and routers with finite buffers, vectorised over inferences
- ``simulate``  ``simulate(graph, mapping, chip, history, length, batch_size=256, timing="analytic") -> SimResult``;
                ``simulate_program(program, history, length, ...)`` runs a program compiled once per mapping
- ``result``    ``SimResult``: the chip's scores, per-inference energy and latency, breakdowns by kind, layer, core and
                action, steps, cores, raster, links, spike rates; ``summary()`` is JSON-ready
- ``counting``  the energy of the same inference counted three ways (SNN-paper rule, float32 ANN, the chip)
- ``report``    terminal table, one CSV record per inference, PNG plots of a ``SimResult``

Never imports torch; only the Lava backend imports Lava.
"""
