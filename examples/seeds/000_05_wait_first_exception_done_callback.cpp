// Seed 000: wait(FIRST_EXCEPTION) with a done callback on each task that calls result(): a
// failed task's callback raises, and the loop reports "Exception in callback".
#include <chrono>

#include "seed_common.hpp"

const double COSTS[] = {0.4, 1.0, 0.3, 0.1, 1.0, 0.8, 0.8, 0.3, 0.4, 0.2};

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

void get_result(asyncio::Task<double>& future) {
    seed::print("result in callback", future.result());
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    loop->set_exception_handler(seed::handler);  // "Exception in callback ..." on stdout too
    std::vector<asyncio::Task<double>> tasks;
    for (int i = 0; i < 10; ++i) {
        auto future = asyncio::ensure_future(coroutine(i));
        future.add_done_callback(get_result);
        tasks.push_back(future);
    }

    auto start = std::chrono::steady_clock::now();
    auto [done, pending] =
        loop->run_until_complete(asyncio::wait(tasks, {.return_when = asyncio::FIRST_EXCEPTION}));
    seed::print("done", static_cast<int>(done.size()));
    seed::print("pending", static_cast<int>(pending.size()));
    seed::print("coroutine cost", seed::elapsed(start));
    // Workers still pending are left behind when the program ends (as in the seed): back to
    // the default handler, so what the loop reports when it goes stays on stderr.
    loop->set_exception_handler(nullptr);
}
