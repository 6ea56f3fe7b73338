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
#if defined(__GLIBC__)
  *released = malloc_trim(0) ? 1 : 0;
#endif
  CG_CATCH
}
