#!/usr/bin/env bash
# The GPU run (bench/gpu/README.md): builds the shim against this machine's PyTorch libtorch, then runs the published
# bench (bench/gpu/prepare.sh made it, in bench/gpu/dist) against PyTorch on the same device:
#   ops    the SD1.5/SDXL ops on fixed seeded inputs, ours vs PyTorch, per dtype (compare_ops.py)
#   sd15   SD1.5 UNet step with CFG (batch 2), ours vs PyTorch eager, per dtype, with peak memory
#   sdxl   the same for SDXL, then a 30-step sampling run with VAE decode (ours)
# Every part appends to $OUT as it finishes (summary.md is rewritten after each), so a run cut short keeps its results.
#   bench/gpu/run.sh [--cpu] [--dry-run] [--parts ops,sd15,sdxl]
#     --cpu      the rehearsal: CPU, float32/bfloat16, tiny configs at 64×64 pixels, Debian's python3-torch as reference
#     --dry-run  check that every file and tool is in place and print the commands, without running them
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$PWD"

mode=gpu dry=0 parts="ops,sd15,sdxl"
while (($#)); do
  case "$1" in
    --cpu) mode=cpu ;;
    --dry-run) dry=1 ;;
    --parts) parts="$2"; shift ;;
    *) echo "usage: bench/gpu/run.sh [--cpu] [--dry-run] [--parts ops,sd15,sdxl]" >&2; exit 2 ;;
  esac
  shift
done

if [[ $mode == gpu ]]; then
  device=cuda:0
  python="${CG_PYTHON:-python3}"
  op_dtypes="float16 bfloat16 float32"
  # config latent runs dtypes [steps]; the GPU sizes are the issue's: 512² and 1024² images.
  sd15=(sd15 64 20 float16,bfloat16)
  sdxl=(sdxl 128 10 float16,bfloat16 30)
  part_timeout=240
else
  device=cpu
  python="${CG_PYTHON:-/usr/bin/python3}"  # Debian's python3-torch 1.13 (scripts/deps.sh bench)
  op_dtypes="float32 bfloat16"  # libtorch 1.13 has no float16 convolutions on the CPU
  sd15=(sd15-tiny 8 2 float32,bfloat16)
  sdxl=(sdxl-tiny 8 2 float32,bfloat16 30)
  part_timeout=300
fi
out="${OUT:-$repo/bench/gpu/out-$mode}"
work="${TMPDIR:-/tmp}/cg-gpu-run.$$"
app_dist="$repo/bench/gpu/dist"
build="$repo/artifacts/native/gpurun-$mode"
# On a shared 2-core machine two OpenMP threads spin against other jobs (×10 slower), so the rehearsal uses one.
threads="${CG_GPU_THREADS:-$([[ $mode == gpu ]] && nproc || echo 1)}"

run() {  # prints the command; runs it unless --dry-run
  echo "+ $*" >&2
  ((dry)) || "$@"
}

fail=0
note() { echo "$*" | tee -a "$out/log.txt" >&2; }
part_failed() { note "FAILED: $1"; fail=1; }

# --- checks (also the whole of --dry-run) ----------------------------------------------------------------------
missing=0
for f in native/CMakeLists.txt bench/gpu/compare_ops.py bench/gpu/summarize.py bench/Diffusion.Bench/torch_unet.py \
         tests/Diffusion.Tests/Fixtures/make_model_fixtures.py; do
  [[ -f $f ]] || { echo "missing $f" >&2; missing=1; }
done
if [[ ! -x $app_dist/CharacterGen.Diffusion.Bench ]]; then
  echo "missing $app_dist/CharacterGen.Diffusion.Bench: run bench/gpu/prepare.sh first (and carry bench/gpu/dist)" >&2
  ((dry)) || missing=1
fi
command -v cmake >/dev/null || { echo "cmake not found" >&2; missing=1; }
command -v "$python" >/dev/null || { echo "$python not found" >&2; missing=1; }
for f in bench/gpu/compare_ops.py bench/gpu/summarize.py bench/Diffusion.Bench/torch_unet.py; do
  "$python" -m py_compile "$f" 2>/dev/null || "$python" -c "import ast,sys; ast.parse(open(sys.argv[1]).read())" "$f" || missing=1
