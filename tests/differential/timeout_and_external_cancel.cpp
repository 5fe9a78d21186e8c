#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> body(double when) {
    asyncio::Timeout cm(when);
    try {
        co_await cm.run(asyncio::sleep(10));
        print("body: no exception");
    } catch (const asyncio::TimeoutError&) {
        print("body: TimeoutError");
    } catch (const asyncio::CancelledError& e) {
        print("body: CancelledError", corpus::args(e), "expired:", cm.expired());
        throw;
    }
}

asyncio::Coro<void> run(bool ext_first) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    double when = loop.time() + 0.5;
    auto t = asyncio::create_task(body(when));
    if (!ext_first) co_await asyncio::sleep(0);  // the timeout's handle comes first
    loop.call_at(when, [t]() mutable { t.cancel("ext"); });
    try {
        co_await t;
        print("main: task returned");
    } catch (const asyncio::CancelledError& e) {
        print("main: CancelledError", corpus::args(e), t.cancelling());
    }
}

asyncio::Coro<void> amain() {
    co_await run(true);
    co_await run(false);
}

int main() { asyncio::run(amain()); }
