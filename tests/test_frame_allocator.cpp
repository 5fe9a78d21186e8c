// The recycling pool behind frames, tasks and futures: alignment per request, tight packing
// of 8-aligned objects between odd-sized ones, reuse of freed blocks.
#include <gtest/gtest.h>

#include <asyncio/detail/frame_allocator.hpp>
#include <cstdint>
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
