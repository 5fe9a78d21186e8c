#include "corpus.hpp"
using corpus::print;

asyncio::Coro<std::string> stubborn(std::vector<std::string>& log) {
    for (int i = 0; i < 3; ++i) {
        try {
            co_await asyncio::sleep(1);
            log.push_back("slept " + std::to_string(i));
        } catch (const asyncio::CancelledError&) {
            log.push_back("cancelled at " + std::to_string(i) +
                          ", cancelling=" + std::to_string(asyncio::current_task().cancelling()));
            auto left = asyncio::current_task().uncancel();
            log.push_back("uncancel -> " + std::to_string(left));
        }
    }
    co_return "done";
}

asyncio::Coro<void> amain() {
    std::vector<std::string> log;
    auto t = asyncio::create_task(stubborn(log));
    co_await asyncio::sleep(0);
    bool a = t.cancel();
    bool b = t.cancel();
    print(a, b, t.cancelling());
    co_await asyncio::sleep(0);
    print(t.cancelling(), t.cancelled(), t.done());
    co_await asyncio::sleep(1.5);
    bool c = t.cancel("third");
    print(c, t.cancelling());
    print(co_await t);
    bool d = t.cancel();
    print(d, t.cancelled(), t.cancelling());
    for (auto& line : log) print(line);
}

int main() { asyncio::run(amain()); }
