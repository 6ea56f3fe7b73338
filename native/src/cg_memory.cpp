// Giving freed host memory back to the operating system. glibc keeps freed chunks in its arenas, so after a large
// job the process stays big even though every tensor is gone; malloc_trim releases the free pages at the top of each
// arena and, since glibc 2.8, free whole pages inside them. A no-op on other C libraries.
#include "cg_common.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// released: 1 if some memory was returned to the system, 0 if none could be (or the C library has no malloc_trim).
CG_API int32_t cg_memory_trim(int32_t* released) {
  CG_TRY
  *released = 0;
  size_t cached = cg::cpu_cache_bytes();
  cg::cpu_cache_trim();  // the caching allocator's blocks go back to malloc first
  if (cached > 0) *released = 1;
#if defined(__GLIBC__)
  if (malloc_trim(0)) *released = 1;
#endif
  CG_CATCH
}

// Bytes the C library's allocator has handed out and not yet taken back (heap chunks plus mmap'd blocks), where
// libtorch's CPU tensors live, less the blocks the caching allocator holds for reuse (free as far as tensors go); -1
// where the C library cannot say. Process-wide, so only differences mean anything.
CG_API int32_t cg_memory_in_use(int64_t* bytes) {
  CG_TRY
  *bytes = -1;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 info = mallinfo2();
  *bytes = static_cast<int64_t>(info.uordblks + info.hblkhd) - static_cast<int64_t>(cg::cpu_cache_bytes());
#endif
  CG_CATCH
}
