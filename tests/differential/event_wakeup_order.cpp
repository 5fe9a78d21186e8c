#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> waiter(asyncio::Event& ev, int name, std::vector<std::string>& log) {
    bool r = co_await ev.wait();
    log.push_back("(" + std::to_string(name) + ", " + corpus::py(r) + ")");
}

std::string show(const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
}

asyncio::Coro<void> amain() {
    asyncio::Event ev;
    std::vector<std::string> log;
    auto t1 = asyncio::create_task(waiter(ev, 1, log));
    auto t2 = asyncio::create_task(waiter(ev, 2, log));
    co_await asyncio::sleep(0);
    auto t3 = asyncio::create_task(waiter(ev, 3, log));
    ev.set();
    co_await asyncio::gather(t1, t2, t3);
    print(show(log), ev.is_set());
    ev.clear();
    log.clear();
    auto t4 = asyncio::create_task(waiter(ev, 4, log));
    co_await asyncio::sleep(0);
    ev.set();
    ev.clear();
    co_await t4;
    print(show(log), ev.is_set());
}

int main() { asyncio::run(amain()); }
