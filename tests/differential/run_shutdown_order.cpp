#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> leftover(std::string name) {
    std::exception_ptr cancelled;
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        print(name, "cancelled at shutdown");
        co_await asyncio::sleep(0);
        print(name, "cleanup done");
        std::rethrow_exception(cancelled);
    }
}

asyncio::AsyncGenerator<int> gen() {
    struct Finally {
        ~Finally() { print("generator closed"); }
    } finally;
    co_yield 1;
    co_yield 2;
}

// Kept alive past main(): closed by the runner's shutdown_asyncgens.
asyncio::AsyncGenerator<int> g;

asyncio::Coro<std::string> amain() {
    asyncio::create_task(leftover("t1"));
    asyncio::create_task(leftover("t2"));
    g = gen();
    print("got", *co_await g.next());
    co_await asyncio::sleep(0);
    print("main returns");
    co_return "result";
}

int main() {
    print(asyncio::run(amain()));
    print("after run");
}
