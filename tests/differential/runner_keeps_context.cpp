#include "corpus.hpp"
using corpus::print;

asyncio::ContextVar<std::string> var("var", "unset");

asyncio::Coro<void> first() {
    var.set("from first run");
    co_return;
}

asyncio::Coro<std::string> child() { co_return var.get(); }

asyncio::Coro<void> second() {
    print("second run sees", var.get());
    print("its task sees", co_await asyncio::create_task(child()));
}

int main() {
    {
        asyncio::Runner runner;
        runner.run(first());
        runner.run(second());
    }
    print("outside sees", var.get());
}
