"""A Lava run that crashes inside Lava, or runs past its timeout, leaves no process and no /dev/shm segment behind
and says what happened (skipped, saying why, where .venv-lava is absent)."""

import os
from pathlib import Path

import numpy as np
import pytest

from hardware.lava_backend import LavaError, lava_python, run_worker, write_plan
from hardware.program import compile_program
from mapping import map_graph
from ssr_neuro.errors import UserError
from test_hardware_engine import tiny_chip, tiny_graph

pytestmark = pytest.mark.skipif(lava_python() is None, reason=".venv-lava is absent (./scripts/setup.sh makes it "
                                                               "where python3.10 exists)")
SHM = Path("/dev/shm")


def _program():
    chip = tiny_chip()
    graph = tiny_graph()
    return compile_program(graph, map_graph(graph, chip, strategy="greedy"), chip)


def _processes_with(text: str) -> list[int]:
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(int(pid))
        except OSError:
            pass
    return out


def _run(tmp_path, history, length, timeout_s):
    plan = tmp_path / "plan.npz"
    write_plan(_program(), history, length, plan)
    before = set(os.listdir(SHM))
    with pytest.raises((LavaError, UserError)) as info:
        run_worker(plan, tmp_path / "result.npz", timeout_s, tmp_path / "worker.log")
    assert not _processes_with(str(plan)), "a Lava process outlived the run"
    assert set(os.listdir(SHM)) - before == set(), "the run left shared memory behind"
    assert not (tmp_path / "result.npz").exists()
    return info.value


def test_a_crash_inside_lava_leaves_nothing_behind(tmp_path):
    # item 7 does not exist (3 items): the core holding the embedding fails inside run_spk, in a Lava child
    err = _run(tmp_path, np.array([[7, 1]]), np.array([2]), timeout_s=120)
    assert isinstance(err, LavaError) and "IndexError" in str(err)


def test_a_timeout_ends_every_lava_process(tmp_path):
    n = 20000  # about a minute of Lava steps: the 5 s timeout hits while every process runs
    err = _run(tmp_path, np.tile([[2, 1]], (n, 1)), np.full(n, 2), timeout_s=5)
    assert isinstance(err, UserError) and "longer than 5 s" in str(err)
