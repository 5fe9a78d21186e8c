#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> amain() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    double t0 = loop.time();
    asyncio::Timeout outer(loop.time() + 1), inner(loop.time() + 0.1);
    try {
        co_await outer.run([&]() -> asyncio::Coro<void> {
            try {
                co_await inner.run(asyncio::sleep(10));
            } catch (const asyncio::TimeoutError&) {
                print("inner fired:", inner.expired(), outer.expired());
            }
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::TimeoutError&) {
        print("outer fired:", inner.expired(), outer.expired(), loop.time() - t0 < 1.5);
    }
    print("cancelling:", asyncio::current_task().cancelling());
    double when = loop.time() + 0.2;
    asyncio::Timeout a(when), b(when);
    try {
        co_await a.run([&]() -> asyncio::Coro<void> {
            try {
                co_await b.run(asyncio::sleep(10));
            } catch (const asyncio::CancelledError&) {
                print("inner saw CancelledError");
                throw;
            }
        });
    } catch (const asyncio::TimeoutError&) {
        print("outermost converts:", a.expired(), b.expired());
    }
    asyncio::Timeout c(std::nullopt);
    co_await c.run([&](asyncio::Timeout& self) -> asyncio::Coro<void> {
        print("disabled:", self.when() ? "set" : "None");
        self.reschedule(loop.time() + 5);
        self.reschedule(std::nullopt);
        co_await asyncio::sleep(1);
    });
    print("not expired:", c.expired());
}

int main() { asyncio::run(amain()); }
