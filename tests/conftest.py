"""Fixtures shared by the test files: the one small SSR-shaped graph builder (``support.ssr_like``), and a data
home kept out of the user's ~/.cache for the CLI tests. Plain helpers live in ``support.py``."""

import pytest

from support import ssr_like


@pytest.fixture
def ssr_graph():
    """The graph builder: ``ssr_graph(n_items, dim, blocks, max_len=20, time_steps=4, seed=0, hidden=None,
    scale=0.1, meta=None)`` -> a validated SSR-shaped NeuroGraph (see ``support.ssr_like``)."""
    return ssr_like


@pytest.fixture
def isolated_home(tmp_path_factory, monkeypatch):
    """SSR_NEURO_HOME in the session's temporary folder: no test reads or writes the real ~/.cache/ssr-neuro."""
    home = tmp_path_factory.getbasetemp() / "ssr-home"
    monkeypatch.setenv("SSR_NEURO_HOME", str(home))
    return home
