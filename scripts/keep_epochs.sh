#!/usr/bin/env bash
# Keep a copy of every finished epoch's weights of a training run (the loop keeps only the last), for
# weight averaging (scripts/average_weights.py). Run beside the training, in the background:
#   nohup bash scripts/keep_epochs.sh runs/main128b runs/main128b_epochs &
# A new row in the run's log.csv means last.weights.h5 was just written (it is saved before the log).
set -euo pipefail
run=$1
out=$2
mkdir -p "$out"
while true; do
  if [ -f "$run/log.csv" ]; then
    epoch=$(tail -1 "$run/log.csv" | cut -d, -f1)
    target="$out/e$epoch.weights.h5"
    if [ "$epoch" != epoch ] && [ ! -f "$target" ]; then
      cp "$run/last.weights.h5" "$target.tmp" && mv "$target.tmp" "$target"
    fi
  fi
  sleep 20
done
