#!/bin/sh
# gRPC transport bench: our server and a Python grpcio server, each in its own process, measured by the
# same client (bench/Grpc.Bench client mode). Prints markdown rows for bench/RESULTS.md.
#
#   bench/Grpc.Bench/run.sh [calls=10000] [events=200000]
set -eu
cd "$(dirname "$0")/../.."
CALLS=${1:-10000}
EVENTS=${2:-200000}
WARMUP=${WARMUP:-30000}   # calls before measuring: steady state, after the JIT has tiered up the hot paths
OURS_PORT=50151
PEER_PORT=50152
WATCH_EVENTS=100000

dotnet build -c Release bench/Grpc.Bench -v q -nologo >/dev/null
BENCH="dotnet artifacts/bin/CharacterGen.Grpc.Bench/release/CharacterGen.Grpc.Bench.dll"
FIFO_DIR=$(mktemp -d)
trap 'rm -rf "$FIFO_DIR"' EXIT

# start NAME COMMAND...: runs a server with stdin on a fifo (closing it stops the server), waits for READY.
start() {
    name=$1; shift
    mkfifo "$FIFO_DIR/$name.in"
    "$@" <"$FIFO_DIR/$name.in" >"$FIFO_DIR/$name.out" 2>&1 &
    exec 3>"$FIFO_DIR/$name.in"   # hold the write end open
    while ! grep -q READY "$FIFO_DIR/$name.out" 2>/dev/null; do
        if ! kill -0 $! 2>/dev/null; then cat "$FIFO_DIR/$name.out"; exit 1; fi
        sleep 0.2
    done
}
stop() { exec 3>&-; wait; }

echo "| server | unary p50 | unary p99 | unary mean | stream, median of 3 | stream, best of 3 |"
echo "|---|---:|---:|---:|---:|---:|"

start ours $BENCH serve --port $OURS_PORT --watch-events $WATCH_EVENTS
JOB=$(sed -n 's/^READY watch_job=//p' "$FIFO_DIR/ours.out")
$BENCH client --address 127.0.0.1:$OURS_PORT --label "CharacterGen (Grpc.AspNetCore)" \
    --calls "$CALLS" --events "$EVENTS" --warmup "$WARMUP" --watch-job "$JOB" --watch-events $WATCH_EVENTS
stop

# google/api/*.proto (imported by the charactergen protos for JSON transcoding) from the restored NuGet package.
API_PROTOS=${NUGET_PACKAGES:-$HOME/.nuget/packages}/google.api.commonprotos/2.17.0/content/protos
start peer /usr/bin/python3 bench/Grpc.Bench/python_server.py --port $PEER_PORT --protos protos --bench-protos bench/Grpc.Bench/protos --api-protos "$API_PROTOS"
$BENCH client --address 127.0.0.1:$PEER_PORT --label "Python grpcio $(/usr/bin/python3 -c 'import grpc; print(grpc.__version__)') (sync server, 8 threads)" \
    --calls "$CALLS" --events "$EVENTS" --warmup "$WARMUP"
stop
