#!/bin/sh
# Soak acceptance of issue #10 (see Program.cs for the options): builds the server and the bench (Release), then runs
# 1,000 sequential tiny jobs (HTTP and gRPC alternating) and 1,000 concurrent Watch streams against `charactergen serve`.
#
#   bench/Soak.Bench/run.sh [--jobs N] [--job-minutes M] [--watchers N] [--keep]
set -eu
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release src/Server/CharacterGen.Server.csproj -nologo -v q "-clp:ErrorsOnly;NoSummary"
dotnet build -c Release bench/Soak.Bench -nologo -v q "-clp:ErrorsOnly;NoSummary"
exec dotnet artifacts/bin/CharacterGen.Soak.Bench/release/CharacterGen.Soak.Bench.dll "$@"
