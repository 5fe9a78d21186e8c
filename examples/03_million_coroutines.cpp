// "A million concurrent coroutines": a million tasks each sleep one second, concurrently,
// then all are awaited. Prints the wall time and the peak memory.
//
//   async def sleeper():
//       await asyncio.sleep(1)
//
//   async def main():
//       tasks = [asyncio.create_task(sleeper()) for _ in range(1_000_000)]
//       for t in tasks:
//           await t
#include <sys/resource.h>

#include <asyncio/asyncio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

asyncio::Coro<void> sleeper(double seconds) { co_await asyncio::sleep(seconds); }

asyncio::Coro<void> amain(long n) {
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(n);
    for (long i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(sleeper(1.0)));
    for (auto& t : tasks) co_await t;
}

int main(int argc, char** argv) {
    long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    auto t0 = std::chrono::steady_clock::now();
    asyncio::run(amain(n));
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "%ld coroutines slept 1 s concurrently: %.2f s wall, %.0f MiB peak (%.0f bytes each)\n", n,
        wall, ru.ru_maxrss / 1024.0, ru.ru_maxrss * 1024.0 / n);
}
