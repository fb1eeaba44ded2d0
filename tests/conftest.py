"""Fixtures shared by the test files: the one small SSR-shaped graph builder (``support.ssr_like``), and a data
home kept out of the user's ~/.cache for the CLI tests, and one tiny SSR checkpoint trained by ``ssr-neuro train``
shared by the CLI and pipeline tests. Plain helpers live in ``support.py``."""

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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A checkpoint of SSR trained for one epoch on the synthetic set by ``ssr-neuro train`` with ``test_cli.TINY``
    (made once per test session; tests read it and write their outputs elsewhere)."""
    from ssr_neuro.app.cli import main
    from test_cli import TINY

    path = tmp_path_factory.mktemp("tiny-model") / "model.pt"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SSR_NEURO_HOME", str(tmp_path_factory.getbasetemp() / "ssr-home"))
        assert main(["train", "--out", str(path), "--json", *TINY]) == 0
    return path
