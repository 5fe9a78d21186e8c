// The recycling pool behind frames, tasks and futures: alignment per request, tight packing
// of 8-aligned objects between odd-sized ones, reuse of freed blocks.
#include <gtest/gtest.h>

#include <asyncio/detail/frame_allocator.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

using asyncio::detail::pool_allocate;
using asyncio::detail::pool_deallocate;

namespace {
bool aligned(void* p, std::uintptr_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }
}  // namespace

TEST(FramePool, SixteenByteRequestsStayAlignedWhenEightByteBlocksOfTheSameSizeAreFreed) {
    if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "the pool is off in this build (sanitizers)";
    // 96-byte blocks asked for with 8-byte alignment, placed 8-aligned between odd-sized
    // ones, then freed: a 96-byte request needing 16 must never be handed one of them.
    std::vector<void*> eight, odd;
    for (int i = 0; i < 64; ++i) {
        eight.push_back(pool_allocate(96, 8));
        odd.push_back(pool_allocate(72, 8));
    }
    for (void* p : eight) pool_deallocate(p, 96, 8);
    for (int i = 0; i < 64; ++i) {
        void* p = pool_allocate(96, 16);
        EXPECT_TRUE(aligned(p, 16));
        pool_deallocate(p, 96, 16);
    }
    for (void* p : odd) pool_deallocate(p, 72, 8);
}

TEST(FramePool, EightByteAlignedEvenBlocksPackBetweenOddOnes) {
    if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "the pool is off in this build (sanitizers)";
    // A fresh thread's pool carves in order: a 72-byte block then a 96-byte one asked for
    // with 8-byte alignment sit back to back, with no 8-byte pad between them.
    std::uintptr_t gap = 0;
    std::thread([&] {
        auto* a = static_cast<char*>(pool_allocate(72, 8));
        auto* b = static_cast<char*>(pool_allocate(96, 8));
        gap = static_cast<std::uintptr_t>(b - a);
        pool_deallocate(b, 96, 8);
        pool_deallocate(a, 72, 8);
    }).join();
    EXPECT_EQ(gap, 72u);
}

TEST(FramePool, EightByteBlocksLeaveNoPaddingBetweenSixteenByteOnes) {
    if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "the pool is off in this build (sanitizers)";
    // A task (88 bytes, 8-aligned) made after each frame (64 bytes, 16-aligned), as
    // create_task(f()) does: the frames sit back to back in their slab and the tasks in
    // theirs, so no pair pays 8 bytes of padding.
    std::uintptr_t frame_gap = 0, task_gap = 0;
    std::thread([&] {
        auto* f1 = static_cast<char*>(pool_allocate(64, 16));
        auto* t1 = static_cast<char*>(pool_allocate(88, 8));
        auto* f2 = static_cast<char*>(pool_allocate(64, 16));
        auto* t2 = static_cast<char*>(pool_allocate(88, 8));
        frame_gap = static_cast<std::uintptr_t>(f2 - f1);
        task_gap = static_cast<std::uintptr_t>(t2 - t1);
        EXPECT_TRUE(aligned(f2, 16));
        pool_deallocate(t2, 88, 8);
        pool_deallocate(f2, 64, 16);
        pool_deallocate(t1, 88, 8);
        pool_deallocate(f1, 64, 16);
    }).join();
    EXPECT_EQ(frame_gap, 64u);
    EXPECT_EQ(task_gap, 88u);
}

TEST(FramePool, FreedBlocksAreReusedAndCounted) {
    if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "the pool is off in this build (sanitizers)";
    std::size_t before = asyncio::detail::pool_bytes_in_use();
    void* p = pool_allocate(40, 8);
    EXPECT_EQ(asyncio::detail::pool_bytes_in_use(), before + 40);
    pool_deallocate(p, 40, 8);
    EXPECT_EQ(pool_allocate(40, 8), p);
    pool_deallocate(p, 40, 8);
    EXPECT_EQ(asyncio::detail::pool_bytes_in_use(), before);
}

// One thread allocates, another frees (call_soon_threadsafe, executor jobs): the freeing
// thread's surplus goes back through the depot, so the allocating thread stops carving new
// slabs. Once +616 MB for 10M posts.
TEST(FramePool, BlocksAllocatedInOneThreadAndFreedInAnotherAreReused) {
    if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "the pool is off in this build (sanitizers)";
    constexpr int batch = 1000;
    std::vector<void*> blocks(batch);
    auto round = [&] {
        std::thread([&] {
            for (auto& b : blocks) b = pool_allocate(64);
        }).join();
        std::thread([&] {
            for (auto* b : blocks) pool_deallocate(b, 64);
        }).join();
    };
    // The same two long-lived threads as well: a poster and a consumer.
    for (int i = 0; i < 50; ++i) round();
    std::size_t slabs = asyncio::detail::pool_slab_count();
    for (int i = 0; i < 2000; ++i) round();  // 2M blocks, 128 MB if never reused
    EXPECT_LE(asyncio::detail::pool_slab_count(), slabs + 4);
}

TEST(FramePool, ALongLivedPosterAndConsumerStayFlat) {
    if (!ASYNCIO_FRAME_POOL) GTEST_SKIP() << "the pool is off in this build (sanitizers)";
    std::mutex m;
    std::condition_variable cv;
    std::deque<void*> q;
    bool done = false;
    std::size_t slabs_after_warmup = 0;
    constexpr int total = 2'000'000;
    std::thread consumer([&] {
        for (;;) {
            std::unique_lock<std::mutex> lock(m);
            cv.wait(lock, [&] { return !q.empty() || done; });
            if (q.empty()) return;
            std::deque<void*> take;
            take.swap(q);
            lock.unlock();
            cv.notify_all();
            for (void* b : take) pool_deallocate(b, 48);
        }
    });
    for (int i = 0; i < total; ++i) {
        void* b = pool_allocate(48);
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return q.size() < 1000; });  // at most 1000 in flight
        q.push_back(b);
        lock.unlock();
        cv.notify_all();
        if (i == 100'000) slabs_after_warmup = asyncio::detail::pool_slab_count();
    }
    {
        std::lock_guard<std::mutex> lock(m);
        done = true;
    }
    cv.notify_all();
    consumer.join();
    EXPECT_LE(asyncio::detail::pool_slab_count(), slabs_after_warmup + 8);
}
