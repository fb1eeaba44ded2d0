#!/usr/bin/env bash
# Test HR/NDCG/MRR@10 of SSR (epoch selected on validation MRR@10) and of POP on MovieLens-100K and -1M, ufo split,
# defaults (L 20, D 64, 2 blocks, T 4, batch 128, Adam 1e-3). Writes runs/<dataset>/{model.pt,train.json,train.log}.
#   bash benchmarks/quality.sh                 # 20 epochs each (the reference's budget)
#   EPOCHS_1M=6 bash benchmarks/quality.sh     # a shorter ML-1M budget
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/datasets}
THREADS=${THREADS:-2}
for ds in ${DATASETS:-ml-100k ml-1m}; do
  epochs=${EPOCHS:-20}
  [ "$ds" = ml-1m ] && epochs=${EPOCHS_1M:-$epochs}
  mkdir -p "runs/$ds"
  /usr/bin/time -v .venv/bin/ssr-neuro train --dataset "$ds" --data-dir "$DATA" --epochs "$epochs" \
      --threads "$THREADS" --out "runs/$ds/model.pt" --force --json \
      >"runs/$ds/train.json" 2>"runs/$ds/train.log"
  .venv/bin/ssr-neuro evaluate --baseline pop --dataset "$ds" --data-dir "$DATA" --json >"runs/$ds/pop.json" 2>/dev/null
  echo "$ds: $(cat "runs/$ds/train.json")"
done
