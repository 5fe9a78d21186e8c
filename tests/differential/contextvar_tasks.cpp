#include "corpus.hpp"
using corpus::print;

asyncio::ContextVar<int> var("var", 0);

asyncio::Coro<void> child(int n) {
    print("child", n, "sees", var.get());
    var.set(n * 10);
    co_await asyncio::sleep(0);
    print("child", n, "now", var.get());
}

asyncio::Coro<void> amain() {
    var.set(1);
    auto t1 = asyncio::create_task(child(1));
    var.set(2);
    auto t2 = asyncio::create_task(child(2));
    co_await asyncio::gather(t1, t2);
    print("main sees", var.get());
    co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
        var.set(3);
        tg.create_task(child(3));
        co_return;
    });
    print("main sees", var.get());
}

int main() { asyncio::run(amain()); }
