// A caching CPU allocator for libtorch's tensors (issue #18). libtorch's default CPU allocator hands every block to
// malloc and back on free; glibc serves large blocks with fresh mmaps (or trims them off the heap), so each UNet call
// faults all of its activations in again, one 4 KiB page at a time: ~6,100 minor faults for one 24 MiB tensor, every
// call, whatever mmap/trim thresholds are set (measured). This allocator keeps freed blocks of 1 MiB and up for the
// next request of about the same size, so a steady workload stops faulting. Smaller blocks go straight to malloc.
// Not advised as transparent huge pages: measured, MADV_HUGEPAGE made loading SD1.5 as float32 take 18–53 s instead
// of 5–7 s on this host (the kernel zeroes and places 2 MiB pages synchronously). cg_memory_trim (POST /free) empties the cache; the
// cache also stays under a byte cap, and a failed allocation empties it and retries once.
#include "cg_common.h"
#include <c10/core/CPUAllocator.h>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

namespace {

constexpr size_t kSmallAlignment = 64;  // what c10's own allocator guarantees
constexpr size_t kCachedFrom = size_t{1} << 20;
constexpr size_t kGranule = size_t{64} << 10;  // sizes round up to this, so near sizes share blocks

std::mutex g_mutex;
std::unordered_map<void*, size_t> g_large;  // live large blocks → their (rounded) size
std::multimap<size_t, void*> g_free;        // cached large blocks by size
size_t g_cached = 0;
size_t g_cap = 0;
bool g_installed = false;

void release_cached_locked(std::multimap<size_t, void*>::iterator it) {
  g_cached -= it->first;
  std::free(it->second);
  g_free.erase(it);
}

void trim_locked() {
  while (!g_free.empty()) release_cached_locked(g_free.begin());
}

void* large_block(size_t n) {
  if (n > SIZE_MAX - kGranule) throw std::bad_alloc();
  size_t size = (n + kGranule - 1) / kGranule * kGranule;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    // The smallest cached block that fits, if it wastes at most a quarter.
    auto it = g_free.lower_bound(size);
    if (it != g_free.end() && it->first <= size + size / 4) {
      void* p = it->second;
      size_t have = it->first;
      g_cached -= have;
      g_free.erase(it);
      g_large.emplace(p, have);
      return p;
    }
  }
  void* p = nullptr;
  if (posix_memalign(&p, kSmallAlignment, size) != 0) {
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      trim_locked();
    }
    if (posix_memalign(&p, kSmallAlignment, size) != 0) throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  g_large.emplace(p, size);
  return p;
}

void release(void* p) {
  if (p == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto live = g_large.find(p);
    if (live != g_large.end()) {
      size_t size = live->second;
      g_large.erase(live);
      g_free.emplace(size, p);
      g_cached += size;
      while (g_cached > g_cap && !g_free.empty()) release_cached_locked(std::prev(g_free.end()));
      return;
    }
  }
  std::free(p);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    void* p = nullptr;
    if (n >= kCachedFrom) {
      p = large_block(n);
    } else if (n > 0 && posix_memalign(&p, kSmallAlignment, n) != 0) {
      throw std::bad_alloc();
    }
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }
};

CachingCpuAllocator g_allocator;

}  // namespace

namespace cg {

size_t cpu_cache_bytes() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_cached;
}

void cpu_cache_trim() {
  std::lock_guard<std::mutex> lock(g_mutex);
  trim_locked();
}

}  // namespace cg

// Makes the caching allocator libtorch's CPU allocator, keeping at most cap_bytes of freed blocks. Call once, before
// tensor work; later calls only change the cap. Tensors allocated before keep their own deleter.
CG_API int32_t cg_cpu_allocator_install(int64_t cap_bytes) {
  CG_TRY
  if (cap_bytes < 0) return cg::fail(CG_ERR_ARGUMENT, "cap_bytes must be >= 0");
  std::lock_guard<std::mutex> lock(g_mutex);
  g_cap = static_cast<size_t>(cap_bytes);
  if (!g_installed) {
    c10::SetCPUAllocator(&g_allocator, /*priority=*/1);
    g_installed = true;
  }
  CG_CATCH
}

// Bytes of freed blocks the caching allocator holds for reuse (0 when it is not installed).
CG_API int32_t cg_cpu_allocator_cached(int64_t* bytes) {
  CG_TRY
  *bytes = static_cast<int64_t>(cg::cpu_cache_bytes());
  CG_CATCH
}
