#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> waiter(asyncio::Lock& lock, std::string name, std::vector<std::string>& log) {
    auto guard = co_await lock.acquire_scoped();
    log.push_back(name);
}

asyncio::Coro<void> amain() {
    asyncio::Lock lock;
    std::vector<std::string> log;
    co_await lock.acquire();
    auto t = asyncio::create_task(waiter(lock, "queued", log));
    co_await asyncio::sleep(0);
    lock.release();
    print("after release:", lock.locked());
    auto t2 = asyncio::create_task(waiter(lock, "barger", log));
    co_await asyncio::gather(t, t2);
    print(corpus::list(log), lock.locked());
}

int main() { asyncio::run(amain()); }
