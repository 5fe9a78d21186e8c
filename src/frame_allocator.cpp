#include "asyncio/detail/frame_allocator.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace asyncio::detail {

#if ASYNCIO_FRAME_POOL

namespace {

constexpr std::size_t slab_size = 64 * 1024;

// Slabs are kept forever and stay reachable from this list (leak checkers see no leak).
struct Slab {
    Slab* next;
};

/// What threads hand back: free lists as whole chains (one per list and hand-back), and the
/// uncarved rest of the slab of a thread that exited. Everything under `m`.
struct Depot {
    std::mutex m;
    Slab* slabs = nullptr;
    std::vector<ThreadPool::FreeBlock*> chains[2 * ThreadPool::classes];
    std::vector<std::pair<char*, char*>> spare;  // [cur, end) of slabs a thread left
};

Depot& depot() {
    static Depot* d = new Depot();  // never destroyed: threads may exit after static teardown
    return *d;
}

std::atomic<std::size_t> slab_count{0};

char* new_slab() {
    void* p = ::operator new(slab_size);
    auto* s = static_cast<Slab*>(p);
    Depot& d = depot();
    std::lock_guard<std::mutex> lock(d.m);
    s->next = d.slabs;
    d.slabs = s;
    slab_count.fetch_add(1, std::memory_order_relaxed);
    return static_cast<char*>(p) + 16;  // keep 16-byte alignment after the link
}

/// Gives the thread's pool back to the depot when the thread exits.
struct ExitHandBack {
    volatile bool armed = false;
    ~ExitHandBack() {
        ThreadPool& p = tls_pool;
        p.spill();
        for (ThreadPool::Cursor& k : p.slab) {
            if (k.cur && k.cur < k.end) {
                Depot& d = depot();
                std::lock_guard<std::mutex> lock(d.m);
                d.spare.emplace_back(k.cur, k.end);
            }
            k.cur = k.end = nullptr;
        }
    }
};
thread_local ExitHandBack exit_hand_back;

}  // namespace

thread_local constinit ThreadPool tls_pool;

std::size_t pool_slab_count() noexcept { return slab_count.load(std::memory_order_relaxed); }

void ThreadPool::spill() noexcept {
    Depot& d = depot();
    std::lock_guard<std::mutex> lock(d.m);
    for (std::size_t l = 0; l < 2 * classes; ++l) {
        if (!free[l]) continue;
        try {
            d.chains[l].push_back(free[l]);
        } catch (...) {
            continue;  // out of memory: the list stays here
        }
        free[l] = nullptr;
    }
    floor = in_use - spill_bytes;
}

void ThreadPool::register_exit() noexcept {
    registered = true;
    exit_hand_back.armed = true;  // constructs it: its destructor runs at thread exit
}

void ThreadPool::below_floor() noexcept {
    if (registered) {
        spill();
    } else {
        register_exit();
        floor = in_use - spill_bytes;
    }
}

void* ThreadPool::refill(std::size_t l, std::size_t c, std::size_t block_align) {
    if (!registered) register_exit();
    {
        Depot& d = depot();
        std::lock_guard<std::mutex> lock(d.m);
        if (!d.chains[l].empty()) {
            free[l] = d.chains[l].back();
            d.chains[l].pop_back();
        }
    }
    if (FreeBlock* b = free[l]) {
        free[l] = b->next;
        in_use += c * pool_granule;
        floor = in_use - spill_bytes;
        return b;
    }
    return carve(c, block_align);
}

void* ThreadPool::carve(std::size_t c, std::size_t block_align) {
    std::size_t bytes = c * pool_granule;
    Cursor& k = slab[block_align == pool_granule ? 1 : 0];
    char* p = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(k.cur) + block_align - 1) &
                                      ~(block_align - 1));
    if (!k.cur || p + bytes > k.end) {
        k.cur = nullptr;
        {
            Depot& d = depot();
            std::lock_guard<std::mutex> lock(d.m);
            while (!d.spare.empty()) {
                auto [b, e] = d.spare.back();
                d.spare.pop_back();
                char* q = reinterpret_cast<char*>(
                    (reinterpret_cast<std::uintptr_t>(b) + block_align - 1) & ~(block_align - 1));
                if (q + bytes <= e) {
                    k.cur = b;
                    k.end = e;
                    p = q;
                    break;
                }
            }
        }
        if (!k.cur) {
            k.cur = new_slab();
            k.end = k.cur + slab_size - 16;
            p = k.cur;
        }
    }
    k.cur = p + bytes;
    in_use += bytes;
    return p;
}

#endif

}  // namespace asyncio::detail
