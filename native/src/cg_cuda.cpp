// CUDA device queries and memory control. Built against CPU-only libtorch these report no devices and do nothing.
#include "cg_common.h"
#ifdef CG_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

CG_API int32_t cg_cuda_is_available(int32_t* out) { CG_TRY *out = at::hasCUDA() ? 1 : 0; CG_CATCH }

CG_API int32_t cg_cuda_device_count(int32_t* out) {
  CG_TRY
#ifdef CG_WITH_CUDA
  // c10::cuda::device_count is in 1.x and 2.x alike; CUDAHooks' getNumGPUs is gone from newer libtorch.
  *out = at::hasCUDA() ? static_cast<int32_t>(c10::cuda::device_count()) : 0;
#else
  *out = 0;
#endif
  CG_CATCH
}

CG_API int32_t cg_cuda_synchronize(int32_t device) {
  CG_TRY
#ifdef CG_WITH_CUDA
  if (at::hasCUDA()) c10::cuda::device_synchronize();
#endif
  CG_CATCH
}

// Bytes currently allocated to tensors and reserved by the caching allocator on a device.
CG_API int32_t cg_cuda_memory(int32_t device, int64_t* allocated, int64_t* reserved) {
  CG_TRY
  *allocated = 0;
  *reserved = 0;
#ifdef CG_WITH_CUDA
  if (at::hasCUDA()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    auto all = static_cast<size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
    *allocated = stats.allocated_bytes[all].current;
    *reserved = stats.reserved_bytes[all].current;
  }
#endif
  CG_CATCH
}

CG_API int32_t cg_cuda_empty_cache() {
  CG_TRY
#ifdef CG_WITH_CUDA
  if (at::hasCUDA()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  CG_CATCH
}

// Free and total bytes of a device as the driver sees them (other processes included), for the default memory budget.
// Without CUDA both are 0. A failed query (no such device, a broken context) is a status, never an exception.
CG_API int32_t cg_cuda_mem_info(int32_t device, int64_t* free_bytes, int64_t* total_bytes) {
  CG_TRY
  *free_bytes = 0;
  *total_bytes = 0;
#ifdef CG_WITH_CUDA
  if (at::hasCUDA()) {
    if (device < 0 || device >= static_cast<int32_t>(c10::cuda::device_count()))
      return cg::fail(CG_ERR_ARGUMENT, "no such CUDA device");
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    size_t free_now = 0, total = 0;
    cudaError_t status = cudaMemGetInfo(&free_now, &total);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear it, so the next CUDA call does not report this one
      return cg::fail(CG_ERR_TORCH, cudaGetErrorString(status));
    }
    *free_bytes = static_cast<int64_t>(free_now);
    *total_bytes = static_cast<int64_t>(total);
  }
#endif
  CG_CATCH
}
