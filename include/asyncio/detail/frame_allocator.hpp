// The recycling allocator behind coroutine frames, tasks and futures.
//
// Size classes of 8 bytes up to 512 bytes, each a free list in a per-thread pool carved from
// 64 KiB slabs; larger blocks go to operator new. A block freed on another thread than the
// one that allocated it simply joins the freeing thread's list. Slabs are never returned to
// the system: memory that served a burst of a million tasks is kept for the next burst.
#pragma once

#include <cstddef>

#include "asyncio/config.hpp"

namespace asyncio::detail {

void* pool_allocate(std::size_t n);
void pool_deallocate(void* p, std::size_t n) noexcept;

/// Bytes currently handed out by this thread's pool (allocations minus frees).
std::size_t pool_bytes_in_use() noexcept;

/// Mixin giving a class sized operator new/delete from the pool.
struct pooled {
    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }
};

}  // namespace asyncio::detail
