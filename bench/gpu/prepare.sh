#!/usr/bin/env bash
# Publishes the bench executable that bench/gpu/run.sh runs on the GPU machine (which has no .NET): self-contained,
# trimmed, into bench/gpu/dist (ignored by git; carried to the machine with the device tool's `carry`). The device
# tool carries at most 64 MiB besides the source tree, so the size is checked here.
#   bench/gpu/prepare.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dist=bench/gpu/dist
limit_mib=64

rm -rf "$dist"
# The libcgtorch.so published with it is built against this machine's libtorch; run.sh replaces it with one built
# against the GPU machine's, so the native build here is only what `dotnet publish` needs to succeed.
dotnet publish bench/Diffusion.Bench/CharacterGen.Diffusion.Bench.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishTrimmed=true -p:DebugType=none -p:GenerateDocumentationFile=false -o "$dist" -nologo -v q "-clp:ErrorsOnly;NoSummary"
rm -f "$dist"/*.pdb "$dist"/*.dbg
size_kib=$(du -sk "$dist" | cut -f1)
echo "bench/gpu/dist: $((size_kib / 1024)) MiB ($(find "$dist" -type f | wc -l) files)"
if ((size_kib > limit_mib * 1024)); then
  echo "bench/gpu/dist is over the device tool's $limit_mib MiB carry limit" >&2
  exit 1
fi
