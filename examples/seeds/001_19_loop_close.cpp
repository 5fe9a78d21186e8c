// Seed 001: a closed loop refuses to run; close() is idempotent.
#include "seed_common.hpp"

asyncio::Coro<void> do_some_work(asyncio::EventLoop* loop, double x) {
    (void)loop;
    seed::print("Waiting " + seed::py(x));
    co_await asyncio::sleep(x);
    seed::print("Done");
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    loop->run_until_complete(do_some_work(loop.get(), 0.1));
    loop->run_until_complete(do_some_work(loop.get(), 0.3));
    loop->close();
    seed::print(std::string("closed: ") + (loop->is_closed() ? "True" : "False"));

    loop = asyncio::new_event_loop();
    asyncio::set_event_loop(loop);
    loop->run_until_complete(do_some_work(loop.get(), 0.1));
    loop->close();
    auto coro = do_some_work(loop.get(), 0.3);
    try {
        loop->run_until_complete(std::move(coro));  // raises here
    } catch (const asyncio::RuntimeError&) {
        seed::print(seed::fmt(std::current_exception()));
    }
    loop->close();
    seed::print(std::string("second close() is fine, closed: ") +
                (loop->is_closed() ? "True" : "False"));
    asyncio::set_event_loop(nullptr);
}
