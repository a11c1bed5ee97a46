#!/bin/bash
# FedCP on FMNIST20 (cnn4 / PFLlib's CNN, 20 clients, lr 0.01, batch 10): PFLlib and FedLoom at the same time,
# 1 thread each, so their seconds per round compare (bench/results/pfllib_side_by_side.json holds one run).
# Needs a PFLlib checkout (PFLLIB=path; its system/main.py imports every server, so PFLLIB_SITE must hold
# scikit-learn, scipy, joblib, threadpoolctl, cloudpickle, narwhals, h5py and calmsize, and FedPAC's cvxpy
# import be made optional) and bench/data/fmnist20 (make bench/data/fmnist20/config.json).
# Usage: PFLLIB=~/PFLlib PFLLIB_SITE=/tmp/pflsite bench/pfllib_side_by_side.sh [PFLLIB_ROUNDS] [OUR_ROUNDS]
# Our run is given more rounds so that it is still running when PFLlib's ends (ours is faster).
set -eu
ROUNDS=${1:-15}
OURS=${2:-28}
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$PFLLIB/dataset" && ln -sfn "$REPO/bench/data/fmnist20" "$PFLLIB/dataset/FMNIST20"
( cd "$PFLLIB/system" && OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH="$PFLLIB_SITE" \
  "$REPO/.venv/bin/python" main.py -data FMNIST20 -m CNN -algo FedCP -gr $((ROUNDS - 1)) -dev cpu -nc 20 \
  -lr 0.01 -lbs 10 -ncl 10 > "$REPO/bench/results/runs/side_pfllib.log" 2>&1 ) &
( cd "$REPO" && OMP_NUM_THREADS=1 .venv/bin/fedloom simulate --algorithm fedcp --dataset pfl:bench/data/fmnist20 \
  --models cnn4 --rounds "$OURS" --threads 1 --lr 0.01 --batch-size 10 --out bench/results/runs/side_fedloom --quiet ) &
wait
echo "PFLlib seconds per round: lines of 50 dashes in bench/results/runs/side_pfllib.log;" \
     "FedLoom's: bench/results/runs/side_fedloom/metrics.jsonl"
