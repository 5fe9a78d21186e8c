#include "corpus.hpp"
using corpus::print;

asyncio::Coro<int> inner(std::vector<std::string>& log) {
    co_await asyncio::sleep(0.2);
    log.push_back("inner finished");
    co_return 42;
}

asyncio::Coro<int> waiter(asyncio::Task<int> t) {
    try {
        co_return co_await asyncio::shield(t);
    } catch (const asyncio::CancelledError& e) {
        print("waiter cancelled", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> amain() {
    std::vector<std::string> log;
    auto t = asyncio::create_task(inner(log));
    auto w = asyncio::create_task(waiter(t));
    co_await asyncio::sleep(0.1);
    w.cancel("go");
    try {
        co_await w;
    } catch (const asyncio::CancelledError&) {
        print("w cancelled:", w.cancelled(), "t done:", t.done());
    }
    int r = co_await t;
    print("t result:", r, corpus::list(log));
    print("shield of done:", co_await asyncio::shield(t));
}

int main() { asyncio::run(amain()); }
