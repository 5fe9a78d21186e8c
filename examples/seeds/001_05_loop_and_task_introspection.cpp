// Seed 001: current_task(), get_running_loop(), all_tasks(), task names.
#include <algorithm>

#include "seed_common.hpp"

asyncio::Coro<std::string> worker(std::string name, double delay) {
    seed::print(name + ": current_task() is " + asyncio::current_task()->get_name());
    co_await asyncio::sleep(delay);
    co_return name + " done";
}

void callback() {
    seed::print(std::string("in a call_soon callback: current_task() is None: ") +
                (!asyncio::current_task() ? "True" : "False"));
}

std::string names(const std::vector<asyncio::AnyTask>& tasks) {  // a set: sorted by name
    std::vector<std::string> v;
    for (auto& t : tasks) v.push_back(t.get_name());
    std::sort(v.begin(), v.end());
    std::string s;
    for (auto& n : v) s += (s.empty() ? "" : " ") + n;
    return s;
}

asyncio::Coro<void> amain() {
    asyncio::current_task()->set_name("main");
    auto& loop = asyncio::get_running_loop();
    seed::print("main: current_task() is", asyncio::current_task()->get_name());
    seed::print(std::string("get_event_loop() is get_running_loop(): ") +
                (&asyncio::get_event_loop() == &loop ? "True" : "False"));
    auto fut = loop.create_future<std::string>();
    loop.call_later(0.1, [fut] { fut.set_result("future result"); });
    auto t1 = loop.create_task(worker("w1", 0.2), {.name = "w1"});
    auto t2 = asyncio::ensure_future(worker("w2", 0.3));
    t2.set_name("w2");
    loop.call_soon(callback);
    seed::print("all_tasks():", names(asyncio::all_tasks()));
    seed::print("await future ->", co_await fut);
    seed::print("await w1 ->", co_await t1);
    seed::print("all_tasks():", names(asyncio::all_tasks()));
    seed::print("await w2 ->", co_await t2);
}

int main() {
    try {
        asyncio::get_running_loop();
    } catch (const asyncio::RuntimeError&) {
        seed::print("get_running_loop() outside a loop:", seed::fmt(std::current_exception()));
    }
    asyncio::run(amain());
}
