#include "corpus.hpp"
using corpus::print;

asyncio::ContextVar<std::string> var("var", "default");

void cb(std::string tag) {
    print(tag, "sees", var.get());
    var.set("set by " + tag);
}

asyncio::Coro<void> amain() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    var.set("main");
    loop.call_soon(cb, std::string("call_soon"));
    loop.call_later(0.01, cb, std::string("call_later"));
    auto fut = loop.create_future<void>();
    fut.add_done_callback([] { cb("done_callback"); });
    fut.set_result();
    co_await asyncio::sleep(0.05);
    print("main sees", var.get());
}

int main() { asyncio::run(amain()); }
