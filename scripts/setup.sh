#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install ssr-neuro into it.
# torch is installed first, pinned to the CPU build these machines carry (torch==2.13.0, see README);
# pyproject.toml itself keeps an honest range (torch>=2.2). Set SSR_NEURO_TORCH to choose another torch spec.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "${SSR_NEURO_TORCH:-torch==2.13.0}"
fi
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -c "import torch, ssr_neuro; print(f'ssr-neuro {ssr_neuro.__version__} ready (torch {torch.__version__}) in .venv')"
