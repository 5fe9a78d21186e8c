// Coroutine diagnostics: errors of misused Coro handles and the "never awaited" report.
#include "asyncio/coro.hpp"

#include <cxxabi.h>
#include <dlfcn.h>

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
    std::string name = "<unknown>";
    // A frame starts with its resume function: name the coroutine after it.
    void* resume_fn = *static_cast<void**>(frame);
    Dl_info info{};
    if (::dladdr(resume_fn, &info) && info.dli_sname) {
        int status = 0;
        std::unique_ptr<char, void (*)(void*)> dem(
            abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status), std::free);
        name = status == 0 && dem ? dem.get() : info.dli_sname;
        auto pos = name.find(" [clone");
        if (pos != std::string::npos) name.erase(pos);
        if (name.size() > 6 && name.compare(name.size() - 6, 6, ".actor") == 0)
            name.erase(name.size() - 6);
    }
    ExceptionContext ctx;
    try {
        ctx.message = "RuntimeWarning: coroutine '" + name + "' was never awaited";
    } catch (...) {
    }
    loop->call_exception_handler(ctx);
}

}  // namespace asyncio::detail
