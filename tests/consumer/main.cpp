#include <asyncio/asyncio.hpp>

#include <cstdio>

asyncio::Coro<int> answer() {
    co_await asyncio::sleep(0.001);
    co_return 42;
}

int main() {
    int v = asyncio::run(answer());
    std::printf("consumer got %d\n", v);
    return v == 42 ? 0 : 1;
}
