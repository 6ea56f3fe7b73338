#!/usr/bin/env bash
# The character flow over REST with curl (the JSON routes transcoded from characters.proto): create, regenerate,
# approve, training set (watched until done), delete one image and regenerate another, train (watched), three scenes.
# Usage: character_flow.sh http://127.0.0.1:8188 [images] [steps]. Prints the final character as JSON; exit 0 when READY.
set -euo pipefail
base=${1:?server address}
images=${2:-6}
steps=${3:-4}
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }
post() { curl -sS --fail-with-body -X POST "$base$1" -H 'Content-Type: application/json' -d "$2"; }

created=$(post /v1/characters '{"description": "a knight with red hair", "render": {"seed": 7}}')
id=$(echo "$created" | json 'd["character"]["characterId"]')
candidate=$(post "/v1/characters/$id:regenerate" '{}' | json 'd["candidate"]["candidateId"]')
post "/v1/characters/$id:approve" "{\"candidateId\": \"$candidate\"}" > /dev/null
post "/v1/characters/$id/trainingImages:generate" "{\"count\": $images}" > /dev/null
curl -sS --fail-with-body "$base/v1/characters/$id:watch?untilIdle=true" > /dev/null   # streams until the set is done
list=$(curl -sS --fail-with-body "$base/v1/characters/$id/trainingImages")
last=$(echo "$list" | json 'd["trainingImages"][-1]["trainingImageId"]')
first=$(echo "$list" | json 'd["trainingImages"][0]["trainingImageId"]')
curl -sS --fail-with-body -X DELETE "$base/v1/characters/$id/trainingImages/$last" > /dev/null
post "/v1/characters/$id/trainingImages/$first:regenerate" '{"prompt": "character waving"}' > /dev/null
post "/v1/characters/$id:train" "{\"steps\": $steps, \"rank\": 4}" > /dev/null
curl -sS --fail-with-body "$base/v1/characters/$id:watch?untilIdle=true" > /dev/null   # streams until training ends
for prompt in "in a forest" "on a beach" "in a city at night"; do
  post "/v1/characters/$id/scenes" "{\"prompt\": \"$prompt\"}" | json 'd["image"]["assetId"]'
done
character=$(curl -sS --fail-with-body "$base/v1/characters/$id")
echo "$character"
[ "$(echo "$character" | json 'd["state"]')" = CHARACTER_STATE_READY ]
