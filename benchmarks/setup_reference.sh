#!/usr/bin/env bash
# Creates benchmarks/.venv-ref: an isolated environment for the reconstruction of the SSR authors'
# reference implementation (benchmarks/reference_ssr.py). Ignored by git: it holds its own "*" .gitignore.
#
# torch==2.13.0 is installed FIRST and alone: on these machines that exact pin resolves to a local CPU
# build; an unpinned torch would pull a multi-GB CUDA build.
# spikingjelly==0.0.0.0.14 is the version the authors' code was built on (serenRec commit 0c85847).
# It is installed with --no-deps so that it cannot drag in another torch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-ref"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# Self-ignoring venv (what Python >= 3.13's venv does by itself): keeps it out of git even where the
# repository's .gitignore has no pattern for it.
printf '# created by benchmarks/setup_reference.sh\n*\n' > "$venv/.gitignore"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "torch==2.13.0"
"$venv/bin/python" -m pip install --quiet numpy pandas
# spikingjelly 0.0.0.0.14's runtime imports used here (activation_based.neuron/layer/functional/surrogate)
# only need torch and numpy; its declared deps (matplotlib, scipy, torchvision, tqdm, ...) are not used, and
# torchvision would pull another torch. pip may print that those declared deps are missing: expected.
"$venv/bin/python" -m pip install --quiet --no-deps "spikingjelly==0.0.0.0.14"
"$venv/bin/python" - <<'PY'
import torch, spikingjelly, numpy, pandas
from importlib.metadata import version
from spikingjelly.activation_based import neuron, functional, surrogate  # noqa: F401
print("torch", torch.__version__, "| spikingjelly", version("spikingjelly"),
      "| numpy", numpy.__version__, "| pandas", pandas.__version__)
PY
