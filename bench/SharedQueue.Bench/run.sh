#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's postgresql package: initdb/pg_ctl, trust auth, fsync off as in the tests),
# runs the shared-queue bench against it (JOBS, default 10000; worker counts, default 1 2 4) and stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/cg-bench-pg-XXXXXX)
port=$((20000 + RANDOM % 20000))
as=()
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; as=(runuser -u postgres --); fi
"${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -l "$dir/log" -w start >/dev/null
trap '"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null; rm -rf "$dir"' EXIT
dotnet run -c Release --project bench/SharedQueue.Bench -- "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" "${@:-10000}" ${WORKERS:-}