done
((missing)) && { echo "not ready" >&2; exit 1; }
((dry)) && out="$work/out"  # a dry run's redirections land in a scratch folder
mkdir -p "$out" && rm -f "$out"/unet.jsonl "$out"/ops-*.json "$out"/summary.md && : >"$out/log.txt"  # results of this run only

# --- the shim, against this machine's (Python) libtorch -----------------------------------------------------------
note "mode $mode, device $device, python $python, out $out"
# A CUDA libtorch's cmake config looks for the CUDA toolkit; nvcc is often installed off PATH.
if [[ $mode == gpu ]] && ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
run mkdir -p "$work/app"
if ((!dry)); then
  if ! CG_TORCH_FROM_PYTHON=1 CG_PYTHON="$python" cmake -S native -B "$build" -DCMAKE_BUILD_TYPE=Release >"$out/build.log" 2>&1 \
     || ! cmake --build "$build" -j "$(nproc)" >>"$out/build.log" 2>&1; then
    note "the shim did not build; see build.log"; tail -30 "$out/build.log" >&2; exit 1
  fi
  grep -m1 "cgtorch: libtorch" "$out/build.log" | tee -a "$out/log.txt"
else
  echo "+ CG_TORCH_FROM_PYTHON=1 CG_PYTHON=$python cmake -S native -B $build && cmake --build $build" >&2
fi
# A copy of the published bench with the shim just built beside it (the published one was built against Debian's).
run cp -a "$app_dist/." "$work/app/"
run cp "$build/libcgtorch.so" "$work/app/libcgtorch.so"
torch_lib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null || true)"
export LD_LIBRARY_PATH="$work/app${torch_lib:+:$torch_lib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_gcServer=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 CHARACTERGEN_THREADS="$threads"
app="$work/app/CharacterGen.Diffusion.Bench"

if ((!dry)); then
  { "$python" -c 'import json, torch; print(json.dumps(dict(torch=torch.__version__, cuda=torch.version.cuda,
      device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")))'
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  } >"$out/env.txt" 2>&1
fi
summarize() { ((dry)) || "$python" bench/gpu/summarize.py "$out" "$mode" >"$out/summary.md" 2>>"$out/log.txt"; }

# --- the parts ------------------------------------------------------------------------------------------------------
for part in ${parts//,/ }; do
  start=$SECONDS
  case "$part" in
    ops)
      for dt in $op_dtypes; do
        run timeout "$part_timeout" "$app" gpu ops "$work/ops-$dt.safetensors" "$device" "$dt" || { part_failed "ops $dt (ours)"; continue; }
        run timeout "$part_timeout" "$python" bench/gpu/compare_ops.py "$work/ops-$dt.safetensors" --json "$out/ops-$dt.json" \
          >>"$out/log.txt" || part_failed "ops $dt (outside tolerance or error; see ops-$dt.json)"
        run rm -f "$work/ops-$dt.safetensors"
      done ;;
    sd15 | sdxl)
      declare -n spec="$part"
      config=${spec[0]} latent=${spec[1]} runs=${spec[2]} dtypes=${spec[3]} steps=${spec[4]:-0}
      # PyTorch first, then ours: each side holds a full set of weights, and the two must not overlap in memory.
      run timeout "$part_timeout" "$python" bench/Diffusion.Bench/torch_unet.py "$repo" "$threads" --config="$config" \
        --device="$device" --dtype="$dtypes" --lines "$latent:$runs" >>"$out/unet.jsonl" || part_failed "$part (pytorch)"
      run timeout "$part_timeout" "$app" gpu unet "$config" "$latent" "$runs" "$device" "$dtypes" "$steps" \
        >>"$out/unet.jsonl" || part_failed "$part (ours)"
      unset -n spec ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
  note "$part: $((SECONDS - start)) s"
  summarize
done
rm -rf "$work"
if ((dry)); then echo "dry run: ready ($mode)"; exit 0; fi
((fail)) && { note "finished with failures (summary.md)"; exit 1; }
note "finished (summary.md)"
