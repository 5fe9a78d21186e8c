#include <asyncio/asyncio.hpp>
#include <cstdio>

asyncio::Coro<int> add(int a, int b) {
    co_await asyncio::sleep(0.01);
    co_return a + b;
}

asyncio::Coro<int> amain() {
    auto t = asyncio::create_task(add(1, 2), {.name = "adder"});
    int x = co_await add(3, 4);
    int y = co_await t;
    std::printf("%s %d %d\n", t.get_name().c_str(), x, y);
    co_return x + y;
}

int main() { return asyncio::run(amain()) == 10 ? 0 : 1; }
