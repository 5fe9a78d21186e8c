// Seed 000, "wait / return_when=FIRST_EXCEPTION": ten workers under asyncio::wait().
#include <chrono>

#include "seed_common.hpp"

const double COSTS[] = {0.3, 0.8, 0.1, 0.5, 0.5, 0.7, 1.0, 0.3, 0.5, 0.6};

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
    auto outer_future = asyncio::wait(tasks, {.return_when = asyncio::FIRST_EXCEPTION});
    auto [done, pending] = loop->run_until_complete(std::move(outer_future));

    seed::print("done", static_cast<int>(done.size()));
    seed::print("pending", static_cast<int>(pending.size()));
    for (auto& d : done) {  // in worker order
        if (!d.exception())
            seed::print("get result", d.result());
        else
            seed::print("catch exception", asyncio::exception_message(d.exception()));
    }
    seed::print("coroutine cost", seed::elapsed(start));
}
