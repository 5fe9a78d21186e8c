// Seed 001: calling a coroutine function runs nothing; awaiting it or wrapping it in a task
// does.
#include <type_traits>

#include "seed_common.hpp"

asyncio::Coro<int> nested() { co_return 42; }

// Python's asyncio.iscoroutinefunction / iscoroutine, for this example.
template <class T>
constexpr bool iscoroutine(const T&) {
    return std::is_same_v<T, asyncio::Coro<typename T::value_type>>;
}
template <class F>
constexpr bool iscoroutinefunction(F*) {
    using R = std::invoke_result_t<F*>;
    return std::is_same_v<R, asyncio::Coro<typename R::value_type>>;
}

asyncio::Coro<void> amain() {
    seed::print(std::string("iscoroutinefunction(nested): ") +
                (iscoroutinefunction(&nested) ? "True" : "False"));
    {
        auto coro = nested();  // nothing runs
        seed::print(std::string("iscoroutine(nested()): ") +
                    (iscoroutine(coro) ? "True" : "False"));
    }  // never awaited: destroyed here (reported as "never awaited" in debug mode)
    seed::print(co_await nested());
    auto task = asyncio::create_task(nested());
    seed::print(co_await task);
}

int main() { asyncio::run(amain()); }
