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

/// A block of `n` bytes aligned to `align` (8 or 16; 16 is what operator new promises).
void* pool_allocate(std::size_t n, std::size_t align = 16);
void pool_deallocate(void* p, std::size_t n, std::size_t align = 16) noexcept;

/// Bytes currently handed out by this thread's pool (allocations minus frees).
std::size_t pool_bytes_in_use() noexcept;

/// Mixin giving a class sized operator new/delete from the pool.
struct pooled {
    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }
};

/// For a final class: operator new/delete from the pool at the class's own alignment
/// (8-byte aligned classes then waste no padding). Put ASYNCIO_POOLED_AT(Class) in the class.
#define ASYNCIO_POOLED_AT(Class)                                                    \
    static void* operator new(std::size_t n) {                                      \
        return ::asyncio::detail::pool_allocate(n, alignof(Class));                 \
    }                                                                               \
    static void operator delete(void* p, std::size_t n) noexcept {                  \
        ::asyncio::detail::pool_deallocate(p, n, alignof(Class));                   \
    }

}  // namespace asyncio::detail
