// The project's side of `make bench`: one binary, `asyncio_bench <workload> args...`, that
// prints one line per run in the format the runner (run_bench.py) parses:
//   RESULT impl=asyncio-cpp workload=<W> n=<N> wall_s=<float> rss_kb=<int> ns_per_op=<float>
// Each workload file registers itself with ASYNCIO_BENCH_WORKLOAD.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bench {

using Args = std::vector<std::string>;
/// A workload: runs with `args`, returns {n, wall seconds}.
struct Outcome {
    long long n;
    double wall_s;
};
using Workload = std::function<Outcome(const Args&)>;

std::map<std::string, Workload>& registry();

inline bool register_workload(const std::string& name, Workload w) {
    registry()[name] = std::move(w);
    return true;
}

inline long rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

inline double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline long long arg_ll(const Args& a, std::size_t i, long long def) {
    return i < a.size() ? std::atoll(a[i].c_str()) : def;
}
inline double arg_d(const Args& a, std::size_t i, double def) {
    return i < a.size() ? std::atof(a[i].c_str()) : def;
}

}  // namespace bench

#define ASYNCIO_BENCH_CAT2(a, b) a##b
#define ASYNCIO_BENCH_CAT(a, b) ASYNCIO_BENCH_CAT2(a, b)
#define ASYNCIO_BENCH_WORKLOAD(name, fn)                         \
    static const bool ASYNCIO_BENCH_CAT(registered_, __LINE__) = \
        ::bench::register_workload(name, fn)
