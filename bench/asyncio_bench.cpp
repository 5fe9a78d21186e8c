#include <cstdio>

#include "bench_common.hpp"

namespace bench {
std::map<std::string, Workload>& registry() {
    static std::map<std::string, Workload> r;
    return r;
}
}  // namespace bench

int main(int argc, char** argv) {
    if (argc < 2 || !bench::registry().count(argv[1])) {
        std::fprintf(stderr, "usage: %s <workload> [args...]\nworkloads:", argv[0]);
        for (auto& [name, _] : bench::registry()) std::fprintf(stderr, " %s", name.c_str());
        std::fprintf(stderr, "\n");
        return 2;
    }
    bench::Args args(argv + 2, argv + argc);
    bench::Outcome o = bench::registry()[argv[1]](args);
    std::printf(
        "RESULT impl=asyncio-cpp workload=%s n=%lld wall_s=%.6f rss_kb=%ld ns_per_op=%.2f\n",
        argv[1], o.n, o.wall_s, bench::rss_kb(), o.n ? o.wall_s * 1e9 / double(o.n) : 0.0);
    return 0;
}
