#include "asyncio/detail/frame_allocator.hpp"

#include <cstdint>
#include <mutex>
#include <new>

namespace asyncio::detail {

#if ASYNCIO_FRAME_POOL

namespace {

constexpr std::size_t slab_size = 64 * 1024;

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

}  // namespace

thread_local constinit ThreadPool tls_pool;

void* ThreadPool::carve(std::size_t c, std::size_t block_align) {
    std::size_t bytes = c * pool_granule;
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

#endif

}  // namespace asyncio::detail
