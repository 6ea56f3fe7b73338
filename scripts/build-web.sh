#!/usr/bin/env bash
# Builds the web page into web/dist (served by `charactergen serve` at /): npm ci when the lockfile changed, then
# protoc-gen-es + tsc + esbuild. Needs the server built first (its restore brings Grpc.Tools' protoc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../web"
# package.json's engines: esbuild needs Node 18; 18.19 is what Ubuntu 24.04 (the Docker build stage) ships, Debian 12 18.20.
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 18 || (major === 18 && minor >= 19) ? 0 : 1)'; then
  echo "build-web: Node $(node --version) is too old; the web page needs 18.19 or later (Debian 12's nodejs is 18.20)" >&2
  exit 1
fi
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
