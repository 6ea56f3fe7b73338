#!/usr/bin/env bash
# Installs dependencies, builds, and runs CharacterGen's default job on an embedded example.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/deps.sh run
./charactergen version
./charactergen inspect tests/Torch.Tests/Fixtures/ops.safetensors
