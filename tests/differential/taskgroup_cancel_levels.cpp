#include <algorithm>

#include "corpus.hpp"
using corpus::print;

asyncio::Coro<void> fail(double d, std::exception_ptr exc) {
    co_await asyncio::sleep(d);
    std::rethrow_exception(exc);
}

asyncio::Coro<void> sleeper(std::string name, std::vector<std::string>& log) {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        log.push_back(name + " cancelled");
        throw;
    }
}

std::string type_name(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const asyncio::ExceptionGroup&) {
        return "ExceptionGroup";
    } catch (const ZeroDivisionError&) {
        return "ZeroDivisionError";
    } catch (const ValueError&) {
        return "ValueError";
    } catch (...) {
        return "?";
    }
}

std::string names(const asyncio::ExceptionGroup& eg) {
    std::vector<std::string> v;
    for (auto& e : eg.exceptions()) v.push_back(type_name(e));
    return corpus::list(v);
}

asyncio::Coro<void> amain() {
    std::vector<std::string> log;
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(sleeper("a", log));
            tg.create_task(fail(0.1, std::make_exception_ptr(ZeroDivisionError("zde"))));
            tg.create_task(sleeper("b", log));
            try {
                co_await asyncio::sleep(10);
            } catch (const asyncio::CancelledError&) {
                log.push_back("body cancelled");
                throw;
            }
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        print("group:", names(eg));
    }
    std::vector<std::string> sorted = log;  // the cancel order is not defined (Python: a set)
    std::sort(sorted.begin(), sorted.end());
    print(corpus::list(sorted));
    print("cancelling:", asyncio::current_task().cancelling());
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& outer) -> asyncio::Coro<void> {
            outer.create_task(sleeper("c", log));
            co_await asyncio::task_group([&](asyncio::TaskGroup& inner) -> asyncio::Coro<void> {
                inner.create_task(fail(0.1, std::make_exception_ptr(ValueError("v"))));
                co_return;
            });
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        std::string inner = "?";
        try {
            std::rethrow_exception(eg.exceptions().at(0));
        } catch (const asyncio::ExceptionGroup& g) {
            inner = names(g);
        } catch (...) {
        }
        print("nested:", names(eg), inner);
    }
    print("cancelling:", asyncio::current_task().cancelling());
    co_await asyncio::sleep(0);
    print("next await not cancelled");
}

int main() { asyncio::run(amain()); }
