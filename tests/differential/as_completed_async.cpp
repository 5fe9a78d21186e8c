#include "corpus.hpp"
using corpus::print;

asyncio::Coro<std::string> after(double d, std::string v) {
    co_await asyncio::sleep(d);
    co_return v;
}

asyncio::Coro<void> amain() {
    std::vector<asyncio::Task<std::string>> ts;
    ts.push_back(asyncio::create_task(after(0.3, "slow")));
    ts.push_back(asyncio::create_task(after(0.1, "fast")));
    ts.push_back(asyncio::create_task(after(0.2, "mid")));
    auto it = asyncio::as_completed(ts);
    while (auto t = co_await it.next()) {
        std::string v = co_await *t;
        print(v, *t == ts[0] || *t == ts[1] || *t == ts[2]);
    }
    std::vector<asyncio::Task<std::string>> ts2;
    ts2.push_back(asyncio::create_task(after(0.1, "a")));
    ts2.push_back(asyncio::create_task(after(0.5, "b")));
    auto it2 = asyncio::as_completed(ts2, {.timeout = 0.2});
    auto first = co_await it2.next();
    print("first:", co_await *first);
    try {
        co_await it2.next();
    } catch (const asyncio::TimeoutError&) {
        print("TimeoutError; b still running:", !ts2[1].done());
    }
    print("b:", co_await ts2[1]);
}

int main() { asyncio::run(amain()); }
