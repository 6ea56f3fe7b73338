#!/usr/bin/env bash
# The character flow over REST with curl (the JSON routes transcoded from characters.proto): create, regenerate,
# approve, training set (watched until done), delete one image and regenerate another, train (watched), three scenes.
# Usage: character_flow.sh http://127.0.0.1:8188 [images] [steps]. Prints the final character as JSON; exit 0 when READY.
# Optional environment (JSON where noted): DESCRIPTION, TRIGGER, VARIATIONS (JSON array of custom variation prompts),
# VARIATION_STRENGTH, REGENERATE_PROMPT, TRAIN (JSON object of extra TrainRequest fields, e.g. {"learningRate": 0.003}),
# SCENES (JSON array of scene prompts), OUT (a folder: the approved base image and each scene are saved there as PNG,
# scenes also with the LoRA all but off, as scene-N-without-lora.png).
set -euo pipefail
base=${1:?server address}
images=${2:-6}
steps=${3:-4}
description=${DESCRIPTION:-a knight with red hair}
variations=${VARIATIONS:-[]}
regenerate_prompt=${REGENERATE_PROMPT:-character waving}
train=${TRAIN:-}; [ -n "$train" ] || train='{}'
scenes=${SCENES:-'["in a forest", "on a beach", "in a city at night"]'}
out=${OUT:-}
inline=$([ -n "$out" ] && echo true || echo false)
py() { /usr/bin/python3 -c "import json,sys,base64,os; d=json.load(sys.stdin); a=sys.argv[2:]; r=eval(sys.argv[1]); print(r if r is not None else '')" "$@"; }
post() { curl -sS --fail-with-body -X POST "$base$1" -H 'Content-Type: application/json' -d "$2"; }
body() { echo '{}' | py "json.dumps($1)" "${@:2}"; }  # a JSON body built in Python from the arguments a[0], a[1], ...
save() {  # reads the response on stdin either way, so the echo feeding it never meets a closed pipe
  if [ -z "$out" ]; then cat > /dev/null; else py "open(os.path.join(a[0], a[1] + '.png'), 'wb').write(base64.b64decode($1)) and None" "$out" "$2" > /dev/null; fi
}

created=$(post /v1/characters "$(body '{"description": a[0], "triggerWord": a[1], "render": {"seed": 7}}' "$description" "${TRIGGER:-}")")
id=$(echo "$created" | py 'd["character"]["characterId"]')
regenerated=$(post "/v1/characters/$id:regenerate" "{\"render\": {\"seed\": 8}, \"inlineImages\": $inline}")
echo "$regenerated" | save 'd["candidate"]["image"]["content"]' approved
candidate=$(echo "$regenerated" | py 'd["candidate"]["candidateId"]')
post "/v1/characters/$id:approve" "{\"candidateId\": \"$candidate\"}" > /dev/null
post "/v1/characters/$id/trainingImages:generate" \
  "$(body '{"count": int(a[0]), "customPrompts": json.loads(a[1]), "variationStrength": float(a[2]), "render": {"seed": 100}}' "$images" "$variations" "${VARIATION_STRENGTH:-0}")" > /dev/null
curl -sS --fail-with-body "$base/v1/characters/$id:watch?untilIdle=true" > /dev/null   # streams until the set is done
list=$(curl -sS --fail-with-body "$base/v1/characters/$id/trainingImages")
last=$(echo "$list" | py 'd["trainingImages"][-1]["trainingImageId"]')
first=$(echo "$list" | py 'd["trainingImages"][0]["trainingImageId"]')
curl -sS --fail-with-body -X DELETE "$base/v1/characters/$id/trainingImages/$last" > /dev/null
post "/v1/characters/$id/trainingImages/$first:regenerate" "$(body '{"prompt": a[0], "render": {"seed": 200}}' "$regenerate_prompt")" > /dev/null
post "/v1/characters/$id:train" "$(body '{"steps": int(a[0]), "rank": 4, **json.loads(a[1])}' "$steps" "$train")" > /dev/null
curl -sS --fail-with-body "$base/v1/characters/$id:watch?untilIdle=true" > /dev/null   # streams until training ends
count=$(echo "$scenes" | py 'len(d)')
for ((i = 0; i < count; i++)); do
  prompt=$(echo "$scenes" | py 'd[int(a[0])]' "$i")
  scene=$(post "/v1/characters/$id/scenes" "$(body '{"prompt": a[0], "render": {"seed": int(a[1])}, "inlineImages": a[2] == "true"}' "$prompt" $((i + 1)) "$inline")")
  echo "$scene" | py 'd["image"]["assetId"]'
  echo "$scene" | save 'd["image"]["content"]' "scene-$((i + 1))"
  if [ -n "$out" ]; then   # loraStrength 0 means 1.0, so "off" is a strength too small to change a pixel
    post "/v1/characters/$id/scenes" "$(body '{"prompt": a[0], "render": {"seed": int(a[1])}, "loraStrength": 1e-6, "inlineImages": True}' "$prompt" $((i + 1)))" \
      | save 'd["image"]["content"]' "scene-$((i + 1))-without-lora"
  fi
done
character=$(curl -sS --fail-with-body "$base/v1/characters/$id")
echo "$character"
[ "$(echo "$character" | py 'd["state"]')" = CHARACTER_STATE_READY ]
