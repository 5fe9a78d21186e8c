// Seed 004: an async context manager (aenter/aexit, both awaiting) with async_with(); aexit
// runs when the block ends, also when it raises (the exception then propagates).
#include "seed_common.hpp"

class AsyncResource {
  public:
    explicit AsyncResource(std::string name) : name(std::move(name)) {}

    asyncio::Coro<AsyncResource*> aenter() {
        seed::print(name + ": opening");
        co_await asyncio::sleep(0.1);
        seed::print(name + ": opened");
        co_return this;
    }
    asyncio::Coro<bool> aexit(std::exception_ptr exc) {
        seed::print(name + ": closing, exception: " + (exc ? seed::fmt(exc) : "None"));
        co_await asyncio::sleep(0.1);
        seed::print(name + ": closed");
        co_return false;  // do not swallow the exception
    }

    std::string name;
};

asyncio::Coro<void> amain() {
    AsyncResource r1("r1");
    co_await asyncio::async_with(r1, [](AsyncResource* r) -> asyncio::Coro<void> {
        seed::print("inside the block with " + r->name);
        co_return;
    });
    try {
        AsyncResource r2("r2");
        co_await asyncio::async_with(r2, [](AsyncResource*) -> asyncio::Coro<void> {
            throw ValueError("boom");
            co_return;
        });
    } catch (const ValueError&) {
        seed::print("after the block:", seed::fmt(std::current_exception()));
    }
}

int main() { asyncio::run(amain()); }
