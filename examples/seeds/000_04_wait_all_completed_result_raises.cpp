// Seed 000: wait(ALL_COMPLETED), result() rethrows; the failures nobody retrieved are
// reported as each task is destroyed ("Task exception was never retrieved").
#include "seed_common.hpp"

const double COSTS[] = {0.1, 1.0, 0.8, 0.9, 0.2, 0.1, 0.1, 0.3, 0.8, 0.4};

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
    loop->set_exception_handler(seed::handler);
    std::vector<asyncio::Task<double>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(asyncio::ensure_future(coroutine(i)));

    {
        auto [done, pending] =
            loop->run_until_complete(asyncio::wait(tasks, {.return_when = asyncio::ALL_COMPLETED}));
        seed::print("done", static_cast<int>(done.size()));
        seed::print("pending", static_cast<int>(pending.size()));
        try {
            for (auto& d : done) seed::print("direct result()", d.result());
        } catch (const std::exception&) {  // the seed let this escape as a traceback
            seed::print(seed::fmt(std::current_exception()));
        }
    }  // del done, pending
    // Drop the tasks one by one, in worker order: the reports come out in a fixed order.
    for (auto& t : tasks) t = asyncio::Task<double>();
}
