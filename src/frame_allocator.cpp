#include "asyncio/detail/frame_allocator.hpp"

#include <cstdlib>
#include <mutex>
#include <new>

namespace asyncio::detail {

#if ASYNCIO_FRAME_POOL

namespace {

constexpr std::size_t granule = 8;
constexpr std::size_t max_pooled = 512;
constexpr std::size_t classes = max_pooled / granule;
constexpr std::size_t slab_size = 64 * 1024;

struct FreeBlock {
    FreeBlock* next;
};

// Slabs are kept forever and stay reachable from this list (leak checkers see no leak).
struct Slab {
    Slab* next;
};
std::mutex slabs_mutex;
Slab* slabs = nullptr;

char* new_slab() {
    void* p = ::operator new(slab_size);
    auto* s = static_cast<Slab*>(p);
    std::lock_guard<std::mutex> lock(slabs_mutex);
    s->next = slabs;
    slabs = s;
    return static_cast<char*>(p) + 16;  // keep 16-byte alignment after the link
}

struct Pool {
    FreeBlock* free[classes + 1] = {};
    char* cur = nullptr;
    char* end = nullptr;
    std::size_t in_use = 0;

    // Blocks of an even number of granules are 16-aligned, odd ones 8-aligned. That is
    // always enough: an object's size is a multiple of its alignment, so a size that is not
    // a multiple of 16 (an odd count of granules) never needs more than 8. Coroutine frames,
    // whose alignment operator new is not told, are covered by the same argument.
    static std::size_t granules(std::size_t n, std::size_t align) noexcept {
        std::size_t c = (n + granule - 1) / granule;
        if (align > 2 * granule && (c & 1)) ++c;  // over-aligned requests (never by size)
        return c;
    }

    void* allocate(std::size_t n, std::size_t align) {
        std::size_t c = granules(n, align);
        if (FreeBlock* b = free[c]) {
            free[c] = b->next;
            in_use += c * granule;
            return b;
        }
        std::size_t bytes = c * granule;
        std::size_t block_align = (c & 1) ? granule : 2 * granule;
        char* p = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(cur) + block_align - 1) &
                                          ~(block_align - 1));
        if (!cur || p + bytes > end) {
            cur = new_slab();
            end = cur + slab_size - 16;
            p = cur;
        }
        cur = p + bytes;
        in_use += bytes;
        return p;
    }
    void deallocate(void* p, std::size_t n, std::size_t align) noexcept {
        std::size_t c = granules(n, align);
        auto* b = static_cast<FreeBlock*>(p);
        b->next = free[c];
        free[c] = b;
        in_use -= c * granule;
    }
};

thread_local Pool pool;

}  // namespace

void* pool_allocate(std::size_t n, std::size_t align) {
    if (n == 0) n = 1;
    if (n > max_pooled) return ::operator new(n);
    return pool.allocate(n, align);
}

void pool_deallocate(void* p, std::size_t n, std::size_t align) noexcept {
    if (!p) return;
    if (n == 0) n = 1;
    if (n > max_pooled) {
        ::operator delete(p);
        return;
    }
    pool.deallocate(p, n, align);
}

std::size_t pool_bytes_in_use() noexcept { return pool.in_use; }

#else

void* pool_allocate(std::size_t n, std::size_t) { return ::operator new(n); }
void pool_deallocate(void* p, std::size_t, std::size_t) noexcept { ::operator delete(p); }
std::size_t pool_bytes_in_use() noexcept { return 0; }

#endif

}  // namespace asyncio::detail
