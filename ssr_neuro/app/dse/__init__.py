"""Design-space exploration: sweep chip, conversion and model parameters around a base design (never imports torch:
the graphs of model variants come from a ``models`` callable, ``ssr_neuro.app.model_variants.VariantTrainer``).

- ``space``     ``load_space(path) -> Space`` (the TOML space file), ``grid_space(base, axes)`` (one from Python),
                its axes, grid / random points, point ids
- ``area``      chip area from memory bits and logic at a process node; energy scaling between nodes (sources inside)
- ``evaluate``  ``load_base(config) -> Base``; ``evaluate_point(base, point) -> dict`` (derive chip, re-quantise,
                map, simulate: energy, latency, area, HR@10, cores; a refusal is a recorded failure)
- ``store``     SQLite results keyed by point id, written per point; ``load_results(path) -> pandas.DataFrame``
- ``run``       ``run_sweep(points, bases, store_path, executor)``, ``run_space(space, store_path, executor, models)``:
                resume, progress, one base per model setting (``Bases``); InProcess / LocalPool / RayPool executors,
                ``executor_for(workers, kind, address)``
- ``search``    ``search(space, bases, store_path, objectives, executor)``: NSGA-II over the same store
- ``pareto``    ``pareto_front(df, objectives)``, ``plot_pareto``, ``plot_sensitivity``
"""
