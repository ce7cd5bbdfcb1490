#include "common/memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace parley {

bool release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
  return true;
#else
  return false;
#endif
}

} // namespace parley
