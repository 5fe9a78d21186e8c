#include <cmath>

#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> slow(std::vector<std::string>& log) {
    std::exception_ptr cancelled;
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        log.push_back("cleanup start");
        co_await asyncio::sleep(0.1);
        log.push_back("cleanup end");
        std::rethrow_exception(cancelled);
    }
}

asyncio::Coro<int> swallow() {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
    }
    co_return 42;
}

asyncio::Coro<void> amain() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    std::vector<std::string> log;
    auto t = asyncio::create_task(slow(log));
    double t0 = loop.time();
    try {
        co_await asyncio::wait_for(t, 0.2);
    } catch (const asyncio::TimeoutError&) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.1f", std::round((loop.time() - t0) * 10) / 10);
        print("timeout after", buf, corpus::list(log), t.cancelled());
    }
    print("swallowed:", co_await asyncio::wait_for(swallow(), 0.1));
    print("zero, done future:",
          co_await asyncio::wait_for(asyncio::sleep(0, std::string("ok")), 1));
}

int main() { asyncio::run(amain()); }
