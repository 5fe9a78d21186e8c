// Seed 004: cancel(), wait_for() cancelling on timeout, and shield() protecting from it.
#include "seed_common.hpp"

asyncio::Coro<void> func1() {
    co_await asyncio::sleep(0.2);
    seed::print("func1");
}

std::string py_bool(bool b) { return b ? "True" : "False"; }

asyncio::Coro<void> amain() {
    // after cancel(), the exception only comes out of the await
    auto task1 = asyncio::create_task(func1());
    task1.cancel();
    try {
        co_await task1;
    } catch (const asyncio::CancelledError&) {
        seed::print("task1 is cancelled");
    }
    // wait_for cancels the task when it times out
    auto task2 = asyncio::create_task(func1());
    try {
        co_await asyncio::wait_for(task2, 0.1);
    } catch (const asyncio::TimeoutError&) {
        seed::print("task2 is timeout");
    }
    seed::print("task2 cancelled:", py_bool(task2.cancelled()));
    // shield keeps the task from being cancelled
    auto task3 = asyncio::create_task(func1());
    try {
        co_await asyncio::wait_for(asyncio::shield(task3), 0.1);
    } catch (const asyncio::TimeoutError&) {
        seed::print("task3 is timeout");
    }
    seed::print("task3 cancelled:", py_bool(task3.cancelled()));
    co_await task3;
}

int main() { asyncio::run(amain()); }
