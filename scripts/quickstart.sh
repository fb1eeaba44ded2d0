#!/usr/bin/env bash
# The main job on the built-in synthetic dataset (no download): train SSR and evaluate it next to POP, convert it to
# a fixed-point graph (quality against float), map the graph onto the 45 nm chip, simulate the test set on it.
# Outputs in runs/quickstart/ (or the folder given as $1). Run ./scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/quickstart}"
B=.venv/bin/ssr-neuro
$B train --epochs 7 --out "$OUT/model.pt" --force
$B convert "$OUT/model.pt" -o "$OUT/model.graph" --force
$B map "$OUT/model.graph" --chip 45nm -o "$OUT/mapping.json" --plot "$OUT/mesh.png" --force
$B simulate "$OUT/model.graph" --chip 45nm --mapping "$OUT/mapping.json" --csv "$OUT/simulation.csv" --plot "$OUT/plots" --force
