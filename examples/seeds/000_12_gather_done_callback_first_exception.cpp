// Seed 000: a done callback on a failing gather calls result(), which rethrows: the loop
// reports "Exception in callback", and run_until_complete raises the same exception.
#include "seed_common.hpp"

const double COSTS[] = {0.8, 0.4, 1.0, 0.7, 0.4, 0.3, 0.3, 1.0, 1.0, 0.4};

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

void done_callback(asyncio::Future<std::vector<double>>& future) {
    for (double r : future.result()) seed::print("callback result", r);
}

int main() {
    auto loop = asyncio::new_event_loop();  // seed: asyncio.get_event_loop()
    asyncio::set_event_loop(loop);
    loop->set_exception_handler(seed::handler);  // "Exception in callback ..." on stdout too
    std::vector<asyncio::Task<double>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(asyncio::ensure_future(coroutine(i)));

    auto outer_future = asyncio::gather(tasks);
    outer_future.add_done_callback(done_callback);
    try {
        loop->run_until_complete(outer_future);
    } catch (const std::exception&) {  // the seed let this escape as a traceback
        seed::print(seed::fmt(std::current_exception()));
    }
    // Workers still pending are left behind when the program ends (as in the seed).
    loop->set_exception_handler(nullptr);
}
