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
# The Lava backend's environment: Python 3.10 with lava-nc and numpy<2 only (no torch), driven as a subprocess
# (../shared/notes/lava.md). Optional: without python3.10 the rest works and the Lava tests skip, saying why.
lava_python() {
  for cand in "${LAVA_PYTHON:-}" python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10; do
    if [ -n "$cand" ] && "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      echo "$cand"; return 0
    fi
  done
  return 1
}
if [ -x .venv-lava/bin/python ] && .venv-lava/bin/python -c "import lava.magma.core.process.process" >/dev/null 2>&1; then
  echo "Lava backend ready in .venv-lava"
elif PY310=$(lava_python); then
  constraints=$(mktemp)
  echo "numpy<2" > "$constraints"
  if "$PY310" -m venv .venv-lava && .venv-lava/bin/python -m pip install -q -c "$constraints" "lava-nc==0.10.0"; then
    echo "Lava backend ready in .venv-lava ($("$PY310" --version))"
  else
    echo "warning: could not install lava-nc into .venv-lava; the Lava backend and its tests are unavailable" >&2
  fi
  rm -f "$constraints"
else
  echo "note: no Python 3.10 found (set LAVA_PYTHON=/path/to/python3.10); the Lava backend and its tests are unavailable" >&2
fi
