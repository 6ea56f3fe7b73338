#!/usr/bin/env bash
# Builds the web page into web/dist (served by `charactergen serve` at /): npm ci when the lockfile changed, then
# protoc-gen-es + tsc + esbuild. Needs the server built first (its restore brings Grpc.Tools' protoc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../web"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
