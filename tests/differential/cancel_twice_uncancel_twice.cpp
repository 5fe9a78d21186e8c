#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> sleeper() {
    try {
        co_await asyncio::sleep(10);
        print("sleeper: woke normally");
    } catch (const asyncio::CancelledError& e) {
        print("sleeper: CancelledError", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> amain() {
    auto t = asyncio::create_task(sleeper());
    co_await asyncio::sleep(0);
    t.cancel("a");
    t.cancel("b");
    print("cancelling:", t.cancelling());
    auto u1 = t.uncancel();
    auto u2 = t.uncancel();
    print("uncancel:", u1, u2);
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        print("main: CancelledError", corpus::args(e));
    }
    print("cancelled:", t.cancelled());
}

int main() { asyncio::run(amain()); }
