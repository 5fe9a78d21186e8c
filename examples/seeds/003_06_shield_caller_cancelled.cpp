// Seed 003: with shield(), cancelling the caller leaves something() running; without it,
// the cancellation reaches something().
#include "seed_common.hpp"

asyncio::Coro<std::string> something(std::string label) {
    seed::print(label + ": something() started");
    try {
        co_await asyncio::sleep(0.2);
    } catch (const asyncio::CancelledError&) {
        seed::print(label + ": something() cancelled");
        throw;
    }
    seed::print(label + ": something() finished");
    co_return "result";
}

asyncio::Coro<void> caller(std::string label, bool use_shield) {
    try {
        std::string res;
        if (use_shield)
            res = co_await asyncio::shield(something(label));  // code 1
        else
            res = co_await something(label);  // code 2
        seed::print(label + ": got " + res);
    } catch (const asyncio::CancelledError&) {
        seed::print(label + ": the awaiting coroutine got CancelledError");
        throw;
    }
}

asyncio::Coro<void> amain() {
    for (auto [label, use_shield] : {std::pair<const char*, bool>{"code 1 (shield)", true},
                                     std::pair<const char*, bool>{"code 2 (no shield)", false}}) {
        auto t = asyncio::create_task(caller(label, use_shield));
        co_await asyncio::sleep(0.1);
        t.cancel();
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
            seed::print(std::string(label) +
                        ": caller task cancelled: " + (t.cancelled() ? "True" : "False"));
        }
        co_await asyncio::sleep(0.2);  // time for a shielded something() to finish
    }
}

int main() { asyncio::run(amain()); }
