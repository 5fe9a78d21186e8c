#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> noop() { co_return; }

asyncio::Coro<void> amain() {
    std::string me = asyncio::current_task().get_name();
    auto a = asyncio::create_task(noop());
    auto b = asyncio::create_task(noop(), {.name = "custom"});
    auto c = asyncio::create_task(noop());
    co_await asyncio::gather(a, b, c);
    int base = std::stoi(me.substr(me.find('-') + 1));
    print(me == "Task-" + std::to_string(base), a.get_name() == "Task-" + std::to_string(base + 1),
          b.get_name(), c.get_name() == "Task-" + std::to_string(base + 2));
    a.set_name("renamed");
    print(a.get_name());
}

int main() { asyncio::run(amain()); }
