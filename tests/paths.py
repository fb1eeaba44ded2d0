"""Where the real-data tests find their inputs, and how they skip, saying why, where an input is absent.

``../shared/datasets`` sits beside the clone (as in CI); the ML-1M checkpoint and graph are made by hand (not in git):
    ssr-neuro train --dataset ml-1m --data-dir ../shared/datasets --out runs/ml-1m/model.pt
    ssr-neuro convert runs/ml-1m/model.pt --data-dir ../shared/datasets -o runs/ml-1m/model.graph
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
ML1M_CHECKPOINT = ROOT / "runs" / "ml-1m" / "model.pt"
ML1M_GRAPH = ROOT / "runs" / "ml-1m" / "model.graph"


def shared(relative: str) -> Path:
    """``SHARED / relative``, or skip the test where it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared datasets folder is not beside this clone)")
    return path


def ml1m_checkpoint() -> Path:
    """The trained ML-1M checkpoint and the ML-1M data, or skip."""
    shared("ml-1m")
    if not ML1M_CHECKPOINT.is_file():
        pytest.skip(f"{ML1M_CHECKPOINT} is absent (train it: ssr-neuro train --dataset ml-1m --out {ML1M_CHECKPOINT})")
    return ML1M_CHECKPOINT


def ml1m_graph() -> Path:
    """The converted ML-1M graph and the ML-1M data, or skip."""
    shared("ml-1m")
    if not ML1M_GRAPH.is_file():
        pytest.skip(f"{ML1M_GRAPH} is absent (make it with: ssr-neuro convert runs/ml-1m/model.pt -o {ML1M_GRAPH})")
    return ML1M_GRAPH
