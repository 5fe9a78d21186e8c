#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> acquirer(asyncio::Semaphore& sem, std::string name,
                             std::vector<std::string>& log) {
    auto guard = co_await sem.acquire_scoped();
    log.push_back(name);
    co_await asyncio::sleep(0);
}

asyncio::Coro<void> getter(asyncio::Queue<std::string>& q, std::string name,
                           std::vector<std::string>& log) {
    std::string v = co_await q.get();
    log.push_back("('" + name + "', '" + v + "')");
}

std::string dones(const std::vector<asyncio::Task<void>>& ts) {
    std::string s = "[";
    for (std::size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + corpus::py(ts[i].done());
    return s + "]";
}

asyncio::Coro<void> amain() {
    asyncio::Semaphore sem(0);
    std::vector<std::string> log;
    std::vector<asyncio::Task<void>> ts;
    for (const char* n : {"s1", "s2", "s3", "s4"})
        ts.push_back(asyncio::create_task(acquirer(sem, n, log)));
    co_await asyncio::sleep(0);
    ts[0].cancel();
    ts[1].cancel();
    sem.release();
    co_await asyncio::sleep(0.01);
    print(corpus::list(log), dones(ts));
    sem.release();
    co_await asyncio::gather(asyncio::return_exceptions, ts);
    print(corpus::list(log), sem.locked());
    asyncio::Queue<std::string> q;
    std::vector<std::string> got;
    std::vector<asyncio::Task<void>> gs;
    for (const char* n : {"g1", "g2"}) gs.push_back(asyncio::create_task(getter(q, n, got)));
    co_await asyncio::sleep(0);
    q.put_nowait("x");
    gs[0].cancel();
    q.put_nowait("y");
    co_await asyncio::gather(asyncio::return_exceptions, gs);
    std::string s = "[";
    for (std::size_t i = 0; i < got.size(); ++i) s += (i ? ", " : "") + got[i];
    print(s + "]", q.qsize());
}

int main() { asyncio::run(amain()); }
