// Autocast (torch.autocast): inside the scope, matmuls and convolutions run in a lower precision (bf16 on the CPU,
// bf16 or fp16 on CUDA) while the weights stay float32; libtorch picks the dtype per op. The state is thread-local:
// exit on the thread that entered.
#include "cg_common.h"
#include <ATen/autocast_mode.h>

namespace {
struct AutocastState {
  bool cpu_enabled;
  at::ScalarType cpu_dtype;
  bool gpu_enabled;
  at::ScalarType gpu_dtype;
};
}  // namespace

// device_type: 0 CPU, 1 CUDA (cg's device codes); dtype: a cg dtype code (bf16 or fp16).
CG_API int32_t cg_autocast_enter(int32_t device_type, int32_t dtype, void** guard) {
  CG_TRY
  at::ScalarType type = cg::scalar_type(dtype);
  if (type != at::kBFloat16 && type != at::kHalf) throw std::invalid_argument("autocast runs in bf16 or fp16");
  if (device_type == 0 && type != at::kBFloat16) throw std::invalid_argument("CPU autocast runs in bf16 only");
  auto* previous = new AutocastState{at::autocast::is_cpu_enabled(), at::autocast::get_autocast_cpu_dtype(),
                                     at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
  if (device_type == 0) {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(type);
  } else {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(type);
  }
  at::autocast::increment_nesting();
  *guard = previous;
  CG_CATCH
}

CG_API int32_t cg_autocast_exit(void* guard) {
  CG_TRY
  auto* previous = static_cast<AutocastState*>(guard);
  // The cast cache (float32 leaves cast once per scope) lives until the outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(previous->cpu_enabled);
  at::autocast::set_autocast_cpu_dtype(previous->cpu_dtype);
  at::autocast::set_enabled(previous->gpu_enabled);
  at::autocast::set_autocast_gpu_dtype(previous->gpu_dtype);
  delete previous;
  CG_CATCH
}

CG_API int32_t cg_autocast_is_enabled(int32_t device_type, int32_t* out) {
  CG_TRY *out = (device_type == 0 ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled()) ? 1 : 0; CG_CATCH
}
