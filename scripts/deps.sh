#!/usr/bin/env bash
# Installs what CharacterGen needs on Debian 12, idempotently: nothing is fetched when all is present.
#   scripts/deps.sh run     build and run (libtorch, OpenBLAS, cmake, g++, libvips, Node/npm for the web page)
#   scripts/deps.sh test    + the real gRPC/WebSocket clients the tests drive (Python grpcio, Node), chromium for the page's tests
#   scripts/deps.sh bench   + PyTorch 1.13 for the side-by-side benchmarks and fixture scripts, OpenCV for the ONNX fixtures' references
set -euo pipefail
profile="${1:-run}"

packages=(libtorch-dev libopenblas0-openmp cmake g++ libvips42 libsqlite3-0)
case "$profile" in
  run) ;;
  test) packages+=(python3-grpcio python3-grpc-tools python3-websocket postgresql chromium curl) ;; # postgresql: the job store's PostgreSQL tests; chromium: the web page's browser tests; curl: the character flow script
  bench) packages+=(python3-torch python3-opencv python3-grpcio python3-grpc-tools) ;;
  *) echo "usage: scripts/deps.sh [run|test|bench]" >&2; exit 2 ;;
esac
# Node (the web page's build, the @grpc/grpc-js client tests): Debian's packages unless a node is already installed.
if [[ "$profile" != bench ]] && ! command -v node >/dev/null; then packages+=(nodejs npm); fi
if [[ "$profile" != bench ]] && command -v node >/dev/null && ! command -v npm >/dev/null; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then echo "run as root (apt-get install ${missing[*]})" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "the .NET 10 SDK is required and is not in Debian's archive: install it from" >&2
  echo "https://learn.microsoft.com/dotnet/core/install/linux-debian, then run this again." >&2
  exit 1
fi
