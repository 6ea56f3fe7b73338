#!/usr/bin/env bash
# Installs dependencies, builds everything (native shim + .NET) and runs every test. .ci/run calls this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/deps.sh test

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build CharacterGen.sln -c Release -nologo -v q "-clp:ErrorsOnly;NoSummary"
scripts/build-web.sh # the page the browser tests drive
# The demo model (trained here; the quality, LoRA-learns and character tests use it), built once before the test
# projects run side by side and cached in output/demo-model by its recipe hash; filtered runs build it on demand.
export CHARACTERGEN_DEMO_MODELS="${CHARACTERGEN_DEMO_MODELS:-$PWD/output/demo-model}"
if (($# == 0)); then ./charactergen make-demo-model --out "$CHARACTERGEN_DEMO_MODELS"; fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test CharacterGen.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log" || status=$?

# The Dockerfile's steps with the CPU libtorch (docker build cannot run here), on full runs only; counted as one test.
mirror_p=0 mirror_f=0
if (($# == 0)) && [[ "${CG_SKIP_DOCKER_MIRROR:-}" != 1 ]]; then
  if scripts/docker-mirror.sh >"$log.docker" 2>&1; then
    tail -1 "$log.docker"; mirror_p=1
  else
    cat "$log.docker"; echo "docker mirror: FAILED"; mirror_f=1; status=1
  fi
  rm -f "$log.docker"
fi

# One closing line for the whole run, summed over the test projects' "Passed!/Failed!" lines.
awk -v p="$mirror_p" -v f="$mirror_f" '/(Passed|Failed)! +- Failed:/ {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' FS='[ ,]+' "$log"
exit "$status"
