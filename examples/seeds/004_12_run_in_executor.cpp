// Seed 004, run_in_executor with a ThreadPoolExecutor: a blocking function (sleep) runs in
// pool threads; the loop awaits the results like coroutines: [1, 2, 3, 4] in 0.4 s (in
// parallel, not 1.0 s). A failure in the thread comes back as the exception.
#include <chrono>
#include <thread>

#include "seed_common.hpp"

int func1(int t, bool excpetion) {
    std::this_thread::sleep_for(std::chrono::duration<double>(t / 10.0));
    if (excpetion) throw Exception("error");
    return t;
}

asyncio::Coro<void> amain() {
    auto& loop = asyncio::get_running_loop();
    auto start = std::chrono::steady_clock::now();
    asyncio::ThreadPoolExecutor pool;  // with ThreadPoolExecutor() as pool:
    std::vector<asyncio::Future<int>> tasks;
    for (int i = 1; i < 5; ++i) tasks.push_back(loop.run_in_executor(pool, func1, i, false));
    auto results = co_await asyncio::gather(tasks);
    std::string line = "[";
    for (std::size_t i = 0; i < results.size(); ++i) line += (i ? ", " : "") + seed::py(results[i]);
    seed::print(line + "]");
    seed::print("took " + seed::elapsed(start) + "s");
    std::exception_ptr error;
    try {
        co_await loop.run_in_executor(pool, func1, 1, true);
    } catch (const std::exception&) {
        error = std::current_exception();
    }
    if (error) seed::print(seed::fmt(error));
    pool.shutdown();  // leaving the with block
}

int main() { asyncio::run(amain()); }
