#!/usr/bin/env bash
# Installs dependencies, builds, makes a tiny random-weight SD1.5 checkpoint (with its tokenizer) in a temporary models
# folder and runs the shipped text-to-image workflow on it, small and fast. Needs nothing beside the repository.
# The image is noise-like (the weights are random): it shows the whole path working, not a model.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/deps.sh run
./charactergen version
scripts/build-web.sh # the web page `./charactergen serve` shows at http://127.0.0.1:8188/

models="$(mktemp -d)"
trap 'rm -rf "$models"' EXIT
out="${DEMO_OUT:-$PWD/output/demo}"
./charactergen make-test-checkpoint --family sd15 --out "$models/checkpoints/tiny.safetensors" --seed 1
./charactergen run workflows/txt2img_sd15.json --models "$models" --out "$out" \
  --set 4.ckpt_name=tiny.safetensors --set 3.steps=8 --set 3.seed=42 \
  --set 5.width=128 --set 5.height=128 --set 9.filename_prefix=demo
latest="$(ls -t "$out"/demo_*_.png | head -n 1)"
echo "demo image: $latest"
