#include "corpus.hpp"
using corpus::print;

asyncio::AsyncGenerator<int> gen() {
    struct Finally {
        ~Finally() { print("cleanup"); }
    } finally;
    bool caught = false;
    try {
        co_yield 1;
        co_yield 2;
    } catch (const ValueError& e) {
        print("caught", corpus::args(e));
        caught = true;
    }
    if (caught) co_yield 10;
}

asyncio::Coro<void> amain() {
    auto g = gen();
    print(*co_await g.next());
    print(*co_await g.athrow(ValueError("x")));
    try {
        co_await g.athrow(KeyError("k"));
    } catch (const KeyError& e) {
        print("KeyError out", corpus::args(e));
    }
    if (!co_await g.next()) print("ended");
}

int main() { asyncio::run(amain()); }
