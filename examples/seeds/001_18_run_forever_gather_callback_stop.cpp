// Seed 001: a done callback on a gather stops run_forever() once both coroutines are done.
#include <chrono>

#include "seed_common.hpp"

asyncio::Coro<void> do_some_work(asyncio::EventLoop* loop, double x) {
    (void)loop;
    seed::print("Waiting " + seed::py(x));
    co_await asyncio::sleep(x);
    seed::print("Done");
}

void done_callback(asyncio::EventLoop* loop) { loop->stop(); }

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    auto start = std::chrono::steady_clock::now();
    auto futus = asyncio::gather(do_some_work(loop.get(), 0.1), do_some_work(loop.get(), 0.3));
    futus.add_done_callback([l = loop.get()] { done_callback(l); });  // functools.partial
    loop->run_forever();
    seed::print("run_forever returned after " + seed::elapsed(start) + "s");
    loop->close();
}
