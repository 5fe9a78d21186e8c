// Coroutine diagnostics: errors of misused Coro handles, the "never awaited" report, and
// the report of a frame whose destruction threw.
#include "asyncio/coro.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <utility>

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

namespace asyncio {

// Frames destroyed before their end.

namespace {
thread_local EventLoop* destroying_for = nullptr;  // the loop of the outermost such destroy
}

// A destructor that throws while a suspended frame is destroyed sends the exception, as GCC
// compiles it, to the frame's unhandled_exception() (the thread's slot) and then to its final
// suspend point, where the frame stops (its continuation is noop): the destroy() returns with
// the frame still allocated. Take the exception, free the frame, report.
void detail::destroy_suspended_frame(std::coroutine_handle<> h, EventLoop* loop) noexcept {
    if (!loop) loop = detail::tls.running_loop ? detail::tls.running_loop : destroying_for;
    EventLoop* saved_loop = std::exchange(destroying_for, loop);
    std::exception_ptr* saved_exc = std::exchange(detail::tls.coro_exc, nullptr);
    h.destroy();
    if (detail::tls.coro_exc) {
        std::exception_ptr e = detail::take_coro_exception();
        if (h.done()) h.destroy();
        ExceptionContext ctx;
        try {
            ctx.message = "Exception ignored while destroying a pending coroutine";
        } catch (...) {
        }
        ctx.exception = e;
        if (loop) {
            loop->call_exception_handler(ctx);
        } else {
            try {
                std::string out = ctx.message + "\n" + describe_exception(e) + "\n";
                std::fwrite(out.data(), 1, out.size(), stderr);
            } catch (...) {
            }
        }
    }
    detail::tls.coro_exc = saved_exc;
    destroying_for = saved_loop;
}

}  // namespace asyncio
