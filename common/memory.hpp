// Giving freed heap memory back to the operating system. glibc's malloc keeps what a burst
// freed in its arenas (one per thread that allocated), so RSS stays at the peak after the
// objects are gone (docs/benchmarks.md, memory after a burst of groups); malloc_trim returns
// the free pages. Other allocators return memory themselves: then this does nothing.
#pragma once

#include <cstddef>

namespace parley {

// Returns free heap pages to the OS; true when the allocator supports it. Takes milliseconds
// per hundred MiB of heap: call it off latency-sensitive threads.
bool release_free_memory();

} // namespace parley
