#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> waiter(asyncio::Condition& cond, std::string name,
                           std::vector<std::string>& log) {
    auto guard = co_await cond.acquire_scoped();
    try {
        co_await cond.wait();
        log.push_back(name + " woke");
    } catch (const asyncio::CancelledError&) {
        log.push_back(name + " cancelled, holds lock: " + corpus::py(cond.locked()));
        throw;
    }
}

asyncio::Coro<void> amain() {
    asyncio::Condition cond;
    std::vector<std::string> log;
    auto a = asyncio::create_task(waiter(cond, "a", log));
    auto b = asyncio::create_task(waiter(cond, "b", log));
    co_await asyncio::sleep(0);
    a.cancel();
    co_await asyncio::sleep(0.1);
    print(corpus::list(log));
    print("b done:", b.done());
    b.cancel();
    co_await asyncio::gather(asyncio::return_exceptions, a, b);
}

int main() { asyncio::run(amain()); }
