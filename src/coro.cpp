// Coroutine diagnostics: errors of misused Coro handles and the "never awaited" report.
#include "asyncio/coro.hpp"

#include <cstdlib>
#include <memory>
#include <new>
#include <string>

namespace asyncio::detail {

std::exception_ptr& coro_exc_out_of_memory() noexcept {
    static std::exception_ptr e = std::make_exception_ptr(std::bad_alloc());
    return e;
}

void throw_awaited_twice() { throw RuntimeError("cannot reuse already awaited coroutine"); }
void throw_empty_coro() {
    throw RuntimeError("empty Coro: it holds no coroutine (default-constructed or moved-from)");
}

void report_never_awaited(void* frame) noexcept {
    EventLoop* loop = tls.running_loop;
    if (!loop || !loop->get_debug()) return;
    // A frame starts with its resume function ("f() [clone .actor]"): name it after that.
    std::string name;
    try {
        name = function_name(*static_cast<void**>(frame));
    } catch (...) {
    }
    ExceptionContext ctx;
    try {
        ctx.message = "RuntimeWarning: coroutine '" + name + "' was never awaited";
    } catch (...) {
    }
    loop->call_exception_handler(ctx);
}

}  // namespace asyncio::detail
