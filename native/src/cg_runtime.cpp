// Library-wide concerns: API version, last error, handle bookkeeping, dtype/device codes, threads.
#include "cg_common.h"
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <atomic>
#include <cstdlib>
#include <cstring>

// Bumped whenever an export changes signature; checked by the C# loader.
static constexpr int32_t CG_API_VERSION = 1;

static thread_local std::string g_last_error;
static std::atomic<int64_t> g_live{0};

namespace cg {

int32_t fail(int32_t status, const char* message) {
  g_last_error = message ? message : "";
  return status;
}

int64_t live_tensors() { return g_live.load(std::memory_order_relaxed); }

cg_tensor wrap(at::Tensor t) {
  auto* p = new at::Tensor(std::move(t));
  g_live.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void release(cg_tensor h) {
  if (h == nullptr) return;
  delete static_cast<at::Tensor*>(h);
  g_live.fetch_sub(1, std::memory_order_relaxed);
}

// dtype codes shared with src/Tensors/DType.cs. Our own numbering, so the ABI does not depend on
// c10::ScalarType's values, which differ between libtorch versions.
at::ScalarType scalar_type(int32_t code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kHalf;
    case 2: return at::kBFloat16;
    case 3: return at::kDouble;
    case 4: return at::kLong;
    case 5: return at::kInt;
    case 6: return at::kShort;
    case 7: return at::kChar;
    case 8: return at::kByte;
    case 9: return at::kBool;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}

int32_t dtype_code(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return 0;
    case at::kHalf: return 1;
    case at::kBFloat16: return 2;
    case at::kDouble: return 3;
    case at::kLong: return 4;
    case at::kInt: return 5;
    case at::kShort: return 6;
    case at::kChar: return 7;
    case at::kByte: return 8;
    case at::kBool: return 9;
    default: return -1;
  }
}

at::Device device(int32_t type, int32_t index) {
  switch (type) {
    case 0: return at::Device(at::kCPU);
    case 1: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw std::invalid_argument("unknown device type " + std::to_string(type));
}

at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(device_type, device_index));
}

}  // namespace cg

CG_API int32_t cg_api_version() { return CG_API_VERSION; }

// Copies the calling thread's last error message into buf (always NUL-terminated); returns its full length.
CG_API int64_t cg_last_error(char* buf, int64_t len) {
  const std::string& m = g_last_error;
  if (buf != nullptr && len > 0) {
    size_t n = std::min(static_cast<size_t>(len - 1), m.size());
    std::memcpy(buf, m.data(), n);
    buf[n] = '\0';
  }
  return static_cast<int64_t>(m.size());
}

CG_API int64_t cg_live_tensors() { return cg::live_tensors(); }

CG_API int32_t cg_torch_version(char* buf, int64_t len) {
  CG_TRY
  std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                  std::to_string(TORCH_VERSION_PATCH);
  std::snprintf(buf, static_cast<size_t>(len), "%s", v.c_str());
  CG_CATCH
}

// The compile-time switches this library was built with (CMakeLists.txt), comma-separated: "sdpa", "float8", "cuda".
CG_API int32_t cg_build_features(char* buf, int64_t len) {
  CG_TRY
#ifndef CG_FEATURES
#define CG_FEATURES ""
#endif
  std::snprintf(buf, static_cast<size_t>(len), "%s", CG_FEATURES);
  CG_CATCH
}

CG_API int32_t cg_cpu_capability(char* buf, int64_t len) {
  CG_TRY
  // libtorch 1.13 does not export its own query, so decide as its dispatcher does: the ATEN_CPU_CAPABILITY
  // override first, else the best kernel set the CPU supports (AVX-512 needs F, BW, VL and DQ).
  const char* name = "default";
  const char* env = std::getenv("ATEN_CPU_CAPABILITY");
  if (env != nullptr && *env != '\0') {
    name = env;
  } else {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
      name = "avx512";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      name = "avx2";
#endif
  }
  std::snprintf(buf, static_cast<size_t>(len), "%s", name);
  CG_CATCH
}

CG_API int32_t cg_set_num_threads(int32_t n) {
  CG_TRY
  if (n < 1) throw std::invalid_argument("thread count must be at least 1");
  at::set_num_threads(n);
  CG_CATCH
}

CG_API int32_t cg_get_num_threads(int32_t* out) {
  CG_TRY *out = at::get_num_threads(); CG_CATCH
}
