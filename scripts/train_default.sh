#!/usr/bin/env bash
# How the embedded default model was made, start to finish, on a 2-core CPU (hours: see the model card).
# 1. data from installed packages; 2. ASM-loss training at 128 px (cheap: most epochs);
# 3. a 224 px stage from those weights at alpha 0.5; 4. copy weights + PCA + card into the package.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-data}
RUNS=${RUNS:-runs}
asmnet-edge data synth --count 6000 --seed 1 --size 320 --out "$DATA/synth_train"
asmnet-edge data synth --count 500 --seed 2 --size 320 --out "$DATA/synth_test"
asmnet-edge data teacher --out "$DATA/teacher_train" --holdout-out "$DATA/teacher_holdout"
T="$DATA/teacher_train"
# the 489 real teacher-labelled faces are repeated 3x next to 6000 renders
asmnet-edge train --data "$DATA/synth_train" --data "$T" --data "$T" --data "$T" \
  --epochs 14 --steps-per-epoch 100 --batch-size 32 --input-size 128 --out "$RUNS/pre128"
asmnet-edge train --data "$DATA/synth_train" --data "$T" --data "$T" --data "$T" \
  --epochs "${EPOCHS_224:-1}" --steps-per-epoch 100 --batch-size 32 --input-size 224 --lr 3e-4 --asm-alpha 0.5 \
  --init-weights "$RUNS/pre128/last.weights.h5" --out "$RUNS/default224"
dest=asmnet_edge/assets/default
mkdir -p "$dest"
cp "$RUNS/default224/asmnet.weights.h5" "$dest/asmnet68.weights.h5"
cp "$RUNS/default224/pca.npz" "$dest/pca.npz"
cp "$RUNS/default224/config.json" "$dest/config.json"
# 5. export fp16 + calibrated int8 into the package (calibration and fidelity sets mix renders and real faces)
python scripts/mix_folders.py "$DATA/calib_mix" "$DATA/synth_train:200:1" "$DATA/teacher_train:200:2"
python scripts/mix_folders.py "$DATA/eval_mix" "$DATA/synth_test:150:3" "$DATA/teacher_holdout:150:4"
asmnet-edge export --fp16 --int8 --calib "$DATA/calib_mix" --eval "$DATA/eval_mix" --calib-count 400 \
  --eval-count 300 --out "$dest"
python android_demo/sync_model.py
