#!/usr/bin/env bash
# Runs the Dockerfile's steps here, with Debian's CPU libtorch instead of the CUDA one, since no Docker engine is
# available to build the image: the build stage's script (scripts/docker-build.sh), then the runtime stage's
# behaviour: `serve` as a non-root user from the published folder with the image's environment, answering the
# HEALTHCHECK command (`charactergen health`) and serving the web page at / (with its script) on the HTTP port.
# Differences from the image: loopback instead of 0.0.0.0 (so no API key is needed) and
# free ports instead of 50051/8188. Exit 0 when the probe says SERVING.
#   scripts/docker-mirror.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/deps.sh run

stage="$(mktemp -d /tmp/cg-docker-mirror.XXXXXX)"
server=""
cleanup() {
  if [[ -n "$server" ]]; then
    # runuser stays the parent of the server: stop the server by its id, then runuser.
    for pid in $(pgrep -P "$server") "$server"; do kill "$pid" 2>/dev/null || true; done
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$stage"
}
trap cleanup EXIT

start=$SECONDS
scripts/docker-build.sh "$stage/app"
echo "build stage: $((SECONDS - start)) s"

# The runtime stage: a user without privileges owns only /data; the app and /models are read-only to it.
mkdir -p "$stage/data" "$stage/models"
chmod 755 "$stage"
chmod -R a+rX "$stage/app" "$stage/models"
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  chown nobody "$stage/data"
  as_user=(runuser -u nobody --)
fi
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
grpc_port="$(free_port)" http_port="$(free_port)"
export LD_LIBRARY_PATH="$stage/app/lib"
# As the Dockerfile's ENV, with /app being the published folder.
export CHARACTERGEN_WEBROOT="$stage/app/web" CHARACTERGEN_WORKFLOWSDIR="$stage/app/workflows"
"${as_user[@]}" "$stage/app/charactergen" serve --listen 127.0.0.1 --grpc-port "$grpc_port" --http-port "$http_port" \
  --models "$stage/models" --data "$stage/data" >"$stage/serve.log" 2>&1 &
server=$!

# The HEALTHCHECK's command, retried as Docker's start period would.
for _ in $(seq 60); do
  if "${as_user[@]}" "$stage/app/charactergen" health --address "http://127.0.0.1:$grpc_port" --timeout 2; then
    user="$(ps -o user= -p "$(pgrep -P "$server" -n charactergen || echo "$server")" | tr -d ' ')"
    echo "docker mirror: serve answered SERVING as user '$user' ($((SECONDS - start)) s in all)"
    [[ $(id -u) -ne 0 || $user != root ]] || { echo "serve ran as root" >&2; exit 1; }
    # The page the image serves: index.html at /, its bundle, and a saved workflow for the Run screen.
    /usr/bin/python3 - "http://127.0.0.1:$http_port" <<'PY' || { echo "docker mirror: the web page is not served; log:" >&2; cat "$stage/serve.log" >&2; exit 1; }
import sys, urllib.request
base = sys.argv[1]
get = lambda path: urllib.request.urlopen(base + path, timeout=10)
page = get("/").read().decode()
assert '<script type="module" src="/app.js">' in page, page[:300]
script = get("/app.js")
assert script.headers.get_content_type() == "text/javascript" and len(script.read()) > 10000
assert "txt2img_sd15" in get("/api/workflows").read().decode()
print("docker mirror: GET / serves the web page (index.html, app.js) and the shipped workflows")
PY
    exit 0
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 1
done
echo "docker mirror: the server never answered SERVING; its log:" >&2
cat "$stage/serve.log" >&2
exit 1
