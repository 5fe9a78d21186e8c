#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> sleeper() {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError& e) {
        print("sleeper:", "CancelledError", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> on_lock(asyncio::Lock& lock) {
    try {
        co_await lock.acquire();
    } catch (const asyncio::CancelledError& e) {
        print("lock waiter:", "CancelledError", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> on_queue(asyncio::Queue<int>& q) {
    try {
        co_await q.get();
    } catch (const asyncio::CancelledError& e) {
        print("queue waiter:", "CancelledError", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> amain() {
    auto t = asyncio::create_task(sleeper());
    co_await asyncio::sleep(0);
    bool c1 = t.cancel("first");
    bool c2 = t.cancel("second");
    print(c1, c2, t.cancelling());
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        print("awaiter:", corpus::args(e), t.cancelled());
    }
    asyncio::Lock lock;
    co_await lock.acquire();
    t = asyncio::create_task(on_lock(lock));
    co_await asyncio::sleep(0);
    t.cancel("first");
    t.cancel("second");
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        print("awaiter:", corpus::args(e));
    }
    lock.release();
    asyncio::Queue<int> q;
    t = asyncio::create_task(on_queue(q));
    co_await asyncio::sleep(0);
    t.cancel("first");
    t.cancel("second");
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        print("awaiter:", corpus::args(e));
    }
}

int main() { asyncio::run(amain()); }
