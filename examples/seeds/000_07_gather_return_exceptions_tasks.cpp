// Seed 000: gather(return_exceptions) over tasks; results read via the tasks and via the
// gather's own result.
#include <chrono>

#include "seed_common.hpp"

const double COSTS[] = {0.2, 0.2, 0.7, 0.5, 0.6, 0.1, 0.3, 0.2, 1.0, 0.4};

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

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    std::vector<asyncio::Task<double>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(asyncio::ensure_future(coroutine(i)));

    auto start = std::chrono::steady_clock::now();
    auto outer_future = asyncio::gather(asyncio::return_exceptions, tasks);
    loop->run_until_complete(outer_future);

    seed::print("-- via the tasks list");
    for (auto& t : tasks) {
        if (!t.exception())
            seed::print("result", t.result());
        else
            seed::print("catch exception", asyncio::exception_message(t.exception()));
    }
    seed::print("-- via outer_future.result()");
    for (auto& r : outer_future.result()) {
        if (r.has_value())
            seed::print("result", r.value());
        else
            seed::print("catch exception", asyncio::exception_message(r.exception()));
    }
    seed::print("coroutine cost", seed::elapsed(start));
}
