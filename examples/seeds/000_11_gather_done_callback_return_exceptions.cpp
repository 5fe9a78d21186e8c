// Seed 000: a done callback on gather(return_exceptions) walks the results.
#include "seed_common.hpp"

const double COSTS[] = {1.0, 0.4, 0.1, 0.4, 0.6, 0.2, 0.8, 0.1, 0.2, 0.6};

// The seed's worker: sleeps its cost, fails when the cost is over 0.4.
asyncio::Coro<double> coroutine(int i) {
    double t = COSTS[i];
    seed::print("worker:" + std::to_string(i) + ",cost:" + seed::py(t));
    co_await asyncio::sleep(t);
    if (t > 0.4) {
        seed::print("worker:" + std::to_string(i) + " trigger");
        throw Exception("hehe " + std::to_string(i));
    }
    seed::print("worker:" + std::to_string(i) + " not trigger");
    co_return t;
}

void done_callback(asyncio::Future<std::vector<asyncio::Result<double>>>& future) {
    for (auto& r : future.result()) {
        if (r.has_value())
            seed::print("callback result", r.value());
        else
            seed::print("callback catch exception", asyncio::exception_message(r.exception()));
    }
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    std::vector<asyncio::Task<double>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(asyncio::ensure_future(coroutine(i)));

    auto outer_future = asyncio::gather(asyncio::return_exceptions, tasks);
    outer_future.add_done_callback(done_callback);
    loop->run_until_complete(outer_future);
}
