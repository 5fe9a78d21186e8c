#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> child(std::string name) {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError& e) {
        print(name, "cancelled with", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> waiter(bool ret) {
    try {
        if (ret)
            co_await asyncio::gather(asyncio::return_exceptions, child("c1"), child("c2"));
        else
            co_await asyncio::gather(child("c1"), child("c2"));
    } catch (const asyncio::CancelledError& e) {
        print("waiter got", corpus::args(e));
        throw;
    }
}

asyncio::Coro<void> amain() {
    for (bool ret : {false, true}) {
        auto t = asyncio::create_task(waiter(ret));
        co_await asyncio::sleep(0.1);
        t.cancel("stop");
        try {
            co_await t;
        } catch (const asyncio::CancelledError& e) {
            print("main got", corpus::args(e), t.cancelled());
        }
    }
}

int main() { asyncio::run(amain()); }
