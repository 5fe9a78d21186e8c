// Seed 001: run_forever() until a coroutine calls loop.stop(); the second run stops at the
// first task's stop() and leaves the slower one pending.
#include "seed_common.hpp"

asyncio::Coro<void> do_some_work(asyncio::EventLoop* loop, double x) {
    seed::print("Waiting " + seed::py(x));
    co_await asyncio::sleep(x);
    seed::print("Done");
    loop->stop();
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    asyncio::ensure_future(do_some_work(loop.get(), 0.3));
    loop->run_forever();
    seed::print("run_forever returned");

    auto first = asyncio::ensure_future(do_some_work(loop.get(), 0.1));
    auto second = asyncio::ensure_future(do_some_work(loop.get(), 0.3));
    loop->run_forever();
    seed::print(std::string("run_forever returned: first done: ") +
                (first.done() ? "True" : "False") +
                " second done: " + (second.done() ? "True" : "False"));
    // `second` is still pending when the program ends (as in the seed).
}
