#include "asyncio_test.hpp"

using namespace std::chrono_literals;

ASYNCIO_TEST(Smoke, VirtualTimeSleepIsExact) {
    double t0 = asyncio::testing::loop().time();
    co_await asyncio::sleep(10);
    EXPECT_DOUBLE_EQ(asyncio::testing::loop().time() - t0, 10.0);
    int v = co_await asyncio::sleep(1.5, 7);
    EXPECT_EQ(v, 7);
    EXPECT_DOUBLE_EQ(asyncio::testing::loop().time() - t0, 11.5);
}
