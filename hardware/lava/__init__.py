"""The Lava side of the Lava backend: the only package that imports Lava (lava-nc 0.10, Python 3.10, numpy < 2).

- ``core``       numpy only: the program file and what one unit does at one step (shared with the main side)
- ``processes``  the Lava Processes: one ``CoreProcess`` per unit (core or host), ``SourceProcess``, ``SinkProcess``
- ``models``     their ``fixed_pt`` PyLoihiProcessModels (no side effects at import: Lava's compiler executes every
                 file of this folder when it looks for models; the worker names the models explicitly anyway)
- ``worker``     ``python -m hardware.lava.worker PLAN RESULT``: runs a program file in Lava, writes the result

Importing this package imports nothing.
"""
