#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> worker(asyncio::Lock& lock, std::string name, std::vector<std::string>& log) {
    try {
        auto guard = co_await lock.acquire_scoped();
        log.push_back(name + " got it");
        co_await asyncio::sleep(0.1);
    } catch (const asyncio::CancelledError&) {
        log.push_back(name + " cancelled");
        throw;
    }
}

asyncio::Coro<void> amain() {
    asyncio::Lock lock;
    std::vector<std::string> log;
    co_await lock.acquire();
    std::vector<asyncio::Task<void>> ts;
    for (const char* n : {"a", "b", "c"}) ts.push_back(asyncio::create_task(worker(lock, n, log)));
    co_await asyncio::sleep(0);
    lock.release();
    ts[0].cancel();
    co_await asyncio::gather(asyncio::return_exceptions, ts);
    print(corpus::list(log));
    print("locked at end:", lock.locked());
}

int main() { asyncio::run(amain()); }
