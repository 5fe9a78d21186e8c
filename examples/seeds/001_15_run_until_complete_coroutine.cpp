// Seed 001: run_until_complete() takes a coroutine or a future (here a task with a callback).
#include "seed_common.hpp"

asyncio::Coro<void> do_some_work(double x) {
    seed::print("Waiting " + seed::py(x));
    co_await asyncio::sleep(x);
}

void done_callback() { seed::print("Done"); }

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    loop->run_until_complete(do_some_work(0.3));
    seed::print("run_until_complete returned");
    auto futu = asyncio::ensure_future(do_some_work(0.3));
    futu.add_done_callback(done_callback);
    loop->run_until_complete(futu);
    seed::print("run_until_complete returned");
    loop->close();
}
