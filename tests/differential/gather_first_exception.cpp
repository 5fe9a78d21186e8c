

#include "corpus.hpp"
using corpus::print;

asyncio::Coro<std::string> after(double d, std::string v) {
    co_await asyncio::sleep(d);
    co_return v;
}
asyncio::Coro<std::string> fail_after(double d, std::exception_ptr e) {
    co_await asyncio::sleep(d);
    std::rethrow_exception(e);
}

asyncio::Coro<void> amain() {
    auto slow = asyncio::create_task(after(0.3, "slow"));
    try {
        co_await asyncio::gather(fail_after(0.1, std::make_exception_ptr(ValueError("bad"))), slow);
    } catch (const ValueError& e) {
        print("gather raised", corpus::args(e), "slow done:", slow.done());
    }
    print("slow:", co_await slow);
    auto [a, b, c] = co_await asyncio::gather(after(0.2, "a"), after(0.1, "b"), after(0.0, "c"));
    print(corpus::list({a, b, c}));
    auto t = asyncio::create_task(fail_after(0.1, std::make_exception_ptr(KeyError("k"))));
    auto res = co_await asyncio::gather(asyncio::return_exceptions, t, t, after(0, "1"));
    auto name = [](auto& r) -> std::string {
        if (r.has_value()) return "int";
        try {
            std::rethrow_exception(r.exception());
        } catch (const KeyError&) {
            return "KeyError";
        } catch (...) {
            return "?";
        }
    };
    print(corpus::list({name(std::get<0>(res)), name(std::get<1>(res)), name(std::get<2>(res))}));
}

int main() { asyncio::run(amain()); }
