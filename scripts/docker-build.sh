#!/usr/bin/env bash
# The Dockerfile's build stage, as a script so that scripts/docker-mirror.sh runs exactly the same commands here:
# publishes the self-contained `charactergen` server into OUT_DIR, with the libtorch it was built against beside it
# in OUT_DIR/lib when that libtorch is not the system's (CG_TORCH_PREFIX or CG_TORCH_FROM_PYTHON=1, see
# native/CMakeLists.txt), the web page in OUT_DIR/web (built with Node from web/'s lockfile) and the shipped
# workflows in OUT_DIR/workflows (the Run screen's saved workflows and the character steps).
#   scripts/docker-build.sh OUT_DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:?usage: scripts/docker-build.sh OUT_DIR}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# CG_ONNXRUNTIME_PACKAGE=Microsoft.ML.OnnxRuntime.Gpu.Linux publishes ONNX Runtime with its CUDA provider (needs CUDA
# 13 and cuDNN 9 at run time; docs/depth-and-faces.md); the default is the CPU package.
dotnet publish src/Server/CharacterGen.Server.csproj -c Release -r linux-x64 --self-contained -p:DebugType=none \
  ${CG_ONNXRUNTIME_PACKAGE:+-p:OnnxRuntimePackage=$CG_ONNXRUNTIME_PACKAGE} \
  -o "$out" -nologo -v q "-clp:ErrorsOnly;NoSummary"

# The page's build takes protoc from the Grpc.Tools package the publish just restored.
scripts/build-web.sh
rm -rf "$out/web" "$out/workflows"
cp -r web/dist "$out/web"
cp -r workflows "$out/workflows"

# A PyTorch wheel's libtorch lives in site-packages/torch/lib, its CUDA libraries in site-packages/nvidia/*/lib:
# both go to OUT_DIR/lib (the image sets LD_LIBRARY_PATH to it).
torch_lib=""
if [[ -n "${CG_TORCH_PREFIX:-}" ]]; then
  # a libtorch folder (lib/ inside) or torch.utils.cmake_prefix_path (torch/share/cmake)
  if [[ -d "$CG_TORCH_PREFIX/lib" ]]; then torch_lib="$CG_TORCH_PREFIX/lib"; else torch_lib="$(cd "$CG_TORCH_PREFIX/../.." && pwd)/lib"; fi
elif [[ "${CG_TORCH_FROM_PYTHON:-}" == 1 ]]; then
  torch_lib="$("${CG_PYTHON:-python3}" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
fi
if [[ -n "$torch_lib" ]]; then
  mkdir -p "$out/lib"
  cp -L "$torch_lib"/*.so* "$out/lib/"
  for d in "$torch_lib"/../../nvidia/*/lib; do
    [[ -d "$d" ]] && cp -L "$d"/*.so* "$out/lib/"
  done
fi
echo "published to $out ($(du -sh "$out" | cut -f1))"
