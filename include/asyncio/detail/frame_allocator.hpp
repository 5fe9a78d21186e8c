// The recycling allocator behind coroutine frames, tasks and futures.
//
// Size classes of 8 bytes up to 512 bytes, each a free list in a per-thread pool carved from
// 64 KiB slabs; larger blocks go to operator new. A block freed on another thread than the
// one that allocated it joins the freeing thread's list; so that memory stays flat when one
// thread allocates and another frees (call_soon_threadsafe, executor jobs), a thread whose
// frees exceed its allocations by spill_bytes hands its free lists to a process-wide depot,
// where a thread with an empty list looks before it carves a new slab (tcmalloc's transfer
// cache, in one mutex taken once per list, not per block). A thread that exits gives its
// lists and the rest of its slab to the depot too. Slabs are never returned to the system:
// memory that served a burst of a million tasks is kept for the next burst.
#pragma once

#include <cstddef>
#include <new>

#include "asyncio/config.hpp"

namespace asyncio::detail {

#if ASYNCIO_FRAME_POOL

inline constexpr std::size_t pool_granule = 8;
inline constexpr std::size_t pool_max = 512;  // larger blocks go to operator new

/// One thread's pool: a free list per size class (in granules) and the slab being carved.
struct ThreadPool {
    struct FreeBlock {
        FreeBlock* next;
    };
    static constexpr std::size_t classes = pool_max / pool_granule + 1;
    // free[c]: blocks of c granules placed for their size (see granules()); free[classes + c]:
    // blocks of an even count c asked for with 8-byte alignment, placed 8-aligned, so that
    // such objects pack tightly between odd-sized ones (a task and its frame, say).
    FreeBlock* free[2 * classes] = {};
    // The slabs being carved: [0] for 16-aligned blocks, [1] for blocks that need only 8.
    // Apart, an 8-aligned block never leaves 8 bytes of padding before a 16-aligned one.
    // Measured (W1, 1M tasks, each an 88-byte task, 8-aligned, beside a 64-byte frame,
    // 16-aligned, carved in turn): one slab made each pair 160 bytes, two make it 152
    // (8 MB less).
    struct Cursor {
        char* cur = nullptr;
        char* end = nullptr;
    };
    Cursor slab[2];
    std::size_t in_use = 0;
    // Frees that take in_use below `floor` (in_use at the last hand-over, less spill_bytes)
    // send the lists to the depot: one subtraction and compare per free. It starts at 0, so a
    // thread that frees before it allocates takes the slow path at once and sets up the
    // hand-back at its exit.
    std::size_t floor = 0;
    bool registered = false;  // the thread-exit hand-back is set up

    // Blocks of an odd number of granules are 8-aligned, even ones 16-aligned unless asked
    // for with 8-byte alignment (list()). That is always enough: an object's size is a
    // multiple of its alignment, so a size that is not a multiple of 16 (an odd count of
    // granules) never needs more than 8. Coroutine frames, whose alignment operator new is
    // not told, are asked for as 16.
    static std::size_t granules(std::size_t n, std::size_t align) noexcept {
        std::size_t c = (n + pool_granule - 1) / pool_granule;
        if (align > 2 * pool_granule && (c & 1)) ++c;  // over-aligned requests (never by size)
        return c;
    }
    static std::size_t list(std::size_t c, std::size_t align) noexcept {
        return (align <= pool_granule && !(c & 1)) ? classes + c : c;
    }
    /// Carves a block of `c` granules, aligned to `block_align`, from the slab (a new slab
    /// when it is used up).
    void* carve(std::size_t c, std::size_t block_align);
    /// The slow path of an allocation from list `l` (empty): a list from the depot, else a
    /// block carved from the slab.
    void* refill(std::size_t l, std::size_t c, std::size_t block_align);
    /// Hands every free list to the depot.
    void spill() noexcept;
    /// in_use went below `floor`: spill (or, the first time, only set up the hand-back).
    void below_floor() noexcept;
    void register_exit() noexcept;
};

inline constexpr std::size_t spill_bytes = 256 * 1024;

extern thread_local constinit ThreadPool tls_pool;

/// A block of `n` bytes aligned to `align` (8 or 16; 16 is what operator new promises).
/// The common case, a block from the size class's free list, is inline.
inline void* pool_allocate(std::size_t n, std::size_t align = 16) {
    if (n - 1 >= pool_max) return n == 0 ? pool_allocate(1, align) : ::operator new(n);
    std::size_t c = ThreadPool::granules(n, align);
    std::size_t l = ThreadPool::list(c, align);
    ThreadPool& p = tls_pool;
    if (ThreadPool::FreeBlock* b = p.free[l]) {
        p.free[l] = b->next;
        p.in_use += c * pool_granule;
        return b;
    }
    return p.refill(l, c, (c & 1) || l != c ? pool_granule : 2 * pool_granule);
}

inline void pool_deallocate(void* ptr, std::size_t n, std::size_t align = 16) noexcept {
    if (!ptr) return;
    if (n == 0) n = 1;
    if (n > pool_max) {
        ::operator delete(ptr);
        return;
    }
    std::size_t c = ThreadPool::granules(n, align);
    std::size_t l = ThreadPool::list(c, align);
    ThreadPool& p = tls_pool;
    auto* b = static_cast<ThreadPool::FreeBlock*>(ptr);
    b->next = p.free[l];
    p.free[l] = b;
    p.in_use -= c * pool_granule;
    if (static_cast<std::ptrdiff_t>(p.floor - p.in_use) > 0) p.below_floor();
}

/// Slabs carved so far, process-wide (tests: memory stays flat).
std::size_t pool_slab_count() noexcept;

/// Bytes currently handed out by this thread's pool (allocations minus frees).
inline std::size_t pool_bytes_in_use() noexcept { return tls_pool.in_use; }

#else

inline void* pool_allocate(std::size_t n, std::size_t = 16) { return ::operator new(n); }
inline void pool_deallocate(void* p, std::size_t, std::size_t = 16) noexcept {
    ::operator delete(p);
}
inline std::size_t pool_bytes_in_use() noexcept { return 0; }
inline std::size_t pool_slab_count() noexcept { return 0; }

#endif

/// Mixin giving a class sized operator new/delete from the pool.
struct pooled {
    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }
};

/// For a final class: operator new/delete from the pool at the class's own alignment
/// (8-byte aligned classes then waste no padding). Put ASYNCIO_POOLED_AT(Class) in the class.
#define ASYNCIO_POOLED_AT(Class)                                    \
    static void* operator new(std::size_t n) {                      \
        return ::asyncio::detail::pool_allocate(n, alignof(Class)); \
    }                                                               \
    static void operator delete(void* p, std::size_t n) noexcept {  \
        ::asyncio::detail::pool_deallocate(p, n, alignof(Class));   \
    }

}  // namespace asyncio::detail
