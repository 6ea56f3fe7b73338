#!/usr/bin/env bash
# Installs dependencies, builds, trains the small demo model (coloured shapes, 64×64; cached in output/demo-model, so
# only the first run trains it) and runs the shipped text-to-image workflow on it: the PNG shows what the prompt names.
# DEMO_PROMPT changes the prompt ("a {colour} {shape}[ on a {background} background]", words in README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/deps.sh run
./charactergen version
scripts/build-web.sh # the web page `./charactergen serve` shows at http://127.0.0.1:8188/

models="${CHARACTERGEN_DEMO_MODELS:-$PWD/output/demo-model}"
out="${DEMO_OUT:-$PWD/output/demo}"
prompt="${DEMO_PROMPT:-a yellow star on a black background}"
./charactergen make-demo-model --out "$models"
./charactergen run workflows/txt2img_sd15.json --models "$models" --out "$out" \
  --set 4.ckpt_name=demo-shapes.safetensors --set "6.text=$prompt" --set '7.text=""' \
  --set 3.steps=20 --set 3.cfg=5.0 --set 3.sampler_name=euler --set 3.scheduler=normal --set 3.seed=42 \
  --set 5.width=64 --set 5.height=64 --set 9.filename_prefix=demo
latest="$(ls -t "$out"/demo_*_.png | head -n 1)"
echo "demo image ($prompt): $latest"
